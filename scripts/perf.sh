#!/usr/bin/env bash
# The performance run behind the README's table: the raw SQLite limit and ledgerlite under
# the load generator, minutes apart on the same disk. Release build, synchronous=FULL, the load
# generator on the same machine as the server.
#
#   scripts/perf.sh [SECONDS_PER_RUN]     (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
cargo build --release --quiet --bin ledgerlite --examples
bin=./target/release/ledgerlite
loadgen=./target/release/examples/loadgen
work=$(mktemp -d)
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

start() { # name port [env...]
  local name=$1 port=$2; shift 2
  local t0; t0=$(date +%s%N)
  env LEDGERLITE_DATA_DIR="$work/$name" LEDGERLITE_ADDR="127.0.0.1:$port" LEDGERLITE_LOG=warn \
    LEDGERLITE_SYNC=full "$@" "$bin" >"$work/$name.log" 2>&1 &
  server=$!
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.005; done
  echo "health answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
}
stop() { kill -TERM "$server"; wait "$server" || true; server=; }
rss() { echo "server RSS $(( $(ps -o rss= -p "$server") / 1024 )) MiB"; }

echo "## machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; df -h "$work" | tail -1

echo "## raw SQLite baseline (same rows, synchronous=FULL)"
./target/release/examples/baseline --seconds "$seconds" --path "$work"

echo "## one tenant, 1,000 accounts, 64 connections, one transfer per request"
start single 39901
"$loadgen" --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --duration "$seconds"
echo "## same server, open loop at 2,000 and 5,000 transfers/s offered"
"$loadgen" --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --rate 2000 --duration "$seconds"
"$loadgen" --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --rate 5000 --duration "$seconds"
echo "## same server, batch endpoint, 100 transfers per request, 8 connections"
"$loadgen" --url http://127.0.0.1:39901 --accounts 1000 --connections 8 --batch 100 --duration "$seconds"
stop

echo "## 256 tenants, all open (LEDGERLITE_TENANT_CACHE=256), uniform random traffic"
secret="perf-$(date +%s%N)"
start open256 39903 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_AUTO_PROVISION=true LEDGERLITE_TENANT_CACHE=256
"$loadgen" --url http://127.0.0.1:39903 --tenants 256 --accounts 10 --connections 64 \
  --duration "$seconds" --secret "$secret"
rss
stop

echo "## 1,000 tenants, LEDGERLITE_TENANT_CACHE=256, uniform random traffic"
secret="perf-$(date +%s%N)"
start multi 39902 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_AUTO_PROVISION=true LEDGERLITE_TENANT_CACHE=256
"$loadgen" --url http://127.0.0.1:39902 --tenants 1000 --accounts 10 --connections 64 \
  --duration "$seconds" --secret "$secret"
rss
stop
