"""runtime/retention.py and the tracker store's `delete` and purge: whole conversations
deleted, and only those, on SQLite files and on PostgreSQL (TEST_POSTGRES_URL), with
real Rasa events written through the store with times in the past."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import sqlalchemy as sa

from channels.ownership import DEFAULT_RETENTION_DAYS
from runtime import CACHED_SQL_STORE
from runtime.retention import DAY_SECONDS, PURGE_INTERVAL_SECONDS, main, purge

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")

ROOT = Path(__file__).resolve().parents[1]

# The purge tests' "now": 2001-09-09. Only these tests' conversations are older than
# a month before it, so a shared PostgreSQL database keeps everything else.
NOW = 1_000_000_000.0
# What a conversation says; the command must never print it, nor whose it was.
PRIVATE_TEXT = "my degree is in private-subject"

DOMAIN_YAML = """
version: "3.1"
intents: [greet, inform]
slots:
  programme:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  degree_subject:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet:
  - text: Hello
"""


def run(coroutine: Any) -> Any:
    return asyncio.new_event_loop().run_until_complete(coroutine)


@functools.lru_cache(maxsize=None)
def domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml(DOMAIN_YAML)


def turn(text: str, when: float, **slots: str) -> List[Any]:
    """One message and its reply at `when`, as Rasa writes them."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    return [
        ActionExecuted("action_listen", timestamp=when),
        UserUttered(text, {"name": "inform", "confidence": 1.0}, timestamp=when + 0.1),
        *[SlotSet(name, value, timestamp=when + 0.2) for name, value in slots.items()],
        ActionExecuted("utter_greet", timestamp=when + 0.3),
        BotUttered("Hello", timestamp=when + 0.4),
    ]


def conversation(sender: str, *times: float) -> Any:
    """A conversation with one turn at each of `times` (seconds since the epoch)."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    start = [ActionExecuted("action_session_start", timestamp=times[0]), SessionStarted(timestamp=times[0])]
    events = list(start)
    for n, when in enumerate(times):
        events += turn(f"{PRIVATE_TEXT} {n}", when, programme="stp", degree_subject="physics")
    return DialogueStateTracker.from_events(sender, events, domain().slots)


def days_ago(days: float, now: Optional[float] = None) -> float:
    return (time.time() if now is None else now) - days * DAY_SECONDS


class Backend:
    """One database: the tracker store's settings for it, its URL, and what these
    tests' conversations (their sender ids begin with `prefix`) hold in it."""

    def __init__(self, url: Any, settings: Dict[str, Any]) -> None:
        self.url = url
        self.settings = settings
        self.prefix = f"retention-{uuid.uuid4().hex[:10]}-"
        self.engine = sa.create_engine(url)

    def sender(self, name: str) -> str:
        return self.prefix + name

    def store(self, **settings: Any) -> Any:
        from rasa.core.tracker_store import TrackerStore
        from rasa.utils.endpoints import EndpointConfig

        config = EndpointConfig(type=CACHED_SQL_STORE, **{**self.settings, **settings})
        return TrackerStore.create(config, domain=domain())

    def write(self, store: Any, sender: str, *times: float) -> int:
        """Saves a conversation through the store; the number of events it has."""
        tracker = conversation(self.sender(sender), *times)
        run(store.save(tracker))
        return len(tracker.events)

    def rows(self) -> Dict[str, int]:
        """Events stored for each of these tests' conversations, by name."""
        query = sa.text(
            "SELECT sender_id, count(*) FROM events WHERE sender_id LIKE :prefix GROUP BY sender_id"
        )
        with self.engine.connect() as connection:
            found = connection.execute(query, {"prefix": self.prefix + "%"}).all()
        return {sender[len(self.prefix) :]: count for sender, count in found}

    def clean(self) -> None:
        with self.engine.begin() as connection:
            if sa.inspect(connection).has_table("events"):
                query = sa.text("DELETE FROM events WHERE sender_id LIKE :prefix")
                connection.execute(query, {"prefix": self.prefix + "%"})
        self.engine.dispose()


def sqlite_backend(folder: Path) -> Backend:
    db = folder / "conversations.db"
    return Backend(f"sqlite:///{db}", {"dialect": "sqlite", "db": str(db)})


@pytest.fixture
def sqlite(tmp_path) -> Iterator[Backend]:
    backend = sqlite_backend(tmp_path)
    yield backend
    backend.clean()


def postgres_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (make test starts a scratch PostgreSQL when run as root)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> Iterator[Backend]:
    """Each test twice: on a new SQLite file, and on the scratch PostgreSQL database
    in TEST_POSTGRES_URL, which other tests share (these tests' conversations have
    their own sender prefix, and are deleted afterwards)."""
    if request.param == "sqlite":
        chosen = sqlite_backend(tmp_path)
    else:
        url = postgres_url()
        parts = sa.engine.make_url(url)
        chosen = Backend(
            url,
            {
                "dialect": "postgresql",
                "url": parts.host,
                "port": parts.port or 5432,
                "db": parts.database,
                "username": parts.username,
                "password": parts.password,
                # The store purges at start-up; the shared database's other rows are not ours to delete.
                "retention_days": 0,
            },
        )
    yield chosen
    chosen.clean()


def endpoints_for(backend: Backend, folder: Path, monkeypatch: Any) -> Path:
    """An endpoints file naming the backend's database, as endpoints.yml does."""
    settings = backend.settings
    lines = [f"type: {CACHED_SQL_STORE}", f"dialect: {settings['dialect']}", f"db: {settings['db']}"]
    if settings["dialect"] == "postgresql":
        monkeypatch.setenv("CAREERS_DB_PASSWORD", settings["password"] or "")
        lines += [
            f"url: {settings['url']}",
            f"port: {settings['port']}",
            f"username: {settings['username']}",
            "password: ${CAREERS_DB_PASSWORD}",
        ]
    path = folder / "endpoints.yml"
    path.write_text("tracker_store:\n" + "".join(f"  {line}\n" for line in lines))
    return path


# purge(): whole conversations, by their latest event.


def fill_for_purge(backend: Backend) -> Dict[str, int]:
    """Conversations around NOW - 30 days: two old ones, two recent, and one begun
    long ago with one message yesterday."""
    store = backend.store(retention_days=0)
    sizes = {
        "old": backend.write(store, "old", days_ago(90, NOW), days_ago(40, NOW)),
        "just-old": backend.write(store, "just-old", days_ago(30, NOW) - 60),
        "recent": backend.write(store, "recent", days_ago(1, NOW)),
        "just-recent": backend.write(store, "just-recent", days_ago(30, NOW) + 60),
        "mixed": backend.write(store, "mixed", days_ago(200, NOW), days_ago(60, NOW), days_ago(1, NOW)),
    }
    store.engine.dispose()
    assert backend.rows() == sizes
    return sizes


def test_purge_deletes_whole_conversations_whose_latest_event_is_old(backend):
    sizes = fill_for_purge(backend)
    old = sizes["old"] + sizes["just-old"]
    assert purge(backend.url, 30, now=NOW, dry_run=True) == (2, old)
    assert backend.rows() == sizes, "a dry run deletes nothing"
    assert purge(backend.url, 30, now=NOW) == (2, old)
    # Every other conversation is whole, the one with a single recent message too.
    assert backend.rows() == {name: sizes[name] for name in ("recent", "just-recent", "mixed")}
    assert purge(backend.engine, 30, now=NOW) == (0, 0)
    # A shorter period takes the conversations of the last days too.
    assert purge(backend.engine, 0.5, now=NOW) == (3, sizes["recent"] + sizes["just-recent"] + sizes["mixed"])
    assert backend.rows() == {}


def test_purge_takes_the_time_as_a_date_too(sqlite):
    import datetime as dt

    sizes = fill_for_purge(sqlite)
    when = dt.datetime.fromtimestamp(NOW, dt.timezone.utc)
    assert purge(sqlite.url, 30, now=when) == (2, sizes["old"] + sizes["just-old"])


@pytest.mark.parametrize("days", [0, -1, True, "30"])
def test_purge_refuses_a_period_that_is_not_days(sqlite, days):
    with pytest.raises(ValueError, match="days must be a number of days above 0"):
        purge(sqlite.url, days)


def test_purge_of_a_database_not_made_yet_makes_none(tmp_path):
    assert purge(f"sqlite:///{tmp_path / 'none.db'}", 30) == (0, 0)
    assert not (tmp_path / "none.db").exists()
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()  # a file without the events table
    assert purge(f"sqlite:///{empty}", 30) == (0, 0)


# The store's delete().


def test_delete_removes_one_conversation_and_it_starts_afresh(backend):
    from rasa.shared.core.events import UserUttered

    store = backend.store(retention_days=0)
    sizes = {name: backend.write(store, name, days_ago(2), days_ago(1)) for name in ("gone", "stays")}
    stays = backend.sender("stays")
    kept = run(store.retrieve(backend.sender("gone")))
    assert kept.get_slot("programme") == "stp"
    run(store.save(kept))  # kept in memory, as after a message

    assert run(store.delete(backend.sender("gone"))) == sizes["gone"]
    assert backend.rows() == {"stays": sizes["stays"]}
    assert run(store.retrieve(backend.sender("gone"))) is None
    assert backend.sender("gone") not in store._kept
    # The next message starts a conversation as for an id never seen: no old slots.
    fresh = run(store.get_or_create_tracker(backend.sender("gone")))
    never = run(store.get_or_create_tracker(backend.sender("never-seen")))
    assert [type(e) for e in fresh.events] == [type(e) for e in never.events]
    assert fresh.current_slot_values() == never.current_slot_values()
    assert fresh.get_slot("programme") is None
    fresh.update(UserUttered("hello again", {"name": "greet", "confidence": 1.0}))
    run(store.save(fresh))
    again = run(store.retrieve(backend.sender("gone")))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hello again"]
    assert again.get_slot("programme") is None and again.get_slot("degree_subject") is None
    assert backend.rows()["gone"] == len(again.events)
    # The other conversation is as it was, and deleting what is not there deletes nothing.
    assert backend.rows()["stays"] == sizes["stays"]
    assert run(store.retrieve(stays)).get_slot("degree_subject") == "physics"
    assert run(store.delete(backend.sender("nobody"))) == 0
    store.engine.dispose()


def test_a_tracker_handed_out_before_a_delete_is_not_written_back(sqlite):
    """A message being handled while its conversation is deleted: its turn does not
    bring the conversation back."""
    from rasa.shared.core.events import SlotSet

    store = sqlite.store()
    sqlite.write(store, "busy", days_ago(1))
    handed_out = run(store.retrieve(sqlite.sender("busy")))
    assert run(store.delete(sqlite.sender("busy"))) > 0
    handed_out.update(SlotSet("degree_subject", "chemistry"))
    run(store.save(handed_out))
    assert sqlite.rows() == {}
    assert run(store.retrieve(sqlite.sender("busy"))) is None


# The store's retention: at start-up, then at most hourly.


class Clock:
    """time for runtime.tracker_store, moved on by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch) -> Clock:
    import runtime.tracker_store

    fake = Clock()
    monkeypatch.setattr(runtime.tracker_store, "time", fake)
    return fake


def test_the_store_purges_at_start_up_and_then_at_most_hourly(sqlite, clock):
    writer = sqlite.store(retention_days=0)
    sizes = {
        "old": sqlite.write(writer, "old", days_ago(45), days_ago(31)),
        "recent": sqlite.write(writer, "recent", days_ago(45), days_ago(29)),
    }
    store = sqlite.store()  # endpoints.yml's default
    assert store.retention_days == DEFAULT_RETENTION_DAYS == 30
    assert sqlite.rows() == {"recent": sizes["recent"]}, "purged at start-up"

    sizes["later"] = sqlite.write(store, "later", days_ago(40))  # old, written after the purge
    assert sqlite.sender("later") in store._kept
    sqlite.write(store, "another", days_ago(0))
    clock.offset = PURGE_INTERVAL_SECONDS - 5
    sqlite.write(store, "one-more", days_ago(0))
    assert "later" in sqlite.rows(), "no purge within the hour"

    clock.offset = PURGE_INTERVAL_SECONDS + 1
    sqlite.write(store, "an-hour-on", days_ago(0))
    assert "later" not in sqlite.rows()
    assert sqlite.rows()["recent"] == sizes["recent"]
    assert sqlite.sender("later") not in store._kept
    assert run(store.retrieve(sqlite.sender("later"))) is None
    # The next purge is an hour after this one.
    sqlite.write(writer, "old-again", days_ago(40))
    clock.offset = 2 * PURGE_INTERVAL_SECONDS - 5
    sqlite.write(store, "nearly-two-hours-on", days_ago(0))
    assert "old-again" in sqlite.rows()
    clock.offset = 2 * PURGE_INTERVAL_SECONDS + 5
    sqlite.write(store, "two-hours-on", days_ago(0))
    assert "old-again" not in sqlite.rows()


def test_a_conversation_in_use_is_not_purged(sqlite, clock):
    """A person comes back after 40 days; a purge runs while their message is being
    handled: their conversation is kept, whole, with the new turn."""
    store = sqlite.store()
    size = sqlite.write(store, "returns", days_ago(40))
    sqlite.write(store, "forgotten", days_ago(40))
    tracker = run(store.retrieve(sqlite.sender("returns")))
    clock.offset = PURGE_INTERVAL_SECONDS + 1
    sqlite.write(store, "someone-else", days_ago(0))  # this save purges
    assert set(sqlite.rows()) == {"returns", "someone-else"}
    for event in turn("I am back", time.time(), programme="ptp"):
        tracker.update(event)
    run(store.save(tracker))
    assert sqlite.rows()["returns"] > size
    clock.offset = 2 * PURGE_INTERVAL_SECONDS + 1
    sqlite.write(store, "someone-new", days_ago(0))
    again = run(store.retrieve(sqlite.sender("returns")))
    assert again.get_slot("programme") == "ptp" and again.get_slot("degree_subject") == "physics"


def test_the_cache_does_not_hand_out_a_conversation_purged_by_another_process(sqlite):
    """`make purge` beside a running server: the kept copy is not handed out."""
    store = sqlite.store()
    size = sqlite.write(store, "old", days_ago(40))
    assert sqlite.sender("old") in store._kept
    assert purge(sqlite.url, 30) == (1, size)
    assert run(store.retrieve(sqlite.sender("old"))) is None


@pytest.mark.parametrize("setting", [0, None, "0"])
def test_retention_days_0_keeps_conversations_forever(sqlite, clock, setting):
    writer = sqlite.store(retention_days=0)
    size = sqlite.write(writer, "ancient", days_ago(3000))
    store = sqlite.store(retention_days=setting)
    assert store.retention_days is None
    clock.offset = 10 * PURGE_INTERVAL_SECONDS
    sqlite.write(store, "new", days_ago(0))
    assert sqlite.rows()["ancient"] == size


def test_retention_days_from_the_environment_is_a_number(sqlite):
    """`retention_days: ${RETENTION_DAYS}` in endpoints.yml gives text."""
    assert sqlite.store(retention_days="7").retention_days == 7


@pytest.mark.parametrize("setting", [-1, "a month", True, 1.5])
def test_a_bad_retention_days_setting_stops_the_store(sqlite, setting):
    with pytest.raises(ValueError, match="tracker_store: retention_days must be"):
        sqlite.store(retention_days=setting)


# The command: python -m runtime.retention.


def command(capsys: Any, *args: str, now: Optional[float] = NOW) -> Any:
    try:
        status = main(list(args), now=now)
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_command_deletes_and_prints_counts_only(backend, tmp_path, monkeypatch, capsys):
    sizes = fill_for_purge(backend)
    old = sizes["old"] + sizes["just-old"]
    endpoints = endpoints_for(backend, tmp_path, monkeypatch)
    status, out, err = command(capsys, "--endpoints", str(endpoints), "--days", "30", "--dry-run")
    assert (status, err) == (0, "")
    assert out == (
        f"Would delete 2 conversations ({old} events) whose latest message is more than 30 days old; "
        "nothing was deleted (--dry-run).\n"
    )
    assert backend.rows() == sizes
    status, out, err = command(capsys, "--endpoints", str(endpoints), "--days", "30")
    assert (status, err) == (0, "")
    assert out == f"Deleted 2 conversations ({old} events) whose latest message is more than 30 days old.\n"
    assert set(backend.rows()) == {"recent", "just-recent", "mixed"}
    status, out, _ = command(capsys, "--endpoints", str(endpoints), "--days", "36500", now=None)
    assert status == 0 and out.startswith("Deleted 0 conversations (0 events)")
    assert PRIVATE_TEXT not in out and backend.prefix not in out


def test_the_command_says_one_conversation(sqlite, tmp_path, monkeypatch, capsys):
    store = sqlite.store(retention_days=0)
    size = sqlite.write(store, "only", days_ago(40, NOW))
    endpoints = endpoints_for(sqlite, tmp_path, monkeypatch)
    status, out, _ = command(capsys, "--endpoints", str(endpoints), "--days", "1")
    assert status == 0
    assert out == f"Deleted 1 conversation ({size} events) whose latest message is more than 1 day old.\n"


@pytest.mark.parametrize(
    "days, message",
    [
        ("0", "'0': keep conversations 1 day or more"),
        ("-3", "'-3' is not a whole number of days"),
        ("abc", "'abc' is not a whole number of days"),
        ("1.5", "'1.5' is not a whole number of days"),
        ("", "'' is not a whole number of days"),
    ],
)
def test_the_command_refuses_a_bad_number_of_days(sqlite, tmp_path, monkeypatch, capsys, days, message):
    fill_for_purge(sqlite)
    endpoints = endpoints_for(sqlite, tmp_path, monkeypatch)
    status, out, err = command(capsys, "--endpoints", str(endpoints), "--days", days)
    assert status == 2 and out == ""
    assert err == f"Cannot purge: argument --days: {message} (see --help)\n"
    assert len(sqlite.rows()) == 5


@pytest.mark.parametrize(
    "endpoints, message",
    [
        (
            "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: nothing-here.db\n",
            "no conversations stored yet",
        ),
        ("tracker_store:\n  type: SQL\n  dialect: nosuchdb\n  db: careers\n", "dialect 'nosuchdb'"),
        ("tracker_store:\n  type: SQL\n  dialect: postgres\n  db: careers\n", "dialect 'postgres'"),
        ("tracker_store:\n  type: redis\n  url: localhost\n", "does not configure an SQL tracker store"),
        (
            "action_endpoint:\n  url: http://localhost:5055/webhook\n",
            "does not configure an SQL tracker store",
        ),
        (None, "no endpoints file"),
    ],
)
def test_the_command_explains_a_store_it_cannot_purge(tmp_path, capsys, endpoints, message):
    path = tmp_path / "endpoints.yml"
    if endpoints is not None:
        path.write_text(endpoints)
    status, out, err = command(capsys, "--endpoints", str(path), "--days", "30")
    assert status == 2 and out == ""
    assert err.startswith("Cannot purge: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "nothing-here.db").exists(), "no empty database is made"


def test_the_command_reports_a_database_that_fails(tmp_path, capsys):
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 1\n"
        "  db: careers\n  username: bot\n  password: not-printed\n"
    )
    status, out, err = command(capsys, "--endpoints", str(path), "--days", "30")
    assert status == 1 and out == ""
    assert err.startswith("Cannot purge: the tracker store failed: OperationalError") and err.count("\n") == 1
    assert "not-printed" not in err


def test_python_m_runtime_retention(sqlite, tmp_path, monkeypatch):
    """The command as `make purge` runs it: exit status and one line, never a traceback."""
    store = sqlite.store(retention_days=0)
    sqlite.write(store, "old", days_ago(40))
    sqlite.write(store, "new", days_ago(1))
    endpoints = endpoints_for(sqlite, tmp_path, monkeypatch)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}

    def retention(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "runtime.retention", *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = retention("--days", "30", "--endpoints", str(endpoints))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Deleted 1 conversation (") and done.stderr == ""
    assert set(sqlite.rows()) == {"new"}
    refused = retention("--days", "many", "--endpoints", str(endpoints))
    assert refused.returncode == 2 and refused.stdout == ""
    expected = "Cannot purge: argument --days: 'many' is not a whole number of days (see --help)\n"
    assert refused.stderr == expected
    missing = retention("--endpoints", str(tmp_path / "nowhere.yml"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.count("\n") == 1
