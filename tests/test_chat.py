"""`make shell`: the terminal chat (tools/careers_team/chat.py). What it prints for the
assistant's messages and what it sends for what is typed, with fake input and output;
then the command itself against the real servers over HTTP, with scripted input."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from channels.ownership import TEST_SENDER_PREFIX, is_test_traffic
from tests.harness.serverctl import ROOT
from tests.live_servers import answering, without_rest_token
from tools.careers_team.chat import chat, choices_of, main, message_for, render
from tools.careers_team.rest_client import FROM_ENVIRONMENT, AssistantError, Refused, RestAssistant

GREETING = {
    "text": "Hello! What would you like to know?",
    "buttons": [
        {"title": "How do I get in?", "payload": "/ask_entry_routes"},
        {"title": "Check my eligibility", "payload": "/check_eligibility"},
        {"title": "Skills needed", "payload": "/ask_skills"},
    ],
}
A_LEVELS = {
    "text": "How many A-levels do you have (or expect)?",
    "buttons": [
        {"title": "None", "payload": '/inform{"a_levels":0}'},
        {"title": "1", "payload": '/inform{"a_levels":1}'},
        {"title": "2", "payload": '/inform{"a_levels":2}'},
        {"title": "3 or more", "payload": '/inform{"a_levels":3}'},
    ],
}
REASON = "With a 2:2 or better in any subject, an MSc in medical physics opens the second STP route."
SOURCE = "https://www.healthcareers.nhs.uk/stp"
VERDICT = [
    {"text": f"From what you've told me, you meet the academic entry requirements.\n\nWhy:\n- {REASON}"},
    {"text": f"Sources:\n{SOURCE}"},
    {
        "custom": {
            "assessment": {
                "programme": "STP",
                "verdict": "eligible",
                "reasons": [REASON, "A second reason the text did not give."],
                "sources": [SOURCE, "https://www.nshcs.hee.nhs.uk/person-specification"],
                "rules": ["stp_higher_degree_route"],
                "verdict_label": "Eligible",
                "verdict_mark": "\N{CHECK MARK}",
                "verdict_tone": "good",
                "programme_name": "NHS Scientist Training Programme (STP)",
            }
        }
    },
    {
        "text": "Did that answer help?",
        "buttons": [
            {"title": "\N{THUMBS UP SIGN} Yes", "payload": '/feedback{"helpful":"yes"}'},
            {"title": "\N{THUMBS DOWN SIGN} No", "payload": '/feedback{"helpful":"no"}'},
        ],
    },
]


def shown(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(render(messages, 100).lines)


# Choices: a number picks one, anything else is sent as typed ------------------------


def test_the_choices_are_numbered_under_the_question():
    lines = render([GREETING], 100).lines
    assert lines[0] == "Assistant: Hello! What would you like to know?"
    assert [line.strip() for line in lines[1:]] == [
        "1) How do I get in?",
        "2) Check my eligibility",
        "3) Skills needed",
    ]


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("2", "/check_eligibility"),
        (" 3 ", "/ask_skills"),
        ("1)", "/ask_entry_routes"),
        ("What skills do I need?", "What skills do I need?"),  # a question, not a choice
        ("4", "4"),  # no fourth choice: sent as typed
        ("check my eligibility", "check my eligibility"),  # a title typed is text too
    ],
)
def test_a_number_picks_its_choice_and_anything_else_is_sent_as_typed(typed, sent):
    message, _ = message_for(typed, choices_of(GREETING["buttons"]))
    assert message == sent


def test_choices_that_are_numbers_are_lettered_so_a_typed_number_means_itself():
    choices = choices_of(A_LEVELS["buttons"])
    assert [(c.key, c.title) for c in choices] == [("a", "None"), ("b", "1"), ("c", "2"), ("d", "3 or more")]
    assert message_for("2", choices) == ("2", None)
    assert message_for("C", choices)[0] == '/inform{"a_levels":2}'
    assert "d) 3 or more" in shown([A_LEVELS])


def test_no_choices_on_offer_sends_a_number_as_typed():
    assert message_for("1", []) == ("1", None)


# What is shown: words only, never payloads or JSON ------------------------------------


def test_payloads_and_json_are_never_shown():
    text = shown([GREETING, A_LEVELS, *VERDICT, {"custom": {"widget": {"colour": "red"}}}])
    for hidden in ("/ask", "/inform", "/feedback", "payload", "{", "}", "custom", "widget", "stp_higher"):
        assert hidden not in text, hidden


def test_the_verdict_is_shown_in_words_with_what_the_text_did_not_say():
    text = shown(VERDICT)
    assert "Verdict for the NHS Scientist Training Programme (STP): \N{CHECK MARK} Eligible" in text
    assert "A second reason the text did not give." in text
    assert "https://www.nshcs.hee.nhs.uk/person-specification" in text
    assert text.count(REASON[:40]) == 1 and text.count(SOURCE) == 1  # not printed twice
    assert text.index("Verdict for") < text.index("Did that answer help?")


def test_a_verdict_without_its_labels_is_still_shown_in_words():
    text = shown([{"custom": {"assessment": {"verdict": "possibly_eligible", "programme": "PTP"}}}])
    assert text == "Assistant: Verdict for the PTP: Possibly eligible"


def test_long_lines_wrap_under_the_speaker_and_addresses_are_not_broken():
    url = "https://www.healthcareers.nhs.uk/" + "x" * 80
    lines = render([{"text": "word " * 40 + url}], 60).lines
    assert all(len(line) <= 60 for line in lines if url not in line)
    assert all(line.startswith(" " * len("Assistant: ")) for line in lines[1:])
    assert any(line.strip() == url for line in lines)


def test_an_empty_reply_says_so():
    assert render([], 80).lines == ["Assistant: (no reply)"]


# The conversation loop -----------------------------------------------------------------


class Scripted:
    """Typed lines, one per prompt, then the end of input (Ctrl-D), as input() does."""

    def __init__(self, *lines: Any) -> None:
        self.lines = list(lines)

    def __call__(self, prompt: str) -> str:
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        if isinstance(line, BaseException):
            raise line
        return line


class Bot:
    """Records what was sent; answers from a list of replies."""

    def __init__(self, *replies: Any) -> None:
        self.replies, self.sent = list(replies), []

    def __call__(self, message: str) -> List[Dict[str, Any]]:
        self.sent.append(message)
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def test_a_conversation_in_the_terminal():
    bot = Bot([GREETING], [A_LEVELS], [{"text": "Thanks."}], VERDICT)
    out = io.StringIO()
    status = chat(bot, Scripted("hello", "2", "2", "", "What skills do I need?", "quit", "never read"), out)
    assert status == 0
    # The second "2" is sent as typed: the A-level choices are lettered.
    assert bot.sent == ["hello", "/check_eligibility", "2", "What skills do I need?"]
    printed = out.getvalue()
    assert "(you chose: Check my eligibility)" in printed
    assert printed.rstrip().endswith("Goodbye.")
    assert "/check_eligibility" not in printed


@pytest.mark.parametrize("end", [EOFError(), KeyboardInterrupt()])
def test_ctrl_d_and_ctrl_c_end_the_chat_cleanly(end):
    out = io.StringIO()
    assert chat(Bot([GREETING]), Scripted("hello", end), out) == 0
    assert out.getvalue().rstrip().endswith("Goodbye.")


def test_ctrl_c_while_waiting_for_a_reply_ends_the_chat_cleanly():
    out = io.StringIO()
    assert chat(Bot(KeyboardInterrupt()), Scripted("hello"), out) == 0
    assert "Goodbye." in out.getvalue()


def test_a_refused_token_is_said_once_and_ends_the_chat():
    out = io.StringIO()
    refused = Refused("http://localhost:5005", 401, FROM_ENVIRONMENT)
    assert chat(Bot(refused, [GREETING]), Scripted("hello", "hello again"), out) == 2
    printed = out.getvalue()
    assert printed.count("refused this tool's REST token (401)") == 1
    assert "REST_API_TOKEN=<its token> make shell URL=http://localhost:5005" in printed


def test_an_assistant_that_stops_answering_is_said_and_the_chat_goes_on():
    bot = Bot(AssistantError("could not reach http://localhost:5005"), [GREETING])
    out = io.StringIO()
    assert chat(bot, Scripted("hello", "hello"), out) == 0
    assert "no answer: could not reach" in out.getvalue() and "1) How do I get in?" in out.getvalue()


@pytest.fixture
def erring():
    """A stand-in for an assistant that answers 400 with the channels' JSON error."""
    with answering(400, b'{"error": "Send a JSON object."}') as (url, _):
        yield url


def test_an_error_answer_is_shown_in_words_not_json(erring):
    assistant = RestAssistant(erring, token="x" * 32)
    out = io.StringIO()
    assert chat(lambda text: assistant.send("test-chat-1", text), Scripted("hello"), out) == 0
    assert "answered 400: Send a JSON object." in out.getvalue()
    assert "{" not in out.getvalue()


def test_nothing_running_says_to_start_the_assistant(capsys):
    assert main(["--url", "http://127.0.0.1:9"]) == 2
    assert "Start the assistant first with `make run`" in capsys.readouterr().err


def test_make_shell_talks_to_the_running_assistant_on_its_port():
    def command(*settings: str) -> str:
        dry = subprocess.run(
            ["make", "--no-print-directory", "-n", "shell", *settings],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return next(line for line in dry.splitlines() if "tools.careers_team.chat" in line)

    assert command().endswith("--url http://localhost:5005")
    assert command("RASA_PORT=5010").endswith("--url http://localhost:5010")
    assert command("URL=https://bot.example").endswith("--url https://bot.example")
    assert "runtime shell" not in command()


# The command against the real servers --------------------------------------------------


@pytest.fixture
def live(live_assistant):
    """The session's servers (conftest.live_assistant)."""
    return live_assistant


@pytest.mark.servers
def test_the_chat_against_the_running_assistant(live):
    """Scripted input through a pipe, the token in the checkout's secret file only."""
    database = live.rasa.log.parent / "conversations.db"
    with sqlite3.connect(database) as db:  # the servers are shared: other tests' conversations
        before = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    typed = [
        "hello",
        "2",  # Check my eligibility
        "1",  # STP (graduate)
        "c",  # 2:2 (degree classes are lettered: "2:1" is a number)
        "I've got an MSc",  # typed while choices are on offer: sent as typed
        "clinical engineering",
        "quit",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "tools.careers_team.chat", "--url", live.url],
        input="\n".join(typed) + "\n",
        cwd=ROOT,
        env=without_rest_token(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    printed = done.stdout
    assert done.returncode == 0, printed + done.stderr
    for expected in (
        "1) How do I get in?",
        "(you chose: Check my eligibility)",
        "(you chose: STP (graduate))",
        "What class is your degree?",
        "c) 2:2",
        "(you chose: 2:2)",
        "What subject is your higher degree in?",
        "Verdict for the NHS Scientist Training Programme (STP): \N{CHECK MARK} Eligible",
        "Did that answer help?",
        "Goodbye.",
    ):
        assert expected in printed, (expected, printed)
    for hidden in ("/check_eligibility", "/inform", "/feedback", "payload", "Custom json", '{"'):
        assert hidden not in printed, (hidden, printed)
    with sqlite3.connect(database) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")} - before
    assert len(senders) == 1, senders
    (sender,) = senders
    assert sender.startswith(f"rest:{TEST_SENDER_PREFIX}chat-") and is_test_traffic(sender)
    assert sender.split(":", 1)[1] in printed.split("You:")[0], "the banner names the conversation"
