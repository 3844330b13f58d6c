# Helpers shared by scripts/perf.sh and scripts/ab.sh (sourced, not run): start a release
# server on a fresh data folder at synchronous=FULL, stop it, read its RSS.
# The caller sets `bin` (server binary) and `work` (scratch folder) and clears `server`.

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
