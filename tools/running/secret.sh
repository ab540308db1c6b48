#!/usr/bin/env bash
# secret.sh NAME: prints the secret .secrets/NAME holds, making a random one first if
# there is none (readable by its owner only). For running on one machine: in
# production, set the secret in the environment instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: secret.sh NAME}
file=.secrets/$name
if [ ! -s "$file" ]; then
  mkdir -p .secrets
  chmod 700 .secrets
  (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$file")
fi
cat "$file"
