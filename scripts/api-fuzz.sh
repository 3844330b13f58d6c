#!/usr/bin/env bash
# Property-based API testing of a running ledgerlite with schemathesis, driven by the server's
# own /openapi.json: fails on any 5xx and on any response that does not match the documented
# schema (4xx included: they must be the error envelope).
#
#   scripts/api-fuzz.sh BASE_URL [extra schemathesis run options]
#
# Seeds one organization, ledger, asset and two funded accounts first and points the ledger
# path parameters (and, often, aliases, asset codes and transaction ids) at them, so that
# generated requests reach the business rules instead of stopping at 404. Needs `schemathesis`
# (4.x) on PATH or in $SCHEMATHESIS.
set -euo pipefail
base=${1:?usage: scripts/api-fuzz.sh BASE_URL [schemathesis options]}
shift
schemathesis=${SCHEMATHESIS:-schemathesis}

call() { # METHOD PATH JSON
  curl -fsS -X "$1" "$base$2" -H 'Content-Type: application/json' -d "$3"
}
id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

org=$(call POST /v1/organizations '{"legalName": "Fuzz Ltd", "legalDocument": "1"}' | id)
ledger=$(call POST "/v1/organizations/$org/ledgers" '{"name": "Fuzz"}' | id)
l="/v1/organizations/$org/ledgers/$ledger"
call POST "$l/assets" '{"name": "Real", "type": "currency", "code": "BRL"}' >/dev/null
account=$(call POST "$l/accounts" '{"alias": "@alice", "assetCode": "BRL", "type": "deposit"}' | id)
call POST "$l/accounts" '{"alias": "@bob", "assetCode": "BRL", "type": "deposit"}' >/dev/null
fund='{"send": {"asset": "BRL", "value": "1000",
  "source": {"from": [{"accountAlias": "@external/BRL", "amount": {"asset": "BRL", "value": "1000"}}]},
  "distribute": {"to": [{"accountAlias": "@alice", "share": {"percentage": 50}},
                        {"accountAlias": "@bob", "remaining": "remaining"}]}}}'
approved=$(call POST "$l/transactions/json" "$fund" | id)
hold='{"pending": true, "send": {"asset": "BRL", "value": "10",
  "source": {"from": [{"accountAlias": "@alice", "amount": {"asset": "BRL", "value": "10"}}]},
  "distribute": {"to": [{"accountAlias": "@bob", "amount": {"asset": "BRL", "value": "10"}}]}}}'
pending=$(call POST "$l/transactions/json" "$hold" | id)

config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat >"$config" <<TOML
[dictionaries.aliases]
values = ["@alice", "@bob", "@external/BRL"]

[dictionaries.assets]
values = ["BRL"]

[dictionaries.accounts]
values = ["$account"]

[dictionaries.transactions]
values = ["$approved", "$pending"]

[parameters]
"path.organization_id" = "$org"
"path.ledger_id" = "$ledger"
"path.account_id" = { dictionary = "accounts", probability = 0.7 }
"path.transaction_id" = { dictionary = "transactions", probability = 0.7 }
"path.alias" = { dictionary = "aliases", probability = 0.7 }
"path.code" = { dictionary = "assets", probability = 0.7 }
"path.asset_code" = { dictionary = "assets", probability = 0.7 }
"body.send.asset" = { dictionary = "assets", probability = 0.8 }
"body.send.source.from[*].accountAlias" = { dictionary = "aliases", probability = 0.8 }
"body.send.distribute.to[*].accountAlias" = { dictionary = "aliases", probability = 0.8 }
"body.assetCode" = { dictionary = "assets", probability = 0.8 }
TOML

# One worker: schemathesis' workers are threads, and CPython 3.11 before 3.11.8 can fail
# parsing ASTs from two threads at once ("AST constructor recursion depth mismatch",
# cpython#106905), which aborts the run with a runtime error that is not the server's.
"$schemathesis" --config-file "$config" run "$base/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples 25 --workers 1 --generation-database none --no-color "$@"
