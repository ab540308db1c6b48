"""`make report`: conversations held by the trained bot in a real SQLite tracker store
(configured by an endpoints file, as `make run` does), then read back and counted."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from runtime.store_config import database_url
from tools.careers_team.converse import DEFAULT_MODEL, InProcessAssistant
from tools.careers_team.report.command import main

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


@pytest.mark.model
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


@pytest.mark.model
def test_the_html_page_has_charts_and_escapes_what_people_typed(store, capsys, tmp_path):
    page = tmp_path / "report.html"
    status, out, _ = _report(capsys, "--endpoints", str(store), "--html", str(page))
    assert status == 0 and f"HTML report: {page}" in out
    html = page.read_text()
    assert html.count('<img src="data:image/png;base64,') == 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt; zzkq" in html
    assert "<script>" not in html
    assert '<td>Skills and qualities</td><td class="n">2</td><td class="n">0</td>' in html
    assert 'in Microsoft Teams</th><td class="n">1</td>' in html


@pytest.mark.model
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


@pytest.mark.model
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


@pytest.mark.model
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


@pytest.mark.model
@pytest.mark.servers
def test_the_same_report_reads_a_postgresql_store(postgres_endpoints, capsys):
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(postgres_endpoints), "tracker_store")
    assistant = InProcessAssistant(DEFAULT_MODEL, tracker_store=TrackerStore.create(config))
    # A person's conversation, a check, and a script's run of the first (test traffic).
    for sender in ("web:pg-asks-skills", CHECKS_STP, "rest:test-pg-asks-skills"):
        replies = []
        for text in CONVERSATIONS[CHECKS_STP if sender == CHECKS_STP else "web:asks-skills"]:
            replies = _send(assistant, sender, text, replies)
    assistant.close()
    status, out, err = _report(capsys, "--endpoints", str(postgres_endpoints), "--include-test-traffic")
    assert status == 0, err
    assert "conversations        3" in out and "1 conversation included" in out
    assert _section(out, "Feedback by topic").strip().splitlines()[1].split()[:2] == ["2", "down"]
    status, out, err = _report(capsys, "--endpoints", str(postgres_endpoints))
    assert status == 0, err
    assert "conversations        2" in out and "1  STP: eligible" in out
    assert "test traffic         1 conversation left out" in out
    assert _section(out, "Feedback by topic").strip().splitlines()[1].split() == [
        "1",
        "down",
        "0",
        "up",
        "Skills",
        "and",
        "qualities",
    ]


# A seeded store: conversations composed from Rasa's own event types, as the actions
# write them, and saved by Rasa's SQLTrackerStore to a real SQLite file, so that every
# figure of the report is known in advance. Among the people's conversations are the
# test traffic's (`rest:test-...`, `rest:script-...`), with made-up feedback.
PAY = "How much do clinical engineers earn?"
PARTLY = "Will an accredited MSc exempt me from the STP's MSc?"


def _seeded_conversations(rules):
    """{sender: events}: what each conversation did, step by step."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    from careers.vocabulary import (
        ASSESSMENT_SLOT,
        FEEDBACK_SLOT,
        FORM,
        LAST_ANSWER_SLOT,
        NOT_COVERED_PREFIX,
        REQUESTED_SLOT,
        VERDICT_ANSWER,
    )

    def session():
        return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]

    def said(text, intent, confidence=1.0, ranking=()):
        best = {"name": intent, "confidence": confidence}
        ranked = [{"name": n, "confidence": c} for n, c in ranking] or [best]
        parse = {"text": text, "intent": best, "entities": [], "intent_ranking": ranked}
        return [UserUttered(text, best, [], parse_data=parse)]

    def reply(utter, text):
        return BotUttered(text, metadata={"utter_action": utter})

    def start_check(text="Am I eligible?"):
        return said(text, "check_eligibility") + [ActionExecuted(FORM), ActiveLoop(FORM)]

    def ask(fact):
        """The form asking for `fact`, then waiting."""
        return [
            SlotSet(REQUESTED_SLOT, fact),
            reply(f"utter_ask_{FORM}_{fact}", f"(the question for {fact})"),
            ActionExecuted("action_listen"),
        ]

    def answer(text, fact, value):
        return said(text, "inform") + [SlotSet(fact, value), ActionExecuted(FORM)]

    def verdict(programme, value):
        return [
            ActiveLoop(None),
            SlotSet(REQUESTED_SLOT, None),
            ActionExecuted("action_give_verdict"),
            reply(f"utter_verdict_{value}", "From what you've told me, ..."),
            SlotSet(ASSESSMENT_SLOT, {"programme": programme, "verdict": value}),
            SlotSet(LAST_ANSWER_SLOT, VERDICT_ANSWER),
            ActionExecuted("action_listen"),
        ]

    def stop():
        return said("stop", "stop") + [
            ActionExecuted("action_deactivate_loop"),
            ActiveLoop(None),
            SlotSet(REQUESTED_SLOT, None),
            reply("utter_check_stopped", "OK, I've stopped the eligibility check."),
            ActionExecuted("action_listen"),
        ]

    def not_covered(text, *keys, topic=None):
        """ "My sources don't cover ..." for each of `keys`, then `topic`'s answer."""
        events = said(text, "ask_not_covered") + [ActionExecuted("action_answer_not_covered")]
        events += [reply("utter_topic_answer", rules.not_covered[key].text) for key in keys]
        events += [SlotSet(LAST_ANSWER_SLOT, NOT_COVERED_PREFIX + key) for key in keys]
        if topic:
            events += [
                reply("utter_topic_answer", rules.topics[topic].text),
                SlotSet(LAST_ANSWER_SLOT, topic),
            ]
        return events + [ActionExecuted("action_listen")]

    def partly(text, words, topic):
        """An answer on `topic` that says first what its sources don't say (`words`)."""
        lead = rules.not_covered["general"].partly.replace("{missing}", words)
        lead = lead.replace("{title}", rules.topics[topic].title)
        return said(text, topic) + [
            ActionExecuted("action_answer_topic"),
            reply("utter_topic_answer", lead + "\n\n" + rules.topics[topic].text),
            SlotSet(LAST_ANSWER_SLOT, NOT_COVERED_PREFIX + "general"),
            SlotSet(LAST_ANSWER_SLOT, topic),
            ActionExecuted("action_listen"),
        ]

    def topic(text, name):
        return said(text, name) + [
            ActionExecuted("action_answer_topic"),
            reply("utter_topic_answer", rules.topics[name].text),
            SlotSet(LAST_ANSWER_SLOT, name),
            ActionExecuted("action_listen"),
        ]

    def feedback(name, helpful):
        click = '/feedback{"helpful":"%s","feedback_topic":"%s"}' % ("yes" if helpful else "no", name)
        return said(click, "feedback") + [
            ActionExecuted("action_record_feedback"),
            reply("utter_feedback_positive" if helpful else "utter_feedback_negative", "Thanks."),
            SlotSet(FEEDBACK_SLOT, {"topic": name, "helpful": helpful}),
            ActionExecuted("action_listen"),
        ]

    def unsure(text, intent, confidence, ranking=()):
        return said(text, intent, confidence, ranking) + [
            ActionExecuted("action_fallback"),
            reply("utter_not_understood", "Sorry, I'm not sure what you mean."),
            ActionExecuted("action_listen"),
        ]

    fell_back = [("nlu_fallback", 0.7), ("medical_emergency", 0.31)]
    return {
        # Said goodbye in the middle of the check: the form asked again, and that was all.
        "web:left-at-degree-class": session()
        + start_check("Am I eligible for the STP?")
        + [SlotSet("programme", "STP")]
        + ask("degree_class")
        + said("goodbye", "goodbye")
        + [reply("utter_goodbye", "Goodbye!")]
        + ask("degree_class"),
        # Chose the STP with a button, then stopped at the next question.
        "web:stopped-at-degree-class": session()
        + start_check()
        + ask("programme")
        + answer('/inform{"programme":"STP"}', "programme", "STP")
        + ask("degree_class")
        + stop(),
        # Asked about pay in the middle of a PTP check and never came back to it.
        "slack:T01:D01:left-at-science": session()
        + start_check("Could I do the PTP?")
        + [SlotSet("programme", "PTP")]
        + ask("gcse_grades")
        + answer("yes", "gcse_grades", "yes")
        + ask("a_level_count")
        + answer("three", "a_level_count", 3)
        + ask("science_a_level")
        + not_covered(PAY, "pay"),
        # A check completed, and a thumbs up for it.
        "web:completed": session()
        + start_check("I have a 2:1 in physics, can I apply for the STP?")
        + verdict("STP", "eligible")
        + feedback("eligibility_check", True),
        # Stopped at the degree subject, came back later and finished: not abandoned.
        "web:came-back": session()
        + start_check()
        + ask("degree_subject")
        + stop()
        + start_check("check my eligibility")
        + ask("degree_subject")
        + answer("physics", "degree_subject", "physics")
        + verdict("STP", "possibly_eligible"),
        # The questions the sources did not cover, the same one in other case and spacing.
        "teams:tenant-1:uncovered": session()
        + not_covered(PAY, "pay")
        + not_covered("  how much do clinical   engineers EARN ", "pay")
        + not_covered("Can I retire early and what skills do I need?", "age", topic="ask_skills")
        + partly(PARTLY, "\u201cexempt\u201d", "ask_ptp_requirements")
        + not_covered("Do clinical engineers wear uniforms?", "general"),
        # Messages it could not place, and a thumbs down.
        "web:unsure": session()
        + unsure("my chest feels tight", "nlu_fallback", 0.7, fell_back)
        + unsure("hiya there pal", "greet", 0.35)
        + unsure("is it worth it for me", "check_eligibility", 0.4)
        + unsure("what about the weather up north", "out_of_scope", 0.3)
        + topic("What skills do I need?", "ask_skills")
        + feedback("ask_skills", False),
        # Test traffic: a benchmark's and the scripts runner's conversations, with
        # made-up feedback, checks left at other questions and a verdict.
        "rest:test-bench-1": session()
        + topic("What skills do I need?", "ask_skills")
        + feedback("ask_skills", False)
        + start_check("Could I do the PTP?")
        + ask("gcse_grades")
        + not_covered(PAY, "pay")
        + unsure("zzzz test zzzz", "nlu_fallback", 0.9),
        "rest:script-0123456789abcdef": session()
        + topic("What skills do I need?", "ask_skills")
        + feedback("ask_skills", False)
        + start_check()
        + ask("a_level_count"),
        "rest:test-verdict": session() + start_check("Can I do the PTP?") + verdict("PTP", "not_eligible"),
    }


def _seed(tracker_store, conversations, start: float) -> None:
    """Saves each conversation as the server would, its events a second apart."""
    import asyncio

    from rasa.shared.core.trackers import DialogueStateTracker

    loop = asyncio.new_event_loop()
    try:
        for n, (sender, events) in enumerate(conversations.items()):
            for i, event in enumerate(events):
                event.timestamp = start + 300 * n + i
            tracker = DialogueStateTracker.from_events(sender, events, tracker_store.domain.slots)
            loop.run_until_complete(tracker_store.save(tracker))
    finally:
        loop.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, rules):
    """An endpoints file and the SQLite store it names, seeded with the conversations above."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from tests.conftest import ROOT

    folder = tmp_path_factory.mktemp("seeded")
    endpoints = folder / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: seeded.db\n")
    store = SQLTrackerStore(Domain.load(str(ROOT / "domain.yml")), db=str(folder / "seeded.db"))
    start = dt.datetime.combine(TODAY, dt.time(), dt.timezone.utc).timestamp() + 60
    _seed(store, _seeded_conversations(rules), start)
    store.engine.dispose()
    return endpoints


def _lines(out: str, heading: str) -> list:
    return [line.split() for line in _section(out, heading).strip().splitlines()[1:]]


def test_test_traffic_is_left_out_by_default_and_counted(seeded, capsys):
    status, out, _ = _report(capsys, "--endpoints", str(seeded))
    assert status == 0, out
    assert "conversations        7\n" in out
    assert '  test traffic         3 conversations left out (ids starting "test-" or "script-";' in out
    assert "TEST_TRAFFIC=include" in out
    assert "zzzz test zzzz" not in out
    # The scripts' made-up thumbs down are not counted: only the person's one.
    assert _lines(out, "Feedback by topic") == [
        ["1", "down", "0", "up", "Skills", "and", "qualities"],
        ["0", "down", "1", "up", "Eligibility", "check"],
    ]
    checks = _section(out, "Eligibility checks")
    assert "started              5" in checks and "completed            2" in checks
    assert "not completed        3" in checks and "PTP" not in checks


def test_test_traffic_is_counted_in_when_asked(seeded, capsys):
    status, out, _ = _report(capsys, "--endpoints", str(seeded), "--include-test-traffic")
    assert status == 0, out
    assert "conversations        10\n" in out
    assert '  test traffic         3 conversations included (ids starting "test-" or "script-")' in out
    assert "zzzz test zzzz" in out
    assert _lines(out, "Feedback by topic")[0] == ["3", "down", "0", "up", "Skills", "and", "qualities"]
    checks = _section(out, "Eligibility checks")
    assert "started              8" in checks and "completed            3" in checks
    assert "1  PTP: not eligible" in checks
    stopped = _section(out, "Where unfinished checks stopped")
    assert "1  GCSE grades" in stopped and "1  Number of A-levels" in stopped
    assert _lines(out, "Questions the sources did not cover")[0][0] == "4"


def test_abandoned_checks_are_shown_by_the_question_they_stopped_at(seeded, capsys):
    _, out, _ = _report(capsys, "--endpoints", str(seeded))
    stopped = _section(out, "Where unfinished checks stopped").strip().splitlines()[1:]
    # Most frequent first, each with the question as domain.yml words it.
    assert stopped == [
        "      2  Degree class: \u201cWhat class is your degree?\u201d",
        "      1  Science A-level: \u201cIs at least one of your A-levels a science, "
        "such as physics, chemistry or biology?\u201d",
    ]
    # The person who stopped at the degree subject came back and finished.
    assert "Degree subject" not in out


def test_questions_the_sources_did_not_cover_are_listed_by_frequency(seeded, capsys):
    _, out, _ = _report(capsys, "--endpoints", str(seeded))
    uncovered = _section(out, "Questions the sources did not cover").strip().splitlines()[1:]
    assert uncovered == [
        f"      3  {PAY!r}  (not covered: Pay)",
        "      1  'Can I retire early and what skills do I need?'  (not covered: Age limits)",
        f"      1  {PARTLY!r}  (not covered: \u201cexempt\u201d)",
        "      1  'Do clinical engineers wear uniforms?'",
    ]
    _, short, _ = _report(capsys, "--endpoints", str(seeded), "--top", "1")
    assert "... and 2 other questions (--top shows more)" in short


def test_no_internal_name_is_shown(seeded, capsys, tmp_path, domain):
    import re

    page = tmp_path / "report.html"
    _, out, _ = _report(capsys, "--endpoints", str(seeded), "--html", str(page), "--include-test-traffic")
    unanswered = _section(out, "Not understood or low confidence")
    for message, guess in [
        ("my chest feels tight", "Medical emergency"),
        ("hiya there pal", "Greeting"),
        ("is it worth it for me", "Eligibility check"),
        ("what about the weather up north", "Off-topic"),
        ("zzzz test zzzz", "none"),
    ]:
        assert re.search(rf"'{message}'  \(best guess: {guess}, 0\.\d\d\)", unanswered), (message, unanswered)
    html = page.read_text()
    assert "<td>Medical emergency</td>" in html and "<td>Degree class</td>" in html
    shown = re.sub(r"<[^>]*>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", html)
    internal = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    internal |= set(domain["slots"]) | {"nlu_fallback", "not_covered", "possibly_eligible", "not_eligible"}
    for words, where in ((out, "text"), (shown, "HTML")):
        found = sorted(
            name for name in internal if re.search(rf"(?<![\w-]){name}(?![\w-])", words) and "_" in name
        )
        assert found == [], f"internal names in the {where} report: {found}"
        assert "best guess: greet" not in words and "best guess: stop" not in words


def test_every_intent_has_a_plain_name(domain, rules):
    """A topic's title is in the rules file; every other intent needs one in
    careers/vocabulary.py INTENT_TITLES, or the report would show its internal name."""
    from careers.vocabulary import INTENT_TITLES

    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    missing = [i for i in intents if i not in rules.topics and i not in INTENT_TITLES]
    assert missing == [], f"add these to INTENT_TITLES in careers/vocabulary.py: {missing}"


def test_chart_legends_are_listed_beside_the_charts_not_drawn_over_them(seeded, capsys, tmp_path):
    """A legend on the plot covered a bar; now no chart draws one, and the page lists it
    in the flow above the picture, where it wraps at any width."""
    import re

    from tools.careers_team.report import output
    from tools.careers_team.report.summary import StoppedCheck, Summary

    summary = Summary(TODAY, TODAY, messages=1, messages_per_day={TODAY: 1}, topics=[("Pay", 3)])
    summary.verdicts = {("STP", "eligible"): 2}
    summary.stopped_checks = [StoppedCheck("Degree class", "What class is your degree?", 2)]
    summary.feedback = [("Skills and qualities", 1, 4), ("Leadership", 2, 0)]
    drawn = list(output.figures(summary))
    assert [name for name, _, _ in drawn] == [
        "messages_per_day",
        "topics",
        "verdicts",
        "stopped_checks",
        "feedback",
    ]
    assert all(axes.get_legend() is None for _, figure, _ in drawn for axes in figure.axes)
    assert dict((name, legend) for name, _, legend in drawn)["feedback"] == [
        ("thumbs down", output.RED),
        ("thumbs up", output.GREEN),
    ]

    page = tmp_path / "report.html"
    _report(capsys, "--endpoints", str(seeded), "--html", str(page))
    html = page.read_text()
    figures = re.findall(r'<figure class="chart">(.*?)</figure>', html, re.S)
    with_legend = [f for f in figures if "legend" in f]
    assert len(figures) == 5 and len(with_legend) == 1
    # The legend is the figure's caption, a list in the page's flow before the picture.
    swatch = r'<li><span class="swatch" style="background-color: #[0-9a-f]{6}"></span>thumbs (down|up)</li>'
    assert re.fullmatch(
        rf'\s*<figcaption><ul class="legend">{swatch}{swatch}</ul></figcaption>\s*<img [^>]+>\s*',
        with_legend[0],
    ), with_legend[0]
    assert html.count('<ul class="legend">') == 1
    assert all(re.fullmatch(r"\s*<img [^>]+>\s*", f) for f in figures if f not in with_legend)
    assert 'style="background-color: #d5281b"' in html and 'style="background-color: #007f3b"' in html
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    rules_for = {m.group(1).strip(): m.group(2) for m in re.finditer(r"([^{}]+)\{([^}]*)\}", css)}
    legend_css = " ".join(
        v for k, v in rules_for.items() if "legend" in k or "figure" in k or "figcaption" in k
    )
    for overlapping in ("position", "float", "margin-top: -", "margin: -", "transform", "z-index"):
        assert overlapping not in legend_css, overlapping
    assert "flex-wrap: wrap" in rules_for["ul.legend"]
