#!/usr/bin/env bash
# The Open311 facade read by a third-party client: the PyPI package `georeport` (pinned, in a
# virtualenv under target/) against the demo binary on a free port with a throw-away SQLite file.
# An admin makes an API key through the API, tests/georeport/check.py reads services and requests
# in JSON and XML and files one request with the key. Bounded (timeouts) and self-cleaning (the
# server is stopped by its PID and its folder removed on any exit).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/venv-georeport
PINS=(georeport==0.3.1 xmltodict==0.14.2 requests==2.32.5)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import georeport' 2>/dev/null; then
  python3 -m venv "$VENV"
  timeout 300 "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
fi

# The test build (`cargo test --no-run`) already made the binary; a plain `cargo build` would build it
# again without the dev-dependencies' features (minutes in CI).
BIN=$PWD/target/debug/minsheng
[ -x "$BIN" ] || cargo build --locked -q --bin minsheng
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
DIR=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

export MINSHENG__APPLICATION__WORKERS_ENABLED=false RUST_LOG=warn
(cd "$DIR" && exec "$BIN" demo --listen "127.0.0.1:$PORT" --database "sqlite://$DIR/demo.sqlite?mode=rwc" > demo.log 2>&1) &
PID=$!
# Ready when /healthz answers (the demo migrates and seeds first); give up after 3 minutes.
for _ in $(seq 360); do
  curl -sf "$BASE/healthz" >/dev/null && break
  kill -0 "$PID" 2>/dev/null || { echo "the demo server exited:"; tail -n 20 "$DIR/demo.log"; exit 1; }
  sleep 0.5
done
curl -sf "$BASE/healthz" >/dev/null || { echo "the demo server did not become healthy"; tail -n 20 "$DIR/demo.log"; exit 1; }

TOKEN=$(curl -sf -m 10 -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"minsheng-demo"}' "$BASE/api/v1/auth/login" |
  "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
KEY=$(curl -sf -m 10 -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
  -d '{"name":"georeport 检查"}' "$BASE/api/v1/open311/keys" |
  "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')

timeout 120 "$VENV/bin/python" tests/georeport/check.py "$BASE/open311/v2" "$KEY"
