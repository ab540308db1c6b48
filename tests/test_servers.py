"""The real servers over HTTP: the action server and Rasa with the trained model,
a SQLite tracker store and the REST channel, started as `make run` starts them.

Slow (about a minute to start); `make unit` leaves it out.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import pytest

from channels import ownership
from tests.harness.serverctl import post

pytestmark = pytest.mark.servers


@pytest.fixture
def assistant(live_assistant):
    """The session's servers (conftest.live_assistant)."""
    return live_assistant


def say(assistant, sender: str, message: str) -> List[Dict[str, Any]]:
    status, replies = post(assistant.url, {"sender": sender, "message": message})
    assert status == 200, replies
    assert replies, f"no reply to {message[:60]!r}"
    return replies


def text_of(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def button_payload(replies: List[Dict[str, Any]], title: str) -> str:
    for reply in replies:
        for button in reply.get("buttons", []):
            if button["title"] == title:
                return button["payload"]
    raise AssertionError(f"no button {title!r} in {replies}")


def assessment(replies: List[Dict[str, Any]]) -> Dict[str, Any]:
    found = [r["custom"]["assessment"] for r in replies if "assessment" in r.get("custom", {})]
    assert found, f"no assessment in {replies}"
    return found[0]


def test_full_eligibility_conversation_over_rest(assistant):
    user = "rest-check"
    replies = say(assistant, user, "Can you check if I'm eligible?")
    replies = say(assistant, user, button_payload(replies, "STP (graduate)"))
    assert "What class is your degree?" in text_of(replies)
    replies = say(assistant, user, button_payload(replies, "2:2"))
    assert "higher degree" in text_of(replies)
    replies = say(assistant, user, "")  # an empty message mid-check
    assert "didn't receive any text" in text_of(replies)
    assert "higher degree" in text_of(replies), "the check carries on after it"
    replies = say(assistant, user, "I've got an MSc")
    assert "What subject is your higher degree in?" in text_of(replies)
    replies = say(assistant, user, "clinical engineering")
    result = assessment(replies)
    assert result["programme"] == "STP" and result["verdict"] == "eligible"
    assert any("MSc" in reason for reason in result["reasons"])
    assert all(source.startswith("http") for source in result["sources"])
    assert "meet the academic entry requirements" in text_of(replies)


def test_a_verdict_at_once_from_a_message_with_all_the_facts(assistant):
    replies = say(
        assistant,
        "rest-at-once",
        "I have a 2:2 in history and an MSc in medical physics, can I apply for the STP?",
    )
    assert assessment(replies)["verdict"] == "eligible"


def test_follow_ups_after_a_verdict(assistant):
    user = "rest-follow-up"
    replies = say(assistant, user, "Can I get onto the STP with a 2:2 in physics and a PGCert?")
    assert assessment(replies)["verdict"] == "not_eligible"
    replies = say(assistant, user, "why?")
    assert "certificates" in text_of(replies), "the deciding rule is explained again"
    replies = say(assistant, user, "and if I had a 2:1?")
    result = assessment(replies)
    assert result["verdict"] == "eligible", "the check is run again with the changed fact"
    replies = say(assistant, user, "what about the PTP?")
    assert "GCSEs" in text_of(replies), "a check of the other programme starts"


def test_odd_messages_get_sensible_replies(assistant):
    for message in ["   ", "😀😀😀", "<img src=x onerror=alert(1)>", "qwpoe zxmv asdkj", "x" * 10_000]:
        replies = say(assistant, "rest-odd", message)
        assert text_of(replies).strip()
    assert "too long" in text_of(say(assistant, "rest-odd", "physics " * 1250))


def test_a_100k_message_is_answered_without_a_memory_spike(assistant):
    rasa = assistant.rasa
    say(assistant, "rest-memory", "hello")  # warm up every part of the pipeline
    peak_before = rasa.memory_kb("VmHWM")
    started = time.monotonic()
    replies = say(assistant, "rest-memory", "engineering " * 9_091)
    elapsed = time.monotonic() - started
    growth_mb = (rasa.memory_kb("VmHWM") - peak_before) / 1024
    resident_mb = rasa.memory_kb("VmRSS") / 1024
    print(
        f"100k message: answered in {elapsed:.1f}s; Rasa resident {resident_mb:.0f} MB, "
        f"peak grew {growth_mb:.0f} MB"
    )
    assert resident_mb > 300, "measuring the process that serves (it holds the model)"
    assert "too long" in text_of(replies)
    assert growth_mb < 200
    assert say(assistant, "rest-memory", "what skills do I need?"), "still serving"


@pytest.mark.parametrize(
    "body, raw",
    [
        (None, b"not json"),
        ([1, 2], None),
        ({"message": "hi"}, None),
        ({"sender": "x"}, None),
        ({"sender": "x", "message": 5}, None),
        ({"sender": "", "message": "hi"}, None),
        ({"sender": "x" * 500, "message": "hi"}, None),
        ({"sender": "x", "message": "hi", "metadata": "oops"}, None),
    ],
)
def test_malformed_requests_get_a_clear_400(assistant, body, raw):
    status, reply = post(assistant.url, body, raw)
    assert status == 400, reply


def test_a_conversation_survives_a_restart(assistant):
    user = "rest-restart"
    say(assistant, user, "check my eligibility for the PTP")
    replies = say(assistant, user, "yes")  # good GCSEs
    assert "How many A-levels" in text_of(replies)
    rasa = assistant.rasa
    rasa.stop()
    rasa.start(assistant.url + "/")
    replies = say(assistant, user, "3")
    assert "science" in text_of(replies), "the check carried on where it was"
    replies = say(assistant, user, "yes")
    assert assessment(replies)["verdict"] == "eligible"


def test_the_conversation_scripts_run_against_a_live_assistant(assistant, tmp_path):
    """`make conversations URL=...`: the same scripts, over the REST channel."""
    from tools.careers_team.converse import DEFAULT_SCRIPTS, main

    junit = tmp_path / "live.xml"
    scripts = [str(DEFAULT_SCRIPTS / name) for name in ("eligibility-stp.yml", "feedback.yml")]
    assert main(["--url", assistant.url, "--junit", str(junit), *scripts]) == 0
    assert 'failures="0"' in junit.read_text()


def test_feedback_is_kept_in_the_tracker_store(assistant):
    import sqlite3

    user = "rest-feedback"
    replies = say(assistant, user, "what skills do I need?")
    say(assistant, user, button_payload(replies, "\N{THUMBS DOWN SIGN} No"))
    database = assistant.rasa.log.parent / "conversations.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(
            # A server-to-server caller's conversations are filed under rest:
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'",
            (f"{ownership.REST_API}:{user}",),
        ).fetchall()
    feedback = [json.loads(data)["value"] for (data,) in rows if json.loads(data)["name"] == "feedback"]
    assert feedback == [{"topic": "ask_skills", "helpful": False}]


def test_both_servers_listen_on_this_machine_only(assistant):
    """`make run` binds Rasa and the action server to 127.0.0.1 (RASA_HOST and
    ACTIONS_HOST say otherwise); and the action server turns away a caller without
    Rasa's token, while Rasa's own calls get through (the conversations above)."""
    import urllib.error
    import urllib.request

    from tests.test_action_server import action_call, listening_addresses

    for url in (assistant.url, assistant.actions_url):
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"0100007F"}, url
    request = urllib.request.Request(
        assistant.actions_url + "/webhook", data=action_call(), headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401
    assert say(assistant, "token-check", "what skills do I need?")  # Rasa's calls carry it
