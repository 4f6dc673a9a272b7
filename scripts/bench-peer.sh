#!/usr/bin/env bash
# `make bench`, part 1: toolreg's `local` server and the FastAPI + boto3 peer in
# ../shared/comparator, measured by the peer's own harness (measure.py, coldstart.py) against one
# local stack in one run. Writes target/bench/peer/{toolreg,peer}-{measure,coldstart}.json, which
# the bench binary turns into the side-by-side table of docs/benchmarks.md.
#
# The peer is not part of this project: when its folder is absent this prints why and exits 0,
# and the table says it was not run. PEER_DIR, PEER_N (requests per route, default 1000) and
# PEER_COLD_N (spawns, default 10) adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEER_DIR=${PEER_DIR:-$ROOT/../shared/comparator}
N=${PEER_N:-1000}
COLD_N=${PEER_COLD_N:-10}
OUT=$ROOT/target/bench/peer
VENV=$ROOT/.bench/peer-venv
rm -rf "$OUT"
mkdir -p "$OUT"

if [ ! -f "$PEER_DIR/measure.py" ]; then
  echo "bench-peer: no comparator at $PEER_DIR; the side-by-side table is skipped"
  exit 0
fi

# The peer's own pinned requirements, in a venv of their own (they pin other versions than ours).
stamp=$(sha256sum "$PEER_DIR/requirements.txt" | cut -c1-16)
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PEER_DIR/requirements.txt"
  echo "$stamp" > "$VENV/.stamp"
fi
PY=$VENV/bin/python

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url pid what
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "bench-peer: $3 exited; see $OUT/$3.log" >&2; tail -5 "$OUT/$3.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-peer: $3 not up after 60 s" >&2
  exit 1
}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# One stack for both: DynamoDB Local (each server its own table) and moto (toolreg's KMS and
# Secrets Manager; the peer reads its JWT secret from the environment).
DDB_PORT=$(free_port)
MOTO_PORT=$(free_port)
scripts/dynamodb-local.sh run "$DDB_PORT" > "$OUT/dynamodb-local.log" 2>&1 &
pids+=($!)
.venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" > "$OUT/moto.log" 2>&1 &
MOTO_PID=$!
pids+=("$MOTO_PID")
wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" "$MOTO_PID" moto
for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$DDB_PORT") 2>/dev/null && break; sleep 0.1; done

ADMIN=bench_admin
PASSWORD='Bench-Admin-Pass-123!'
common_env=(
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  AWS_EC2_METADATA_DISABLED=true BOOTSTRAP_ADMIN_USERNAME=$ADMIN BOOTSTRAP_ADMIN_PASSWORD=$PASSWORD
  PATH=$PATH HOME=$HOME
)
# toolreg at the same log level as the peer (warnings), login limits out of the harness's way.
toolreg_env=(
  "${common_env[@]}"
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DDB_PORT
  AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$MOTO_PORT
  AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$MOTO_PORT
  TABLE_NAME=toolreg-bench KMS_KEY_ID=alias/toolreg-bench JWT_SECRET_ARN=toolreg-bench/jwt
  API_KEY_PEPPER_SECRET_ARN=toolreg-bench/pepper CREDENTIAL_KMS_KEY_IDS=alias/toolreg-bench-credentials
  LOGIN_RATE_LIMIT_IP=100000/minute LOGIN_RATE_LIMIT_USERNAME=100000/minute RUST_LOG=warn
)
peer_env=(
  "${common_env[@]}"
  AWS_ENDPOINT_URL=http://127.0.0.1:$DDB_PORT TABLE_NAME=toolreg-peer
  JWT_SECRET="peer-$(date +%s)-$RANDOM-bench-secret-key"
)
LOCAL=$ROOT/target/release/local
uvicorn_cmd() { echo "$VENV/bin/uvicorn --app-dir $PEER_DIR app:app --host 127.0.0.1 --port $1 --workers 1 --log-level warning"; }

# The measured instances (their start-up creates their table and seeds the admin).
T_PORT=$(free_port)
env -i "${toolreg_env[@]}" PORT="$T_PORT" "$LOCAL" > "$OUT/toolreg.log" 2>&1 &
T_PID=$!
pids+=("$T_PID")
wait_http "http://127.0.0.1:$T_PORT/health" "$T_PID" toolreg
P_PORT=$(free_port)
# shellcheck disable=SC2046
env -i "${peer_env[@]}" $(uvicorn_cmd "$P_PORT") > "$OUT/peer.log" 2>&1 &
P_PID=$!
pids+=("$P_PID")
wait_http "http://127.0.0.1:$P_PORT/health" "$P_PID" peer

measure() { # label base pid
  "$PY" "$PEER_DIR/measure.py" --label "$1" --base "$2" --pid "$3" --admin "$ADMIN" --password "$PASSWORD" \
    --aux-pid "moto=$MOTO_PID" -n "$N" --login-n 20 --out "$OUT/$1-measure.json" --md "$OUT/$1-measure.md" > /dev/null
}
echo "bench-peer: measuring toolreg and the peer, $N requests per route each"
measure toolreg "http://127.0.0.1:$T_PORT" "$T_PID"
measure peer "http://127.0.0.1:$P_PORT" "$P_PID"

coldstart() { # label cmd port (cmd runs with env of the matching array)
  "$PY" "$PEER_DIR/coldstart.py" --label "$1" --cmd "$2" --url "http://127.0.0.1:$3/health" -n "$COLD_N" \
    --log "$OUT/$1-coldstart-servers.log" --out "$OUT/$1-coldstart.json" > /dev/null 2> "$OUT/$1-coldstart.log"
}
C_PORT=$(free_port)
(export "${toolreg_env[@]}" PORT="$C_PORT"; coldstart toolreg "$LOCAL" "$C_PORT")
C_PORT=$(free_port)
(export "${peer_env[@]}"; coldstart peer "$(uvicorn_cmd "$C_PORT")" "$C_PORT")
echo "bench-peer: wrote $OUT"
