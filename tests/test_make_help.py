"""`make help`: every target the Makefile describes, listed once, under who uses it."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT

GROUPS = {"run": "People running the assistant", "team": "The careers team", "dev": "Developers"}


def test_every_target_is_listed_once_under_who_uses_it():
    described = re.findall(r"^([a-z-]+):.*## (.*)$", (ROOT / "Makefile").read_text(), re.M)
    untagged = [target for target, text in described if not re.match(r"\[(run|team|dev)\] ", text)]
    assert untagged == []  # each description starts with [run], [team] or [dev]
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [line for line in shown if not line.startswith("  ")] == list(GROUPS.values())
    listed = {}
    group = None
    for line in shown:
        if not line.startswith("  "):
            group = next(key for key, title in GROUPS.items() if title == line)
            continue
        target = line.split()[1]
        assert target not in listed, target
        listed[target] = group
    assert listed == {target: text[1 : text.index("]")] for target, text in described}
    assert listed["run"] == "run" and listed["report"] == "team" and listed["test"] == "dev"
