# Helpers shared by scripts/perf.sh and scripts/ab.sh (sourced, not run): a scratch folder
# removed on exit (with the server still running, if any), starting a release server on a
# fresh data folder at synchronous=FULL, stopping it, its RSS, and reading the load
# generator's report. The caller sets `bin` (server binary) before `start`. With
# `replicate` set to a Litestream binary, `start` also runs Litestream beside the server
# (LEDGERLITE_REPLICATION=litestream, every tenant file replicated to $work/NAME.replica, as
# `ledgerlite replication config` writes it) and `stop` stops both.

work=$(mktemp -d)
server=
litestream=
replicate=${replicate:-}
trap '[[ -n $server ]] && kill $server 2>/dev/null; [[ -n $litestream ]] && kill $litestream 2>/dev/null; rm -rf "$work"' EXIT

start() { # name port [env...]
  local name=$1 port=$2; shift 2
  local t0; t0=$(date +%s%N)
  if [[ -n $replicate ]]; then
    mkdir -p "$work/$name/tenants"
    "$bin" --data-dir "$work/$name" replication config --replica "file://$work/$name.replica" \
      --to "$work/$name.litestream.yml" >/dev/null 2>&1
    "$replicate" replicate -config "$work/$name.litestream.yml" >"$work/$name.litestream.log" 2>&1 &
    litestream=$!
    set -- LEDGERLITE_REPLICATION=litestream "$@"
  fi
  env LEDGERLITE_DATA_DIR="$work/$name" LEDGERLITE_ADDR="127.0.0.1:$port" LEDGERLITE_LOG=warn \
    LEDGERLITE_SYNC=full "$@" "$bin" >"$work/$name.log" 2>&1 &
  server=$!
  until curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null || { echo "server did not start:"; cat "$work/$name.log"; return 1; }
    sleep 0.005
  done
  echo "health answered $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
}
stop() {
  kill -TERM "$server"; wait "$server" || true; server=
  if [[ -n $litestream ]]; then kill -TERM "$litestream"; wait "$litestream" || true; litestream=; fi
}
rss_mib() { echo $(( $(ps -o rss= -p "$server") / 1024 )); }
# Litestream's own RSS, when it runs beside the server.
litestream_rss_mib() {
  [[ -n $litestream ]] || { echo 0; return; }
  local kib; kib=$(ps -o rss= -p "$litestream") || { echo "exited"; return; }
  echo $(( kib / 1024 ))
}
rss() { echo "server RSS $(rss_mib) MiB"; }

# The load generator's report FILE as "TRANSFERS_PER_S P50_MS P99_MS UNIT", UNIT being
# `transfer` or `request` (what the latency is measured per). Its lines read
# "transfers ok N (R/s) …" and "latency (per transfer|request) p50 X ms p99 Y ms …".
loadgen_result() {
  awk '/^transfers/ { rate = $4; gsub(/[()\/s]/, "", rate) }
       /^latency/ { p50 = $5; p99 = $8; unit = ($3 == "request)") ? "request" : "transfer" }
       END { print rate, p50, p99, unit }' "$1"
}

# Creates COUNT tenant files `loadgen-<i>` in the data folder DIR before its server starts:
# copies of one file made by `ledgerlite tenant create` (creating each through the API, with
# its migrations, VACUUM and checkpoint at synchronous=FULL, takes minutes for 10,000).
precreate() { # dir count
  local dir=$1 count=$2 t0 i files=()
  t0=$(date +%s%N)
  rm -rf "$work/template"
  "$bin" --data-dir "$work/template" tenant create template >/dev/null
  mkdir -p "$dir/tenants"
  for ((i = 0; i < count; i++)); do
    files+=("$dir/tenants/loadgen-$i.sqlite")
    if (( ${#files[@]} == 500 || i == count - 1 )); then
      tee "${files[@]}" <"$work/template/tenants/template.sqlite" >/dev/null
      files=()
    fi
  done
  echo "created $count tenant files in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}
