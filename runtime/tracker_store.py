"""The SQL tracker store, without re-reading a whole conversation on every message.

Rasa's `SQLTrackerStore` reads every event of the conversation's session from the
database, parses it and replays it into a tracker on each message, and before
saving counts the stored events again to find the new ones: the cost of a turn
grows with the length of the conversation. This store keeps the trackers it has
saved in memory (the most recent `cache_size` conversations) and, on the next
message, uses the kept tracker if the database still holds exactly what it saved
(the same last row id for the conversation; saving, no rows but its own since it
read them). A new conversation is not read at all, and its first turn is written
without counting what the database holds (it held nothing). So another server writing
to the same database, or the conversation's
latest events deleted, makes it read from the database as Rasa does (rows deleted by
hand from the middle of a conversation are not noticed); a request that fails before saving leaves
nothing half-done behind, because a tracker handed out is not handed out again
until it is saved.

The policies read a tracker's whole history on every prediction, several times
per message, so a kept tracker is also shortened once it holds more than twice
`keep_turns` of the person's messages: to the latest `keep_turns` messages, after
events that set what came before them (the slots, the active form with the message
that started it, a pause), and shortened again as it grows. The
shortened tracker must match the long one in every slot and all its state, or it
is not used. Three messages are at least six actions, more than the policies look
back (the memoization policy five states, the longest rule three), so they predict
as from the whole conversation: tests/test_tracker_store.py runs every message of the
conversation scripts as one conversation through this store and Rasa's, and
compares every reply and every stored event.

Conversations are kept `retention_days` after their latest message (default
DEFAULT_RETENTION_DAYS; 0 keeps them forever): older ones are deleted, whole, when
the store starts and then by the first save an hour or more after the last purge
(runtime/retention.py). So no thread: a save costs one look at the clock more. A
conversation this store has handed out for a message being handled is in use, and
is left alone. `delete` deletes one conversation, at its owner's request. Either
way the kept copy goes with it, so a deleted conversation is never handed out again
and its next message starts afresh; a copy handed out before a `delete` is not
written back.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerEventDiffEngine, ensure_schema_exists
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from channels.ownership import DEFAULT_RETENTION_DAYS
from runtime.retention import (
    PURGE_INTERVAL_SECONDS,
    cutoff,
    purge_before,
    retention_setting,
    scrub_sqlite,
    secure_delete_on,
)

logger = logging.getLogger(__name__)

# About 150 kB each (a ten-message conversation), so 30 MB at most.
DEFAULT_CACHE_SIZE = 200
DEFAULT_KEEP_TURNS = 3

# SQLite writes a turn to its write-ahead log (one sync per commit) rather than
# through a rollback journal (three): a quarter of the time, as safe. FULL syncs the
# log at every commit, so a saved turn survives a power cut; NORMAL syncs it only at
# checkpoints (faster again; a crash of Rasa still loses nothing, a power cut may
# lose the latest turns).
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL")
DEFAULT_SQLITE_SYNCHRONOUS = "full"

# The conversation's highest row id in the database when a kept tracker was read or
# saved (NO_ROWS: none; row ids start at 1). Found through the index on sender_id,
# which ends with the row id, whatever the length of the conversation; a count of its
# rows grew with it. A tracker this store has not read or saved has none (None).
Stamp = Optional[int]
NO_ROWS = 0

# Set on each tracker this store hands out or saves: the newest of its events that
# is in the database (the same object), so that saving writes only those after it,
# and the database's stamp for the conversation then.
_LAST_STORED = "_careers_last_stored_event"
_STAMP = "_careers_stamp"
# On a shortened tracker: the ActiveLoop event it carries, and the form as it was.
_CARRIED_LOOP = "_careers_carried_loop"
# Set on a tracker handed out when its conversation was deleted: never saved.
_DELETED = "_careers_deleted"


class MissingSchema(RuntimeError):
    """The schema POSTGRESQL_SCHEMA names is not in the database."""


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    stamp: Stamp
    handed_out: bool


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that keeps recently saved conversations in memory."""

    def __init__(
        self,
        *args: Any,
        cache_size: int = DEFAULT_CACHE_SIZE,
        keep_turns: int = DEFAULT_KEEP_TURNS,
        sqlite_synchronous: Text = DEFAULT_SQLITE_SYNCHRONOUS,
        retention_days: Optional[int] = DEFAULT_RETENTION_DAYS,
        **kwargs: Any,
    ) -> None:
        try:
            days = retention_setting(retention_days)  # None: kept forever
        except ValueError as error:
            raise ValueError(f"tracker_store: {error} (0 keeps conversations forever)") from None
        super().__init__(*args, **kwargs)
        url = self.engine.url  # type: ignore[has-type]
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            synchronous = str(sqlite_synchronous).upper()
            if synchronous not in SQLITE_SYNCHRONOUS:
                raise ValueError(
                    f"tracker_store: sqlite_synchronous must be one of "
                    f"{', '.join(s.lower() for s in SQLITE_SYNCHRONOUS)}, not {sqlite_synchronous!r}"
                )
            # SQLAlchemy 1.4 opens a new SQLite connection for every session; keep them.
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _sqlite_settings(synchronous))
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache_size = max(0, int(cache_size))
        self.keep_turns = max(0, int(keep_turns))  # 0: never shortened
        self._kept: "OrderedDict[Text, _Kept]" = OrderedDict()
        # Built once: SQLAlchemy works out a statement's cache key on every run,
        # which took four times as long as running it.
        table = self.SQLEvent.__table__
        self._stamp_query = sa.select(sa.func.max(table.c.id)).where(
            table.c.sender_id == sa.bindparam("sender_id")
        )
        # The conversation's rows after a row id (the turn just written, and anything
        # another server wrote since this one read the conversation) and the last of them.
        self._since_query = sa.select(sa.func.count(table.c.id), sa.func.max(table.c.id)).where(
            sa.and_(table.c.sender_id == sa.bindparam("sender_id"), table.c.id > sa.bindparam("after"))
        )
        self._insert = table.insert()
        self._delete = table.delete().where(table.c.sender_id == sa.bindparam("sender_id"))
        self.retention_days = days
        # When the next save purges (time.monotonic()); None: never.
        self._next_purge: Optional[float] = None
        if days:
            self.purge_old_conversations()

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        """A database session, as `SQLTrackerStore.session_scope` gives one, without
        its `except ValueError`: Rasa reads any ValueError raised while a session is
        open as "the PostgreSQL schema is missing" and exits the process, so one
        message whose sender SQLite could not encode (a lone UTF-16 surrogate) stopped
        the whole server. Here an error is the failure of that one operation: Rasa's
        fail-safe store logs it and the server goes on serving."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as missing:
                raise MissingSchema(
                    f"The PostgreSQL schema '{missing}' (POSTGRESQL_SCHEMA) does not exist: "
                    f"create it, or unset POSTGRESQL_SCHEMA to use the default schema."
                ) from None
            yield session
        finally:
            session.close()

    def _stamp(self, session: Any, sender_id: Text) -> int:
        last_id = session.execute(self._stamp_query, {"sender_id": sender_id}).scalar()
        return NO_ROWS if last_id is None else int(last_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The tracker of the conversation's latest session, as `SQLTrackerStore` gives it."""
        kept = self._kept.get(sender_id)
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)
            if kept is not None and not kept.handed_out and kept.stamp == stamp:
                kept.handed_out = True
                self._kept.move_to_end(sender_id)
                return kept.tracker
            if stamp == NO_ROWS:  # a new conversation: nothing to read
                self._kept.pop(sender_id, None)
                return None
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        self._kept.pop(sender_id, None)
        if not rows or not self.domain:
            return None
        stored = [json.loads(row.data) for row in rows]
        tracker = DialogueStateTracker.from_dict(sender_id, stored, self.domain.slots)
        tracker = shortened(tracker, self.keep_turns) or tracker
        _mark(tracker, stamp)
        self._remember(sender_id, _Kept(tracker, stamp, handed_out=True))
        return tracker

    async def retrieve_to_read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's latest session as the database holds it, to read only:
        not handed out, so the kept copy is left as it is (channels.conversations
        reads a conversation this way to answer a message sent again)."""
        return await SQLTrackerStore.retrieve(self, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the tracker's new events, exactly as `SQLTrackerStore.save` does."""
        if getattr(tracker, _DELETED, False):
            logger.debug("A tracker handed out before its conversation was deleted is not saved")
            return
        if self._next_purge is not None and time.monotonic() >= self._next_purge:
            self.purge_old_conversations(saving=tracker.sender_id)
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        read: Stamp = getattr(tracker, _STAMP, None)  # when this store read it
        written = None  # rows since it was read, this turn's included
        with self.session_scope() as session:
            new_events = _events_after(tracker, getattr(tracker, _LAST_STORED, None))
            if read is None and not tracker.events:
                new_events = []  # Rasa saving the new conversation it created: nothing yet
            elif read == NO_ROWS and new_events is None:
                new_events = list(tracker.events)  # all new: the database held none of it
            elif new_events is None or read is None:
                # Not handed out by this store: as SQLTrackerStore counts.
                new_events = list(self._additional_events(session, tracker))
            if new_events:
                # One INSERT for all the rows (the ORM would add them one by one).
                session.execute(self._insert, [self._row(sender_id, event) for event in new_events])
            if read is None:
                stamp = self._stamp(session, sender_id)
            else:
                written, last = session.execute(
                    self._since_query, {"sender_id": sender_id, "after": read}
                ).one()
                stamp = read if last is None else int(last)
            if new_events:
                session.commit()
        logger.debug(f"Tracker with sender_id '{sender_id}' stored to database")
        if read is None and not tracker.events and stamp != NO_ROWS:
            # Another server began this conversation after it was found to be new.
            self.forget(sender_id)
            return
        if read is not None and written != len(new_events):
            # Somebody else wrote to this conversation since it was read: the next
            # message reads it from the database.
            self.forget(sender_id)
            return
        _mark(tracker, stamp)
        kept = tracker
        if any(isinstance(event, SessionStarted) for event in new_events):
            kept = self._latest_session(tracker)
        kept = shortened(kept, self.keep_turns) or kept
        _mark(kept, stamp)
        self._remember(sender_id, _Kept(kept, stamp, handed_out=False))

    def _latest_session(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """A new session began: the tracker as `retrieve` reads it from the database,
        with the events from the latest session start on."""
        started = max(e.timestamp for e in tracker.events if isinstance(e, SessionStarted))
        session = [event for event in tracker.events if event.timestamp >= started]
        slots = self.domain.slots if self.domain else tracker.slots.values()
        return DialogueStateTracker.from_events(tracker.sender_id, session, slots)

    def forget(self, sender_id: Text) -> None:
        """Drops a kept conversation (call it after deleting its events)."""
        self._kept.pop(sender_id, None)

    async def delete(self, sender_id: Text) -> int:
        """Deletes every event of the conversation from the database and forgets it:
        `retrieve` then gives None, as for a conversation never seen, and its next
        message starts afresh. A tracker of it handed out for a message being handled
        is not saved afterwards. Returns the number of events deleted."""
        with self.session_scope() as session:
            deleted = session.execute(self._delete, {"sender_id": sender_id}).rowcount
            session.commit()
        scrub_sqlite(self.engine)
        kept = self._kept.pop(sender_id, None)
        if kept is not None and kept.handed_out:
            setattr(kept.tracker, _DELETED, True)
        return int(deleted)

    def purge_old_conversations(self, saving: Optional[Text] = None) -> Tuple[int, int]:
        """Deletes the conversations whose latest event is more than `retention_days`
        days old, and forgets them; not those handed out for a message being handled,
        nor `saving` (the one being saved). Returns (conversations, events) deleted.
        The next purge is an hour from now, whether this one worked or not."""
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS if self.retention_days else None
        if not self.retention_days:
            return 0, 0
        in_use = {sender for sender, kept in self._kept.items() if kept.handed_out}
        if saving is not None:
            in_use.add(saving)
        before = cutoff(self.retention_days, time.time())
        try:
            senders, events = purge_before(self.engine, before, keep=in_use)
        except sa.exc.SQLAlchemyError as error:
            logger.error(
                f"Could not delete the conversations older than {self.retention_days} days "
                f"({error.__class__.__name__}); trying again in an hour."
            )
            return 0, 0
        for sender in senders:
            self.forget(sender)
        if senders:
            logger.info(
                f"Deleted {len(senders)} conversations ({events} events) older than "
                f"{self.retention_days} days."
            )
        return len(senders), events

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """As `TrackerStore.stream_events`, comparing with what the database holds
        (the kept tracker is the one being saved)."""
        if self.event_broker is None:
            return None
        old_tracker = await SQLTrackerStore.retrieve(self, tracker.sender_id)
        new_events = TrackerEventDiffEngine.event_difference(old_tracker, tracker)
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[str, Any]:
        """The row SQLTrackerStore.save writes for the event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(self, sender_id: Text, kept: _Kept) -> None:
        if self.cache_size == 0:
            return
        self._kept[sender_id] = kept
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)


def _sqlite_settings(synchronous: Text) -> Callable[[Any, Any], None]:
    """Sets each new SQLite connection to the write-ahead log and `synchronous`, and
    to overwrite what it deletes (runtime.retention.secure_delete_on)."""

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        secure_delete_on(connection)

    return on_connect


def _mark(tracker: DialogueStateTracker, stamp: Stamp) -> None:
    """Notes on the tracker what of it the database holds."""
    setattr(tracker, _LAST_STORED, tracker.events[-1] if tracker.events else None)
    setattr(tracker, _STAMP, stamp)


def _events_after(tracker: DialogueStateTracker, stored: Optional[Event]) -> Optional[List[Event]]:
    """The events added to the tracker after `stored` (the same object), or None
    when the tracker does not hold it."""
    if stored is None:
        return None
    events = tracker.events
    for position in range(len(events) - 1, -1, -1):
        if events[position] is stored:
            return [events[i] for i in range(position + 1, len(events))]
    return None


def _state(tracker: DialogueStateTracker) -> Tuple[Any, ...]:
    """Everything of a tracker that is not its list of events."""
    return (
        tracker.current_slot_values(),
        tracker.active_loop,
        tracker.latest_message,
        tracker.latest_action,
        tracker.latest_bot_utterance,
        tracker.followup_action,
        tracker.is_paused(),
    )


def shortened(tracker: DialogueStateTracker, keep_turns: int) -> Optional[DialogueStateTracker]:
    """The tracker with only its latest `keep_turns` user messages (and what follows
    them), after events that set the slots, the active form and a pause as the
    earlier events left them; None if it is short enough already, or if the short
    tracker would not be in the same state."""
    events = list(tracker.events)
    users = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    if keep_turns == 0 or len(users) <= 2 * keep_turns:
        return None
    cut = users[-keep_turns]
    before = events[cut - 1]
    if isinstance(before, ActionExecuted) and before.action_name == ACTION_LISTEN_NAME:
        cut -= 1
    # A tracker shortened before carries its form in an ActiveLoop event, which Rasa
    # replays without the message that started the form: put the form back as it was.
    carried_loop = getattr(tracker, _CARRIED_LOOP, None)
    earlier = tracker.init_copy()
    for event in events[:cut]:
        earlier.update(event)
        if carried_loop is not None and event is carried_loop[0]:
            earlier.active_loop = copy.deepcopy(carried_loop[1])
    when = events[cut].timestamp
    carried: List[Event] = [
        SlotSet(name, slot.value, timestamp=when)
        for name, slot in earlier.slots.items()
        if slot.value != slot.initial_value
    ]
    loop_event = ActiveLoop(earlier.active_loop_name, timestamp=when) if earlier.active_loop_name else None
    if loop_event is not None:
        carried.append(loop_event)
    if earlier.is_paused():
        carried.append(ConversationPaused(timestamp=when))
    short = tracker.init_copy()
    for event in carried:
        short.update(event)
    # The form as it was, with the message that started it.
    short.active_loop = copy.deepcopy(earlier.active_loop)
    for event in events[cut:]:
        short.update(event)
    if _state(short) != _state(tracker):
        logger.debug(f"Tracker '{tracker.sender_id}' kept whole: a shortened copy differs")
        return None
    if loop_event is not None:
        setattr(short, _CARRIED_LOOP, (loop_event, copy.deepcopy(earlier.active_loop)))
    return short
