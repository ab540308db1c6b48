"""How long conversations are kept: a conversation whose latest event is older than
the retention period is deleted from the tracker store, whole.

A conversation holds what a person told the assistant about themselves (their
degree, their plans, sometimes more than they were asked), so it is kept only while
it may still be of use: DEFAULT_RETENTION_DAYS after its latest message. The Rasa
server applies this itself: runtime/tracker_store.py purges at start-up and then at
most once an hour (`retention_days` in endpoints.yml; 0 keeps conversations
forever). `make purge`, or this module's command, applies a period by hand:

    python -m runtime.retention --days 30 [--endpoints endpoints.yml] [--dry-run]

It deletes from the store endpoints.yml names (SQLite or PostgreSQL), connected to
as the report connects (runtime/store_config.py), and prints how many
conversations and events it deleted: counts only, never who or what was said.
Exit status 0 when done (or nothing was old enough), 2 for a mistake in what it was
given (the number of days, the endpoints file, the dialect, a database that does
not exist), 1 when the database fails.

Whole conversations, not single old events: a conversation with one recent event
keeps all its older ones, because a tracker missing its beginning replays into a
different state (slots unset, a form forgotten). Rasa's `events` table has no
conversation table beside it, so a conversation is its `sender_id`'s rows and its
age is that of its latest row (`timestamp`, seconds since the epoch). The rows are
deleted by one statement that picks them by that latest timestamp itself, so a
conversation that gets a message while a purge runs is left alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Any, Collection, Dict, List, NoReturn, Optional, Sequence, Text, Tuple, Union

import sqlalchemy as sa

from channels.ownership import DEFAULT_RETENTION_DAYS

logger = logging.getLogger(__name__)

# The Rasa server purges at start-up and then at most this often (on a save).
PURGE_INTERVAL_SECONDS = 3600
DAY_SECONDS = 24 * 3600

ROOT = Path(__file__).resolve().parents[1]

# The columns of Rasa's `events` table (SQLTrackerStore.SQLEvent) a purge reads.
EVENTS = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))

When = Union[float, dt.datetime, None]


def whole_days(value: Any, setting: Text = "retention_days") -> int:
    """A number of days as written in a setting or on the command line (30, "30"),
    or ValueError saying what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{setting} must be a whole number of days, not {value!r}")
    try:
        days = int(value)
    except ValueError:
        raise ValueError(f"{setting} must be a whole number of days, not {value!r}") from None
    if days < 0:
        raise ValueError(f"{setting} must be 0 or more days, not {value!r}")
    return days


def retention_setting(value: Any) -> Optional[int]:
    """The tracker store's `retention_days`: the number of days, or None when
    conversations are kept forever (0 or no value)."""
    if value is None:
        return None
    return whole_days(value) or None


def cutoff(days: float, now: When = None) -> float:
    """The time (seconds since the epoch) before which a conversation's latest event
    makes it old: `days` before `now` (an aware datetime or seconds; default now)."""
    if now is None:
        now = time.time()
    elif isinstance(now, dt.datetime):
        now = now.timestamp()
    return float(now) - days * DAY_SECONDS


def secure_delete_on(dbapi_connection: Any) -> None:
    """Makes an SQLite connection overwrite what it deletes with zeros, so that a
    deleted conversation's text does not linger in the database file's free space."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def scrub_sqlite(engine: sa.engine.Engine) -> None:
    """After a deletion from an SQLite database: copies the write-ahead log into the
    database file and empties it (`wal_checkpoint(TRUNCATE)`), so the deleted text
    leaves the log now rather than at some later checkpoint. Nothing to do on other
    databases (PostgreSQL's VACUUM, run by autovacuum, reclaims deleted rows)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        busy, _log_frames, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        logger.warning(
            "SQLite could not empty its write-ahead log after a deletion (a reader was busy); "
            "it will at its next checkpoint."
        )


def _stale(before: float, keep: Collection[Text], *columns: Any) -> Any:
    """`columns` of each conversation whose latest event is before `before`, but
    those in `keep`."""
    query = sa.select(EVENTS.c.sender_id, *columns)
    if keep:
        query = query.where(EVENTS.c.sender_id.notin_(list(keep)))
    return query.group_by(EVENTS.c.sender_id).having(sa.func.max(EVENTS.c.timestamp) < before)


def purge_before(
    engine: sa.engine.Engine, before: float, keep: Collection[Text] = (), dry_run: bool = False
) -> Tuple[List[Text], int]:
    """Deletes every conversation whose latest event is before `before` (seconds since
    the epoch), except those in `keep`. Returns their sender ids and the number of
    events deleted (with `dry_run`, what would be deleted; nothing is)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("events"):
            return [], 0  # nothing stored yet
        counted = _stale(before, keep, sa.func.count())
        found: Dict[Text, int] = {sender: int(n) for sender, n in connection.execute(counted)}
    if dry_run or not found:
        return list(found), sum(found.values())
    # One statement choosing the rows by the conversation's latest event itself (from
    # a derived table, which every SQL database accepts in a DELETE of the same table).
    stale = _stale(before, keep).subquery()
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            secure_delete_on(connection.connection)
        deleted = connection.execute(
            EVENTS.delete().where(EVENTS.c.sender_id.in_(sa.select(stale.c.sender_id)))
        ).rowcount
    scrub_sqlite(engine)
    senders = list(found)
    if deleted != sum(found.values()):
        # A conversation got a message, or was deleted elsewhere, in between: count
        # only those now gone.
        left = set()
        with engine.connect() as connection:
            for start in range(0, len(senders), 500):  # within any database's limit of parameters
                batch = senders[start : start + 500]
                query = sa.select(EVENTS.c.sender_id).distinct().where(EVENTS.c.sender_id.in_(batch))
                left.update(connection.execute(query).scalars())
        senders = [sender for sender in senders if sender not in left]
    return senders, int(deleted)


def _engine(url: Any) -> sa.engine.Engine:
    """An engine with the settings Rasa's SQL store uses (the PostgreSQL schema and pool)."""
    from rasa.core.tracker_store import create_engine_kwargs

    return sa.create_engine(url, **create_engine_kwargs(url))


def purge(engine_or_url: Any, days: float, now: When = None, *, dry_run: bool = False) -> Tuple[int, int]:
    """Deletes every conversation whose latest event is more than `days` days before
    `now` (default: now) from the tracker store's database (an SQLAlchemy engine, URL
    or URL text). Returns (conversations, events) deleted; with `dry_run`, what
    would be deleted, and nothing is."""
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not days > 0:
        raise ValueError(f"days must be a number of days above 0, not {days!r}")
    before = cutoff(days, now)
    if isinstance(engine_or_url, sa.engine.Engine):
        senders, events = purge_before(engine_or_url, before, dry_run=dry_run)
        return len(senders), events
    url = sa.engine.make_url(engine_or_url)
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and not Path(url.database).exists():
        return 0, 0  # no conversations stored, and no empty database made
    engine = _engine(url)
    try:
        senders, events = purge_before(engine, before, dry_run=dry_run)
    finally:
        engine.dispose()
    return len(senders), events


class _Parser(argparse.ArgumentParser):
    def error(self, message: Text) -> NoReturn:
        """One line saying what is wrong (argparse prints the usage too)."""
        self.exit(2, f"Cannot purge: {message} (see --help)\n")


def _days(text: str) -> int:
    try:
        days = whole_days(text, "--days")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: keep conversations 1 day or more")
    return days


def _counted(number: int, what: Text) -> Text:
    return f"{number} {what}{'' if number == 1 else 's'}"


def main(argv: Optional[Sequence[str]] = None, now: When = None) -> int:
    parser = _Parser(
        prog="python -m runtime.retention",
        description="Deletes the conversations whose latest message is older than --days days "
        "from the tracker store endpoints.yml names.",
    )
    parser.add_argument(
        "--days",
        type=_days,
        default=DEFAULT_RETENTION_DAYS,
        help=f"keep conversations with a message in the last DAYS days (default {DEFAULT_RETENTION_DAYS})",
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=ROOT / "endpoints.yml",
        help="where the tracker store is configured (default: endpoints.yml)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    args = parser.parse_args(argv)

    from runtime.store_config import StoreConfigError, database_url

    try:
        url = database_url(args.endpoints)
    except StoreConfigError as error:
        print(f"Cannot purge: {error}", file=sys.stderr)
        return 2
    try:
        engine = _engine(url)
    except (sa.exc.ArgumentError, ImportError):  # no such SQLAlchemy dialect, or its driver
        dialect = sa.engine.make_url(url).drivername
        print(
            f"Cannot purge: {args.endpoints} names the database dialect {dialect!r}, "
            "which is not available (sqlite or postgresql)",
            file=sys.stderr,
        )
        return 2
    try:
        conversations, events = purge(engine, args.days, now, dry_run=args.dry_run)
    except sa.exc.SQLAlchemyError as error:
        reason = (str(error).strip().splitlines() or [""])[0]
        print(
            f"Cannot purge: the tracker store failed: {error.__class__.__name__}: {reason}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    what = f"{_counted(conversations, 'conversation')} ({_counted(events, 'event')})"
    older = f"whose latest message is more than {_counted(args.days, 'day')} old"
    if args.dry_run:
        print(f"Would delete {what} {older}; nothing was deleted (--dry-run).")
    else:
        print(f"Deleted {what} {older}.")
    return 0


if __name__ == "__main__":
    from runtime.quiet import no_library_warnings

    with no_library_warnings():
        status = main()
    sys.exit(status)
