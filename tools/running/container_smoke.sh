#!/usr/bin/env bash
# Builds both container images with podman and starts them as they run in
# production: the Rasa server (production profile) and the action server, with
# PostgreSQL and Redis, in one pod. Then checks, from this machine:
#   - each image's own HEALTHCHECK passes (`podman healthcheck run`);
#   - GET / on Rasa answers "Hello from Rasa", GET /health on the action server 200,
#     and the action server refuses a call without ACTION_SERVER_TOKEN (401);
#   - one REST conversation turn gets a reply that is not the "part of me isn't
#     working" apology (so Rasa reached PostgreSQL, Redis and the action server);
#   - both servers run as UID 10001, and the widget bundle is in the Rasa image.
# Meant for `make test-scale`; docs/containers.md explains it.
#
#   tools/running/container_smoke.sh
#
# Settings (environment):
#   CONTAINER_STANDINS=1  when a base image cannot be pulled (no registry access),
#                         build local stand-ins (tools/running/container_standins.sh)
#                         and build the images on those; otherwise stop with status 3
#   POSTGRES_IMAGE, REDIS_IMAGE   (docker.io/library/postgres:15-bookworm, redis:7-bookworm)
#   KEEP=1                leave the pod running afterwards (its name is printed)
#
# Exit status: 0 all checks passed; 1 a build or a check failed (logs in
# results/containers/); 3 podman cannot build or run the containers on this machine,
# with the reason on the line "podman cannot run containers here: <reason>".
set -euo pipefail
cd "$(dirname "$0")/../.."

LOGS=results/containers
mkdir -p "$LOGS"
not_here() {
  echo "podman cannot run containers here: $*" >&2
  exit 3
}
failed() {
  echo "!! container smoke test failed: $*" >&2
  exit 1
}

command -v podman >/dev/null 2>&1 \
  || not_here "podman is not installed (as root: apt-get install -y podman runc; see docs/containers.md)"
# shellcheck source=tools/running/podman-options.sh
. tools/running/podman-options.sh
podman info >"$LOGS/podman-info.txt" 2>&1 \
  || not_here "podman info failed: $(grep -m1 -i error "$LOGS/podman-info.txt" || tail -1 "$LOGS/podman-info.txt")"
command -v curl >/dev/null 2>&1 || failed "curl is not installed"

# ---- The images the builds and the pod start from ----
arg_default() { sed -n "s/^ARG $1=//p" "deploy/docker/${2:-rasa}.Dockerfile" | head -1; }
python_image=$(arg_default PYTHON_IMAGE)
actions_python_image=$(arg_default PYTHON_IMAGE actions)  # Python 3.13: the action server's own
node_image=$(arg_default NODE_IMAGE)
postgres_image=${POSTGRES_IMAGE:-docker.io/library/postgres:15-bookworm}
redis_image=${REDIS_IMAGE:-docker.io/library/redis:7-bookworm}
obtain() {  # obtain IMAGE: there already, or pulled; the pull's error in $LOGS/pull.txt
  podman image exists "$1" || timeout 300 podman pull --quiet "$1" >"$LOGS/pull.txt" 2>&1
}
unobtainable=""
for image in "$python_image" "$actions_python_image" "$node_image" "$postgres_image" "$redis_image"; do
  if ! obtain "$image"; then
    unobtainable=$image
    break
  fi
done
rasa_args=()
actions_args=()
proxy_args=()
if [ -n "$unobtainable" ]; then
  reason="cannot pull $unobtainable: $(grep -m1 -i error "$LOGS/pull.txt" || tail -1 "$LOGS/pull.txt")"
  [ "${CONTAINER_STANDINS:-0}" = 1 ] \
    || not_here "$reason (CONTAINER_STANDINS=1 builds on local stand-ins instead; docs/containers.md)"
  echo "==> $reason"
  echo "==> Using local stand-ins for the public images (CONTAINER_STANDINS=1)"
  status=0
  tools/running/container_standins.sh || status=$?
  [ "$status" = 0 ] || { [ "$status" = 3 ] && not_here "no stand-in images either (see above)"; exit "$status"; }
  python_image=localhost/careers-standin-python:3.11
  actions_python_image=localhost/careers-standin-python:3.13
  node_image=localhost/careers-standin-node:20
  postgres_image=localhost/careers-standin-postgres:15
  redis_image=localhost/careers-standin-redis:7
  rasa_args=(--build-arg "PYTHON_IMAGE=$python_image" --build-arg "NODE_IMAGE=$node_image")
  actions_args=(--build-arg "PYTHON_IMAGE=$actions_python_image")
  proxy_args=(--build-arg "BASE_IMAGE=$python_image" --build-arg "NODE_IMAGE=$node_image")
fi

# Can a container start at all (namespaces, cgroups, limits)?
if ! podman run --rm "$python_image" python3 -c pass \
  >"$LOGS/probe.txt" 2>&1; then
  not_here "a container does not start: $(grep -m1 -i error "$LOGS/probe.txt" || tail -1 "$LOGS/probe.txt")"
fi

# ---- Build ----
build() {  # build NAME ARGS...: deploy/docker/NAME.Dockerfile as careers-NAME:smoke
  echo "==> Building careers-$1:smoke (log: $LOGS/$1-build.log)"
  local started=$SECONDS before
  before=$(podman image inspect --format '{{.Id}}' "careers-$1:smoke" 2>/dev/null || true)
  if ! podman build --format docker "${@:2}" \
    -f "deploy/docker/$1.Dockerfile" -t "careers-$1:smoke" . >"$LOGS/$1-build.log" 2>&1; then
    tail -20 "$LOGS/$1-build.log" >&2
    failed "podman build of deploy/docker/$1.Dockerfile"
  fi
  echo "    built in $((SECONDS - started)) s, $(podman image inspect --format '{{.Size}}' "careers-$1:smoke" \
    | awk '{ printf "%.0f MB", $1 / 1e6 }')"
  # The previous build of this image, if this one replaced it (a few GB for Rasa).
  if [ -n "$before" ] && [ "$before" != "$(podman image inspect --format '{{.Id}}' "careers-$1:smoke")" ]; then
    podman rmi "$before" >/dev/null 2>&1 || true
  fi
}
build actions ${actions_args[@]+"${actions_args[@]}"}
build rasa ${rasa_args[@]+"${rasa_args[@]}"}
build proxy ${proxy_args[@]+"${proxy_args[@]}"}

# ---- Start: PostgreSQL, Redis, the action server and Rasa, sharing one pod ----
pod=careers-smoke-$$
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rasa_port=$(free_port)
actions_port=$(free_port)
proxy_port=$(free_port)
random_secret() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }
# Secrets go to the containers by name (-e NAME), never on a command line.
DB_PASSWORD=$(random_secret) REDIS_PASSWORD=$(random_secret) ACTION_SERVER_TOKEN=$(random_secret)
CONVERSATION_SECRET=$(random_secret) REST_API_TOKEN=$(random_secret)
export DB_PASSWORD REDIS_PASSWORD ACTION_SERVER_TOKEN CONVERSATION_SECRET REST_API_TOKEN
POSTGRES_PASSWORD=$DB_PASSWORD
export POSTGRES_PASSWORD

stop_pod() {
  local status=$?
  for name in postgres redis actions rasa proxy; do
    podman logs "$pod-$name" >"$LOGS/$name.log" 2>&1 || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    echo "==> Left running: pod $pod (Rasa on 127.0.0.1:$rasa_port); podman pod rm -f $pod"
  else
    podman pod rm -f "$pod" >/dev/null 2>&1 || true
  fi
  exit "$status"
}
trap stop_pod EXIT
trap 'exit 1' INT TERM

run() {  # run NAME IMAGE [podman run options and command...]
  local name=$1 image=$2
  shift 2
  podman run -d --pod "$pod" --name "$pod-$name" "$@" "$image" \
    >/dev/null 2>"$LOGS/$name-start.txt" \
    || failed "$name did not start: $(tail -1 "$LOGS/$name-start.txt")"
}
# The proxy reaches Rasa as `rasa` (deploy/proxy/nginx.conf), here the pod's own loopback.
podman pod create --name "$pod" --add-host rasa:127.0.0.1 -p "127.0.0.1:$rasa_port:5005" \
  -p "127.0.0.1:$actions_port:5055" -p "127.0.0.1:$proxy_port:8080" >/dev/null
echo "==> Starting pod $pod: PostgreSQL, Redis, the action server, Rasa, the proxy (logs: $LOGS/)"
run postgres "$postgres_image" -e POSTGRES_USER=careers -e POSTGRES_DB=careers -e POSTGRES_PASSWORD
podman run -d --pod "$pod" --name "$pod-redis" -e REDIS_PASSWORD \
  "$redis_image" sh -c 'exec redis-server --requirepass "$REDIS_PASSWORD" --save "" --appendonly no' >/dev/null \
  || failed "Redis did not start"
# The servers get a read-only root filesystem (a fresh /tmp is writable), as on
# Kubernetes (deploy/kubernetes/): the images must not need to write anywhere else.
run actions careers-actions:smoke --read-only -e ACTION_SERVER_TOKEN

wait_until() {  # wait_until CONTAINER WHAT SECONDS COMMAND...: until COMMAND succeeds
  local container=$pod-$1 what=$2 limit=$3 started=$SECONDS
  shift 3
  until "$@" >/dev/null 2>&1; do
    [ "$(podman container inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" = true ] \
      || failed "$what: the container stopped (its log: $LOGS/${container#"$pod-"}.log)"
    [ $((SECONDS - started)) -lt "$limit" ] || failed "$what not ready within $limit s"
    sleep 2
  done
  echo "    $what ready after $((SECONDS - started)) s"
}
wait_until postgres PostgreSQL 90 podman exec "$pod-postgres" pg_isready -h 127.0.0.1 -U careers -d careers
run rasa careers-rasa:smoke --read-only -e ASSISTANT_PROFILE=production \
  -e ACTION_SERVER_URL=http://127.0.0.1:5055/webhook -e ACTION_SERVER_TOKEN \
  -e DB_HOST=127.0.0.1 -e DB_PORT=5432 -e DB_NAME=careers -e DB_USER=careers -e DB_PASSWORD \
  -e REDIS_HOST=127.0.0.1 -e REDIS_PORT=6379 -e REDIS_PASSWORD \
  -e CONVERSATION_SECRET -e REST_API_TOKEN -e ALLOWED_ORIGINS=http://localhost:8080
# The images' own HEALTHCHECK commands, run the way the engine runs them.
wait_until actions "The action server (its HEALTHCHECK)" 60 podman healthcheck run "$pod-actions"
wait_until rasa "Rasa (its HEALTHCHECK)" 300 podman healthcheck run "$pod-rasa"
run proxy careers-proxy:smoke --read-only
wait_until proxy "The proxy (its HEALTHCHECK)" 60 podman healthcheck run "$pod-proxy"

# ---- Checks from outside the pod ----
check() {  # check WHAT COMMAND...
  local what=$1
  shift
  if "$@"; then echo "    ok: $what"; else failed "$what"; fi
}
http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "GET / on Rasa says Hello from Rasa" \
  grep -q "Hello from Rasa" <(curl -sf "http://127.0.0.1:$rasa_port/")
check "GET /health on the action server is 200" \
  test "$(http_status "http://127.0.0.1:$actions_port/health")" = 200
check "the action server refuses a call without its token (401)" \
  test "$(http_status -X POST -H 'Content-Type: application/json' -d '{}' \
    "http://127.0.0.1:$actions_port/webhook")" = 401
token=$(curl -sf -X POST "http://127.0.0.1:$rasa_port/webhooks/rest/conversations" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') \
  || failed "POST /webhooks/rest/conversations gave no token"
reply=$(curl -sf "http://127.0.0.1:$rasa_port/webhooks/rest/webhook" -H 'Content-Type: application/json' \
  -d "{\"sender\": \"$token\", \"message\": \"Can I apply for the STP with a 2:1 in physics?\"}") \
  || failed "the REST webhook did not answer"
echo "$reply" >"$LOGS/reply.json"
check "a REST turn gets a reply from the assistant (through PostgreSQL, Redis and the actions)" \
  python3 -c '
import json, sys
texts = [m.get("text", "") for m in json.loads(sys.argv[1])]
sys.exit(0 if any(texts) and not any("part of me isn" in t for t in texts) else 1)' "$reply"
check "the proxy serves the widget bundle" \
  test "$(http_status "http://127.0.0.1:$proxy_port/careers-chat.js")" = 200
check "the proxy hides Rasa's own paths (GET /version is 404)" \
  test "$(http_status "http://127.0.0.1:$proxy_port/version")" = 404
check "GET / through the proxy names no Rasa version" \
  bash -c "! curl -sf http://127.0.0.1:$proxy_port/ | grep -q 'Hello from Rasa'"
token=$(curl -sf -X POST "http://127.0.0.1:$proxy_port/webhooks/rest/conversations" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') \
  || failed "POST /webhooks/rest/conversations through the proxy gave no token"
check "a REST turn through the proxy gets a reply" \
  grep -q '"text"' <(curl -sf "http://127.0.0.1:$proxy_port/webhooks/rest/webhook" \
    -H 'Content-Type: application/json' -d "{\"sender\": \"$token\", \"message\": \"hello\"}")
check "the three servers run as UID 10001" \
  test "$(podman exec "$pod-rasa" id -u):$(podman exec "$pod-actions" id -u):$(podman exec "$pod-proxy" id -u)" \
    = 10001:10001:10001
check "the Rasa image holds the widget bundle and the demo pages" \
  podman exec "$pod-rasa" test -s /app/widget/dist/careers-chat.js -a -s /app/widget/demo/index.html
echo "==> Container smoke test passed (images careers-rasa:smoke, careers-actions:smoke and careers-proxy:smoke)"
