#!/usr/bin/env bash
# Intake throughput and latency: the release binary serving the demo county on SQLite and on
# PostgreSQL, loaded by wrk (POST /api/v1/tickets, a new Idempotency-Key and phone per request),
# plus the bytes of the card page's first load. Usage: bash bench/intake.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNS=${2:-32}
PG=${MINSHENG_TEST_PG:-postgres://postgres@127.0.0.1:5432}
PORT=18090
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q
BIN=target/release/minsheng
export MINSHENG__APPLICATION__WORKERS_ENABLED=false
export MINSHENG__LIMITS__INTAKE_PER_IP__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_IP_DAILY__MAX=1000000000
export MINSHENG__LIMITS__INTAKE_PER_PHONE__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_CARD__MAX=1000000000
export RUST_LOG=warn

run() { # $1 = label, $2 = database URL
  local dir; dir=$(mktemp -d)
  (cd "$dir" && "$OLDPWD/$BIN" demo --listen 127.0.0.1:$PORT --database "$2" > demo.log 2>&1 &)
  for _ in $(seq 60); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.5; done
  local card; card=$(grep -o '/c/[A-Z0-9]*' "$dir/demo.log" | head -n1 | cut -d/ -f3)
  if [ "$1" = sqlite ]; then
    local page css js font
    page=$(curl -s --compressed -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip, br' "http://127.0.0.1:$PORT/c/$card")
    css=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip, br' http://127.0.0.1:$PORT/assets/css/app.css)
    js=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip, br' http://127.0.0.1:$PORT/assets/js/intake.js)
    font=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip, br' http://127.0.0.1:$PORT/assets/js/font.js)
    echo "card page first load (compressed bodies): html $page + css $css + js $js + $font = $((page + css + js + font)) bytes"
  fi
  echo "== intake on $1: wrk -t2 -c$CONNS -d${DURATION}s"
  CARD=$card wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/intake.lua "http://127.0.0.1:$PORT" |
    grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|requests in"
  pkill -f "minsheng demo --listen 127.0.0.1:$PORT" || true
  sleep 1
  rm -rf "$dir"
}

run sqlite "sqlite://$(mktemp -d)/bench.sqlite?mode=rwc"
psql "$PG/test" -qc "DROP DATABASE IF EXISTS ms_bench WITH (FORCE)" -qc "CREATE DATABASE ms_bench" >/dev/null
run postgres "$PG/ms_bench"
psql "$PG/test" -qc "DROP DATABASE IF EXISTS ms_bench WITH (FORCE)" >/dev/null
