"""runtime/tracker_store.py: the SQL tracker store that keeps conversations in memory,
against Rasa's own SQLTrackerStore on real SQLite files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from runtime import CACHED_SQL_STORE
from tools.careers_team.conversation_scripts import load_scripts
from tools.careers_team.converse import DEFAULT_MODEL, DEFAULT_SCRIPTS, InProcessAssistant

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="needs the trained model (make model)")


def store(kind: str, db: Path, **settings: Any) -> Any:
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(type=kind, dialect="sqlite", db=str(db), **settings)
    return TrackerStore.create(config, domain=Domain.load("domain.yml"))


def stored_events(db: Path, sender: str) -> List[Tuple[Any, ...]]:
    """What the database holds, without the times and ids that differ between runs."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id",
            (sender,),
        ).fetchall()
    kept = []
    for type_name, intent, action, data in rows:
        event = json.loads(data)
        kept.append((type_name, intent, action, json.dumps(event.get("value"), sort_keys=True)))
    return kept


def everything_people_type() -> List[str]:
    """Every message the careers team's scripts type, in order: one long conversation
    with checks, corrections, feedback, restarts and questions mixed. Less "delete my
    conversation" and deletion asked for in other words (a "yes" after it deletes),
    which would end it (Rasa's own store cannot delete, ours does)."""
    import yaml

    from nlp.deletion_requests import asks_to_delete
    from nlp.rasa_components import normalise_phrase

    config = yaml.safe_load((Path(__file__).parents[1] / "config.yml").read_text())
    (phrases,) = [c["phrases"] for c in config["pipeline"] if c["name"].endswith("ControlPhrases")]
    deleting = {normalise_phrase(p) for p in phrases["delete_conversation"]}
    typed = [turn.user for c in load_scripts([DEFAULT_SCRIPTS]) for turn in c.turns if turn.user is not None]
    return [text for text in typed if normalise_phrase(text) not in deleting and not asks_to_delete(text)]


@pytest.fixture(scope="module")
def long_conversation(tmp_path_factory):
    """The same long conversation through Rasa's SQLTrackerStore and through ours
    keeping only three turns, so that it is shortened again and again."""
    folder = tmp_path_factory.mktemp("stores")
    messages = everything_people_type()
    assert len(messages) > 150
    runs = {}
    for kind, settings in [("SQL", {}), (CACHED_SQL_STORE, {"keep_turns": 3})]:
        db = folder / f"{kind}.db"
        assistant = InProcessAssistant(tracker_store=store(kind, db, **settings))
        replies = [assistant.send("someone", text) for text in messages]
        assistant.close()
        runs[kind] = (replies, stored_events(db, "someone"))
    return runs


def test_the_name_endpoints_use_is_the_stores():
    from runtime.tracker_store import CachedSQLTrackerStore

    assert f"{CachedSQLTrackerStore.__module__}.{CachedSQLTrackerStore.__qualname__}" == CACHED_SQL_STORE


def test_a_shortened_conversation_predicts_what_the_whole_conversation_does(long_conversation):
    (rasa_replies, _), (our_replies, _) = long_conversation["SQL"], long_conversation[CACHED_SQL_STORE]
    assert len(our_replies) == len(rasa_replies)
    for turn, (ours, rasas) in enumerate(zip(our_replies, rasa_replies, strict=True)):
        assert ours == rasas, f"turn {turn}"


def test_every_event_is_stored_as_rasas_own_store_stores_it(long_conversation):
    (_, rasa_rows), (_, our_rows) = long_conversation["SQL"], long_conversation[CACHED_SQL_STORE]
    assert len(our_rows) == len(rasa_rows) > 1000
    assert our_rows == rasa_rows


def run(coroutine: Any) -> Any:
    return asyncio.new_event_loop().run_until_complete(coroutine)


def another_server_sets_the_programme(db: Path, sender: str) -> None:
    """A write to the conversation that this store did not make: the programme slot."""
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'slot', 1e10, ?)",
            (sender, json.dumps({"event": "slot", "name": "programme", "value": "stp", "timestamp": 1e10})),
        )


@pytest.fixture
def assistant_and_store(tmp_path):
    ours = store(CACHED_SQL_STORE, tmp_path / "c.db")
    assistant = InProcessAssistant(tracker_store=ours)
    yield assistant, ours, tmp_path / "c.db"
    assistant.close()


def test_a_saved_conversation_is_served_from_memory_until_the_database_changes(assistant_and_store):
    assistant, ours, db = assistant_and_store
    sender = uuid.uuid4().hex
    assistant.send(sender, "hi")
    first = run(ours.retrieve(sender))
    run(ours.save(first))
    assert run(ours.retrieve(sender)) is first  # kept
    run(ours.save(first))
    # Another server (or a person) writes to the conversation: it is read again.
    another_server_sets_the_programme(db, sender)
    again = run(ours.retrieve(sender))
    assert again is not first
    assert again.get_slot("programme") == "stp"


@pytest.mark.parametrize("conversation", ["under way", "new"])
def test_a_write_by_somebody_else_while_a_message_is_handled_is_not_lost(assistant_and_store, conversation):
    """Another server writes to the conversation between this one reading it (or, for
    a new one, creating it as Rasa does for a first message) and saving it: both
    writes are in the database, and the next message reads them both."""
    from rasa.shared.core.events import SlotSet

    assistant, ours, db = assistant_and_store
    sender = uuid.uuid4().hex
    if conversation == "new":
        assert run(ours.retrieve(sender)) is None
        tracker = run(ours.create_tracker(sender, append_action_listen=False))
    else:
        assistant.send(sender, "hi")
        tracker = run(ours.retrieve(sender))
    another_server_sets_the_programme(db, sender)
    tracker.update(SlotSet("degree_subject", "physics"))
    run(ours.save(tracker))
    again = run(ours.retrieve(sender))
    assert again is not tracker
    assert again.get_slot("programme") == "stp"
    assert again.get_slot("degree_subject") == "physics"


def test_a_tracker_handed_out_and_never_saved_is_not_handed_out_again(assistant_and_store):
    """A request that fails after reading a conversation must not leave its changes
    behind for the next one."""
    assistant, ours, _ = assistant_and_store
    sender = uuid.uuid4().hex
    assistant.send(sender, "hi")
    from rasa.shared.core.events import SlotSet

    failed = run(ours.retrieve(sender))
    failed.update(SlotSet("programme", "ptp"))  # ...and the request fails: no save
    fresh = run(ours.retrieve(sender))
    assert fresh is not failed
    assert fresh.get_slot("programme") is None


def test_only_the_latest_conversations_are_kept(tmp_path):
    ours = store(CACHED_SQL_STORE, tmp_path / "c.db", cache_size=2)
    assistant = InProcessAssistant(tracker_store=ours)
    senders = [uuid.uuid4().hex for _ in range(3)]
    for sender in senders:
        assistant.send(sender, "hi")
    assistant.close()
    assert list(ours._kept) == senders[1:]
    assert run(ours.retrieve(senders[0])).sender_id == senders[0]  # read from the database


def test_a_kept_tracker_holds_the_latest_turns_and_every_slot(tmp_path):
    from rasa.shared.core.events import UserUttered

    ours = store(CACHED_SQL_STORE, tmp_path / "c.db", keep_turns=2)
    assistant = InProcessAssistant(tracker_store=ours)
    sender = uuid.uuid4().hex
    said = ["can I apply for the STP?", "2:1", "physics", "what skills do I need?", "hi", "thanks"]
    for text in said:
        assistant.send(sender, text)
    assistant.close()
    tracker = run(ours.retrieve(sender))
    users = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert users == said[-2:] or users == said[-3:]  # shortened once more than 2 x 2 turns
    assert tracker.get_slot("degree_subject") == "physics"
    assert len(stored_events(tmp_path / "c.db", sender)) > len(tracker.events)
    # Read again from the database, it is shortened the same way.
    ours.forget(sender)
    again = run(ours.retrieve(sender))
    assert again is not tracker
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == said[-2:]
    assert again.current_slot_values() == tracker.current_slot_values()


def test_a_tracker_is_kept_whole_when_a_short_one_would_differ():
    """The assistant's last message came before the cut (nothing since has been
    answered): no carried event can set that again, so the tracker is not shortened.
    A form running across the cut is carried, with the message that started it."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime.tracker_store import shortened

    def turn(text: str) -> List[Any]:
        return [ActionExecuted("action_listen"), UserUttered(text, {"name": "inform"})]

    slots = Domain.load("domain.yml").slots
    later = [event for n in range(6) for event in turn(f"message {n}")]
    unanswered = DialogueStateTracker.from_events("someone", [BotUttered("Hello"), *later], slots)
    assert shortened(unanswered, 2) is None

    form = [*turn("can I apply?"), ActionExecuted("eligibility_form"), ActiveLoop("eligibility_form")]
    tracker = DialogueStateTracker.from_events("someone", [*form, *later], slots)
    short = shortened(tracker, 2)
    assert short is not None
    assert short.active_loop == tracker.active_loop
    assert short.active_loop.trigger_message["text"] == "can I apply?"
    assert [e.text for e in short.events if isinstance(e, UserUttered)] == ["message 4", "message 5"]


def test_new_events_are_streamed_to_an_event_broker(tmp_path):
    """With an event broker, each new event is published once, as Rasa's store does."""
    from rasa.core.brokers.sql import SQLEventBroker

    broker = SQLEventBroker(db=str(tmp_path / "broker.db"))
    ours = store(CACHED_SQL_STORE, tmp_path / "c.db")
    ours.event_broker = broker
    assistant = InProcessAssistant(tracker_store=ours)
    sender = uuid.uuid4().hex
    for text in ["hi", "what is the STP?"]:
        assistant.send(sender, text)
    assistant.close()
    with sqlite3.connect(tmp_path / "broker.db") as connection:
        query = "SELECT count(*) FROM events WHERE sender_id = ?"
        published = connection.execute(query, (sender,)).fetchone()[0]
    assert published == len(stored_events(tmp_path / "c.db", sender))


@pytest.mark.parametrize("setting, level", [(None, 2), ("full", 2), ("normal", 1), ("NORMAL", 1)])
def test_sqlite_keeps_a_write_ahead_log_synced_as_configured(tmp_path, setting, level):
    """Every connection the store opens uses the write-ahead log, synced at every
    commit unless `sqlite_synchronous: normal` says otherwise (2 is FULL, 1 NORMAL)."""
    import sqlalchemy as sa

    settings = {} if setting is None else {"sqlite_synchronous": setting}
    ours = store(CACHED_SQL_STORE, tmp_path / "c.db", **settings)
    with ours.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == level


def test_an_unknown_sqlite_synchronous_setting_stops_the_store(tmp_path):
    with pytest.raises(ValueError, match="sqlite_synchronous must be one of full, normal, not 'off'"):
        store(CACHED_SQL_STORE, tmp_path / "c.db", sqlite_synchronous="off")


def test_a_form_is_carried_across_shortenings_again_and_again():
    """A shortened tracker carries its form in an ActiveLoop event, which Rasa replays
    without the message that started the form; shortened again (and again), the form
    is still the one started by that message, so the tracker stays short. Kept whole
    instead, a check left open while questions are asked made every reply slower."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime.tracker_store import shortened

    def turn(text: str) -> List[Any]:
        return [ActionExecuted("action_listen"), UserUttered(text, {"name": "ask_skills"})]

    slots = Domain.load("domain.yml").slots
    form = [*turn("can I apply?"), ActionExecuted("eligibility_form"), ActiveLoop("eligibility_form")]
    tracker = DialogueStateTracker.from_events("someone", form, slots)
    for round_ in range(4):
        for n in range(5):
            for event in turn(f"question {round_}.{n}"):
                tracker.update(event)
        short = shortened(tracker, 2)
        assert short is not None, f"kept whole in round {round_}"
        assert short.active_loop == tracker.active_loop
        assert short.active_loop.trigger_message["text"] == "can I apply?"
        tracker = short


def test_a_check_left_open_while_questions_are_asked_stays_short(tmp_path):
    """Through the assistant: a check begun and then interrupted by questions, turn
    after turn, is kept to its latest turns, with the form still open."""
    from rasa.shared.core.events import UserUttered

    ours = store(CACHED_SQL_STORE, tmp_path / "c.db", keep_turns=3)
    assistant = InProcessAssistant(tracker_store=ours)
    sender = uuid.uuid4().hex
    said = ["hi", "can I apply for the STP with a 2:2?", "what skills do I need?", "do I need A levels?"]
    said += ["what skills do I need?", "does a PGCert count as a higher degree?"] * 8
    for text in said:
        assistant.send(sender, text)
    assistant.close()
    tracker = run(ours.retrieve(sender))
    assert tracker.active_loop_name == "eligibility_form"
    assert len([e for e in tracker.events if isinstance(e, UserUttered)]) <= 6
    assert len(stored_events(tmp_path / "c.db", sender)) > 3 * len(tracker.events)
