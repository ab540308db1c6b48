"""`python -m runtime`: every variable credentials.yml names is set (empty if unset),
so a server without Slack or Teams still starts, and those channels refuse (503);
the endpoints file comes from the profile (ASSISTANT_PROFILE) unless one is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runtime.__main__ import PROFILES, ProfileError, credentials_file, variables_named_in, with_profile
from tests.harness.serverctl import ROOT


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


PRODUCTION = {
    "ACTION_SERVER_URL": "http://careers-actions:5055/webhook",
    "DB_HOST": "db",
    "DB_NAME": "careers",
    "DB_USER": "careers",
    "DB_PASSWORD": "a-password",
    "REDIS_HOST": "redis",
}


def test_the_local_profile_is_the_default_and_given_endpoints_are_kept():
    environment: dict = {}
    assert with_profile(["run", "--port", "5005"], environment)[-2:] == [
        "--endpoints",
        str(PROFILES["local"]),
    ]
    assert with_profile(["run", "--endpoints", "mine.yml"], {"ASSISTANT_PROFILE": "production"}) == [
        "run",
        "--endpoints",
        "mine.yml",
    ]
    assert with_profile(["train"], {}) == ["train"]  # reads no endpoints file
    assert with_profile([], {}) == []


def test_the_production_profile_reads_postgresql_and_redis_from_the_environment():
    environment = {"ASSISTANT_PROFILE": "production", **PRODUCTION}
    arguments = with_profile(["run"], environment)
    assert arguments == ["run", "--endpoints", str(PROFILES["production"])]
    # What may be left out has its default; nothing else was added.
    assert environment == {
        "ASSISTANT_PROFILE": "production",
        **PRODUCTION,
        "DB_PORT": "5432",
        "REDIS_PORT": "6379",
        "REDIS_PASSWORD": "",
        "REDIS_DB": "1",
    }
    settings = yaml.safe_load(PROFILES["production"].read_text())
    assert settings["tracker_store"]["dialect"] == "postgresql"
    assert settings["tracker_store"]["type"] == "runtime.tracker_store.CachedSQLTrackerStore"
    assert settings["lock_store"]["type"] == "runtime.lock_store.AtomicRedisLockStore"
    # The secrets are not in the file: they are read from the environment.
    assert settings["tracker_store"]["password"] == "${DB_PASSWORD}"


def test_a_production_profile_without_its_settings_stops_naming_them():
    environment = {"ASSISTANT_PROFILE": "production", **PRODUCTION}
    del environment["DB_PASSWORD"], environment["REDIS_HOST"]
    with pytest.raises(ProfileError, match="DB_PASSWORD, REDIS_HOST"):
        with_profile(["run"], environment)
    with pytest.raises(ProfileError, match="not a profile"):
        with_profile(["run"], {"ASSISTANT_PROFILE": "staging"})
