#!/usr/bin/env python3
"""Disaster test of replication with Litestream (#16), with real processes on local addresses.

Node A (ledgerlite with LEDGERLITE_REPLICATION=litestream, multi-tenant) and Litestream
replicating its data folder to a replica run under load from a few client threads; then A and
its Litestream are killed with SIGKILL (Litestream after --litestream-grace seconds), A's data
folder is deleted, and every tenant is restored on node B (a second data folder) with
`ledgerlite tenant restore --all --from-replica`. It then checks that every transfer
acknowledged more than --window seconds before the kill is on B exactly once, that no
transaction is half-applied, and that `verify --all` passes; and prints the measured RPO (how long
before the kill the oldest acknowledged transfer that is missing was acknowledged) and the restore time.

  scripts/replication-disaster.py [--tenants N] [--seconds S] [--runs R] [--replica URL]

Needs the debug build (target/debug/ledgerlite) and Litestream (LEDGERLITE_LITESTREAM or
`litestream` on the PATH). Exits non-zero on any failed check. Bounded: every wait has a
deadline, the load stops after --seconds.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "debug", "ledgerlite")
LITESTREAM = os.environ.get("LEDGERLITE_LITESTREAM", "litestream")
SECRET = "disaster-test-secret-0123456789abcdef"
REQUEST_TIMEOUT_S = 10
START_TIMEOUT_S = 15


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REPLICATION = "litestream"


def env_for(data_dir, port=None):
    env = dict(os.environ)
    env.update(
        LEDGERLITE_DATA_DIR=data_dir,
        LEDGERLITE_JWT_SECRET=SECRET,
        LEDGERLITE_MULTI_TENANT="true",
        LEDGERLITE_REPLICATION=REPLICATION,
    )
    if port:
        env["LEDGERLITE_ADDR"] = f"127.0.0.1:{port}"
    return env


def cli(data_dir, *args):
    out = subprocess.run(
        [BINARY, *args], env=env_for(data_dir), capture_output=True, text=True, timeout=600
    )
    if out.returncode != 0:
        raise SystemExit(f"ledgerlite {' '.join(args)} failed: {out.stdout}{out.stderr}")
    return out.stdout


class Client:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def transfer(value, description=None):
    send = {
        "asset": "USD",
        "value": value,
        "source": {"from": [{"accountAlias": "@a", "amount": {"asset": "USD", "value": value}}]},
        "distribute": {"to": [{"accountAlias": "@b", "amount": {"asset": "USD", "value": value}}]},
    }
    return {"description": description, "send": send}


def set_up(client):
    status, org = client.call("POST", "/v1/organizations", {"legalName": "Disaster", "legalDocument": "1"})
    assert status == 201, (status, org)
    status, ledger = client.call("POST", f"/v1/organizations/{org['id']}/ledgers", {"name": "main"})
    assert status == 201, (status, ledger)
    path = f"/v1/organizations/{org['id']}/ledgers/{ledger['id']}"
    assert client.call("POST", f"{path}/assets", {"name": "USD", "type": "currency", "code": "USD"})[0] == 201
    for alias in ("@a", "@b"):
        body = {"alias": alias, "assetCode": "USD", "type": "deposit"}
        assert client.call("POST", f"{path}/accounts", body)[0] == 201
    inflow = {"send": {"asset": "USD", "value": "1000000",
                       "distribute": {"to": [{"accountAlias": "@a",
                                               "amount": {"asset": "USD", "value": "1000000"}}]}}}
    assert client.call("POST", f"{path}/transactions/inflow", inflow)[0] == 201
    return path


def wait_health(base, process):
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited at start")
        try:
            with urllib.request.urlopen(base + "/health", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def one_run(args, run):
    work = tempfile.mkdtemp(prefix="ll-disaster-")
    node_a, node_b = os.path.join(work, "a"), os.path.join(work, "b")
    replica = args.replica or "file://" + os.path.join(work, "replica")
    tenants = [f"t{i:03d}" for i in range(args.tenants)]
    for tenant in tenants:
        cli(node_a, "tenant", "create", tenant)
    config = os.path.join(work, "litestream.yml")
    key = ["--sftp-key", args.sftp_key] if args.sftp_key else []
    cli(node_a, "replication", "config", "--replica", replica, "--to", config, *key)
    port = free_port()
    log_a = open(os.path.join(work, "a.log"), "w")
    server = subprocess.Popen([BINARY], env=env_for(node_a, port), stdout=log_a, stderr=log_a)
    log_ls = open(os.path.join(work, "litestream.log"), "w")
    litestream = subprocess.Popen([LITESTREAM, "replicate", "-config", config], stdout=log_ls, stderr=log_ls)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_health(base, server)
        clients = {t: Client(base, cli(node_a, "token", "--tenant", t, "--ttl", "3600").strip()) for t in tenants}
        paths = {t: set_up(c) for t, c in clients.items()}
        tenant_list = cli(node_a, "tenant", "list")
        acked = {}  # (tenant, description) -> time acknowledged
        lock = threading.Lock()
        stop_at = time.time() + args.seconds

        def load(worker):
            n = 0
            while time.time() < stop_at:
                tenant = tenants[(worker + n) % len(tenants)]
                description = f"w{worker}-{n}"
                n += 1
                try:
                    status, _ = clients[tenant].call(
                        "POST", f"{paths[tenant]}/transactions/json", transfer("1.00", description))
                except OSError:
                    return  # the server is gone
                if status == 201:
                    with lock:
                        acked[(tenant, description)] = time.time()

        threads = [threading.Thread(target=load, args=(w,)) for w in range(args.threads)]
        for thread in threads:
            thread.start()
        # The kill lands while the load still runs.
        time.sleep(args.seconds * 0.8)
        server.send_signal(signal.SIGKILL)
        killed_at = time.time()
        time.sleep(args.litestream_grace)
        litestream.send_signal(signal.SIGKILL)
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_S + 1)
    finally:
        for process in (server, litestream):
            if process.poll() is None:
                process.kill()
            process.wait()
    shutil.rmtree(node_a)

    # `--all` lists a file:// replica; Litestream cannot list an sftp:// or s3:// one, so its
    # tenants are named in a file (`tenant list`'s output, taken while node A was alive).
    if replica.startswith("file://"):
        which = [["--all"]]
    else:
        ids = os.path.join(work, "tenants.txt")
        with open(ids, "w") as f:
            f.write(tenant_list)
        which = [["--all", "--ids", ids]]
    started = time.time()
    fallbacks = []
    for tenant in which:
        out = subprocess.run(
            [BINARY, "tenant", "restore", *tenant, "--from-replica", replica, *key],
            env=env_for(node_b), capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise SystemExit(f"run {run}: restore failed: {out.stdout}{out.stderr}")
        fallbacks += [line for line in out.stdout.splitlines() if "older intact position" in line]
        for line in out.stderr.splitlines():
            print(f"  run {run}: {line}")
    restore_s = time.time() - started

    failures = []
    present, lost_ages = 0, []
    for tenant in tenants:
        db = sqlite3.connect(os.path.join(node_b, "tenants", f"{tenant}.sqlite"))
        rows = db.execute(
            "SELECT t.description, (SELECT count(*) FROM operation o WHERE o.transaction_id = t.id) "
            "FROM ledger_transaction t WHERE t.description LIKE 'w%'").fetchall()
        db.close()
        seen = {}
        for description, operations in rows:
            seen[description] = seen.get(description, 0) + 1
            if operations != 2:
                failures.append(f"{tenant}/{description} has {operations} operations (half-applied)")
        for description, count in seen.items():
            if count != 1:
                failures.append(f"{tenant}/{description} is there {count} times")
        for (t, description), at in acked.items():
            if t != tenant:
                continue
            if description in seen:
                present += 1
            else:
                lost_ages.append(killed_at - at)
    rpo = max(lost_ages, default=0.0)
    if rpo > args.window:
        failures.append(f"a transfer acknowledged {rpo:.2f} s before the kill is missing (window {args.window} s)")
    verify = subprocess.run([BINARY, "verify", "--all"], env=env_for(node_b),
                            capture_output=True, text=True, timeout=600)
    if verify.returncode != 0:
        failures.append(f"verify --all failed: {verify.stdout}{verify.stderr}")
    print(f"run {run}: {len(acked)} acknowledged, {present} restored, {len(lost_ages)} lost "
          f"(RPO: the oldest lost was acknowledged {rpo:.2f} s before the kill), restore of {len(tenants)} tenants {restore_s:.2f} s"
          f"{', fell back: ' + '; '.join(fallbacks) if fallbacks else ''}", flush=True)
    if failures:
        print(f"  kept for inspection: {work}")
        for failure in failures:
            print(f"  FAILED: {failure}")
        return False
    shutil.rmtree(work)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--window", type=float, default=2.0,
                        help="replication window (RPO) the test holds Litestream to, in seconds")
    parser.add_argument("--litestream-grace", type=float, default=0.0,
                        help="seconds Litestream keeps running after the server is killed")
    parser.add_argument("--replica", help="replica URL (default: a file:// folder of the run)")
    parser.add_argument("--sftp-key", help="SSH private key of an sftp:// replica")
    parser.add_argument("--app-checkpoints", action="store_true",
                        help="run the server with LEDGERLITE_REPLICATION=none (its own checkpoints), "
                             "to compare")
    args = parser.parse_args()
    global REPLICATION
    if args.app_checkpoints:
        REPLICATION = "none"
    ok = sum(one_run(args, run) for run in range(1, args.runs + 1))
    print(f"{ok} passed, {args.runs - ok} failed", flush=True)
    sys.exit(0 if ok == args.runs else 1)


if __name__ == "__main__":
    main()
