"""`make report`: conversations held by the trained bot in a real SQLite tracker store
(configured by an endpoints file, as `make run` does), then read back and counted."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from tools.careers_team.converse import DEFAULT_MODEL, InProcessAssistant
from tools.careers_team.report.command import main
from tools.careers_team.report.store import database_url

TODAY = dt.datetime.now(dt.timezone.utc).date()

# (sender, messages): a click is written as its button title after ">". The senders
# are named as the channels name them (channels/ownership.py); one is of no channel.
CHECKS_STP = "teams:tenant-1:5f2c0a"
CONVERSATIONS = {
    "web:asks-skills": [
        "What skills do I need?",
        "> \N{THUMBS DOWN SIGN} No",
        "Will I need leadership skills?",
        "> \N{THUMBS UP SIGN} Yes",
    ],
    "slack:T0001:D0001:U0001": ["which qualities do clinical engineers need?", "> \N{THUMBS DOWN SIGN} No"],
    CHECKS_STP: ["Can I apply for the STP with a 2:1 in physics?"],
    "web:checks-ptp": ["Am I eligible for the PTP?", "> No"],
    "rest:stops": ["check my eligibility", "stop"],
    "web:off-piste": ["qwzx vbnm plok", "<script>alert(1)</script> zzkq"],
    "asks-pay": ["How much do clinical engineers earn?"],
}


def _send(assistant, sender, text, replies):
    if text.startswith("> "):
        title = text[2:]
        payload = next(b["payload"] for r in replies for b in r.get("buttons", []) if b["title"] == title)
        return assistant.send(sender, payload)
    return assistant.send(sender, text)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An endpoints file and the SQLite store it names, filled by real conversations."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    assert DEFAULT_MODEL.exists(), "no trained model: run `make train` (make test does it)"
    folder = tmp_path_factory.mktemp("store")
    endpoints = folder / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: conversations.db\n")
    # Rasa resolves a relative SQLite path from the working directory; give it the full one.
    config = read_endpoint_config(str(endpoints), "tracker_store")
    config.kwargs["db"] = str(folder / "conversations.db")
    assistant = InProcessAssistant(DEFAULT_MODEL, tracker_store=TrackerStore.create(config))
    for sender, messages in CONVERSATIONS.items():
        replies = []
        for text in messages:
            replies = _send(assistant, sender, text, replies)
    assistant.close()
    return endpoints


def _report(capsys, *args):
    status = main([*args], today=TODAY)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _section(out: str, heading: str) -> str:
    return out.split(heading, 1)[1].split("\n\n", 1)[0]


def test_the_report_counts_what_happened(store, capsys):
    status, out, _ = _report(capsys, "--endpoints", str(store))
    assert status == 0, out
    assert f"Conversations from {TODAY - dt.timedelta(days=29)} to {TODAY}" in out
    assert "conversations        7" in out
    # Per channel, from the conversations' ids.
    channels = out.split("conversations        7\n", 1)[1].split("  sessions", 1)[0].splitlines()
    assert [line.strip().rsplit(None, 1) for line in channels] == [
        ["in Web widget", "3"],
        ["in Slack", "1"],
        ["in Microsoft Teams", "1"],
        ["in REST (other servers)", "1"],
        ["in Other", "1"],
    ]
    assert "sessions             7" in out
    assert "messages             14 (4 of them button clicks)" in out
    topics = _section(out, "Most asked topics").strip().splitlines()
    assert topics[0].split() == ["2", "Skills", "and", "qualities"]
    assert any("Leadership" in t for t in topics)
    # What the sources do not cover shows among the topics, for the content team.
    assert any("Not covered: Pay" in t for t in topics)
    checks = _section(out, "Eligibility checks")
    assert "started              3" in checks and "completed            2" in checks
    assert "1  STP: eligible" in checks and "1  PTP: not eligible" in checks
    unanswered = _section(out, "Not understood or low confidence")
    assert "'qwzx vbnm plok'" in unanswered and "zzkq" in unanswered
    assert "What skills do I need" not in unanswered
    feedback = _section(out, "Feedback by topic").strip().splitlines()[1:]
    assert feedback[0].split() == ["2", "down", "0", "up", "Skills", "and", "qualities"]
    assert feedback[1].split() == ["0", "down", "1", "up", "Leadership"]


def test_the_html_page_has_charts_and_escapes_what_people_typed(store, capsys, tmp_path):
    page = tmp_path / "report.html"
    status, out, _ = _report(capsys, "--endpoints", str(store), "--html", str(page))
    assert status == 0 and f"HTML report: {page}" in out
    html = page.read_text()
    assert html.count('<img src="data:image/png;base64,') == 4
    assert "&lt;script&gt;alert(1)&lt;/script&gt; zzkq" in html
    assert "<script>" not in html
    assert '<td>Skills and qualities</td><td class="n">2</td><td class="n">0</td>' in html
    assert 'in Microsoft Teams</th><td class="n">1</td>' in html


def test_the_date_range_selects_conversations(store, capsys):
    database = store.parent / "conversations.db"
    old = dt.datetime(2025, 3, 10, 12, tzinfo=dt.timezone.utc).timestamp()
    with sqlite3.connect(database) as db:
        db.execute("UPDATE events SET timestamp = ? WHERE sender_id = ?", (old, CHECKS_STP))
    try:
        _, recent, _ = _report(capsys, "--endpoints", str(store))
        assert "conversations        6" in recent and "STP: eligible" not in recent
        _, march, _ = _report(
            capsys, "--endpoints", str(store), "--since", "2025-03-10", "--until", "2025-03-10"
        )
        assert "conversations        1" in march and "1  STP: eligible" in march
        _, empty, _ = _report(
            capsys, "--endpoints", str(store), "--since", "2025-03-11", "--until", "2025-03-31"
        )
        assert "No messages in this period." in empty
    finally:
        now = dt.datetime.now(dt.timezone.utc).timestamp()
        with sqlite3.connect(database) as db:
            db.execute("UPDATE events SET timestamp = ? WHERE sender_id = ?", (now, CHECKS_STP))


def test_the_report_never_writes_to_the_store(store, capsys):
    database = store.parent / "conversations.db"
    before = database.read_bytes()
    _report(capsys, "--endpoints", str(store))
    assert database.read_bytes() == before


@pytest.mark.parametrize(
    "endpoints, message",
    [
        (
            "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: nothing-here.db\n",
            "no conversations stored yet",
        ),
        (
            "action_endpoint:\n  url: http://localhost:5055/webhook\n",
            "does not configure an SQL tracker store",
        ),
        ("tracker_store:\n  type: redis\n  url: localhost\n", "does not configure an SQL tracker store"),
    ],
)
def test_a_store_that_cannot_be_read_is_explained(tmp_path, capsys, endpoints, message):
    path = tmp_path / "endpoints.yml"
    path.write_text(endpoints)
    status, _, err = _report(capsys, "--endpoints", str(path))
    assert status == 2 and message in err
    assert not (tmp_path / "nothing-here.db").exists(), "no empty database is created"


def test_bad_dates_are_refused(store, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--endpoints", str(store), "--since", "30/09/2026"])
    assert stop.value.code == 2 and "is not a date like" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--endpoints", str(store), "--since", "2026-10-02", "--until", "2026-10-01"])


def test_postgresql_settings_become_the_same_url_rasa_uses(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.internal\n"
        "  port: 5433\n  db: careers\n  username: bot\n  password: ${DB_PASSWORD}\n"
    )
    url = database_url(path)
    assert url.drivername == "postgresql" and url.host == "db.internal" and url.port == 5433
    assert (url.database, url.username, url.password) == ("careers", "bot", "s3cret")


def test_a_relative_sqlite_path_is_read_beside_the_endpoints_file(tmp_path):
    (tmp_path / "kept.db").write_bytes(b"")
    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: kept.db\n")
    assert database_url(path).database == str(tmp_path / "kept.db")


@pytest.fixture
def postgres_endpoints(tmp_path, monkeypatch):
    """An endpoints file for the scratch PostgreSQL database in TEST_POSTGRES_URL
    (`.ci/run` starts one), with the events table emptied first."""
    import os

    import sqlalchemy as sa

    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (make test starts a scratch PostgreSQL when run as root)")
    parts = sa.engine.make_url(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS events"))
    engine.dispose()
    monkeypatch.setenv("CAREERS_DB_PASSWORD", parts.password or "")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n"
        f"  url: {parts.host}\n  port: {parts.port or 5432}\n  db: {parts.database}\n"
        f"  username: {parts.username}\n  password: ${{CAREERS_DB_PASSWORD}}\n"
    )
    return endpoints


def test_the_same_report_reads_a_postgresql_store(postgres_endpoints, capsys):
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(postgres_endpoints), "tracker_store")
    assistant = InProcessAssistant(DEFAULT_MODEL, tracker_store=TrackerStore.create(config))
    for sender in ("web:pg-asks-skills", CHECKS_STP):
        replies = []
        for text in CONVERSATIONS["web:asks-skills" if sender == "web:pg-asks-skills" else sender]:
            replies = _send(assistant, sender, text, replies)
    assistant.close()
    status, out, err = _report(capsys, "--endpoints", str(postgres_endpoints))
    assert status == 0, err
    assert "conversations        2" in out and "1  STP: eligible" in out
    assert _section(out, "Feedback by topic").strip().splitlines()[1].split() == [
        "1",
        "down",
        "0",
        "up",
        "Skills",
        "and",
        "qualities",
    ]
