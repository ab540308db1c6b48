"""The Slack channel (channels/slack.py): signatures, what counts as a message to the
assistant, how replies look in Block Kit; then over the real servers, with a local
stand-in for Slack's Web API (tests/harness/slack_standin.py): answered, refused,
retried, slow, clicked, and a whole eligibility check ending in its verdict."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from channels import ownership
from channels.seen import RecentIds
from channels.slack import (
    ASSESSMENT_EVENT,
    SlackInput,
    button_click,
    chosen,
    is_from_slack,
    message_event,
    owner_tag,
    plain,
    signature,
    slack_message,
)
from tests.harness.serverctl import ROOT, post, running_assistant
from tests.harness.slack_standin import SlackStandIn, block_kit_problem

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CONVERSATION_SECRET = "a-conversation-secret-for-the-slack-tests"
BODY = b'{"type":"event_callback"}'
NOW = 1_700_000_000


# Signatures ------------------------------------------------------------------------


def test_a_request_signed_with_the_secret_in_the_last_five_minutes_is_from_slack():
    stamp = str(NOW)
    good = signature(SECRET, stamp, BODY)
    assert good.startswith("v0=") and len(good) == 67
    assert is_from_slack(SECRET, stamp, good, BODY, now=NOW)
    assert is_from_slack(SECRET, stamp, good, BODY, now=NOW + 300)
    assert is_from_slack(SECRET, stamp, good, BODY, now=NOW - 300)  # our clock behind


@pytest.mark.parametrize(
    "case, stamp, sent, body, now",
    [
        ("another secret", str(NOW), signature("another-secret-entirely", str(NOW), BODY), BODY, NOW),
        ("a changed body", str(NOW), signature(SECRET, str(NOW), BODY), BODY + b" ", NOW),
        ("a changed timestamp", str(NOW + 1), signature(SECRET, str(NOW), BODY), BODY, NOW),
        ("stale: 301 s old", str(NOW), signature(SECRET, str(NOW), BODY), BODY, NOW + 301),
        ("from the future", str(NOW + 301), signature(SECRET, str(NOW + 301), BODY), BODY, NOW),
        ("no signature", str(NOW), None, BODY, NOW),
        ("no timestamp", None, signature(SECRET, str(NOW), BODY), BODY, NOW),
        ("a timestamp that is not a number", "soon", signature(SECRET, "soon", BODY), BODY, NOW),
        ("v1 instead of v0", str(NOW), "v1=" + signature(SECRET, str(NOW), BODY)[3:], BODY, NOW),
    ],
)
def test_anything_else_is_not(case, stamp, sent, body, now):
    assert not is_from_slack(SECRET, stamp, sent, body, now=now), case


def test_without_a_signing_secret_nothing_is_from_slack():
    assert not is_from_slack("", str(NOW), signature("", str(NOW), BODY), BODY, now=NOW)


def test_ids_are_remembered_for_a_while_and_memory_stays_bounded():
    seen = RecentIds(seconds=600, size=3)
    assert seen.first_time("a", now=0) and not seen.first_time("a", now=10)
    assert seen.first_time("a", now=611)  # forgotten after ten minutes
    for key in "bcd":
        assert seen.first_time(key, now=612)
    assert len(seen._seen) == 3


# What Slack sends ------------------------------------------------------------------


def test_a_direct_message_is_read_with_its_person_and_place():
    incoming = message_event(SlackStandIn.message_event("Hi there", user="U7", channel="D7", team="T7"))
    assert incoming is not None
    assert incoming.text == "Hi there" and incoming.thread_ts is None
    conversation = incoming.conversation(CONVERSATION_SECRET.encode())
    assert conversation == slack_conversation("T7", "D7", "U7")
    assert conversation.startswith("slack:T7:") and "D7" not in conversation and "U7" not in conversation


def slack_conversation(team, channel, user, secret=CONVERSATION_SECRET):
    return ownership.namespaced(
        ownership.SLACK, f"{team}:{ownership.pseudonym(secret.encode(), team, channel, user)}"
    )


def test_each_person_in_each_slack_conversation_and_workspace_has_a_conversation_of_their_own():
    ids = {
        slack_conversation(team, channel, user)
        for team in ("T1", "T2")
        for channel in ("D1", "C1")
        for user in ("U1", "U2")
    }
    assert len(ids) == 8
    # Without the secret, nobody can work out the id from the Slack ids.
    assert slack_conversation("T1", "D1", "U1") != slack_conversation(
        "T1", "D1", "U1", secret="another-secret-0123"
    )


def test_a_mention_in_a_channel_is_answered_in_a_thread_without_the_mention():
    body = SlackStandIn.message_event("what grades?", user="U7", channel="C7", mention=True)
    incoming = message_event(body)
    assert incoming is not None and incoming.text == "what grades?"
    assert incoming.thread_ts == body["event"]["ts"]
    in_thread = SlackStandIn.message_event("and the STP?", channel="C7", mention=True, thread_ts="1.000200")
    assert message_event(in_thread).thread_ts == "1.000200"


@pytest.mark.parametrize(
    "change",
    [
        {"bot_id": "B1"},  # the assistant's own message
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"type": "reaction_added"},
        {"channel_type": "channel"},  # a channel message that does not mention it
        {"user": "U1; DROP TABLE"},
        {"text": None},
        {"channel": None},
    ],
)
def test_other_events_are_not_messages_to_the_assistant(change):
    body = SlackStandIn.message_event("hello")
    body["event"].update(change)
    assert message_event(body) is None


def test_a_click_is_read_as_its_payload_in_its_thread():
    owner = owner_tag(b"s", slack_conversation("T7", "C7", "U7", "s"))
    buttons = [{"title": "STP", "payload": "/inform"}]
    post = {
        "channel": "C7",
        "ts": "1.000100",
        "thread_ts": "5.5",
        "text": "Which one?",
        "blocks": slack_message({"text": "Which one?", "buttons": buttons}, owner)["blocks"],
    }
    click = button_click(SlackStandIn.click(post, "STP", user="U7", team="T7"))
    assert click is not None and click.text == "/inform" and click.thread_ts == "5.5"
    assert click.conversation(b"s") == slack_conversation("T7", "C7", "U7", "s")
    assert click.clicked_title == "STP" and click.owner == owner
    # Clicked twice by one person: one key, so one answer; by another, another key.
    assert button_click(SlackStandIn.click(post, "STP", user="U7", team="T7")).key == click.key
    assert button_click(SlackStandIn.click(post, "STP", user="U8", team="T7")).key != click.key


@pytest.mark.parametrize(
    "sent, read",
    [
        ("<@UBOT0001> Maths &amp; physics", "Maths & physics"),
        ("is 2:1 &gt; 2:2?", "is 2:1 > 2:2?"),
        ("see <https://www.nshcs.hee.nhs.uk/|the NSHCS site>", "see the NSHCS site"),
        ("see <https://example.org/a?b=1&amp;c=2>", "see https://example.org/a?b=1&c=2"),
        ("<!here> anyone?", "anyone?"),
        ("asked in <#C0123|careers>", "asked in #careers"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
        ("&amp;lt; stays as typed", "&lt; stays as typed"),
    ],
)
def test_what_people_write_is_read_as_they_see_it(sent, read):
    assert plain(sent) == read


def test_clicks_on_anything_but_the_assistants_buttons_are_ignored():
    post = {
        "channel": "C7",
        "ts": "1.000100",
        "blocks": slack_message({"text": "x", "buttons": [{"title": "A", "payload": "/a"}]})["blocks"],
    }
    payload = SlackStandIn.click(post, "A")
    payload["actions"][0]["action_id"] = "someone_elses"
    assert button_click(payload) is None
    assert button_click({**SlackStandIn.click(post, "A"), "type": "view_submission"}) is None
    assert button_click({"type": "block_actions", "actions": []}) is None


# What the assistant posts ------------------------------------------------------------


def test_text_becomes_sections_with_slack_control_characters_escaped():
    post = slack_message({"text": "A & B <b>\n\nSecond paragraph"})
    assert post["text"] == "A & B <b>\n\nSecond paragraph"
    assert [b["text"]["text"] for b in post["blocks"]] == ["A &amp; B &lt;b&gt;", "Second paragraph"]
    assert slack_message({"text": ""}) is None
    long = slack_message({"text": "x" * 7000})
    assert [len(b["text"]["text"]) for b in long["blocks"]] == [3000, 3000, 1000]
    # Cut before escaping, at a space: no piece over the limit, no escape cut in two.
    ampersands = slack_message({"text": "a & b " * 1500})
    pieces = [b["text"]["text"] for b in ampersands["blocks"]]
    assert all(len(p) <= 3000 and p.endswith("b") for p in pieces)
    assert block_kit_problem(ampersands["blocks"]) == ""


def test_within_slacks_limit_on_blocks_the_buttons_are_kept():
    text = "\n\n".join(f"Paragraph {n}" for n in range(80))
    post = slack_message({"text": text, "buttons": [{"title": "Yes", "payload": "/affirm"}]})
    assert len(post["blocks"]) == 50 and post["blocks"][-1]["type"] == "actions"
    assert block_kit_problem(post["blocks"]) == ""


def test_buttons_become_block_kit_buttons_carrying_their_payload():
    buttons = [
        {"title": "👍 Yes", "payload": '/feedback{"helpful": true}'},
        {"title": "No", "payload": "/deny"},
    ]
    post = slack_message({"text": "Did that help?", "buttons": buttons})
    actions = [b for b in post["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    assert [(e["text"]["text"], e["value"]) for e in actions[0]["elements"]] == [
        ("👍 Yes", '/feedback{"helpful": true}'),
        ("No", "/deny"),
    ]
    assert len({e["action_id"] for e in actions[0]["elements"]}) == 2


ASSESSMENT = {
    "programme": "stp",
    "programme_name": "Scientist Training Programme (STP)",
    "verdict": "eligible",
    "verdict_label": "Meets the entry requirements",
    "verdict_mark": "✓",
    "reasons": ["You have a 2:1 in physics, a relevant subject."],
    "next_steps": ["Apply when the STP opens in January."],
    "sources": [
        "https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/",
        "https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/",
    ],
    "rules": ["stp_degree"],
}


def test_the_verdict_is_one_readable_message_with_its_reasons_next_steps_and_sources():
    text = "From what you've told me, you meet the requirements.\n\nWhy:\n- a 2:1\n\nSources:\nhttps://x"
    post = slack_message({"text": text, "custom": {"assessment": ASSESSMENT}})
    shown = json.dumps(post["blocks"], ensure_ascii=False)
    assert post["blocks"][0]["elements"][0]["text"] == "Eligibility check: Scientist Training Programme (STP)"
    assert post["blocks"][1] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "✓ Meets the entry requirements", "emoji": True},
    }
    assert "From what you've told me, you meet the requirements." in shown
    assert "*Why*\\n• You have a 2:1 in physics" in shown
    assert "*What next*\\n• Apply when the STP opens in January." in shown
    # Each source once, as a link shown by its card's title (channels/card.py).
    link = "<https://www.nshcs.hee.nhs.uk/programmes/stp/applicants/|nshcs.hee.nhs.uk: applicants>"
    assert shown.count(link) == 1
    # The metadata says what the verdict was, not what the person said (the reasons).
    assert post["metadata"] == {
        "event_type": ASSESSMENT_EVENT,
        "event_payload": {"verdict": "eligible", "programme": "stp", "rules": ["stp_degree"]},
    }
    assert post["text"] == text
    assert block_kit_problem(post["blocks"]) == ""


def test_a_clicked_message_shows_the_choice_instead_of_its_buttons():
    message = {
        "blocks": slack_message({"text": "Which?", "buttons": [{"title": "STP", "payload": "/a"}]})["blocks"]
    }
    blocks = chosen(message, "STP")
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert blocks[-1]["elements"][0]["text"] == "You chose: STP"
    assert chosen({"blocks": [{"type": "section"}]}, "STP") is None


def test_the_channel_is_not_set_up_without_its_token_and_secret():
    assert not SlackInput.from_credentials({"bot_token": "", "signing_secret": ""}).configured
    assert not SlackInput.from_credentials(None).configured
    configured = SlackInput.from_credentials({"bot_token": "xoxb-1", "signing_secret": SECRET, "api_url": ""})
    assert configured.configured and configured.api_url == "https://slack.com/api/"


# Over the real servers ---------------------------------------------------------------

MODEL = ROOT / "models" / "careers.tar.gz"
BOT_TOKEN = "xoxb-test-careers-0001"


@pytest.fixture(scope="module")
def slack(tmp_path_factory):
    assert MODEL.exists(), "no trained model: run `make train`"
    workdir = tmp_path_factory.mktemp("slack")
    with SlackStandIn(BOT_TOKEN) as standin:
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.api_url,
            ownership.CONVERSATION_SECRET: CONVERSATION_SECRET,
        }
        with running_assistant(MODEL, workdir, env=settings) as running:
            standin.rasa_url = running.url
            standin.database = workdir / "conversations.db"
            yield standin
        # Nothing the assistant sent would Slack have refused.
        assert standin.rejected == []


def say(slack, text, channel, user="U0001", **event):
    """Sends a signed direct message (or mention) and returns its status and the replies."""
    before = len(slack.posts(channel))
    status, _ = slack.send(
        slack.rasa_url, slack.message_event(text, user=user, channel=channel, **event), SECRET
    )
    assert status == 200
    return slack.wait_until_quiet(channel, before, quiet=1.5)


@pytest.mark.servers
def test_a_direct_message_is_answered_through_the_web_api(slack):
    started = time.monotonic()
    status, body = slack.send(slack.rasa_url, slack.message_event("hello", channel="DHELLO"), SECRET)
    assert status == 200 and body == b"" and time.monotonic() - started < 3
    posts = slack.wait_for(1, channel="DHELLO")
    assert "clinical engineering" in posts[0]["text"].lower()
    assert "thread_ts" not in posts[0]
    assert slack.refused == 0  # every call carried the bot token


@pytest.mark.servers
def test_a_mention_in_a_channel_is_answered_in_its_thread(slack):
    body = slack.message_event("what skills do I need?", channel="CSKILLS", mention=True)
    assert slack.send(slack.rasa_url, body, SECRET)[0] == 200
    posts = slack.wait_for(1, channel="CSKILLS")
    assert posts[0]["thread_ts"] == body["event"]["ts"]
    assert "skill" in posts[0]["text"].lower()


@pytest.mark.servers
@pytest.mark.parametrize(
    "case, secret, age",
    [("a bad signature", "not-the-signing-secret-at-all", 0), ("a stale timestamp", SECRET, 301)],
)
def test_unsigned_or_stale_requests_are_refused_and_not_processed(slack, case, secret, age):
    channel = f"DREFUSED{age}"
    refused = slack.message_event("Can I apply for the STP with a 2:1 in physics?", channel=channel)
    status, body = slack.send(slack.rasa_url, refused, secret, timestamp=int(time.time()) - age)
    assert status == 401, case
    assert b"signed" in body
    # The next, signed message is the conversation's first: the refused one left nothing.
    replies = say(slack, "hello", channel)
    assert all("2:1" not in p["text"] for p in replies)
    with sqlite3.connect(slack.database) as db:
        texts = [
            row[0]
            for row in db.execute(
                "SELECT json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user'",
                (slack_conversation("T0001", channel, "U0001"),),
            )
        ]
    assert texts == ["hello"]


@pytest.mark.servers
def test_a_retry_of_the_same_event_never_gets_a_second_answer(slack):
    event = slack.message_event("What GCSEs do I need for the PTP?", channel="DRETRY")
    assert slack.send(slack.rasa_url, event, SECRET)[0] == 200
    first = slack.wait_until_quiet("DRETRY", 0, quiet=1.5)
    for retry in ("1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        assert slack.send(slack.rasa_url, event, SECRET, headers=headers)[0] == 200
    # A message after the retries: turns of a conversation run in order, so any second
    # answer to the retried event would come before the answer to this one.
    say(slack, "thanks", "DRETRY")
    later = [p["text"] for p in slack.posts("DRETRY")[len(first) :]]
    assert later and later[0].startswith("You're welcome"), later
    assert not any("GCSE" in text for text in later)


@pytest.mark.servers
def test_a_slow_turn_is_still_acknowledged_within_three_seconds(slack):
    slack.delay_seconds = 4  # every Web API call takes 4 s: the turn takes longer
    try:
        started = time.monotonic()
        status, _ = slack.send(slack.rasa_url, slack.message_event("hi", channel="DSLOW"), SECRET)
        acknowledged = time.monotonic() - started
        posts = slack.wait_for(1, channel="DSLOW", timeout=60)
        replied = time.monotonic() - started
    finally:
        slack.delay_seconds = 0
    assert status == 200 and acknowledged < 3 and replied >= 4
    assert posts[0]["text"]


@pytest.mark.servers
def test_the_url_verification_challenge_is_answered_only_when_signed(slack):
    challenge = {
        "type": "url_verification",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    }
    status, body = slack.send(slack.rasa_url, challenge, SECRET)
    assert status == 200 and json.loads(body) == {"challenge": challenge["challenge"]}
    assert slack.send(slack.rasa_url, challenge, "wrong-secret-wrong-secret")[0] == 401


@pytest.mark.servers
def test_the_rest_channel_cannot_reach_a_slack_conversation(slack):
    say(slack, "Can I apply for the STP with a 2:1 in physics?", "DOWNED", user="UOWNER")
    slack_id = slack_conversation("T0001", "DOWNED", "UOWNER")
    status, replies = post(slack.rasa_url, {"sender": slack_id, "message": "why?"})
    assert status == 200
    with sqlite3.connect(slack.database) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert "rest:" + slack_id in senders and slack_id in senders
    with sqlite3.connect(slack.database) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'", (slack_id,)
        ).fetchone()
    assert count == 1  # the REST message went to a conversation of its own


def clicked(slack, channel, title, user="U0001"):
    """Clicks the button `title` in the latest post that has it; the replies."""
    with_button = [
        p
        for p in slack.posts(channel)
        if any(
            e["text"]["text"] == title for b in p["blocks"] if b["type"] == "actions" for e in b["elements"]
        )
    ]
    assert with_button, f"no {title!r} button in {channel}"
    before = len(slack.posts(channel))
    status, _ = slack.send(slack.rasa_url, slack.click(with_button[-1], title, user=user), SECRET)
    assert status == 200
    return slack.wait_until_quiet(channel, before, quiet=1.5)


@pytest.mark.servers
def test_a_whole_eligibility_check_ends_in_its_verdict_card_and_feedback_works(slack):
    channel = "DCHECK"
    replies = say(slack, "am I eligible?", channel)
    assert any(b["type"] == "actions" for p in replies for b in p["blocks"]), replies
    replies = clicked(slack, channel, "STP (graduate)")
    # The clicked message now shows the choice instead of its buttons.
    updates = slack.posts(channel, method="chat.update")
    assert updates and "You chose: STP (graduate)" in json.dumps(updates[-1]["blocks"])
    for answer in ("a 2:1", "physics", "no", "no"):
        replies = say(slack, answer, channel)
        if any("metadata" in p for p in replies):
            break
    verdicts = [p for p in replies if "metadata" in p]
    assert len(verdicts) == 1, [p["text"] for p in replies]
    verdict = verdicts[0]
    assert verdict["metadata"]["event_type"] == ASSESSMENT_EVENT
    assessment = verdict["metadata"]["event_payload"]
    assert assessment["verdict"] == "eligible" and assessment["programme"] == "STP"
    shown = json.dumps(verdict["blocks"], ensure_ascii=False)
    assert verdict["blocks"][1]["type"] == "header"
    assert "*Why*" in shown and "*What next*" in shown and "*Sources*" in shown
    assert "<https://" in shown
    # The feedback question follows, with buttons that work.
    thanks = clicked(slack, channel, "👍 Yes")
    assert thanks and "thank" in thanks[0]["text"].lower()


def test_the_app_manifest_sends_the_channel_what_it_reads_and_asks_no_more():
    import yaml

    manifest = yaml.safe_load((ROOT / "deploy" / "slack" / "manifest.yml").read_text())
    settings = manifest["settings"]
    route = f"/webhooks/{SlackInput.name()}/webhook"
    assert settings["event_subscriptions"]["request_url"].endswith(route)
    assert settings["interactivity"]["is_enabled"] and settings["interactivity"]["request_url"].endswith(
        route
    )
    # The events message_event reads: direct messages and mentions.
    assert sorted(settings["event_subscriptions"]["bot_events"]) == ["app_mention", "message.im"]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "chat:write",
        "im:history",
    ]
    assert not settings["socket_mode_enabled"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"]


@pytest.mark.servers
def test_a_double_click_is_one_answer_and_others_cannot_click_someone_elses_buttons(slack):
    # A mention in a channel: the answer, with buttons, in a thread.
    body = slack.message_event("am I eligible?", channel="CTHREAD", user="UASKER", mention=True)
    assert slack.send(slack.rasa_url, body, SECRET)[0] == 200
    [offer] = slack.wait_until_quiet("CTHREAD", 0, quiet=1.5)
    # Someone else in the channel clicks: only they are told, nothing else happens.
    assert slack.send(slack.rasa_url, slack.click(offer, "STP (graduate)", user="UOTHER"), SECRET)[0] == 200
    [notice] = slack.wait_for(1, channel="CTHREAD", method="chat.postEphemeral")
    assert notice["user"] == "UOTHER" and notice["thread_ts"] == body["event"]["ts"]
    # The person who asked clicks twice: one answer.
    for _ in range(2):
        assert (
            slack.send(slack.rasa_url, slack.click(offer, "STP (graduate)", user="UASKER"), SECRET)[0] == 200
        )
    replies = slack.wait_until_quiet("CTHREAD", 1, quiet=1.5)
    assert len(replies) == 1 and "What class is your degree" in replies[0]["text"], replies
    assert all(p["thread_ts"] == body["event"]["ts"] for p in slack.posts("CTHREAD"))
    with sqlite3.connect(slack.database) as db:
        senders = [row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")]
    assert slack_conversation("T0001", "CTHREAD", "UOTHER") not in senders


def _log_of(slack) -> str:
    return (slack.database.parent / "rasa.log").read_text(errors="replace")


@pytest.mark.servers
@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"[" * 200_000, "application/json"),
        (b'{"type": "event_callback", "event": ' * 25_000, "application/json"),
        (b"payload=" + b"%5B" * 200_000, "application/x-www-form-urlencoded"),
        (b"payload=%FF%FE", "application/x-www-form-urlencoded"),
        (b"\xff\xfe", "application/json"),
    ],
    ids=["deep json", "deep object", "deep form payload", "payload not utf-8", "body not utf-8"],
)
def test_a_signed_but_malformed_body_gets_400_without_a_traceback(slack, body, content_type):
    """Issue 24: a validly signed body of `[` x 200,000 let RecursionError escape
    SlackInput.read: a 500 and a traceback in the log."""
    import urllib.error
    import urllib.request

    tracebacks = _log_of(slack).count("Traceback")
    headers = SlackStandIn.signed(body, SECRET, content_type=content_type)
    request = urllib.request.Request(slack.rasa_url + "/webhooks/slack/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 400
    assert _log_of(slack).count("Traceback") == tracebacks
    assert say(slack, "hello", "DAFTERDEEP"), "still serving"


@pytest.mark.servers
def test_refused_requests_add_a_line_a_minute_to_the_log_not_one_each(slack):
    """A refusal is a warning, which the server writes (an INFO line was not), once a
    minute with a count of those left out."""
    before = _log_of(slack).count("without a valid, recent signature")
    for _ in range(100):
        event = slack.message_event("hello", channel="DFLOODLOG")
        assert slack.send(slack.rasa_url, event, "not-the-signing-secret-at-all")[0] == 401
    after = _log_of(slack).count("without a valid, recent signature")
    assert after >= 1, "refusals are in the log"
    assert after - before <= 1
