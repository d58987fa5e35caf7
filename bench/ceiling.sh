#!/usr/bin/env bash
# Intake next to what the databases themselves can do (issue 21 point 1), in one run, loopback only:
#   1. pgbench: a three-insert transaction (ticket-, event- and outbox-shaped rows), 32 clients;
#   2. SQLite: the same three inserts per transaction with minsheng's pragmas, one writer
#      (examples/bench_ceiling.rs);
#   3. minsheng's intake (POST /api/v1/tickets, release build, workers off, limits lifted) on SQLite
#      and on PostgreSQL, loaded by wrk with 32 connections;
# and prints requests/s, p50, p99, the share of the ceiling, and minsheng's RSS idle and peak.
# Bounded (each load runs DURATION seconds), and it stops what it started by PID.
# Usage: bash bench/ceiling.sh [seconds=15] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${2:-32}
PG=${MINSHENG_TEST_PG:-postgres://postgres@127.0.0.1:5432}
PORT=18091
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  psql "$PG/test" -qc "DROP DATABASE IF EXISTS ms_ceiling WITH (FORCE)" -qc "DROP DATABASE IF EXISTS ms_ceiling_app WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -n1)"
# MINSHENG_BIN: measure another build of minsheng (an earlier commit's, to compare) on the same run.
cargo build --release --locked -q --example bench_ceiling
[ -n "${MINSHENG_BIN:-}" ] || cargo build --release --locked -q --bin minsheng
BIN=${MINSHENG_BIN:-$PWD/target/release/minsheng}
ROWS=()

pct() { # $1 = percentile (0-100), stdin = numbers
  sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.1f", a[i]}'
}

# --- 1. pgbench ceiling ---
psql "$PG/test" -qc "DROP DATABASE IF EXISTS ms_ceiling WITH (FORCE)" -qc "CREATE DATABASE ms_ceiling" >/dev/null
psql "$PG/ms_ceiling" -q >/dev/null <<'SQL'
CREATE TABLE t (id BIGSERIAL PRIMARY KEY, no TEXT NOT NULL UNIQUE, region_id BIGINT NOT NULL, category TEXT NOT NULL,
  description TEXT NOT NULL, requester_phone TEXT NOT NULL, status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
CREATE TABLE e (id BIGSERIAL PRIMARY KEY, ticket_id BIGINT NOT NULL REFERENCES t(id), seq INT NOT NULL, action TEXT NOT NULL,
  data TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE o (id BIGSERIAL PRIMARY KEY, ticket_id BIGINT REFERENCES t(id), kind TEXT NOT NULL, recipient TEXT NOT NULL,
  body TEXT NOT NULL, status TEXT NOT NULL, next_attempt_at TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL);
CREATE INDEX t_created ON t (created_at); CREATE INDEX e_ticket ON e (ticket_id, seq); CREATE INDEX o_due ON o (status, next_attempt_at);
SQL
cat > "$WORK/intake.sql" <<'SQL'
\set n random(1, 1000000000000)
BEGIN;
INSERT INTO t (no, region_id, category, description, requester_phone, status, created_at) VALUES ('20261207-' || :n, 3, 'water.supply', '村东头自来水停了三天了，请尽快处理。村里的老人孩子都没水喝，希望有关部门尽快派人来修。', '13812345678', 'submitted', now());
INSERT INTO e (ticket_id, seq, action, data, at, prev_hash, hash) VALUES (currval('t_id_seq'), 1, 'submit', '{"channel":"h5","category":"water.supply"}', now(), repeat('9f2c', 16), repeat('9f2c', 16));
INSERT INTO o (ticket_id, kind, recipient, body, status, next_attempt_at, created_at) VALUES (currval('t_id_seq'), 'confirmation', '13812345678', '村东头自来水停了三天了，请尽快处理。', 'pending', now(), now());
END;
SQL
echo "== pgbench: three-insert transaction, $CONNS clients, ${DURATION}s"
(cd "$WORK" && pgbench -n -M prepared -c "$CONNS" -j 2 -T "$DURATION" -f intake.sql -l --log-prefix=pgb "$PG/ms_ceiling" > pgbench.out 2>&1)
pg_tps=$(grep -oP 'tps = \K[0-9.]+' "$WORK/pgbench.out" | head -n1)
cat "$WORK"/pgb.* | awk '{print $3/1000}' > "$WORK/pg_lat"
ROWS+=("pgbench ceiling|$pg_tps|$(pct 50 < "$WORK/pg_lat")|$(pct 99 < "$WORK/pg_lat")|100 %|—|—")

# --- 2. SQLite ceiling ---
echo "== SQLite: three-insert transaction, one writer, ${DURATION}s"
line=$(target/release/examples/bench_ceiling "$DURATION")
echo "$line"
sq_tps=$(echo "$line" | grep -oP 'per_second=\K[0-9.]+')
ROWS+=("SQLite ceiling|$sq_tps|$(echo "$line" | grep -oP 'p50_ms=\K[0-9.]+')|$(echo "$line" | grep -oP 'p99_ms=\K[0-9.]+')|100 %|—|—")

# --- 3. minsheng's intake ---
export MINSHENG__APPLICATION__WORKERS_ENABLED=false RUST_LOG=warn
export MINSHENG__LIMITS__INTAKE_PER_IP__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_IP_DAILY__MAX=1000000000
export MINSHENG__LIMITS__INTAKE_PER_PHONE__MAX=1000000000 MINSHENG__LIMITS__INTAKE_PER_CARD__MAX=1000000000
export MINSHENG__LIMITS__CONFIRMATION_SMS_PER_PHONE__MAX=1000000000
kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
intake() { # $1 = label, $2 = database URL, $3 = ceiling requests/s
  local dir="$WORK/$1"; mkdir -p "$dir"
  (cd "$dir" && exec "$BIN" demo --listen 127.0.0.1:$PORT --database "$2" > demo.log 2>&1) &
  local pid=$!; PIDS+=("$pid")
  for _ in $(seq 120); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.5; done
  sleep 2 # the demo's start-up work is done; the idle figure is after it
  local idle; idle=$(kb "$pid" VmRSS)
  local card; card=$(grep -o '/c/[A-Z0-9]*' "$dir/demo.log" | head -n1 | cut -d/ -f3)
  echo "== minsheng intake on $1: wrk -t2 -c$CONNS -d${DURATION}s"
  CARD=$card wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/intake.lua "http://127.0.0.1:$PORT" > "$dir/wrk.out"
  grep -E "Requests/sec|Latency  |50%|99%|Non-2xx|requests in" "$dir/wrk.out"
  local peak; peak=$(kb "$pid" VmHWM)
  local rps p50 p99
  rps=$(grep -oP 'Requests/sec:\s+\K[0-9.]+' "$dir/wrk.out")
  ms() { awk '{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.1f", v}'; }
  p50=$(grep -E '^ +50%' "$dir/wrk.out" | ms); p99=$(grep -E '^ +99%' "$dir/wrk.out" | ms)
  ROWS+=("minsheng intake, $1|$rps|$p50|$p99|$(awk -v a="$rps" -v b="$3" 'BEGIN {printf "%.0f %%", 100*a/b}')|$((idle / 1024)) MB|$((peak / 1024)) MB")
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
intake sqlite "sqlite://$WORK/app.sqlite?mode=rwc" "$sq_tps"
psql "$PG/test" -qc "DROP DATABASE IF EXISTS ms_ceiling_app WITH (FORCE)" -qc "CREATE DATABASE ms_ceiling_app" >/dev/null
intake postgres "$PG/ms_ceiling_app" "$pg_tps"

echo
echo "| run ($CONNS connections, ${DURATION} s) | requests/s | p50 ms | p99 ms | share of its ceiling | RSS idle | RSS peak |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for r in "${ROWS[@]}"; do IFS='|' read -r a b c d e f g <<< "$r"; printf '| %s | %.0f | %s | %s | %s | %s | %s |\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"; done
