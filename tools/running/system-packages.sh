#!/usr/bin/env bash
# What the assistant needs from Debian besides Python 3.11 and 3.13: Node.js with npm (to
# build the chat widget), what matplotlib's build needs (below), and for the tests Chromium (browser tests of the widget),
# PostgreSQL (the report read from a PostgreSQL tracker store) and nginx (the reverse
# proxy, deploy/proxy/nginx.conf); for `make test-scale`, PostgreSQL, Redis, nginx and
# podman. Run by `make run`, `make test` and `make
# test-scale`: installs what is missing when run as root, otherwise stops at once
# with the one command to run.
# Usage: tools/running/system-packages.sh run|test|scale
set -euo pipefail
need=()
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# To build matplotlib 3.5 (Rasa's cap; no wheel for Python 3.11) in the venv: a C++
# compiler, pkg-config and Debian's FreeType and Qhull (tools/running/mplsetup.cfg).
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
for package in libfreetype-dev libqhull-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || need+=("$package")
done
if [ "${1:-test}" = test ]; then
  command -v chromium >/dev/null 2>&1 || [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
fi
# The reverse proxy the tests put in front of Rasa (tests/test_proxy.py, test_scale.py).
case "${1:-test}" in
  test | scale) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx) ;;
esac
if [ "${1:-test}" = scale ]; then
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  # The container images: podman with runc (crun cannot run on machines like this
  # project's, docs/containers.md), and debootstrap for local stand-in base images.
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> Installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "!! Missing Debian packages: ${need[*]}. Run this once, then make again:" >&2
  echo "   sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
