"""The report as text for the terminal, and as an HTML page with charts (drawn by
matplotlib) from the template `page.html` beside this file.

A chart's legend is an HTML list above its picture, never drawn on the plot, so at no
width does it cover a bar."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from careers.vocabulary import ELIGIBLE, NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, VERDICT_LABELS
from channels.ownership import LEGACY_TEST_SENDER_PREFIXES, TEST_SENDER_PREFIX
from tools.careers_team.report.summary import Summary

TEMPLATE = Path(__file__).with_name("page.html")
BLUE, RED, GREEN, AMBER = "#005eb8", "#d5281b", "#007f3b", "#ffb81c"
VERDICT_COLOURS = {ELIGIBLE: GREEN, POSSIBLY_ELIGIBLE: AMBER, NOT_ELIGIBLE: RED}


def verdict_word(verdict: str) -> str:
    """ "Not eligible": the vocabulary's label for a verdict."""
    return VERDICT_LABELS.get(verdict) or verdict.replace("_", " ").capitalize()


def verdict_label(programme: str, verdict: str) -> str:
    """ "STP: not eligible"."""
    return f"{programme}: {verdict_word(verdict).lower()}"


def test_traffic_note(summary: Summary) -> str:
    """How many conversations were test traffic, and whether the figures include them."""
    n = summary.test_conversations
    conversations = f"{n} conversation{'' if n == 1 else 's'}"
    prefixes = " or ".join(f'"{p}"' for p in (TEST_SENDER_PREFIX, *LEGACY_TEST_SENDER_PREFIXES))
    if summary.test_traffic_included:
        return f"{conversations} included (ids starting {prefixes})"
    return (
        f"{conversations} left out (ids starting {prefixes}; "
        "--include-test-traffic or `make report TEST_TRAFFIC=include` counts them)"
    )


def _test_traffic_line(summary: Summary) -> str:
    return f"  test traffic         {test_traffic_note(summary)}"


def _shorten(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_text(summary: Summary) -> str:
    lines = [f"Conversations from {summary.since} to {summary.until} (UTC)", ""]
    if not summary.messages:
        return "\n".join(
            lines + ["No messages in this period.", f"  test traffic         {test_traffic_note(summary)}"]
        )
    lines += [
        f"  conversations        {summary.conversations}",
        *(f"    in {name:<22} {n}" for name, n in summary.channels),
        f"  sessions             {summary.sessions}",
        f"  messages             {summary.messages} ({summary.button_clicks} of them button clicks)",
        _test_traffic_line(summary),
        "",
        "Most asked topics",
    ]
    lines += [f"  {n:>5}  {title}" for title, n in summary.topics] or ["  none"]
    lines += ["", *_checks_text(summary), ""]
    lines += ["Not understood or low confidence (messages the assistant could not place)"]
    lines += [
        f"  {u.count:>5}  {_shorten(u.text)!r}  (best guess: {u.best_guess}, {u.confidence:.2f})"
        for u in summary.unanswered
    ] or ["  none"]
    lines += ["", *_uncovered_text(summary), ""]
    lines += ["Feedback by topic (most thumbs-down first)"]
    lines += [f"  {down:>3} down {up:>3} up  {title}" for title, up, down in summary.feedback] or ["  none"]
    return "\n".join(lines)


def _checks_text(summary: Summary) -> List[str]:
    lines = [
        "Eligibility checks",
        f"  started              {summary.checks_started}",
        f"  completed            {summary.checks_completed} (a verdict given)",
        f"  not completed        {summary.checks_stopped} (where they stopped: below)",
    ]
    lines += [f"  {n:>5}  {verdict_label(*key)}" for key, n in summary.verdicts.items()]
    lines += ["", "Where unfinished checks stopped (the question each was waiting on, most frequent first)"]
    lines += [
        f"  {s.count:>5}  {s.title}" + (f": \u201c{s.question}\u201d" if s.question else "")
        for s in summary.stopped_checks
    ] or ["  none"]
    return lines


def _uncovered_text(summary: Summary) -> List[str]:
    lines = ["Questions the sources did not cover (the careers team's to-do list, most asked first)"]
    lines += [
        f"  {q.count:>5}  {_shorten(q.text)!r}"
        + (f"  (not covered: {'; '.join(q.not_covered)})" if q.not_covered else "")
        for q in summary.uncovered
    ] or ["  none"]
    if summary.uncovered_total > len(summary.uncovered):
        more = summary.uncovered_total - len(summary.uncovered)
        lines.append(f"  ... and {_plural(more, 'other question')} (--top shows more)")
    return lines


@dataclass
class Chart:
    """A chart as a base64 PNG, with its legend (label, colour) for the page to list."""

    png: str
    legend: List[Tuple[str, str]] = field(default_factory=list)


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# One series of a bar chart: values, a colour (or one a bar) and its legend label.
Series = Tuple[List[int], Any, Optional[str]]


def _horizontal(labels: List[str], xlabel: str, *series: Series) -> Any:
    """Bars across, the first label at the top; several series are stacked. No legend
    on the plot: the page lists it (`Chart.legend`)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 0.45 * len(labels) + 1))
    left = [0] * len(labels)
    for values, colour, _ in series:
        colour = colour[::-1] if isinstance(colour, list) else colour
        axes.barh(labels[::-1], values[::-1], left=left, color=colour)
        left = [a + b for a, b in zip(left, values[::-1], strict=True)]
    axes.set_xlabel(xlabel)
    axes.xaxis.get_major_locator().set_params(integer=True)
    return figure


def _per_day(summary: Summary) -> Any:
    import matplotlib.pyplot as plt

    days = list(summary.messages_per_day)
    figure, axes = plt.subplots(figsize=(7, 2.6))
    axes.bar(range(len(days)), list(summary.messages_per_day.values()), color=BLUE)
    step = max(1, len(days) // 10)
    axes.set_xticks(range(0, len(days), step))
    axes.set_xticklabels([d.isoformat() for d in days[::step]], rotation=45, fontsize=8)
    axes.set_ylabel("messages")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return figure


def figures(summary: Summary) -> Iterator[Tuple[str, Any, List[Tuple[str, str]]]]:
    """Each chart with something to show: its name, the matplotlib figure and its legend."""
    import matplotlib

    matplotlib.use("Agg")

    if summary.messages_per_day:
        yield "messages_per_day", _per_day(summary), []
    if summary.topics:
        yield (
            "topics",
            _horizontal([t for t, _ in summary.topics], "times answered", _one(summary.topics)),
            [],
        )
    if summary.verdicts:
        keys = list(summary.verdicts)
        colours = [VERDICT_COLOURS.get(v, BLUE) for _, v in keys]
        bars = (list(summary.verdicts.values()), colours, None)
        yield "verdicts", _horizontal([verdict_label(*k) for k in keys], "verdicts given", bars), []
    if summary.stopped_checks:
        rows = [(s.title, s.count) for s in summary.stopped_checks]
        yield "stopped_checks", _horizontal([t for t, _ in rows], "checks stopped", _one(rows)), []
    if summary.feedback:
        series: List[Series] = [
            ([d for _, _, d in summary.feedback], RED, "thumbs down"),
            ([u for _, u, _ in summary.feedback], GREEN, "thumbs up"),
        ]
        labels = [t for t, _, _ in summary.feedback]
        yield "feedback", _horizontal(labels, "answers", *series), [(s[2] or "", s[1]) for s in series]


def _one(rows: List[Tuple[str, int]]) -> Series:
    return ([n for _, n in rows], BLUE, None)


def charts(summary: Summary) -> Dict[str, Chart]:
    """Each chart as a base64 PNG with its legend; a chart with nothing to show is left out."""
    import matplotlib.pyplot as plt

    drawn: Dict[str, Chart] = {}
    for name, figure, legend in figures(summary):
        drawn[name] = Chart(_png(figure), legend)
        plt.close(figure)
    return drawn


def format_html(summary: Summary, low_confidence: float) -> str:
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        s=summary,
        charts=charts(summary) if summary.messages else {},
        verdicts=[(programme, verdict_word(v), n) for (programme, v), n in summary.verdicts.items()],
        test_traffic=test_traffic_note(summary),
        made=made,
        low_confidence=low_confidence,
    )
