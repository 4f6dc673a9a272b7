#!/usr/bin/env bash
# `make dev`: moto on a free loopback port, then the local server on PORT (default 8000).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
MOTO_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p .stack
$PY scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" > .stack/moto.log 2>&1 &
MOTO_PID=$!
cleanup() { kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export TABLE_NAME="${TABLE_NAME:-toolreg}"
export KMS_KEY_ID="${KMS_KEY_ID:-alias/toolreg}"
export JWT_SECRET_ARN="${JWT_SECRET_ARN:-toolreg/jwt-signing-key}"
# Local development probes MCP servers on this machine: lift the SSRF address check here only.
export PROBE_ALLOW_PRIVATE_NETWORKS="${PROBE_ALLOW_PRIVATE_NETWORKS:-true}"
export PORT="${PORT:-8000}"
echo "moto (DynamoDB, KMS, Secrets Manager) on $AWS_ENDPOINT_URL; log in .stack/moto.log"
target/debug/local
