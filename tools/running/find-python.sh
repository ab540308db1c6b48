#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 supports up to 3.10).
# Order: $PYTHON if set, python3.10 on the PATH, then pyenv's 3.10 versions.
set -u
is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
if [ -n "${PYTHON:-}" ]; then
  if is_310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not Python 3.10." >&2; exit 1
fi
if command -v python3.10 >/dev/null && is_310 python3.10; then command -v python3.10; exit 0; fi
roots="${PYENV_ROOT:-$HOME/.pyenv}"
command -v pyenv >/dev/null && roots="$(pyenv root) $roots"
for root in $roots; do
  for dir in "$root"/versions/3.10*; do
    if [ -x "$dir/bin/python3.10" ] && is_310 "$dir/bin/python3.10"; then echo "$dir/bin/python3.10"; exit 0; fi
  done
done
cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 needs Python 3.10 (3.11 and newer cannot install it).
Install one, for example:
  pyenv install 3.10.13            (with pyenv)
  apt-get install python3.10-venv  (Debian/Ubuntu with 3.10 packages)
or point the Makefile at one: make run PYTHON=/path/to/python3.10
MSG
exit 1
