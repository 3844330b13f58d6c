#!/usr/bin/env bash
# Curl quickstart: create an organization, a ledger, an asset and two accounts, fund one from
# the outside world and move money between them, then show the balances.
#
#   examples/quickstart.sh [BASE_URL] [TOKEN]      (default http://127.0.0.1:3002, no token)
set -euo pipefail
base=${1:-http://127.0.0.1:3002}
auth=()
[[ -n ${2:-} ]] && auth=(-H "Authorization: Bearer $2")

call() { # METHOD PATH [JSON]
  curl -fsS -X "$1" "$base$2" -H 'Content-Type: application/json' "${auth[@]}" ${3:+-d "$3"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

org=$(call POST /v1/organizations '{"legalName": "Quickstart Ltd", "legalDocument": "42"}' | field '["id"]')
ledger=$(call POST "/v1/organizations/$org/ledgers" '{"name": "Main"}' | field '["id"]')
l="/v1/organizations/$org/ledgers/$ledger"
call POST "$l/assets" '{"name": "US Dollar", "type": "currency", "code": "USD"}' >/dev/null
call POST "$l/accounts" '{"alias": "@alice", "assetCode": "USD", "type": "deposit"}' >/dev/null
call POST "$l/accounts" '{"alias": "@bob", "assetCode": "USD", "type": "deposit"}' >/dev/null

# 100.00 USD arrive from outside (the asset's @external/USD account) for Alice.
call POST "$l/transactions/inflow" '{"send": {"asset": "USD", "value": "100.00",
  "distribute": {"to": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": "100.00"}}]}}}' >/dev/null
# Alice pays Bob 30.50.
call POST "$l/transactions/json" '{"description": "lunch", "send": {"asset": "USD", "value": "30.50",
  "source": {"from": [{"accountAlias": "@alice", "amount": {"asset": "USD", "value": "30.50"}}]},
  "distribute": {"to": [{"accountAlias": "@bob", "amount": {"asset": "USD", "value": "30.50"}}]}}}' >/dev/null

alice=$(call GET "$l/accounts/alias/@alice/balances" | field '["items"][0]["available"]')
bob=$(call GET "$l/accounts/alias/@bob/balances" | field '["items"][0]["available"]')
external=$(call GET "$l/accounts/external/USD/balances" | field '["items"][0]["available"]')
echo "alice=$alice bob=$bob external=$external"
[[ $alice == "69.5" && $bob == "30.5" && $external == "100" ]] || { echo "unexpected balances"; exit 1; }
