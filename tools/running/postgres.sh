#!/usr/bin/env bash
# Start a local PostgreSQL (installing Debian's package if needed) with a scratch
# database for the tracker-store tests, and print its URL for TEST_POSTGRES_URL.
# Idempotent: safe to run again on a machine where it already ran.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  echo "==> Installing PostgreSQL (Debian package)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'careers_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE careers_test LOGIN PASSWORD 'careers_test'\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'careers_test'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'CREATE DATABASE careers_test OWNER careers_test'" >&2
port=$(pg_lsclusters -h | awk '$4 == "online" {print $3; exit}')
echo "postgresql://careers_test:careers_test@localhost:${port}/careers_test"
