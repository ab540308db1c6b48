"""What people asked the assistant, read from the tracker store.

    python -m scripts.report                                  # the last 30 days
    python -m scripts.report --since 2026-09-01 --until 2026-09-30 --html docs/report.html

Reads the store named under `tracker_store` in endpoints.yml through SQLAlchemy,
with the same connection settings Rasa uses, so the SQLite default and a
PostgreSQL store both work. Read-only: it never writes to the store. Dates are
UTC and both ends are included.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from actions.answers import NOT_COVERED_PREFIX, topic_title
from actions.rules_file import EntryRules, default_rules
from scripts.quiet import no_library_warnings

ROOT = Path(__file__).resolve().parents[1]
FORM = "eligibility_form"
FALLBACK_INTENT = "nlu_fallback"
# Replies that tell the person their message was not understood.
NOT_UNDERSTOOD_REPLIES = {"utter_not_understood", "utter_clarify"}
VERDICT_ORDER = ("eligible", "possibly_eligible", "not_eligible")

EVENTS = sa.table(
    "events",
    sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
    sa.column("timestamp"), sa.column("data"),
)


class ReportError(Exception):
    """A problem the person running the report can fix (shown without a traceback)."""


# Reading the store ----------------------------------------------------------------

def database_url(endpoints: Path) -> Any:
    """The SQLAlchemy URL of the tracker store configured in `endpoints`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    if not endpoints.is_file():
        raise ReportError(f"no endpoints file at {endpoints}")
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or str(config.type).lower() != "sql":
        raise ReportError(f"{endpoints} does not configure an SQL tracker store "
                          "(tracker_store: type: SQL), so there is nothing to read")
    settings = config.kwargs
    dialect = settings.get("dialect", "sqlite")
    db = str(settings.get("db", "rasa.db"))
    if dialect == "sqlite" and db != ":memory:":
        path = Path(db) if Path(db).is_absolute() else endpoints.resolve().parent / db
        if not path.exists():
            raise ReportError(f"no conversations stored yet: {path} does not exist")
        db = str(path)
    return SQLTrackerStore.get_db_url(
        dialect=dialect, host=config.url, port=settings.get("port"), db=db,
        username=settings.get("username"), password=settings.get("password"),
        query=settings.get("query"),
    )


def read_events(url: Any, since: dt.datetime, until: dt.datetime) -> Iterator[Dict[str, Any]]:
    """The stored events in [since, until), oldest first, each with its sender_id."""
    from rasa.core.tracker_store import create_engine_kwargs

    engine = sa.create_engine(url, **create_engine_kwargs(url))
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.data)
        .where(EVENTS.c.timestamp >= since.timestamp(), EVENTS.c.timestamp < until.timestamp())
        .order_by(EVENTS.c.timestamp, EVENTS.c.id)
    )
    try:
        with engine.connect() as connection:
            for sender_id, data in connection.execution_options(stream_results=True).execute(query):
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    continue  # a row that is not an event; nothing to count
                if isinstance(event, dict):
                    event["sender_id"] = sender_id
                    yield event
    except sa.exc.SQLAlchemyError as error:
        raise ReportError(f"could not read the tracker store: {error.__class__.__name__}: "
                          f"{str(error).splitlines()[0]}") from error
    finally:
        engine.dispose()


# Counting -------------------------------------------------------------------------

@dataclass
class Unanswered:
    text: str
    count: int
    best_guess: str
    confidence: float


@dataclass
class Summary:
    since: dt.date
    until: dt.date
    conversations: int = 0
    sessions: int = 0
    messages: int = 0
    button_clicks: int = 0
    messages_per_day: Dict[dt.date, int] = field(default_factory=dict)
    topics: List[Tuple[str, int]] = field(default_factory=list)
    checks_started: int = 0
    checks_completed: int = 0
    verdicts: Dict[Tuple[str, str], int] = field(default_factory=dict)
    unanswered: List[Unanswered] = field(default_factory=list)
    feedback: List[Tuple[str, int, int]] = field(default_factory=list)  # topic, up, down


def _intent(event: Dict[str, Any]) -> Tuple[str, float]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _best_guess(event: Dict[str, Any]) -> Tuple[str, float]:
    for ranked in (event.get("parse_data") or {}).get("intent_ranking") or []:
        if ranked.get("name") != FALLBACK_INTENT:
            return str(ranked.get("name")), float(ranked.get("confidence") or 0.0)
    return "", 0.0


def summarise(events: Iterable[Dict[str, Any]], rules: EntryRules, since: dt.date,
              until: dt.date, low_confidence: float = 0.5, top: int = 10) -> Summary:
    """Counts what happened in the conversations, from their stored events."""
    summary = Summary(since, until)
    senders = set()
    per_day: Counter = Counter()
    topics: Counter = Counter()
    verdicts: Counter = Counter()
    unanswered: Dict[str, List[Any]] = {}
    in_check: Dict[str, bool] = defaultdict(bool)
    feedback: Dict[Tuple[str, str], bool] = {}
    # Each sender's latest typed message, until the assistant replies to it: if the
    # reply says it did not understand, the message counts as unanswered too.
    waiting: Dict[str, Optional[List[Any]]] = {}

    def count_unanswered(key: str, entry: List[Any]) -> None:
        unanswered.setdefault(key, [*entry[:1], 0, *entry[2:]])[1] += 1

    for event in events:
        sender, kind = event["sender_id"], event.get("event")
        if kind == "user":
            text = str(event.get("text") or "")
            senders.add(sender)
            summary.messages += 1
            per_day[dt.datetime.fromtimestamp(event.get("timestamp") or 0, dt.timezone.utc).date()] += 1
            if text.startswith("/"):
                summary.button_clicks += 1
                continue
            if not text.strip():
                continue  # an empty message is not a question
            intent, confidence = _intent(event)
            # In a check, the form reads short answers ("not sure") whatever the intent
            # scores, so only messages that fell back count there.
            unsure = confidence < low_confidence and not in_check[sender]
            key = " ".join(text.casefold().split())[:300]
            guess, guess_confidence = (_best_guess(event) if intent == FALLBACK_INTENT
                                       else (intent, confidence))
            entry = [text[:300], 0, guess, guess_confidence]
            if intent == FALLBACK_INTENT or unsure:
                count_unanswered(key, entry)
                waiting[sender] = None
            else:
                waiting[sender] = [key, entry]
        elif kind == "bot" and waiting.get(sender):
            if (event.get("metadata") or {}).get("utter_action") in NOT_UNDERSTOOD_REPLIES:
                count_unanswered(*waiting[sender])
                waiting[sender] = None
        elif kind == "action" and event.get("name") == "action_session_start":
            summary.sessions += 1
        elif kind == "active_loop":
            starting = event.get("name") == FORM
            if starting and not in_check[sender]:
                summary.checks_started += 1
            in_check[sender] = starting
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "last_answer" and (
                value in rules.topics or str(value).startswith(NOT_COVERED_PREFIX)
            ):
                topics[value] += 1
            elif name == "assessment" and isinstance(value, dict) and value.get("verdict"):
                summary.checks_completed += 1
                verdicts[(str(value.get("programme")), str(value["verdict"]))] += 1
            elif name == "feedback" and isinstance(value, dict):
                feedback[(sender, str(value.get("topic")))] = bool(value.get("helpful"))
    summary.conversations = len(senders)
    days = (until - since).days + 1
    summary.messages_per_day = {since + dt.timedelta(days=i): per_day[since + dt.timedelta(days=i)]
                                for i in range(days)}
    summary.topics = [(topic_title(rules, t), n) for t, n in topics.most_common(top)]
    summary.verdicts = dict(sorted(verdicts.items(), key=lambda kv: (
        kv[0][0], VERDICT_ORDER.index(kv[0][1]) if kv[0][1] in VERDICT_ORDER else 9)))
    summary.unanswered = sorted(
        (Unanswered(*entry) for entry in unanswered.values()),
        key=lambda u: (-u.count, u.confidence),
    )[: top * 2]
    votes: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for (_, topic), helpful in feedback.items():
        votes[topic][0 if helpful else 1] += 1
    summary.feedback = sorted(
        ((topic_title(rules, t), up, down) for t, (up, down) in votes.items()),
        key=lambda row: (-row[2], row[1], row[0]),
    )
    return summary


# Printing -------------------------------------------------------------------------

def _label(verdict: str) -> str:
    return verdict.replace("_", " ")


def _shorten(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_text(summary: Summary) -> str:
    lines = [f"Conversations from {summary.since} to {summary.until} (UTC)", ""]
    if not summary.messages:
        return "\n".join(lines + ["No messages in this period."])
    lines += [
        f"  conversations        {summary.conversations}",
        f"  sessions             {summary.sessions}",
        f"  messages             {summary.messages} ({summary.button_clicks} of them button clicks)",
        "",
        "Most asked topics",
    ]
    lines += [f"  {n:>5}  {title}" for title, n in summary.topics] or ["  none"]
    lines += ["", "Eligibility checks",
              f"  started              {summary.checks_started}",
              f"  completed            {summary.checks_completed} (a verdict given)"]
    lines += [f"  {n:>5}  {programme}: {_label(verdict)}"
              for (programme, verdict), n in summary.verdicts.items()]
    lines += ["", "Not understood or low confidence (the questions the content does not yet answer)"]
    lines += [f"  {u.count:>5}  {_shorten(u.text)!r}  (best guess: {u.best_guess or 'none'}, "
              f"{u.confidence:.2f})" for u in summary.unanswered] or ["  none"]
    lines += ["", "Feedback by topic (most thumbs-down first)"]
    lines += [f"  {down:>3} down {up:>3} up  {title}" for title, up, down in summary.feedback] \
        or ["  none"]
    return "\n".join(lines)


# The HTML page, with charts drawn by matplotlib --------------------------------------

def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(summary: Summary) -> Dict[str, str]:
    """Each chart as a base64 PNG; a chart with nothing to show is left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blue, red, green, amber = "#005eb8", "#d5281b", "#007f3b", "#ffb81c"
    drawn: Dict[str, str] = {}

    def horizontal(name: str, labels: List[str], xlabel: str,
                   *series: Tuple[List[int], Any, Optional[str]]) -> None:
        """Bars across, the first label at the top; several series (values, colour
        or one colour a bar, legend) are stacked."""
        figure, axes = plt.subplots(figsize=(7, 0.45 * len(labels) + 1))
        left = [0] * len(labels)
        for values, colour, legend in series:
            colour = colour[::-1] if isinstance(colour, list) else colour
            axes.barh(labels[::-1], values[::-1], left=left, color=colour, label=legend)
            left = [a + b for a, b in zip(left, values[::-1])]
        axes.set_xlabel(xlabel)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if any(legend for _, _, legend in series):
            axes.legend(loc="lower right")
        drawn[name] = _png(figure)
        plt.close(figure)

    if summary.messages_per_day:
        days = list(summary.messages_per_day)
        figure, axes = plt.subplots(figsize=(7, 2.6))
        axes.bar(range(len(days)), list(summary.messages_per_day.values()), color=blue)
        step = max(1, len(days) // 10)
        axes.set_xticks(range(0, len(days), step))
        axes.set_xticklabels([d.isoformat() for d in days[::step]], rotation=45, fontsize=8)
        axes.set_ylabel("messages")
        axes.yaxis.get_major_locator().set_params(integer=True)
        drawn["messages_per_day"] = _png(figure)
        plt.close(figure)
    if summary.topics:
        horizontal("topics", [t for t, _ in summary.topics], "times answered",
                   ([n for _, n in summary.topics], blue, None))
    if summary.verdicts:
        colours = {"eligible": green, "possibly_eligible": amber, "not_eligible": red}
        horizontal("verdicts", [f"{p}: {_label(v)}" for p, v in summary.verdicts],
                   "verdicts given",
                   (list(summary.verdicts.values()),
                    [colours.get(v, blue) for _, v in summary.verdicts], None))
    if summary.feedback:
        horizontal("feedback", [t for t, _, _ in summary.feedback], "answers",
                   ([d for _, _, d in summary.feedback], red, "thumbs down"),
                   ([u for _, u, _ in summary.feedback], green, "thumbs up"))
    return drawn


PAGE = """<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Careers assistant report, {{ s.since }} to {{ s.until }}</title>
<style>
  body { font-family: Arial, sans-serif; color: #212b32; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { color: #005eb8; } table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
  th, td { text-align: left; padding: 0.3rem 0.8rem; border-bottom: 1px solid #d8dde0; vertical-align: top; }
  td.n { text-align: right; } img { max-width: 100%; } .quiet { color: #4c6272; }
</style>
</head>
<body>
<h1>Careers assistant report</h1>
<p>{{ s.since }} to {{ s.until }} (UTC), from the tracker store. Made {{ made }}.</p>
{% if not s.messages %}<p>No messages in this period.</p>{% else %}
<table>
  <tr><th>Conversations</th><td class="n">{{ s.conversations }}</td></tr>
  <tr><th>Sessions</th><td class="n">{{ s.sessions }}</td></tr>
  <tr><th>Messages</th><td class="n">{{ s.messages }}</td></tr>
  <tr><th>of which button clicks</th><td class="n">{{ s.button_clicks }}</td></tr>
  <tr><th>Eligibility checks started</th><td class="n">{{ s.checks_started }}</td></tr>
  <tr><th>Eligibility checks completed</th><td class="n">{{ s.checks_completed }}</td></tr>
</table>
{% if charts.get('messages_per_day') %}<h2>Messages per day</h2>
<img src="data:image/png;base64,{{ charts.messages_per_day }}" alt="Bar chart of messages per day; the numbers are in the table above.">{% endif %}

<h2>Most asked topics</h2>
{% if charts.get('topics') %}<img src="data:image/png;base64,{{ charts.topics }}" alt="Bar chart of the most asked topics; the same figures are in the table below.">{% endif %}
<table><tr><th>Topic</th><th>Times answered</th></tr>
{% for title, n in s.topics %}<tr><td>{{ title }}</td><td class="n">{{ n }}</td></tr>
{% else %}<tr><td colspan="2" class="quiet">none</td></tr>{% endfor %}</table>

<h2>Eligibility verdicts</h2>
{% if charts.get('verdicts') %}<img src="data:image/png;base64,{{ charts.verdicts }}" alt="Bar chart of verdicts by programme; the same figures are in the table below.">{% endif %}
<table><tr><th>Programme</th><th>Verdict</th><th>Count</th></tr>
{% for key, n in s.verdicts.items() %}<tr><td>{{ key[0] }}</td><td>{{ key[1] | replace("_", " ") }}</td><td class="n">{{ n }}</td></tr>
{% else %}<tr><td colspan="3" class="quiet">none</td></tr>{% endfor %}</table>

<h2>Not understood or low confidence</h2>
<p class="quiet">The questions the content does not yet answer: messages that fell back, whose intent scored below {{ low_confidence }}, or that the assistant said it did not understand. Questions it answered with "my sources don't cover that" are under the topics, as "Not covered: ...".</p>
<table><tr><th>Message</th><th>Times</th><th>Best guess</th><th>Confidence</th></tr>
{% for u in s.unanswered %}<tr><td>{{ u.text }}</td><td class="n">{{ u.count }}</td><td>{{ u.best_guess or "none" }}</td><td class="n">{{ "%.2f" | format(u.confidence) }}</td></tr>
{% else %}<tr><td colspan="4" class="quiet">none</td></tr>{% endfor %}</table>

<h2>Feedback by topic</h2>
{% if charts.get('feedback') %}<img src="data:image/png;base64,{{ charts.feedback }}" alt="Stacked bar chart of thumbs down and thumbs up per topic; the same figures are in the table below.">{% endif %}
<table><tr><th>Topic</th><th>Thumbs down</th><th>Thumbs up</th></tr>
{% for title, up, down in s.feedback %}<tr><td>{{ title }}</td><td class="n">{{ down }}</td><td class="n">{{ up }}</td></tr>
{% else %}<tr><td colspan="3" class="quiet">none</td></tr>{% endfor %}</table>
{% endif %}
</body>
</html>
"""


def format_html(summary: Summary, low_confidence: float) -> str:
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return environment.from_string(PAGE).render(
        s=summary, charts=charts(summary) if summary.messages else {}, made=made,
        low_confidence=low_confidence,
    )


# The command ----------------------------------------------------------------------

def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-09-30") from None


def _confidence(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("confidence is between 0 and 1")
    return value


def main(argv: Optional[Sequence[str]] = None, today: Optional[dt.date] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml",
                        help="where the tracker store is configured (default: endpoints.yml)")
    parser.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (default: 29 days "
                                                    "before --until)")
    parser.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--html", type=Path, help="also write an HTML page with charts here")
    parser.add_argument("--low-confidence", type=_confidence, default=0.5,
                        help="list messages whose intent scored below this (default 0.5)")
    parser.add_argument("--top", type=int, default=10, help="how many topics to list")
    args = parser.parse_args(argv)
    until = args.until or today or dt.datetime.now(dt.timezone.utc).date()
    since = args.since or until - dt.timedelta(days=29)
    if since > until:
        parser.error(f"--since {since} is after --until {until}")
    start = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    try:
        events = read_events(database_url(args.endpoints), start, end)
        summary = summarise(events, default_rules(), since, until, args.low_confidence, args.top)
    except ReportError as error:
        print(f"Cannot make the report: {error}", file=sys.stderr)
        return 2
    print(format_text(summary))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(format_html(summary, args.low_confidence), encoding="utf-8")
        print(f"\nHTML report: {args.html}")
    return 0


if __name__ == "__main__":
    with no_library_warnings():
        status = main()
    sys.exit(status)
