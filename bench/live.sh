#!/usr/bin/env bash
# Live-stream load: the release binary serving the demo county, first on SQLite (in-process bus),
# then on PostgreSQL with Redis (the Redis pub/sub bus), holding N open dashboard streams while
# public intakes arrive at R per second for S seconds (examples/bench_live.rs prints the delivery
# latency and the server's memory). Usage: bash bench/live.sh [streams] [rate] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-200}
RATE=${2:-20}
SECONDS_=${3:-60}
PG=${MINSHENG_TEST_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${MINSHENG_TEST_REDIS:-redis://127.0.0.1:6379}
PORT=18091
nice cargo build --release --locked -q
nice cargo build --release --locked -q --example bench_live
BIN=$PWD/target/release/minsheng
CLIENT=$PWD/target/release/examples/bench_live
ulimit -n 4096 2>/dev/null || true
export MINSHENG__APPLICATION__WORKERS_ENABLED=false
export MINSHENG__LIMITS__INTAKE_PER_IP__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_IP_DAILY__MAX=1000000000
export MINSHENG__LIMITS__INTAKE_PER_PHONE__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_CARD__MAX=1000000000
export MINSHENG__LIVE__MAX_STREAMS=$((STREAMS + 50))
export RUST_LOG=warn PGOPTIONS='-c client_min_messages=warning'

run() { # $1 = label, $2 = database URL
  local dir pid card
  dir=$(mktemp -d)
  (cd "$dir" && exec "$BIN" demo --listen 127.0.0.1:$PORT --database "$2" > demo.log 2>&1) &
  pid=$!
  for _ in $(seq 480); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.5; done
  card=$(grep -o '/c/[A-Z0-9]*' "$dir/demo.log" | head -n1 | cut -d/ -f3)
  echo "== $1: readyz $(curl -s http://127.0.0.1:$PORT/readyz)"
  "$CLIENT" --base "http://127.0.0.1:$PORT" --card "$card" --streams "$STREAMS" --rate "$RATE" \
    --seconds "$SECONDS_" --pid "$pid"
  echo "server log lines with WARN/ERROR: $(grep -cE 'WARN|ERROR' "$dir/demo.log" || true)"
  grep -E 'WARN|ERROR' "$dir/demo.log" | cut -c1-300 | head -n5 || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

sqlite_dir=$(mktemp -d)
( unset MINSHENG__REDIS__URL; run sqlite "sqlite://$sqlite_dir/bench.sqlite?mode=rwc" )
rm -rf "$sqlite_dir"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ms_bench_live WITH (FORCE)" -qc "CREATE DATABASE ms_bench_live" >/dev/null
( export MINSHENG__REDIS__URL=$REDIS; run "postgres + redis" "$PG/ms_bench_live" )
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ms_bench_live WITH (FORCE)" >/dev/null
