"""The report as text for the terminal, and as an HTML page with charts (drawn by
matplotlib) from the template `page.html` beside this file."""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from careers.vocabulary import ELIGIBLE, NOT_ELIGIBLE, POSSIBLY_ELIGIBLE
from tools.careers_team.report.summary import Summary

TEMPLATE = Path(__file__).with_name("page.html")


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
        *(f"    in {name:<22} {n}" for name, n in summary.channels),
        f"  sessions             {summary.sessions}",
        f"  messages             {summary.messages} ({summary.button_clicks} of them button clicks)",
        "",
        "Most asked topics",
    ]
    lines += [f"  {n:>5}  {title}" for title, n in summary.topics] or ["  none"]
    lines += [
        "",
        "Eligibility checks",
        f"  started              {summary.checks_started}",
        f"  completed            {summary.checks_completed} (a verdict given)",
    ]
    lines += [
        f"  {n:>5}  {programme}: {_label(verdict)}" for (programme, verdict), n in summary.verdicts.items()
    ]
    lines += ["", "Not understood or low confidence (the questions the content does not yet answer)"]
    lines += [
        f"  {u.count:>5}  {_shorten(u.text)!r}  (best guess: {u.best_guess or 'none'}, {u.confidence:.2f})"
        for u in summary.unanswered
    ] or ["  none"]
    lines += ["", "Feedback by topic (most thumbs-down first)"]
    lines += [f"  {down:>3} down {up:>3} up  {title}" for title, up, down in summary.feedback] or ["  none"]
    return "\n".join(lines)


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

    def horizontal(
        name: str, labels: List[str], xlabel: str, *series: Tuple[List[int], Any, Optional[str]]
    ) -> None:
        """Bars across, the first label at the top; several series (values, colour
        or one colour a bar, legend) are stacked."""
        figure, axes = plt.subplots(figsize=(7, 0.45 * len(labels) + 1))
        left = [0] * len(labels)
        for values, colour, legend in series:
            colour = colour[::-1] if isinstance(colour, list) else colour
            axes.barh(labels[::-1], values[::-1], left=left, color=colour, label=legend)
            left = [a + b for a, b in zip(left, values[::-1], strict=True)]
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
        horizontal(
            "topics",
            [t for t, _ in summary.topics],
            "times answered",
            ([n for _, n in summary.topics], blue, None),
        )
    if summary.verdicts:
        colours = {ELIGIBLE: green, POSSIBLY_ELIGIBLE: amber, NOT_ELIGIBLE: red}
        horizontal(
            "verdicts",
            [f"{p}: {_label(v)}" for p, v in summary.verdicts],
            "verdicts given",
            (list(summary.verdicts.values()), [colours.get(v, blue) for _, v in summary.verdicts], None),
        )
    if summary.feedback:
        horizontal(
            "feedback",
            [t for t, _, _ in summary.feedback],
            "answers",
            ([d for _, _, d in summary.feedback], red, "thumbs down"),
            ([u for _, u, _ in summary.feedback], green, "thumbs up"),
        )
    return drawn


def format_html(summary: Summary, low_confidence: float) -> str:
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        s=summary,
        charts=charts(summary) if summary.messages else {},
        made=made,
        low_confidence=low_confidence,
    )
