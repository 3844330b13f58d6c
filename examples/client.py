#!/usr/bin/env python3
"""A small Python client of ledgerlite in multi-tenant mode.

For each of two tenants: an organization, a ledger, a USD asset and two accounts; money in from
outside, money moved between the accounts, balances checked. Then checks isolation: tenant A's
token cannot see tenant B's ledger (404). Exits 1 on any mismatch.

    examples/client.py BASE_URL TOKEN_A TOKEN_B
    LEDGERLITE_URL=... TOKEN_A=... TOKEN_B=... examples/client.py

Tokens come from the server's operator, e.g. `ledgerlite token --tenant acme` (with the
server's LEDGERLITE_JWT_SECRET); the tenants must exist (`ledgerlite tenant create acme`) unless
the server auto-provisions them. Needs `requests` (pip install requests).
"""

import os
import sys
from decimal import Decimal

import requests

# Seconds before a request is given up on.
REQUEST_TIMEOUT_SECONDS = 10


class Tenant:
    """One tenant's view of the API: every request carries its token."""

    def __init__(self, base, token, name):
        self.base = base.rstrip("/")
        self.name = name
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, body=None, expect=200):
        response = self.session.request(
            method, self.base + path, json=body, timeout=REQUEST_TIMEOUT_SECONDS
        )
        if response.status_code != expect:
            fail(f"{self.name}: {method} {path}: {response.status_code} (expected {expect}): {response.text}")
        return response.json() if response.content else None

    def create(self, path, body):
        return self.call("POST", path, body, expect=201)


def fail(message):
    print(f"FAIL {message}", file=sys.stderr)
    sys.exit(1)


def send(value, to, source=None):
    """A transaction body moving `value` USD to `to`, from `source` (inflows have none)."""
    amount = {"asset": "USD", "value": value}
    body = {"send": {"asset": "USD", "value": value,
                     "distribute": {"to": [{"accountAlias": to, "amount": amount}]}}}
    if source:
        body["send"]["source"] = {"from": [{"accountAlias": source, "amount": amount}]}
    return body


def available(tenant, ledger, alias):
    items = tenant.call("GET", f"{ledger}/accounts/alias/{alias}/balances")["items"]
    return Decimal(items[0]["available"])


def set_up(tenant, inflow, transfer):
    """Creates a ledger, funds @alice with `inflow` and pays @bob `transfer`; returns its path."""
    org = tenant.create("/v1/organizations", {"legalName": f"{tenant.name} Ltd", "legalDocument": "42"})
    ledger = tenant.create(f"/v1/organizations/{org['id']}/ledgers", {"name": "Main"})
    path = f"/v1/organizations/{org['id']}/ledgers/{ledger['id']}"
    tenant.create(f"{path}/assets", {"name": "US Dollar", "type": "currency", "code": "USD"})
    for alias in ("@alice", "@bob"):
        tenant.create(f"{path}/accounts", {"alias": alias, "assetCode": "USD", "type": "deposit"})
    tenant.create(f"{path}/transactions/inflow", send(inflow, "@alice"))
    tenant.create(f"{path}/transactions/json", send(transfer, "@bob", source="@alice"))

    expected = {
        "@alice": Decimal(inflow) - Decimal(transfer),
        "@bob": Decimal(transfer),
    }
    for alias, want in expected.items():
        got = available(tenant, path, alias)
        if got != want:
            fail(f"{tenant.name}: {alias} has {got}, expected {want}")
        print(f"{tenant.name} {alias} {got} USD")
    return path


def main():
    args = sys.argv[1:]
    if len(args) not in (0, 3):
        fail("usage: client.py [BASE_URL TOKEN_A TOKEN_B]")
    base, token_a, token_b = args or (
        os.environ.get("LEDGERLITE_URL", "http://127.0.0.1:3002"),
        os.environ.get("TOKEN_A"),
        os.environ.get("TOKEN_B"),
    )
    if not token_a or not token_b:
        fail("two tenant tokens are needed (arguments or TOKEN_A / TOKEN_B)")

    a = Tenant(base, token_a, "tenant-a")
    b = Tenant(base, token_b, "tenant-b")
    ledger_a = set_up(a, "100.00", "30.50")
    ledger_b = set_up(b, "250", "0.01")

    # Isolation: each tenant's ids do not exist for the other one.
    for viewer, other_ledger in ((a, ledger_b), (b, ledger_a)):
        # The other tenant's organization id does not exist here: 0038 Organization ID Not Found.
        error = viewer.call("GET", other_ledger, expect=404)
        if error.get("code") != "0038":
            fail(f"{viewer.name}: the other tenant's ledger answered {error}")
        viewer.call("GET", f"{other_ledger}/accounts/alias/@alice/balances", expect=404)
    if available(a, ledger_a, "@alice") != Decimal("69.50"):
        fail("tenant-a's balance changed")
    print("ok: two tenants, balances as expected, neither sees the other")


if __name__ == "__main__":
    main()
