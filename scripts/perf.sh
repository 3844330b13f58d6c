#!/usr/bin/env bash
# The performance run behind the README's table: the raw SQLite limit and ledgerlite under
# the load generator, minutes apart on the same disk. Release build, synchronous=FULL, the load
# generator on the same machine as the server.
#
#   scripts/perf.sh [SECONDS_PER_RUN [SCENARIOS]]     (default 15, all)
#
# SCENARIOS: `all`, or `tenants` for the raw baseline and the many-tenant runs only (1,000
# tenants uniform, closed loop and open loop at half the raw one-transfer-per-COMMIT rate;
# 10,000 tenants Zipf-skewed). Ends with the README's table (markdown) built
# from the runs' own output: transfers/s against both raw baselines, the server's RSS after the
# run (after the load generator's final check, which reads every tenant) and the p99 bucket of
# the cold opens the server did during the load (`ledgerlite_tenant_open_duration_seconds`).
#
# With replicate=/path/to/litestream in the environment, every server runs with Litestream
# beside it, replicating to a local folder (see scripts/server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
scenarios=${2:-all}
[[ $scenarios == all || $scenarios == tenants ]] || { echo "SCENARIOS: all or tenants" >&2; exit 2; }
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
  local rate p50 p99 unit per= cold
  read -r rate p50 p99 unit < <(loadgen_result "$work/run.out")
  [[ $unit == request ]] && per=" / request"
  p50=$(LC_ALL=C printf '%.1f ms%s' "$p50" "$per")
  p99=$(LC_ALL=C printf '%.1f ms%s' "$p99" "$per")
  # "cold opens    N during the load, p99 <= X ms, P % within 2 ms" (or "p99 > X ms", or
  # "0 during the load").
  local opens sign bound fast
  read -r opens sign bound fast < <(awk '/^cold opens/ { print $3, $8, $9, $11 }' "$work/run.out")
  [[ $sign == "<=" ]] && sign="≤"
  [[ -n $opens && $opens != 0 ]] && cold="$(commas "$opens") opens, p99 $sign $(LC_ALL=C printf '%g' "$bound") ms, $fast % ≤ 2 ms"
  rows+=("| $scenario | \`$shown\` | $(commas "$rate") | $p50 | $p99 | $(ratio "$rate" "$raw1") | $(ratio "$rate" "$raw100") | $(rss_mib) MiB | ${cold:-—} |")
  # "warm-up       N transfers in S s (R/s), not measured": the first seconds after setup.
  local warm
  warm=$(awk '/^warm-up/ { rate = $7; gsub(/[()\/s,]/, "", rate); print rate }' "$work/run.out")
  if [[ -n $warm ]]; then
    rows+=("| same, its warm-up: the first $seconds s after setup (rate only) | | $(commas "$warm") | | | $(ratio "$warm" "$raw1") | $(ratio "$warm" "$raw100") | | |")
  fi
}
ratio() { awk -v r="$1" -v b="$2" 'BEGIN { printf "%.2f×", r / b }'; }
echo "## machine"; nproc; grep -m1 'model name' /proc/cpuinfo || true; df -h "$work" | tail -1

echo "## raw SQLite baseline (same rows, synchronous=FULL)"
./target/release/examples/baseline --seconds "$seconds" --path "$work" | tee "$work/baseline.out"
raw1=$(awk '$1 == "batch" && $2 == "1:" { print $9 }' "$work/baseline.out")
raw100=$(awk '$1 == "batch" && $2 == "100:" { print $9 }' "$work/baseline.out")

if [[ $scenarios == all ]]; then
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
fi

echo "## 1,000 tenants, LEDGERLITE_TENANT_CACHE=256, uniform random traffic"
secret="perf-secret-$(date +%s%N)-0123456789abcdef"
start multi 39902 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_AUTO_PROVISION=true LEDGERLITE_TENANT_CACHE=256
load "1,000 tenants, \`LEDGERLITE_TENANT_CACHE=256\`, uniform random" "loadgen --tenants 1000 --accounts 10 --secret …" \
  --url http://127.0.0.1:39902 --tenants 1000 --accounts 10 --connections 64 --duration "$seconds" --secret "$secret"
rss
echo "## same server, open loop at half the raw 1-transfer-per-COMMIT rate"
half=$(awk -v r="$raw1" 'BEGIN { printf "%d", r / 2 }')
load "same, open loop at half the raw 1/\`COMMIT\` rate ($(commas "$half")/s offered)" "loadgen --tenants 1000 --rate $half …" \
  --url http://127.0.0.1:39902 --tenants 1000 --accounts 10 --connections 64 --rate "$half" --duration "$seconds" --secret "$secret"
stop

echo "## 10,000 tenants, LEDGERLITE_TENANT_CACHE=256, Zipf-skewed traffic (S = 1: tenant i ∝ 1/(i+1))"
secret="perf-secret-$(date +%s%N)-0123456789abcdef"
precreate "$work/zipf" 10000
start zipf 39904 LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" \
  LEDGERLITE_TENANT_CACHE=256
load "10,000 tenants (files made beforehand), \`LEDGERLITE_TENANT_CACHE=256\`, Zipf S = 1, after a warm-up" "loadgen --tenants 10000 --accounts 2 --zipf 1 --warmup $seconds --secret …" \
  --url http://127.0.0.1:39904 --tenants 10000 --accounts 2 --zipf 1 --connections 64 --warmup "$seconds" --duration "$seconds" --secret "$secret"
rss
stop

echo "## table"
echo "| scenario | command | transfers/s | p50 | p99 | vs raw 1/\`COMMIT\` | vs raw 100/\`COMMIT\` | RSS after | cold opens during the load |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| raw SQLite, 1 transfer per \`COMMIT\` | \`baseline\` | $(commas "$raw1") | | | 1.00× | | | |"
echo "| raw SQLite, 100 transfers per \`COMMIT\` | \`baseline\` | $(commas "$raw100") | | | | 1.00× | | |"
printf '%s\n' "${rows[@]}"
