#!/usr/bin/env bash
# A/B of two server binaries under the same load: runs alternate (A, B, A, B, …) on fresh
# data folders, so drift of a shared machine or disk hits both alike. Release builds,
# synchronous=FULL, the load generator on the same machine. Repeat until the difference
# is larger than the spread between rounds; on a noisy 2-core machine that is ±10–15 %.
#
#   scripts/ab.sh BINARY_A BINARY_B SCENARIO [ROUNDS] [SECONDS]
#
# A side written `litestream:BINARY` runs that binary with Litestream replicating its data
# folder to a local folder (LEDGERLITE_LITESTREAM names Litestream; default `litestream`), so
# `scripts/ab.sh B litestream:B single` measures what replication costs the write path.
#
# SCENARIO: single     one tenant, 1,000 accounts, 64 connections, one transfer per request
#           rate5000   the same at 5,000 transfers/s offered (open loop)
#           batch      the same through the batch endpoint, 100 per request, 8 connections
#           tenants256 256 tenants, all open (LEDGERLITE_TENANT_CACHE=256), 10 accounts each
#           tenants1000 1,000 tenants over LEDGERLITE_TENANT_CACHE=256
#           zipf10000  10,000 tenants (files made beforehand by each side's binary) over
#                      LEDGERLITE_TENANT_CACHE=256, Zipf S = 1, 2 accounts each
# ROUNDS: pairs of runs (default 3). SECONDS: length of each run (default 8).
# Prints one line per run: binary, transfers/s, p50, p99, server RSS after the run; the load
# generator's own output (errors, conservation check) is kept for a failed run.
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n '2,23p' "$0"; exit 2; }
cd "$(dirname "$0")/.."
side_a=$1 side_b=$2 scenario=$3
rounds=${4:-3} seconds=${5:-8}
cargo build --release --quiet --example loadgen
loadgen=./target/release/examples/loadgen
# shellcheck source=scripts/server.sh
source scripts/server.sh

secret="ab-secret-$(date +%s%N)-0123456789abcdef"
multi=(LEDGERLITE_MULTI_TENANT=true LEDGERLITE_JWT_SECRET="$secret" LEDGERLITE_AUTO_PROVISION=true
  LEDGERLITE_TENANT_CACHE=256)
case $scenario in
  single) env_vars=() args=(--accounts 1000 --connections 64) ;;
  rate5000) env_vars=() args=(--accounts 1000 --connections 64 --rate 5000) ;;
  batch) env_vars=() args=(--accounts 1000 --connections 8 --batch 100) ;;
  tenants256) env_vars=("${multi[@]}") args=(--tenants 256 --accounts 10 --connections 64 --secret "$secret") ;;
  tenants1000) env_vars=("${multi[@]}") args=(--tenants 1000 --accounts 10 --connections 64 --secret "$secret") ;;
  zipf10000) env_vars=("${multi[@]}") args=(--tenants 10000 --accounts 2 --zipf 1 --connections 64 --secret "$secret") ;;
  *) echo "unknown scenario: $scenario"; exit 2 ;;
esac

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run=0
for round in $(seq 1 "$rounds"); do
  for side in A B; do
    bin=$side_a; [[ $side == B ]] && bin=$side_b
    replicate=
    if [[ $bin == litestream:* ]]; then
      bin=${bin#litestream:} replicate=${LEDGERLITE_LITESTREAM:-litestream}
    fi
    bin=$(realpath "$bin")
    run=$((run + 1))
    [[ $scenario == zipf10000 ]] && precreate "$work/run$run" 10000 >/dev/null
    start "run$run" "$port" "${env_vars[@]}" >/dev/null
    status=0
    "$loadgen" --url "http://127.0.0.1:$port" --duration "$seconds" "${args[@]}" >"$work/out" 2>&1 || status=$?
    memory=$(rss_mib)
    [[ -n $replicate ]] && memory="$memory (+ Litestream $(litestream_rss_mib))"
    stop
    rm -rf "$work/run$run" "$work/run$run.replica"
    read -r rate p50 p99 _ < <(loadgen_result "$work/out")
    printf "round %d  %s  %10s transfers/s  p50 %-12s p99 %-12s RSS %s MiB\n" \
      "$round" "$side" "$rate" "$p50 ms" "$p99 ms" "$memory"
    [[ $status -eq 0 ]] || { echo "load generator failed (exit $status):"; cat "$work/out"; exit 1; }
  done
done
