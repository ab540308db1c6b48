#!/usr/bin/env bash
# Print the path of a Python interpreter for one of the project's two environments.
#   tools/running/find-python.sh rasa     Python 3.11, for Rasa 3.6 (.venv): $PYTHON if set
#   tools/running/find-python.sh actions  Python 3.13 or 3.12, for the action server's
#                                         own env (.venv-actions): $ACTIONS_PYTHON if set
# Order: the variable, then python3.X on the PATH, then pyenv's versions.
set -u
case "${1:-rasa}" in
  rasa) wanted="3.11"; variable=PYTHON; what="Rasa 3.6.21 runs on Python 3.11 here (3.12 and newer cannot install it)" ;;
  actions) wanted="3.13 3.12"; variable=ACTIONS_PYTHON; what="The action server's env (rasa-sdk 3.21) needs Python 3.13 or 3.12" ;;
  *) echo "usage: $0 rasa|actions" >&2; exit 2 ;;
esac
is_version() { "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$2' else 1)" 2>/dev/null; }
given="${!variable:-}"
if [ -n "$given" ]; then
  for version in $wanted; do
    if is_version "$given" "$version"; then echo "$given"; exit 0; fi
  done
  echo "$variable=$given is not Python ${wanted// / or }." >&2; exit 1
fi
roots="${PYENV_ROOT:-$HOME/.pyenv}"
command -v pyenv >/dev/null && roots="$(pyenv root) $roots"
for version in $wanted; do
  if command -v "python$version" >/dev/null && is_version "python$version" "$version"; then
    command -v "python$version"; exit 0
  fi
  for root in $roots; do
    for dir in "$root"/versions/"$version"*; do
      if [ -x "$dir/bin/python$version" ] && is_version "$dir/bin/python$version" "$version"; then
        echo "$dir/bin/python$version"; exit 0
      fi
    done
  done
done
first="${wanted%% *}"
cat >&2 <<MSG
No Python ${wanted// / or } found. $what.
Install one, for example:
  pyenv install $first            (with pyenv)
  apt-get install python$first-venv  (Debian/Ubuntu with $first packages)
or point the Makefile at one: make run $variable=/path/to/python$first
MSG
exit 1
