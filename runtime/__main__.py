"""`python -m runtime <rasa arguments>`: Rasa's own command line, with this
project's patches (runtime/rasa_patches.py) applied first.

credentials.yml reads the chat platforms' settings from the environment
(`${SLACK_BOT_TOKEN}` and the like), and Rasa stops at a variable that is unset. A
server that does not use Slack or Teams leaves theirs unset, so every variable the
credentials file names is read as empty when unset, and that channel then refuses
every request (503) until it is set up."""

import os
import re
import sys
from pathlib import Path
from typing import List, Sequence

from runtime import rasa_patches

DEFAULT_CREDENTIALS = "credentials.yml"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def credentials_file(arguments: Sequence[str]) -> Path:
    """The credentials file Rasa will read, from its command line."""
    for number, argument in enumerate(arguments):
        if argument == "--credentials" and number + 1 < len(arguments):
            return Path(arguments[number + 1])
        if argument.startswith("--credentials="):
            return Path(argument.split("=", 1)[1])
    return Path(DEFAULT_CREDENTIALS)


def variables_named_in(path: Path) -> List[str]:
    """The environment variables a credentials file reads (none if there is no file)."""
    try:
        return sorted(set(_VARIABLE.findall(path.read_text(encoding="utf-8"))))
    except OSError:
        return []


def main() -> None:
    for name in variables_named_in(credentials_file(sys.argv[1:])):
        os.environ.setdefault(name, "")
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
