# Helpers shared by scripts/perf.sh and scripts/ab.sh (sourced, not run): a scratch folder
# removed on exit (with the server still running, if any), starting a release server on a
# fresh data folder at synchronous=FULL, stopping it, its RSS, and reading the load
# generator's report. The caller sets `bin` (server binary) before `start`.

work=$(mktemp -d)
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

start() { # name port [env...]
  local name=$1 port=$2; shift 2
  local t0; t0=$(date +%s%N)
  env LEDGERLITE_DATA_DIR="$work/$name" LEDGERLITE_ADDR="127.0.0.1:$port" LEDGERLITE_LOG=warn \
    LEDGERLITE_SYNC=full "$@" "$bin" >"$work/$name.log" 2>&1 &
  server=$!
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { echo "server did not start:"; cat "$work/$name.log"; return 1; }
    sleep 0.005
  done
  echo "health answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
}
stop() { kill -TERM "$server"; wait "$server" || true; server=; }
rss_mib() { echo $(( $(ps -o rss= -p "$server") / 1024 )); }
rss() { echo "server RSS $(rss_mib) MiB"; }

# The load generator's report FILE as "TRANSFERS_PER_S P50_MS P99_MS UNIT", UNIT being
# `transfer` or `request` (what the latency is measured per). Its lines read
# "transfers ok N (R/s) …" and "latency (per transfer|request) p50 X ms p99 Y ms …".
loadgen_result() {
  awk '/^transfers/ { rate = $4; gsub(/[()\/s]/, "", rate) }
       /^latency/ { p50 = $5; p99 = $8; unit = ($3 == "request)") ? "request" : "transfer" }
       END { print rate, p50, p99, unit }' "$1"
}
