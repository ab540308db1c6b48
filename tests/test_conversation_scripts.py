"""The content team's conversation scripts (tests/conversations/*.yml), each one a
test case, run in-process against the trained model and the real actions; and the
script format and runner themselves.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from careers.vocabulary import LAST_ANSWER_SLOT, PROGRAMMES, VERDICTS
from tools.careers_team.conversation_scripts import (
    Reply,
    ScriptError,
    Turn,
    check_reply,
    find_button,
    load_scripts,
)
from tools.careers_team.converse import DEFAULT_SCRIPTS, main, run_conversation

CONVERSATIONS = load_scripts([DEFAULT_SCRIPTS])


@pytest.mark.parametrize(
    "conversation", CONVERSATIONS, ids=[f"{c.file.stem}: {c.name}" for c in CONVERSATIONS]
)
def test_script(assistant, conversation):
    result = run_conversation(assistant, conversation)
    assert result.passed, "\n" + result.failure()


def test_the_topic_scripts_reach_every_topic(assistant, rules):
    answered = set()
    for conversation in (c for c in CONVERSATIONS if c.file.stem == "topics"):
        result = run_conversation(assistant, conversation)
        answered |= {
            e["value"]
            for e in assistant.events(result.sender)
            if e["event"] == "slot" and e["name"] == LAST_ANSWER_SLOT
        }
    assert set(rules.topics) <= answered, set(rules.topics) - answered


def test_the_suite_covers_every_verdict_and_area():
    verdicts = {(t.verdict, t.programme) for c in CONVERSATIONS for t in c.turns if t.verdict}
    for programme in PROGRAMMES:
        for verdict in VERDICTS:
            assert any(v == verdict and p in (programme, None) for v, p in verdicts)
    names = {c.file.stem for c in CONVERSATIONS}
    assert {"topics", "eligibility-stp", "eligibility-ptp", "corrections", "fallback", "feedback"} <= names


# The format: mistakes are reported with file and line ---------------------------


def _problems(tmp_path: Path, text: str) -> list:
    script = tmp_path / "script.yml"
    script.write_text(text)
    with pytest.raises(ScriptError) as error:
        load_scripts([script])
    return error.value.problems


@pytest.mark.parametrize(
    "text, line, message",
    [
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        say: hello\n",
            5,
            "unknown key 'say'; did you mean 'says'?",
        ),
        ("conversations:\n  - name: a\n    turns:\n      - says: hello\n", 4, "exactly one of 'user:'"),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        click: Yes\n",
            4,
            "exactly one of 'user:'",
        ),
        ("conversations:\n  - name: a\n    turns:\n      - click: Yes\n", 4, "the first turn cannot click"),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        verdict: yes\n",
            5,
            "'verdict' must be one of: eligible, possibly_eligible, not_eligible",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        programme: STP\n",
            5,
            "give a 'verdict' too",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        matches: '(unclosed'\n",
            5,
            "not a valid pattern",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        says: {a: b}\n",
            5,
            "'says' must be a piece of text or a list",
        ),
        ("conversations:\n  - name: a\n    turns: []\n", 3, "at least one turn"),
        ("conversations:\n  - turns:\n      - user: hi\n", 2, "needs a 'name'"),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n"
            "  - name: a\n    turns:\n      - user: hi\n",
            5,
            "already used on line 2",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n   bad indent: [\n",
            5,
            "not valid YAML",
        ),
        ("- user: hi\n", 1, "starts with 'conversations:'"),
    ],
)
def test_a_malformed_script_is_reported_with_file_and_line(tmp_path, text, line, message):
    problems = _problems(tmp_path, text)
    assert any(p.startswith(f"{tmp_path / 'script.yml'}:{line}: ") and message in p for p in problems), (
        problems
    )


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    problems = _problems(
        tmp_path,
        "conversations:\n  - name: a\n    turns:\n"
        "      - user: hi\n        sayz: x\n"
        "  - name: b\n    turns:\n      - user: hi\n        verdict: ok\n",
    )
    assert [p.split(":")[1] for p in problems] == ["5", "9"]


def test_yes_no_and_numbers_are_read_as_text(tmp_path):
    script = tmp_path / "script.yml"
    script.write_text(
        "conversations:\n  - name: a\n    turns:\n      - user: no\n"
        "        says: [yes, 2:1, 3]\n      - click: Yes\n"
    )
    turn, click = load_scripts([script])[0].turns
    assert turn.user == "no" and turn.says == ("yes", "2:1", "3")
    assert click.click == "Yes"


# Checking replies ------------------------------------------------------------------

REPLY = Reply.from_messages(
    [
        {
            "text": "You\u2019ll need a 1st or  2:1.",
            "buttons": [
                {"title": "\N{THUMBS UP SIGN} Yes", "payload": "/feedback"},
                {"title": "\N{THUMBS DOWN SIGN} No", "payload": "/feedback"},
                {"title": "STP (graduate)", "payload": "/inform"},
            ],
        },
        {"custom": {"assessment": {"verdict": "eligible", "programme": "STP"}}},
    ]
)


@pytest.mark.parametrize(
    "turn, passed",
    [
        (Turn(1, user="x", says=("you'll NEED a 1st or 2:1",)), [True]),
        (Turn(1, user="x", says=("PTP",)), [False]),
        (Turn(1, user="x", not_says=("2:1",)), [False]),
        (Turn(1, user="x", matches=(r"1st or\s+2:1",)), [True]),
        (Turn(1, user="x", buttons=("yes", "STP")), [True, True]),
        (Turn(1, user="x", buttons=("Maybe",)), [False]),
        (Turn(1, user="x", buttons=()), [False]),
        (Turn(1, user="x", verdict="eligible", programme="STP"), [True]),
        (Turn(1, user="x", verdict="eligible", programme="PTP"), [False]),
        (Turn(1, user="x", verdict="not_eligible"), [False]),
    ],
)
def test_each_expectation_is_checked(turn, passed):
    assert [c.passed for c in check_reply(turn, REPLY)] == passed


@pytest.mark.parametrize(
    "title, found",
    [
        ("yes", "\N{THUMBS UP SIGN} Yes"),
        ("STP", "STP (graduate)"),
        ("no", "\N{THUMBS DOWN SIGN} No"),
        ("PTP", None),
    ],
)
def test_a_click_finds_its_button(title, found):
    button, problem = find_button(REPLY, title)
    assert (button or {}).get("title") == found
    assert bool(problem) == (found is None)


# The runner against the real assistant ---------------------------------------------

FAILING = """conversations:
  - name: Expects the wrong verdict
    turns:
      - user: Can I apply for the STP with a 2:1 in physics?
        verdict: not_eligible
  - name: Clicks a button that is not there
    turns:
      - user: hello
      - click: Purple
  - name: Passes
    turns:
      - user: What skills do I need?
        says: attention to detail
"""


def test_a_failure_shows_expected_and_said_side_by_side(assistant, tmp_path):
    script = tmp_path / "failing.yml"
    script.write_text(FAILING)
    wrong, missing, fine = [run_conversation(assistant, c) for c in load_scripts([script])]
    assert not wrong.passed and fine.passed and not missing.passed
    report = wrong.failure()
    assert "turn 1 (line 4)" in report
    row = next(line for line in report.splitlines() if "FAIL verdict: not_eligible" in line)
    assert "| What I understood:" in row
    assert "[verdict: eligible for the STP]" in report
    assert 'no button "Purple"; offered: "How do I get in?"' in missing.failure()


def test_the_command_writes_a_junit_report(assistant, tmp_path, capsys, monkeypatch):
    import tools.careers_team.converse as converse

    script = tmp_path / "failing.yml"
    script.write_text(FAILING)
    junit = tmp_path / "junit.xml"
    monkeypatch.setattr(converse, "InProcessAssistant", lambda model: _Shared(assistant))
    assert main([str(script), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "1 of 3 conversations passed" in out and "FAIL verdict: not_eligible" in out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = suite.findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [True, True, False]
    assert cases[0].get("line") == "2"


def test_the_command_refuses_a_malformed_script(tmp_path, capsys):
    script = tmp_path / "bad.yml"
    script.write_text("conversations:\n  - name: a\n    turns:\n      - usr: hi\n")
    assert main([str(script)]) == 2
    assert f"{script}:4: unknown key 'usr'; did you mean 'user'?" in capsys.readouterr().err


def test_an_unreachable_assistant_is_reported(tmp_path, capsys):
    assert main(["--url", "http://127.0.0.1:9", str(DEFAULT_SCRIPTS / "topics.yml"), "-k", "skills"]) == 2
    assert "could not reach http://127.0.0.1:9" in capsys.readouterr().out


class _Shared:
    """The session's assistant, without closing it when the command ends."""

    def __init__(self, assistant):
        self.send = assistant.send

    def close(self):
        pass
