#!/usr/bin/env bash
# `make dev`: DynamoDB Local and moto (KMS, Secrets Manager) on free loopback ports, then the local
# server on PORT (default 8000). Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1 after 30 s; see .stack/" >&2
  exit 1
}

scripts/dynamodb-local.sh install
mkdir -p .stack
DDB_PORT=$(free_port)
MOTO_PORT=$(free_port)
scripts/dynamodb-local.sh run "$DDB_PORT" > .stack/dynamodb-local.log 2>&1 &
DDB_PID=$!
$PY scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" > .stack/moto.log 2>&1 &
MOTO_PID=$!
cleanup() {
  kill "$MOTO_PID" "$DDB_PID" 2>/dev/null || true
  wait "$MOTO_PID" "$DDB_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
wait_port "$DDB_PORT"
wait_port "$MOTO_PORT"

# Each SDK client reads its own endpoint variable; production sets none of them.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DDB_PORT"
export AWS_ENDPOINT_URL_KMS="http://127.0.0.1:$MOTO_PORT"
export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export TABLE_NAME="${TABLE_NAME:-toolreg}"
export KMS_KEY_ID="${KMS_KEY_ID:-alias/toolreg}"
export JWT_SECRET_ARN="${JWT_SECRET_ARN:-toolreg/jwt-signing-key}"
# Local development probes MCP servers on this machine: lift the SSRF address check here only.
export PROBE_ALLOW_PRIVATE_NETWORKS="${PROBE_ALLOW_PRIVATE_NETWORKS:-true}"
export PORT="${PORT:-8000}"
echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB (log .stack/dynamodb-local.log)"
echo "moto (KMS, Secrets Manager) on $AWS_ENDPOINT_URL_KMS (log .stack/moto.log)"
target/debug/local
