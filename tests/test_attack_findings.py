"""Issue 24, the parts that need no server: each control an attack test found missing,
tested where it lives. (Over the real servers: test_hostile_traffic.py, and the
Slack and Teams modules for their bodies and log lines.)"""

from __future__ import annotations

import io
import logging
import sqlite3
import time
from pathlib import Path
from typing import List

import pytest

from channels import limits, ownership
from channels.conversations import client_message_id, read_json
from nlp.deletion_requests import asks_to_delete
from tools.running.rotating_log import RotatingFile
from tools.running.rotating_log import main as rotating_log

# --- 1. a sender no database can store ---------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "abc\ud800",
        "\udfff",
        "a\x00b",
        "line\nbreak",
        "bell\x07",
        "rtl\u202eoverride",
        "zero\u200bwidth",
        "x" * 129,
        "",
        "   ",
    ],
)
def test_a_sender_that_cannot_name_a_conversation_is_refused(sender):
    assert ownership.sender_problem(sender) is not None


@pytest.mark.parametrize(
    "sender", ["backend-42", "rest user 7", "Zoë's test", "x" * 128, "データ", "a:b@c.d"]
)
def test_ordinary_senders_are_accepted(sender):
    assert ownership.sender_problem(sender) is None


def test_every_channels_ids_pass_the_sender_check_whatever_the_platform_sent():
    """Slack and Teams make ids from what the platform sent: hostile parts come out as
    storable ids (or none), never as a sender SQLite cannot take."""
    from channels.slack import message_event
    from channels.teams import conversation_id

    secret = b"a-conversation-secret-for-tests"
    for team in ["T0001", "T\ud800", "T\x00", "T" * 500]:
        body = {
            "type": "event_callback",
            "team_id": team,
            "event": {
                "type": "message",
                "channel_type": "im",
                "user": "U1",
                "channel": "D1",
                "ts": "1.2",
                "text": "hi",
            },
        }
        incoming = message_event(body)
        assert incoming is None or ownership.sender_problem(incoming.conversation(secret)) is None
    for tenant in ["contoso", "\ud800", "t\x00", "x" * 500]:
        activity = {
            "channelData": {"tenant": {"id": tenant}},
            "conversation": {"id": "c\ud800"},
            "from": {"id": "\x00"},
        }
        assert ownership.sender_problem(conversation_id(activity, secret)) is None
    token = ownership.issue_token(secret)
    assert ownership.sender_problem(ownership.conversation_of(token, secret)) is None


def test_an_error_in_a_tracker_store_session_is_that_operations_failure_not_an_exit(tmp_path):
    """Rasa's SQLTrackerStore.session_scope turns any ValueError into "schema not
    found" and exits the process; ours lets the one operation fail."""
    import asyncio

    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime.tracker_store import CachedSQLTrackerStore

    store = CachedSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "c.db"), retention_days=0)
    with pytest.raises(ValueError), store.session_scope():
        raise ValueError("a transient fault")
    tracker = DialogueStateTracker.from_events("abc\ud800", [UserUttered("hi")])
    with pytest.raises(Exception) as raised:
        asyncio.run(store.save(tracker))
    assert not isinstance(raised.value, SystemExit)
    asyncio.run(store.save(DialogueStateTracker.from_events("fine", [UserUttered("hi")])))  # still works


def test_a_nul_in_a_sender_on_postgresql_fails_that_save_and_no_more():
    """psycopg2 raises ValueError for a NUL in a string: on Rasa's own store, an exit."""
    import asyncio
    import os

    import sqlalchemy as sa
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime.tracker_store import CachedSQLTrackerStore

    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (make test starts a scratch PostgreSQL when run as root)")
    parts = sa.engine.make_url(url)
    store = CachedSQLTrackerStore(
        dialect="postgresql",
        host=parts.host,
        port=parts.port,
        db=parts.database,
        username=parts.username,
        password=parts.password,
        retention_days=0,
    )
    with pytest.raises(Exception) as raised:
        asyncio.run(store.save(DialogueStateTracker.from_events("nul\x00sender", [UserUttered("hi")])))
    assert isinstance(raised.value, ValueError) and not isinstance(raised.value, SystemExit)
    sender = f"after-the-nul-{time.time_ns()}"
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, [UserUttered("hi")])))
    assert asyncio.run(store.delete(sender)) == 1


# --- 3. malformed bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b"[" * 200_000, b'{"a": ' * 100_000, b"\xff\xfe", b"not json", b"", "[" * 200_000]
)
def test_unreadable_json_is_none_never_an_exception(raw):
    assert read_json(raw) is None


def test_readable_json_is_read():
    assert read_json(b'{"sender": "x", "message": "\\ud800"}') == {"sender": "x", "message": "\ud800"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a1b2c3d4", "a1b2c3d4"),
        ("m-" + "x" * 62, "m-" + "x" * 62),
        ("short", None),
        ("x" * 65, None),
        ("has space1", None),
        (12345678, None),
        (None, None),
        ("ünïcode12", None),
    ],
)
def test_client_message_ids(value, expected):
    assert client_message_id(value) == expected


# --- 4. deletion asked for in people's own words -------------------------------------

ASKS_TO_DELETE = [
    "please delete my conversation",
    "remove my conversation",
    "I want my data deleted",
    "Delete all my data",
    "erase my details",
    "can you delete everything I told you?",
    "forget me",
    "I'd like my chat history removed please",
    "get rid of my data please",
    "wipe this chat",
    "delete all data about me",
    "I want to exercise my right to be forgotten",
    "Please can my conversation be deleted",
    "remove all of my personal details",
    "please delete everything",
    "i want everything i said deleted",
    "How do I delete my data?",
    "Delete my conversation",
    "ok, actually, bin my chat log please",
    "delete me from your system",
    "I'm worried about what you store, delete all of it",
    "actually I'd rather you didn't keep any of this, remove it please",
    "please stop storing my data",
    "don't keep my details",
    "Could you get rid of everything from this session",
]
NOT_DELETION = [
    "how do I delete my UCAS application?",
    "don't delete my conversation",
    "please don't remove my details",
    "what skills do I need?",
    "clear my answers",
    "start again",
    "I studied data science",
    "can I remove a module from my degree?",
    "I deleted my old CV",
    "does the NHS delete patient records?",
    "forget it",
    "what happens to my data?",
    "my mum has collapsed",
    "delete all the A-levels I mentioned",
    "I want to scrap my degree and start again",
    "remind me what the STP is",
    "do I need to keep my GCSE certificates?",
    "I didn't keep my transcript, is that a problem?",
]


@pytest.mark.parametrize("text", ASKS_TO_DELETE)
def test_asking_to_delete_in_own_words_is_recognised(text):
    assert asks_to_delete(text)


@pytest.mark.parametrize("text", NOT_DELETION)
def test_other_messages_are_not_deletion_requests(text):
    assert not asks_to_delete(text)


# 90 messages written, without seeing this code, by someone asked for deletion
# requests in varied words (typos, passives, for a child, GDPR) and near misses. Its
# first run read 29 of the 45 requests and none of the 45 others; the misses shaped
# nlp/deletion_requests.py since, so it is a development set now, kept as a guard.
DEV_SET = Path(__file__).parent / "deletion_requests_dev.tsv"


def test_the_development_set_of_deletion_requests():
    rows = [line.split("\t") for line in DEV_SET.read_text().splitlines() if line.strip()]
    assert len(rows) == 90 and {label for label, _ in rows} == {"delete", "other"}
    wrong = [(label, text) for label, text in rows if asks_to_delete(text) != (label == "delete")]
    assert wrong == []


def test_the_pipeline_asks_to_confirm_and_keeps_exact_phrases(assistant):
    """Through the trained model: own words get the confirming intent, whatever the
    classifier thought (it had "I want my data deleted" as an emergency); the exact
    phrase the widget's button sends still deletes at once."""

    def intent(text: str) -> str:
        return assistant._loop.run_until_complete(assistant.agent.parse_message(text))["intent"]["name"]

    for text in ["please delete my conversation", "I want my data deleted", "erase my details"]:
        assert intent(text) == "request_deletion", text
    assert intent("delete my conversation") == "delete_conversation"
    assert intent("I can't breathe, delete my data") == "medical_emergency"


# --- 5. one allowance for every channel ---------------------------------------------------


def test_every_channel_shares_one_allowance(monkeypatch):
    monkeypatch.setattr(limits, "_shared", None)
    monkeypatch.setenv("MESSAGE_BURST", "3")
    first = limits.shared()
    assert limits.shared() is first
    assert all(first.messages.allow("web:x", now=0.0) for _ in range(3))
    assert not limits.shared().messages.allow("web:x", now=0.0)


def test_each_channel_takes_its_limits_from_the_shared_allowance():
    """No channel makes limits of its own (they would count a conversation twice)."""
    root = Path(__file__).parents[1] / "channels"
    for name in ["rest.py", "socketio_channel.py", "slack.py", "teams.py"]:
        source = (root / name).read_text()
        assert "limits.shared()" in source and "limits.Limits()" not in source, name


# --- 6. deleted text leaves the disk ------------------------------------------------------


def _files_hold(folder: Path, marker: bytes) -> List[str]:
    return [p.name for p in folder.iterdir() if p.is_file() and marker in p.read_bytes()]


def test_a_deleted_conversation_leaves_no_text_in_the_sqlite_files(tmp_path):
    import asyncio

    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime.tracker_store import CachedSQLTrackerStore

    marker = "quetzal-7f3a-marker"
    store = CachedSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "c.db"), retention_days=0)
    asyncio.run(store.save(DialogueStateTracker.from_events("mine", [UserUttered(f"I studied {marker}")])))
    asyncio.run(store.save(DialogueStateTracker.from_events("other", [UserUttered("hello")])))
    assert _files_hold(tmp_path, marker.encode()), "the marker was written"
    assert asyncio.run(store.delete("mine")) == 1
    assert _files_hold(tmp_path, marker.encode()) == []
    assert (tmp_path / "c.db-wal").stat().st_size == 0, "the log was emptied"


def test_a_purge_leaves_no_text_in_the_sqlite_files(tmp_path):
    from runtime.retention import purge

    marker = b"axolotl-91c2-marker"
    db = tmp_path / "p.db"
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL, data TEXT)"
        )
        connection.execute(
            "INSERT INTO events VALUES (1, 'old', ?, ?)", (time.time() - 40 * 86400, marker.decode() * 20)
        )
        connection.execute("INSERT INTO events VALUES (2, 'new', ?, 'hello')", (time.time(),))
    connection.close()
    assert _files_hold(tmp_path, marker)
    assert purge(f"sqlite:///{db}", 30) == (1, 1)
    assert _files_hold(tmp_path, marker) == []


# --- 7. the log cannot be grown without limit ---------------------------------------------


def test_repeated_refusals_are_logged_once_a_minute_with_a_count(caplog):
    lines = limits.RepeatedLogLines(logging.getLogger("test.refusals"), interval=60)
    with caplog.at_level(logging.INFO, logger="test.refusals"):
        for second in range(1000):
            lines.log(logging.INFO, "Slack: refused (%s).", "bad signature", now=second / 100)  # 10 s
        lines.log(logging.INFO, "Teams: refused.", now=5.0)  # another kind has its own minute
        lines.log(logging.INFO, "Slack: refused (%s).", "bad signature", now=61.0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "Slack: refused (bad signature).",
        "Teams: refused.",
        "Slack: refused (bad signature). (and 999 more like this since the last one logged)",
    ]


def test_logs_are_rotated_by_size(tmp_path):
    log = tmp_path / "rasa.log"
    lines = b"".join(f"line {n:05d} {'x' * 80}\n".encode() for n in range(5000))  # about 450 kB
    assert rotating_log([str(log), "--max-bytes", "50000", "--backups", "3"], source=io.BytesIO(lines)) == 0
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["rasa.log", "rasa.log.1", "rasa.log.2", "rasa.log.3"]
    assert all(p.stat().st_size <= 50000 for p in tmp_path.iterdir())
    assert log.read_bytes().endswith(b"line 04999 " + b"x" * 80 + b"\n"), "the newest lines are in the log"
    older = (tmp_path / "rasa.log.1").read_bytes().splitlines()
    newer = log.read_bytes().splitlines()
    assert int(older[-1].split()[1]) + 1 == int(newer[0].split()[1]), "no line lost between files"


def test_a_line_without_an_end_is_written_in_pieces_and_rotated(tmp_path):
    rotating_log(
        [str(tmp_path / "b.log"), "--max-bytes", "100000", "--backups", "1"],
        source=io.BytesIO(b"y" * 1_000_000),
    )
    assert sum(p.stat().st_size for p in tmp_path.glob("b.log*")) <= 200_000


def test_with_no_backups_the_log_starts_afresh(tmp_path):
    log = RotatingFile(tmp_path / "a.log", max_bytes=10, backups=0)
    for _ in range(5):
        log.write(b"12345678\n")
    log.close()
    assert [p.name for p in tmp_path.iterdir()] == ["a.log"] and (
        tmp_path / "a.log"
    ).read_bytes() == b"12345678\n"


def test_make_run_sends_every_servers_output_through_the_rotator():
    script = (Path(__file__).parents[1] / "tools" / "running" / "run.sh").read_text()
    for name in ["actions.log", "rasa.log", "demo.log"]:
        assert f"> >(log_to {name}) 2>&1 &" in script, name
    assert 'tools.running.rotating_log "$LOG_DIR/$1"' in script


def test_refusals_anyone_can_cause_go_through_the_repeat_limiter():
    root = Path(__file__).parents[1] / "channels"
    for name, line in [
        ("slack.py", "a request without a valid, recent signature was refused"),
        ("teams.py", "refused a request (401)"),
        ("socketio_channel.py", "ignored a message outside the socket's conversation"),
    ]:
        source = (root / name).read_text()
        at = source.index(line)
        assert "refusals.log(" in source[max(0, at - 200) : at], name
