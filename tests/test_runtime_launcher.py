"""`python -m runtime`: every variable credentials.yml names is set (empty if unset),
so a server without Slack or Teams still starts, and those channels refuse (503)."""

from __future__ import annotations

from pathlib import Path

from runtime.__main__ import credentials_file, variables_named_in
from tools.running.serverctl import ROOT


def test_the_credentials_file_is_read_from_rasas_command_line():
    assert credentials_file(["run", "--credentials", "other.yml"]) == Path("other.yml")
    assert credentials_file(["run", "--credentials=x.yml", "--port", "1"]) == Path("x.yml")
    assert credentials_file(["run", "--port", "5005"]) == Path("credentials.yml")
    assert credentials_file(["run", "--credentials"]) == Path("credentials.yml")


def test_every_platform_setting_in_credentials_yml_is_found():
    names = variables_named_in(ROOT / "credentials.yml")
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"} <= set(names)
    assert {"TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID"} <= set(names)
    assert variables_named_in(ROOT / "no-such-file.yml") == []
