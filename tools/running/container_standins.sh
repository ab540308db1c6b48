#!/usr/bin/env bash
# Local stand-ins for the public images the container smoke test needs, for a
# machine that reaches Debian's mirrors, PyPI and the npm registry but no container
# registry (as this project's machines do). Made from Debian bookworm packages and
# this machine's own Pythons (3.11, 3.13) and Node.js; never pushed anywhere.
#
#   tools/running/container_standins.sh      (as root: debootstrap and podman)
#
# Makes, when missing (REBUILD=1 remakes them):
#   localhost/careers-standin-debian:bookworm  debootstrap --variant=minbase bookworm
#   localhost/careers-standin-python:3.11      + Python 3.11 from tools/running/find-python.sh in /usr/local
#                                              (what python:3.11-slim-bookworm gives the Rasa and proxy images)
#   localhost/careers-standin-python:3.13      + the same for Python 3.13 (the action server image's)
#   localhost/careers-standin-node:20          + this machine's node and npm in /usr/local
#   localhost/careers-standin-postgres:15      + Debian's postgresql-15, POSTGRES_USER/PASSWORD/DB as the official image reads them
#   localhost/careers-standin-redis:7          + Debian's redis-server
#
# They differ from the official images (another Python patch release, Debian's
# PostgreSQL and Redis builds) and carry this machine's CA bundle, so that builds
# trust what the machine trusts (needed where HTTPS passes an inspecting proxy).
# They test the Dockerfiles' steps, not the official images. docs/containers.md.
# Exit status: 0 made (or already there), 3 cannot be made here (the reason is
# printed), anything else a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/running/podman-options.sh
. tools/running/podman-options.sh

PREFIX=localhost/careers-standin
WORK=build/container-standins
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

cannot() { echo "container stand-ins cannot be made here: $*" >&2; exit 3; }
have() { [ "${REBUILD:-0}" != 1 ] && podman image exists "$1"; }
build() {  # build IMAGE DIR: the Containerfile in DIR, its log in DIR.log
  echo "==> Building the stand-in $1"
  if ! podman build --format docker -t "$1" "$2" >"$2.log" 2>&1; then
    tail -15 "$2.log" >&2
    echo "!! building the stand-in $1 failed; see $2.log" >&2
    exit 1
  fi
}

command -v podman >/dev/null || cannot "podman is not installed (apt-get install podman runc)"
[ "$(id -u)" = 0 ] || cannot "run as root (debootstrap and the image import need it)"
[ -f "$CA_BUNDLE" ] || cannot "no CA bundle at $CA_BUNDLE"
mkdir -p "$WORK"

# ---- Debian bookworm, minimal ----
base=$PREFIX-debian:bookworm
if ! have "$base"; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null \
    || cannot "debootstrap is not installed and could not be"
  echo "==> debootstrap --variant=minbase bookworm (about a minute)"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || cannot "debootstrap failed; see $WORK/debootstrap.log"
  # As in Debian's own container images: no services started by package scripts,
  # no package cache kept.
  printf '#!/bin/sh\nexit 101\n' >"$WORK/rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$WORK/rootfs/usr/sbin/policy-rc.d"
  rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/*
  tar -C "$WORK/rootfs" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$WORK/rootfs"
fi

# Each stand-in's folder gets the CA bundle, and its Containerfile these lines.
trust_lines() {
  cat <<'EOF'
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
EOF
}
context() {  # context NAME: an empty build folder with the CA bundle in it
  rm -rf "${WORK:?}/$1" && mkdir -p "$WORK/$1"
  cp "$CA_BUNDLE" "$WORK/$1/ca-certificates.crt"
  echo "$WORK/$1"
}

# ---- Python in /usr/local, like python:3.X-slim-bookworm ----
# python_standin VERSION ENV: Python VERSION, found by tools/running/find-python.sh ENV
python_standin() {
  local version=$1 image=$PREFIX-python:$1 python prefix dir
  have "$image" && return 0
  python=$(tools/running/find-python.sh "$2") || cannot "no Python $version on this machine"
  prefix=$("$python" -c 'import sys; print(sys.base_prefix)')
  case "$prefix" in
    /usr | /usr/local) cannot "Python $version at $prefix is the system's own; a self-contained one (pyenv) is needed" ;;
  esac
  dir=$(context "python-$version")
  mkdir "$dir/python"
  tar -C "$prefix" -c --exclude="./lib/python$version/test" --exclude="./lib/python$version/site-packages/*" \
    --exclude='__pycache__' --exclude='./bin/pip*' --exclude='./bin/idle*' --exclude='./bin/2to3*' \
    --exclude='./bin/pydoc*' . | tar -C "$dir/python" -x
  {
    echo "FROM $base"
    cat <<'EOF'
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates netbase tzdata libssl3 libsqlite3-0 \
        libffi8 libbz2-1.0 liblzma5 zlib1g libncursesw6 libreadline8 libuuid1 libexpat1 libtirpc3 libnsl2 \
    && rm -rf /var/lib/apt/lists/*
COPY python/ /usr/local/
EOF
    echo "RUN ldconfig && python$version -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, venv'"
    echo "ENV LANG=C.UTF-8"
    trust_lines
    echo 'CMD ["python3"]'
  } >"$dir/Containerfile"
  build "$image" "$dir"
}
python_standin 3.11 rasa     # the Rasa image's
python_standin 3.13 actions  # the action server image's

# ---- Node.js 20 and npm in /usr/local, like node:20-bookworm-slim ----
image=$PREFIX-node:20
if ! have "$image"; then
  node=$(command -v node) || cannot "no node on this machine"
  "$node" -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' \
    || cannot "node on this machine is $("$node" --version), not 20"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/package.json" ] || cannot "npm's own folder was not found (from $(command -v npm))"
  dir=$(context node)
  mkdir -p "$dir/node/bin" "$dir/node/lib/node_modules"
  cp "$(readlink -f "$node")" "$dir/node/bin/node"
  cp -a "$npm_dir" "$dir/node/lib/node_modules/npm"
  {
    echo "FROM $base"
    cat <<'EOF'
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY node/ /usr/local/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version && npm --version
EOF
    trust_lines
    echo 'CMD ["node"]'
  } >"$dir/Containerfile"
  build "$image" "$dir"
fi

# ---- PostgreSQL 15 ----
image=$PREFIX-postgres:15
if ! have "$image"; then
  dir=$(context postgres)
  cat >"$dir/entrypoint.sh" <<'EOF'
#!/bin/sh
# First start: a cluster owned by POSTGRES_USER with POSTGRES_PASSWORD and the
# database POSTGRES_DB, reachable with a password from anywhere (the official
# image's variables, its defaults). Then PostgreSQL in the foreground.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user=${POSTGRES_USER:-postgres}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile --auth=scram-sha-256 --encoding=UTF8 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start >/dev/null
  database=${POSTGRES_DB:-$user}
  if [ "$database" != postgres ]; then
    PGPASSWORD=$POSTGRES_PASSWORD psql -q -U "$user" -d postgres -h /tmp -c "CREATE DATABASE \"$database\""
  fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$@"
EOF
  chmod 755 "$dir/entrypoint.sh"
  {
    echo "FROM $base"
    cat <<'EOF'
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data
COPY entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres", "-c", "listen_addresses=*", "-c", "unix_socket_directories=/tmp"]
EOF
  } >"$dir/Containerfile"
  build "$image" "$dir"
fi

# ---- Redis 7 ----
image=$PREFIX-redis:7
if ! have "$image"; then
  dir=$(context redis)
  {
    echo "FROM $base"
    cat <<'EOF'
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
CMD ["redis-server", "--save", "", "--appendonly", "no"]
EOF
  } >"$dir/Containerfile"
  build "$image" "$dir"
fi

echo "==> Stand-ins ready: $(podman images --format '{{.Repository}}:{{.Tag}}' | grep -c "^$PREFIX-") images ($PREFIX-*)"
