# shellcheck shell=bash
# Sourced by container_smoke.sh and container_standins.sh: sets up podman for this
# machine, for their commands only (nothing in /etc is changed). Where the defaults
# cannot work it writes build/podman/containers.conf and points CONTAINERS_CONF at
# it, so that builds, pods' infra containers and containers all get:
#
#   runtime = "runc"   where the cgroup layout is v1 or hybrid: Debian 12's crun
#                      refuses it ("cgroups in hybrid mode not supported, drop all
#                      controllers from cgroupv2"); runc (Debian package runc) runs it.
#   default_ulimits    open files and processes at this shell's own hard limits
#                      (processes at most 32768). Rootful podman asks for 1048576 of
#                      each, which a machine without CAP_SYS_RESOURCE refuses
#                      ("setrlimit RLIMIT_NOFILE: Operation not permitted").
#
# docs/containers.md says where these were needed.

_podman_limit() {  # _podman_limit HARD CAP: the smaller of the two
  if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi
}
_podman_files=$(_podman_limit "$(ulimit -Hn)" 1048576)
_podman_processes=$(_podman_limit "$(ulimit -Hu)" 32768)
_podman_runtime=""
if [ ! -f /sys/fs/cgroup/cgroup.controllers ] && command -v runc >/dev/null 2>&1; then
  _podman_runtime=runc
fi
if [ -z "${CONTAINERS_CONF:-}" ] && { [ -n "$_podman_runtime" ] || [ "$_podman_files" != 1048576 ]; }; then
  mkdir -p build/podman
  {
    echo "# Written by tools/running/podman-options.sh for this machine."
    echo "[containers]"
    echo "default_ulimits = [\"nofile=$_podman_files:$_podman_files\", \"nproc=$_podman_processes:$_podman_processes\"]"
    echo "[engine]"
    if [ -n "$_podman_runtime" ]; then echo "runtime = \"$_podman_runtime\""; fi
  } >build/podman/containers.conf
  CONTAINERS_CONF=$PWD/build/podman/containers.conf
  export CONTAINERS_CONF
fi
unset _podman_files _podman_processes _podman_runtime
