#!/usr/bin/env bash
# Start the whole assistant: the action server (5055), then Rasa with the REST and
# socket.io channels (5005), then the demo careers site with the chat widget (8080).
# Ctrl-C stops everything this script started.
# Called by `make run`, which has already built the env, the pipeline and the model.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=.venv/bin
# The action server runs in its own env (Python 3.13, the newest rasa-sdk).
ACTIONS_BIN=.venv-actions/bin
MODEL=${MODEL:-models/careers.tar.gz}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
DEMO_PORT=${DEMO_PORT:-8080}
# Where the servers listen: this machine only, unless a proxy in front needs more.
RASA_HOST=${RASA_HOST:-127.0.0.1}
export ACTIONS_HOST=${ACTIONS_HOST:-127.0.0.1}
# The action server answers only Rasa, which sends this (the Makefile sets it).
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$(tools/running/secret.sh action-server-token)}
# Signs web conversations' tokens (channels/ownership.py), and lets other servers
# use the REST channel (Authorization: Bearer ...): the same way.
export CONVERSATION_SECRET=${CONVERSATION_SECRET:-$(tools/running/secret.sh conversation-secret)}
export REST_API_TOKEN=${REST_API_TOKEN:-$(tools/running/secret.sh rest-api-token)}
# Pages on these origins may use the assistant (socket.io and REST): separated by
# commas or spaces. CORS is the older name of the same setting.
ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-${CORS:-http://localhost:$DEMO_PORT}}
export ALLOWED_ORIGINS  # read by channels/socketio_channel.py
read -r -a origins <<<"${ALLOWED_ORIGINS//,/ }"
LOG_DIR=${LOG_DIR:-logs}
mkdir -p "$LOG_DIR"
# Each server's output goes to its log through a rotator (tools/running/rotating_log.py):
# at most LOG_BACKUPS (5) old files of LOG_MAX_BYTES (10 MB) each are kept.
log_to() { "$BIN/python" -m tools.running.rotating_log "$LOG_DIR/$1"; }
# endpoints.yml names the action server on 5055; another port gets a copy that says so.
ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then
  ENDPOINTS="$LOG_DIR/endpoints.yml"
  sed "s#127.0.0.1:5055/#127.0.0.1:$ACTIONS_PORT/#" endpoints.yml >"$ENDPOINTS"
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "==> Stopping the assistant"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_for() {  # wait_for NAME URL PID
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 180); do
    if curl -sf "$url" >/dev/null 2>&1; then echo "    $name is up"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "!!  $name stopped while starting; see $LOG_DIR/" >&2; return 1
    fi
    sleep 1
  done
  echo "!!  $name did not start within 3 minutes; see $LOG_DIR/" >&2
  return 1
}

echo "==> Starting the action server on $ACTIONS_HOST:$ACTIONS_PORT (log: $LOG_DIR/actions.log)"
"$ACTIONS_BIN/python" -m runtime.action_server --actions actions --port "$ACTIONS_PORT" > >(log_to actions.log) 2>&1 &
pids+=($!)
wait_for "Action server" "http://$ACTIONS_HOST:$ACTIONS_PORT/health" "${pids[-1]}"

echo "==> Starting Rasa on $RASA_HOST:$RASA_PORT with $MODEL (log: $LOG_DIR/rasa.log)"
# `python -m runtime` is Rasa's command line with the project's patches applied
# (runtime/rasa_patches.py: the same behaviour, faster).
"$BIN/python" -m runtime run --model "$MODEL" --interface "$RASA_HOST" --port "$RASA_PORT" \
  --credentials credentials.yml --endpoints "$ENDPOINTS" --cors "${origins[@]}" \
  > >(log_to rasa.log) 2>&1 &
pids+=($!)
wait_for "Rasa" "http://$RASA_HOST:$RASA_PORT/" "${pids[-1]}"

echo "==> Serving the demo careers site on port $DEMO_PORT (log: $LOG_DIR/demo.log)"
"$BIN/python" -m tools.running.demo_site --port "$DEMO_PORT" --rasa-url "http://localhost:$RASA_PORT" \
  > >(log_to demo.log) 2>&1 &
pids+=($!)
wait_for "Demo site" "http://localhost:$DEMO_PORT/careers-chat.js" "${pids[-1]}"

cat <<EOF

The assistant is ready.
  Chat in a terminal:  make shell   (in another terminal)
  Chat over HTTP:      token=\$(curl -s -X POST localhost:$RASA_PORT/webhooks/rest/conversations \\
                                 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
                       curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
                         -d "{\"sender\": \"\$token\", \"message\": \"Can I apply for the STP with a 2:1 in physics?\"}"
  From another server: the same webhook with -H "Authorization: Bearer \$REST_API_TOKEN" and any sender
                       (REST_API_TOKEN: in .secrets/rest-api-token unless set; see docs/operators.md, Channels)
  Demo careers site:   http://localhost:$DEMO_PORT/ (the chat widget is at the bottom right)
  Allowed origins:     ${origins[*]} (set ALLOWED_ORIGINS to change)
Press Ctrl-C to stop.
EOF
wait -n "${pids[@]}"
echo "!!  A server stopped unexpectedly; see $LOG_DIR/" >&2
exit 1
