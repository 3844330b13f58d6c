#!/usr/bin/env bash
# The performance run behind the README's table: the raw SQLite limit and ledgerlite under
# the load generator, minutes apart on the same disk. Release build, synchronous=FULL, the load
# generator on the same machine as the server.
#
#   scripts/perf.sh [SECONDS_PER_RUN]     (default 15)
#
# With replicate=/path/to/litestream in the environment, every server runs with Litestream
# beside it, replicating to a local folder (see scripts/server.sh).
#
# Ends with the README's table (markdown) built from the runs' own output.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
cargo build --release --quiet --bin ledgerlite --examples
bin=./target/release/ledgerlite
loadgen=./target/release/examples/loadgen
# shellcheck source=scripts/server.sh
source scripts/server.sh
rows=()
# Thousands separators: mawk's printf has no ' flag.
commas() { LC_ALL=C printf '%.0f' "$1" | sed -E ':a; s/^([0-9]+)([0-9]{3})/\1,\2/; ta'; }
load() { # scenario shown-command loadgen-args...
  local scenario=$1 shown=$2; shift 2
  "$loadgen" "$@" | tee "$work/run.out"
  local rate p50 p99 unit per=
  read -r rate p50 p99 unit < <(loadgen_result "$work/run.out")
  [[ $unit == request ]] && per=" / request"
  p50=$(LC_ALL=C printf '%.1f ms%s' "$p50" "$per")
  p99=$(LC_ALL=C printf '%.1f ms%s' "$p99" "$per")
  rows+=("| $scenario | \`$shown\` | $(commas "$rate") | $p50 | $p99 | $(awk -v r="$rate" -v b="$raw100" 'BEGIN { printf "%.0f %%", 100 * r / b }') |")
}

echo "## machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; df -h "$work" | tail -1

echo "## raw SQLite baseline (same rows, synchronous=FULL)"
./target/release/examples/baseline --seconds "$seconds" --path "$work" | tee "$work/baseline.out"
raw1=$(awk '$1 == "batch" && $2 == "1:" { print $9 }' "$work/baseline.out")
raw100=$(awk '$1 == "batch" && $2 == "100:" { print $9 }' "$work/baseline.out")

echo "## one tenant, 1,000 accounts, 64 connections, one transfer per request"
start single 39901
load "one tenant, 1,000 accounts, 64 connections, one transfer per request" "loadgen --connections 64 --accounts 1000" \
  --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --duration "$seconds"
echo "## same server, open loop at 2,000 and 5,000 transfers/s offered"
load "same, open loop at 2,000/s offered" "loadgen --rate 2000" \
  --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --rate 2000 --duration "$seconds"
load "same, open loop at 5,000/s offered" "loadgen --rate 5000" \
  --url http://127.0.0.1:39901 --accounts 1000 --connections 64 --rate 5000 --duration "$seconds"
echo "## same server, batch endpoint, 100 transfers per request, 8 connections"
load "batch endpoint, 100 transfers per request, 8 connections" "loadgen --batch 100 --connections 8" \
  --url http://127.0.0.1:39901 --accounts 1000 --connections 8 --batch 100 --duration "$seconds"
stop

echo "## 256 tenants, all open (LEDGERLITE_TENANT_CACHE=256), uniform random traffic"
secret="perf-secret-$(date +%s%N)-0123456789abcdef"
start open256 39903 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_AUTO_PROVISION=true LEDGERLITE_TENANT_CACHE=256
load "256 tenants, all open (\`LEDGERLITE_TENANT_CACHE=256\`), uniform random" "loadgen --tenants 256 --accounts 10 --secret …" \
  --url http://127.0.0.1:39903 --tenants 256 --accounts 10 --connections 64 --duration "$seconds" --secret "$secret"
rss
stop

echo "## 1,000 tenants, LEDGERLITE_TENANT_CACHE=256, uniform random traffic"
secret="perf-secret-$(date +%s%N)-0123456789abcdef"
start multi 39902 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_AUTO_PROVISION=true LEDGERLITE_TENANT_CACHE=256
load "1,000 tenants, \`LEDGERLITE_TENANT_CACHE=256\`, uniform random" "loadgen --tenants 1000 --accounts 10 --secret …" \
  --url http://127.0.0.1:39902 --tenants 1000 --accounts 10 --connections 64 --duration "$seconds" --secret "$secret"
rss
stop

echo "## table"
echo "| scenario | command | transfers/s | p50 | p99 | vs raw SQLite batch-100 |"
echo "|---|---|---|---|---|---|"
echo "| raw SQLite, 1 transfer per \`COMMIT\` | \`baseline\` | $(commas "$raw1") | | | — |"
echo "| raw SQLite, 100 transfers per \`COMMIT\` | \`baseline\` | $(commas "$raw100") | | | — |"
printf '%s\n' "${rows[@]}"
