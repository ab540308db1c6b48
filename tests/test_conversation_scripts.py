"""The content team's conversation scripts (tests/conversations/*.yml), each one a
test case, run in-process against the trained model and the real actions; the script
format and runner themselves; and `make conversations SCRIPTS=... URL=...` against the
real servers over HTTP, with the REST token found in the checkout's secret file.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from careers.vocabulary import LAST_ANSWER_SLOT, PROGRAMMES, VERDICTS
from channels.ownership import REST_API_TOKEN, TEST_SENDER_PREFIX, is_test_traffic, sender_problem
from tests.harness.serverctl import ROOT
from tests.live_servers import answering, without_rest_token
from tools.careers_team.conversation_scripts import (
    Reply,
    ScriptError,
    Turn,
    check_reply,
    find_button,
    load_scripts,
)
from tools.careers_team.converse import DEFAULT_SCRIPTS, main, run_conversation
from tools.careers_team.rest_client import FROM_CHECKOUT, FROM_ENVIRONMENT, rest_token

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


# Against a live assistant: the token, the test-traffic ids, one file --------------


def test_the_runner_names_its_conversations_as_test_traffic(tmp_path):
    script = tmp_path / "two.yml"
    script.write_text(FAILING)
    senders = []

    class Recording:
        def send(self, sender, message):
            senders.append(sender)
            return [{"text": "hello", "buttons": [{"title": "How do I get in?", "payload": "/x"}]}]

    for conversation in load_scripts([script]):
        run_conversation(Recording(), conversation)
    assert len(set(senders)) == 3, "each conversation is a new one"
    for sender in senders:
        assert sender.startswith(f"{TEST_SENDER_PREFIX}script-"), sender
        assert sender_problem(sender) is None  # the REST channel takes it
        assert is_test_traffic(f"rest:{sender}")  # `make report` leaves it out


def test_the_rest_token_is_the_environments_else_the_checkouts_own():
    assert rest_token({REST_API_TOKEN: "from-the-environment-0123"}) == (
        "from-the-environment-0123",
        FROM_ENVIRONMENT,
    )
    token, source = rest_token({})
    # The file `make` exports REST_API_TOKEN from (tools/running/secret.sh).
    assert token == (ROOT / ".secrets" / "rest-api-token").read_text().strip()
    assert source == FROM_CHECKOUT


@pytest.fixture
def refusing(request):
    """A stand-in for an assistant with another REST token: every POST gets `status`."""
    with answering(request.param, b'{"error": "Unknown or expired conversation token"}') as running:
        yield running


@pytest.mark.parametrize("refusing", [401, 403], indirect=True)
def test_a_refused_token_is_said_once_and_stops_the_run(refusing, tmp_path, capsys, monkeypatch):
    url, posts = refusing
    script = tmp_path / "three.yml"
    script.write_text(FAILING)
    monkeypatch.setenv(REST_API_TOKEN, "not-the-assistants-token")
    assert main(["--url", url, str(script)]) == 2
    out, err = capsys.readouterr()
    assert posts == ["Bearer not-the-assistants-token"], "stopped at the first refusal"
    assert err.count("refused this tool's REST token") == 1
    assert f"REST_API_TOKEN=<its token> make conversations URL={url}" in err
    assert "FAIL" not in out and "Unknown or expired" not in out + err


def _make_conversations(*settings: str) -> str:
    """The runner's command line as `make conversations ...` would run it."""
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "conversations", *settings],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in dry.splitlines() if "tools.careers_team.converse" in line)


def test_make_conversations_runs_the_scripts_it_is_given_and_writes_no_report_unasked():
    one = _make_conversations("SCRIPTS=tests/conversations/feedback.yml", "URL=http://localhost:5005")
    assert one.split("converse ", 1)[1] == "tests/conversations/feedback.yml --url http://localhost:5005"
    two = _make_conversations("SCRIPTS=a.yml b", "URL=http://x", "JUNIT=build/c.xml")
    assert two.split("converse ", 1)[1] == "a.yml b --url http://x --junit build/c.xml"


@pytest.fixture
def live(live_assistant):
    """The session's servers (conftest.live_assistant)."""
    return live_assistant


def _senders(live):
    with sqlite3.connect(live.rasa.log.parent / "conversations.db") as db:
        return {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}


LIVE = """conversations:
  - name: Skills
    turns:
      - user: What skills do I need?
        says: attention to detail
  - name: A verdict at once
    turns:
      - user: I have a 2:2 in history and an MSc in medical physics, can I apply for the STP?
        verdict: eligible
        programme: STP
"""


@pytest.mark.servers
def test_one_file_against_the_live_assistant_with_the_token_from_the_secret_file(live, tmp_path):
    before = _senders(live)  # the servers are shared: other tests' conversations
    script = tmp_path / "live.yml"
    script.write_text(LIVE)
    done = subprocess.run(
        [sys.executable, "-m", "tools.careers_team.converse", "--url", live.url, str(script)],
        cwd=ROOT,
        env=without_rest_token(),  # the runner finds the token itself
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Running 2 conversations against {live.url}" in done.stdout
    assert "2 of 2 conversations passed" in done.stdout
    senders = _senders(live) - before
    assert len(senders) >= 2
    assert all(s.startswith(f"rest:{TEST_SENDER_PREFIX}script-") and is_test_traffic(s) for s in senders)


@pytest.mark.servers
def test_make_conversations_with_one_file_runs_only_that_file(live, tmp_path):
    (tmp_path / "chosen.yml").write_text(LIVE)
    (tmp_path / "other.yml").write_text(FAILING)
    junit = tmp_path / "one.xml"
    report = ROOT / "results" / "conversations.xml"
    before = report.stat().st_mtime if report.exists() else None
    done = subprocess.run(
        ["make", "--no-print-directory", "conversations", f"SCRIPTS={tmp_path / 'chosen.yml'}"]
        + [f"URL={live.url}", f"JUNIT={junit}"],
        cwd=ROOT,
        env=without_rest_token(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    suites = ElementTree.parse(junit).getroot().findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        (str(tmp_path / "chosen.yml"), "2", "0")
    ]
    assert (report.stat().st_mtime if report.exists() else None) == before, "nothing written in the repo"


@pytest.mark.servers
def test_a_live_assistant_with_another_token_gets_one_clear_message(live, tmp_path):
    script = tmp_path / "live.yml"
    script.write_text(LIVE)
    done = subprocess.run(
        [sys.executable, "-m", "tools.careers_team.converse", "--url", live.url, str(script)],
        cwd=ROOT,
        env={**without_rest_token(), REST_API_TOKEN: "not-the-token-this-assistant-has"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert done.stderr.count(f"The assistant at {live.url} refused this tool's REST token (401)") == 1
    assert "FAIL" not in done.stdout
