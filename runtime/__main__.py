"""`python -m runtime <rasa arguments>`: Rasa's own command line, with this
project's patches (runtime/rasa_patches.py) applied first.

Profiles: without `--endpoints`, the endpoints file is chosen by ASSISTANT_PROFILE:
`local` (the default: endpoints.yml, SQLite, the action server on this machine) or
`production` (deploy/endpoints.production.yml: PostgreSQL and Redis, every setting
from the environment). A profile whose settings are missing stops at once, naming
them, rather than with Rasa's error about the file.

credentials.yml reads the chat platforms' settings from the environment
(`${SLACK_BOT_TOKEN}` and the like), and Rasa stops at a variable that is unset. A
server that does not use Slack or Teams leaves theirs unset, so every variable the
credentials file names is read as empty when unset, and that channel then refuses
every request (503) until it is set up."""

import os
import re
import sys
from pathlib import Path
from typing import Dict, List, MutableMapping, Sequence

from runtime import PRODUCTION_DEFAULTS, rasa_patches

DEFAULT_CREDENTIALS = "credentials.yml"
PROFILE = "ASSISTANT_PROFILE"
# Each profile's endpoints file, and the settings it may leave out.
ROOT = Path(__file__).resolve().parents[1]
PROFILES: Dict[str, Path] = {
    "local": ROOT / "endpoints.yml",
    "production": ROOT / "deploy" / "endpoints.production.yml",
}
PROFILE_DEFAULTS: Dict[str, Dict[str, str]] = {"production": PRODUCTION_DEFAULTS}
# Rasa commands that read an endpoints file.
_WITH_ENDPOINTS = {"run", "shell"}


class ProfileError(SystemExit):
    """An unknown profile, or one whose settings are missing."""


def with_profile(arguments: List[str], environment: MutableMapping[str, str]) -> List[str]:
    """Rasa's arguments with the profile's endpoints file added (when the command
    reads one and none is given), and the profile's defaults set in `environment`."""
    if not arguments or arguments[0] not in _WITH_ENDPOINTS:
        return arguments
    if any(a == "--endpoints" or a.startswith("--endpoints=") for a in arguments):
        return arguments
    name = environment.get(PROFILE, "") or "local"
    if name not in PROFILES:
        raise ProfileError(f"{PROFILE}={name!r} is not a profile: use one of {', '.join(PROFILES)}.")
    endpoints = PROFILES[name]
    for variable, value in PROFILE_DEFAULTS.get(name, {}).items():
        environment.setdefault(variable, value)
    missing = [v for v in variables_named_in(endpoints) if v not in environment]
    if missing:
        raise ProfileError(
            f"{PROFILE}={name} needs these environment variables: {', '.join(missing)} "
            f"(see {endpoints} and docs/deployment.md)."
        )
    return [*arguments, "--endpoints", str(endpoints)]


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
    sys.argv[1:] = with_profile(sys.argv[1:], os.environ)
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
