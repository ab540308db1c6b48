"""The version, the changelog and commit messages (docs/developers.md, "Commits and
versions"): VERSION names the newest release in CHANGELOG.md, releases are dated and
in order, and the commit-msg hook holds subjects to 72 characters, as every commit
since the rule began keeps."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

HOOK = ROOT / ".githooks" / "commit-msg"
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)
# The first commit made under the rule; every commit after it keeps the rule too.
RULE_BEGAN = "03a6f23"
SUBJECT_CHARACTERS = 72


def _version() -> str:
    return (ROOT / "VERSION").read_text(encoding="utf-8").strip()


def test_the_version_is_a_semantic_version_and_the_newest_release():
    assert re.fullmatch(r"\d+\.\d+\.\d+", _version()), _version()
    releases = RELEASE.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert releases, "CHANGELOG.md has no release"
    assert releases[0][0] == _version(), "VERSION is not the newest release in CHANGELOG.md"


def test_releases_are_dated_newest_first_with_rising_numbers_and_entries():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.index("## [Unreleased]") < text.index("## [" + _version() + "]"), "Unreleased comes first"
    releases = RELEASE.findall(text)
    dates = [dt.date.fromisoformat(day) for _, day in releases]
    numbers = [tuple(int(part) for part in number.split(".")) for number, _ in releases]
    assert dates == sorted(dates, reverse=True) and numbers == sorted(numbers, reverse=True)
    assert len(set(numbers)) == len(numbers)
    for number, _ in releases:
        body = text.split(f"## [{number}]", 1)[1].split("\n## [", 1)[0]
        assert re.search(r"^- ", body, re.MULTILINE), f"release {number} lists no change"


def _hook(tmp_path: Path, message: str) -> subprocess.CompletedProcess:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message, encoding="utf-8")
    return subprocess.run(["bash", str(HOOK), str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    "message, kept",
    [
        ("Short subject\n\nThe detail.\n", True),
        ("x" * SUBJECT_CHARACTERS + "\n", True),
        ("x" * (SUBJECT_CHARACTERS + 1) + "\n\nThe detail.\n", False),
        ("Subject\nno blank line before the body\n", False),
        ("\n\nBody only\n", False),
        ("# a comment git strips\nShort subject\n\nThe detail.\n", True),
    ],
)
def test_the_commit_msg_hook_holds_the_rule(tmp_path, message, kept):
    done = _hook(tmp_path, message)
    assert (done.returncode == 0) == kept, done.stderr


def test_every_commit_since_the_rule_began_keeps_it():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{RULE_BEGAN}^{{commit}}"], cwd=ROOT, capture_output=True
    )
    if known.returncode != 0:
        pytest.skip(f"a shallow clone without {RULE_BEGAN}")
    subjects = subprocess.run(
        ["git", "log", "--format=%s", f"{RULE_BEGAN}^..HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert subjects, "no commit since the rule began"
    long = [subject for subject in subjects if len(subject) > SUBJECT_CHARACTERS]
    assert long == [], f"commit subjects over {SUBJECT_CHARACTERS} characters: {long}"
