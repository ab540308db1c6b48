"""What people asked the assistant, read from the tracker store.

    python -m tools.careers_team.report                                  # the last 30 days
    python -m tools.careers_team.report --since 2026-09-01 --until 2026-09-30 --html docs/report.html
    python -m tools.careers_team.report --include-test-traffic           # tests' and scripts' too

Reads the store named under `tracker_store` in endpoints.yml through SQLAlchemy,
with the same connection settings Rasa uses, so the SQLite default and a
PostgreSQL store both work. Read-only: it never writes to the store. Dates are
UTC and both ends are included. Conversations of test traffic (ids starting "test-"
or "script-", channels.ownership.is_test_traffic) are left out and counted, unless
--include-test-traffic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Optional, Sequence

from careers.rules_file import default_rules
from runtime.store_config import StoreConfigError, database_url
from tools.careers_team.report.output import format_html, format_text
from tools.careers_team.report.store import ReportError, read_events
from tools.careers_team.report.summary import summarise

ROOT = Path(__file__).resolve().parents[3]


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


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be 1 or more")
    return value


def main(argv: Optional[Sequence[str]] = None, today: Optional[dt.date] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=ROOT / "endpoints.yml",
        help="where the tracker store is configured (default: endpoints.yml)",
    )
    parser.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (default: 29 days before --until)")
    parser.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--html", type=Path, help="also write an HTML page with charts here")
    parser.add_argument(
        "--low-confidence",
        type=_confidence,
        default=0.5,
        help="list messages whose intent scored below this (default 0.5)",
    )
    parser.add_argument(
        "--top", type=_count, default=10, help="how many topics to list (questions: twice as many)"
    )
    parser.add_argument(
        "--include-test-traffic",
        action="store_true",
        help="count the conversations of tests, benchmarks and scripts too (left out by default)",
    )
    args = parser.parse_args(argv)
    until = args.until or today or dt.datetime.now(dt.timezone.utc).date()
    since = args.since or until - dt.timedelta(days=29)
    if since > until:
        parser.error(f"--since {since} is after --until {until}")
    start = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    try:
        events = read_events(database_url(args.endpoints), start, end)
        summary = summarise(
            events,
            default_rules(),
            since,
            until,
            args.low_confidence,
            args.top,
            include_test_traffic=args.include_test_traffic,
        )
    except (ReportError, StoreConfigError) as error:
        print(f"Cannot make the report: {error}", file=sys.stderr)
        return 2
    print(format_text(summary))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(format_html(summary, args.low_confidence), encoding="utf-8")
        print(f"\nHTML report: {args.html}")
    return 0
