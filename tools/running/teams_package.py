"""Builds the Teams app package, the zip file a Teams administrator uploads (or a
developer sideloads) to add the careers adviser to Teams: deploy/teams/manifest.json
with its placeholders filled in, and the two icons beside it.

    TEAMS_APP_ID=<Microsoft App ID> BOT_DOMAIN=careers-bot.example.nhs.uk \\
        .venv/bin/python -m tools.running.teams_package      # writes build/teams-app.zip

Each `{{NAME}}` in the manifest is filled from the environment variable NAME:

- TEAMS_APP_ID (required): the bot's Microsoft App ID, a GUID; also the Teams app's id.
- BOT_DOMAIN (required): the host name the bot is reached at (no https://, no path).
- TEAMS_APP_VERSION (default 1.0.0): raise it for each new upload of a changed package.
- TEAMS_DEVELOPER_NAME, TEAMS_WEBSITE_URL, TEAMS_PRIVACY_URL, TEAMS_TERMS_URL: who
  publishes the app and its pages, shown in Teams' app details; the URLs must be https.

docs/teams.md says where each value comes from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "teams"
DEFAULT_OUTPUT = ROOT / "build" / "teams-app.zip"
FILES = ("manifest.json", "color.png", "outline.png")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_VERSION = re.compile(r"^\d{1,5}\.\d{1,5}\.\d{1,5}$")
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


class PackageError(Exception):
    """Settings the package cannot be built with; the message lists every problem."""


def settings(env: Mapping[str, str]) -> Dict[str, str]:
    """The value of each placeholder, from `env`, checked."""
    problems: List[str] = []
    app_id = env.get("TEAMS_APP_ID", "").strip()
    if not _GUID.match(app_id):
        problems.append("TEAMS_APP_ID must be the bot's Microsoft App ID, a GUID such as 1a2b3c4d-...")
    domain = env.get("BOT_DOMAIN", "").strip().lower()
    domain = re.sub(r"^https?://", "", domain).rstrip("/")
    if not _HOST.match(domain):
        problems.append("BOT_DOMAIN must be the bot's host name, such as careers-bot.example.nhs.uk")
    website = env.get("TEAMS_WEBSITE_URL", "").strip() or f"https://{domain}/"
    values = {
        "TEAMS_APP_ID": app_id.lower(),
        "BOT_DOMAIN": domain,
        "TEAMS_APP_VERSION": env.get("TEAMS_APP_VERSION", "").strip() or "1.0.0",
        "TEAMS_DEVELOPER_NAME": env.get("TEAMS_DEVELOPER_NAME", "").strip() or "Clinical engineering careers",
        "TEAMS_WEBSITE_URL": website,
        "TEAMS_PRIVACY_URL": env.get("TEAMS_PRIVACY_URL", "").strip() or website,
        "TEAMS_TERMS_URL": env.get("TEAMS_TERMS_URL", "").strip() or website,
    }
    if not _VERSION.match(values["TEAMS_APP_VERSION"]):
        problems.append("TEAMS_APP_VERSION must be three numbers, such as 1.0.0")
    if len(values["TEAMS_DEVELOPER_NAME"]) > 32:
        problems.append("TEAMS_DEVELOPER_NAME must be at most 32 characters")
    for name in ("TEAMS_WEBSITE_URL", "TEAMS_PRIVACY_URL", "TEAMS_TERMS_URL"):
        if not re.match(r"^https://[^\s\"]+$", values[name]):
            problems.append(f"{name} must be an https:// address")
    if problems:
        raise PackageError("; ".join(problems))
    return values


def manifest(values: Mapping[str, str], template: Path = TEMPLATE / "manifest.json") -> str:
    """The manifest with its placeholders filled (each value escaped for JSON)."""
    text = template.read_text(encoding="utf-8")
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if unknown:
        raise PackageError(f"the manifest has placeholders with no value: {', '.join(unknown)}")
    filled = _PLACEHOLDER.sub(lambda m: json.dumps(values[m.group(1)])[1:-1], text)
    json.loads(filled)  # still JSON
    return filled


def build(output: Path = DEFAULT_OUTPUT, env: Optional[Mapping[str, str]] = None) -> Path:
    """Writes the package to `output` and returns its path."""
    text = manifest(settings(os.environ if env is None else env))
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        # Teams wants the three files at the top of the zip, not in a folder.
        package.writestr("manifest.json", text)
        for icon in FILES[1:]:
            package.write(TEMPLATE / icon, icon)
    return output


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help="where to write the zip")
    args = parser.parse_args(argv)
    try:
        written = build(args.out)
    except PackageError as error:
        print(f"Cannot build the Teams app package: {error}.", file=sys.stderr)
        return 2
    print(f"Wrote {written}: upload it in Teams (docs/teams.md, 'Add the app to Teams').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
