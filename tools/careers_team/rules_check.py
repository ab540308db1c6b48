"""Is the rules file due a review, and does everything in it cite a source URL?

    python -m tools.careers_team.rules_check [careers/entry_rules.yml] [--max-age-days 365]

Prints when the rules were last reviewed and when the next review is due; warns
when `last_reviewed` is more than a year old, and lists every rule, answer
topic, applying answer, not-covered answer, programme, subject list and next step
whose source is missing, unknown or has no valid URL, and every page an `applying`
answer cites that lacks its page date or was last checked more than a year ago.
Unlike the loader, which stops at the first mistake, it reads
the whole file and lists everything at once. Exit status 0 when all is well, 1
when there is something to fix.

It then lists the project's own readings of the sources (`readings:` in the file,
such as "grade 4 counts as a C") and what relies on each, for whoever reviews the
rules to check against the sources. They are not problems and do not change the
exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Sequence, Tuple, cast

from careers.rules_file import (
    DEFAULT_PATH,
    RulesFileError,
    is_web_address,
    load_rules,
    read_with_lines,
)

if TYPE_CHECKING:
    # The type of every mapping `read_with_lines` returns (a dict knowing its keys' lines).
    from careers.rules_file import _Lined

MAX_AGE_DAYS = 365


@dataclass(frozen=True)
class Finding:
    line: int
    message: str


def review_age(raw: Any, today: dt.date, max_age_days: int) -> List[Finding]:
    reviewed = raw.get("last_reviewed")
    line = raw.lines.get("last_reviewed", 1)
    if not isinstance(reviewed, dt.date):
        return [Finding(line, "'last_reviewed' is missing or not a date like 2026-09-30")]
    age = (today - reviewed).days
    if age > max_age_days:
        return [
            Finding(
                line,
                f"the rules were last reviewed on {reviewed}, {age} days ago "
                f"(more than {max_age_days}): check them against the sources "
                "and update 'last_reviewed'",
            )
        ]
    if age < 0:
        return [Finding(line, f"'last_reviewed' ({reviewed}) is in the future")]
    return []


def review_schedule(path: Path, today: dt.date, max_age_days: int) -> Optional[str]:
    """When the rules were last reviewed and when the next review is due (the last
    plus `max_age_days`), for the careers team's diary; None if the file has no date."""
    try:
        reviewed = read_with_lines(path).get("last_reviewed")
    except RulesFileError:
        return None
    if not isinstance(reviewed, dt.date):
        return None
    due = reviewed + dt.timedelta(days=max_age_days)
    left = (due - today).days
    when = f"in {left} days" if left > 0 else ("today" if left == 0 else f"{-left} days ago")
    return f"Last reviewed on {reviewed.isoformat()}; next review due by {due.isoformat()} ({when})."


def _citations(raw: Any) -> Iterator[Tuple[str, Any, str, int]]:
    """(what, entry, key, line of its name) for every place that names a source."""
    sections = (
        ("rules", "rule", ("source", "links")),
        ("topics", "topic", ("sources",)),
        ("applying", "applying answer", ("sources",)),
        ("not_covered", "not-covered answer", ("read",)),
        ("programmes", "programme", ("source",)),
        ("subjects", "subject list", ("source",)),
    )
    for section, kind, keys in sections:
        for name, entry, line in _items(raw.get(section)):
            for key in keys:
                if key in entry or key in ("source", "sources"):
                    yield f"{kind} '{name}'", entry, key, line
    for programme, verdicts, _ in _items(raw.get("next_steps")):
        for verdict, entry, line in _items(verdicts):
            yield f"next step '{programme}/{verdict}'", entry, "link", line


def _items(section: Any) -> List[Tuple[str, Any, int]]:
    """(name, entry, line of the name) for each mapping in a section."""
    if not isinstance(section, dict):
        return []
    lined = cast("_Lined", section)  # every mapping `read_with_lines` returns is one
    return [(str(k), v, lined.lines.get(k, 1)) for k, v in lined.items() if isinstance(v, dict)]


def missing_sources(raw: Any) -> List[Finding]:
    sources = raw.get("sources") if isinstance(raw.get("sources"), dict) else {}
    findings = []
    for key, entry, line in _items(sources):
        if not is_web_address(entry.get("url")):
            findings.append(Finding(entry.lines.get("url", line), f"source '{key}' has no valid URL"))
    for what, entry, key, name_line in _citations(raw):
        line = entry.lines.get(key, name_line)
        refs = entry.get(key)
        if refs is None:
            findings.append(Finding(line, f"{what} names no source ('{key}:' is missing)"))
            continue
        for ref in refs if isinstance(refs, list) else [refs]:
            if not isinstance(ref, str) or ref not in sources:
                findings.append(Finding(line, f"{what} cites '{ref}', which is not under 'sources'"))
            elif not is_web_address(sources[ref].get("url") if isinstance(sources[ref], dict) else None):
                findings.append(Finding(line, f"{what} cites '{ref}', which has no URL"))
    return findings


def page_reviews(raw: Any, today: dt.date, max_age_days: int) -> List[Finding]:
    """The pages an `applying` answer rests on (the National School's applicant pages)
    must each say when the page was dated and when it was last checked, within a year."""
    sources = raw.get("sources") if isinstance(raw.get("sources"), dict) else {}
    cited = {
        ref
        for _, entry, _ in _items(raw.get("applying"))
        for ref in (entry.get("sources") if isinstance(entry.get("sources"), list) else [])
        if isinstance(ref, str)
    }
    # Pages the careers page itself links to are reviewed with the whole file.
    elsewhere = {
        ref
        for what, entry, key, _ in _citations(raw)
        if not what.startswith("applying")
        for ref in (entry.get(key) if isinstance(entry.get(key), list) else [entry.get(key)])
        if isinstance(ref, str)
    }
    findings = []
    for key, entry, line in _items(sources):
        if (key not in cited or key in elsewhere) and "last_reviewed" not in entry:
            continue
        reviewed = entry.get("last_reviewed")
        if not isinstance(reviewed, dt.date):
            findings.append(
                Finding(line, f"source '{key}' has no 'last_reviewed' date (an applying answer cites it)")
            )
        elif (today - reviewed).days > max_age_days:
            findings.append(
                Finding(
                    entry.lines.get("last_reviewed", line),
                    f"source '{key}' was last checked on {reviewed}: check its facts against the page again",
                )
            )
        if not entry.get("page_date"):
            findings.append(
                Finding(line, f"source '{key}' has no 'page_date' (the date or year the page showed)")
            )
    return findings


def check(path: Path, today: dt.date, max_age_days: int = MAX_AGE_DAYS) -> List[Finding]:
    """Everything to fix in the rules file at `path`, in line order."""
    try:
        raw = read_with_lines(path)
    except RulesFileError as error:
        return [_finding_from(error)]
    findings = (
        review_age(raw, today, max_age_days) + missing_sources(raw) + page_reviews(raw, today, max_age_days)
    )
    if not findings:
        try:
            load_rules(path)
        except RulesFileError as error:  # anything else the loader would refuse
            findings.append(_finding_from(error, "the assistant would not load it: "))
    return sorted(set(findings), key=lambda f: (f.line, f.message))


def _finding_from(error: RulesFileError, prefix: str = "") -> Finding:
    """A loader error ('<file>:<line>: <what>') as a finding."""
    match = re.match(r"^.*?:(\d+): (.*)$", str(error), re.DOTALL)
    if match:
        return Finding(int(match.group(1)), prefix + match.group(2))
    return Finding(1, prefix + str(error).split(": ", 1)[-1])


def readings_report(path: Path) -> List[str]:
    """The project's own readings of the sources, each with what relies on it."""
    try:
        rules = load_rules(path)
    except RulesFileError:
        return []
    lines = [f"The project's own readings of the sources ({len(rules.readings)}), for review:"]
    for key, reading in rules.readings.items():
        lines.append(f"  {key} (on {reading.source.title}): {reading.text}")
        lines.append(f"      relied on by: {', '.join(rules.reading_uses[key])}")
    lines.append(f"\nAnswers from the National School's applicant pages ({len(rules.applying)}), for review:")
    for key, answer in rules.applying.items():
        for source in answer.sources:
            lines.append(
                f"  {key}: {source.url} (page: {source.page_date or 'see the careers page'}; "
                f"checked: {source.last_reviewed or 'with the file'})"
            )
    return lines


def main(argv: Optional[Sequence[str]] = None, today: Optional[dt.date] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument(
        "--max-age-days",
        type=int,
        default=MAX_AGE_DAYS,
        help=f"warn when the last review is older than this (default {MAX_AGE_DAYS})",
    )
    args = parser.parse_args(argv)
    today = today or dt.date.today()
    findings = check(args.path, today, args.max_age_days)
    schedule = review_schedule(args.path, today, args.max_age_days)
    if schedule:
        print(schedule)
    if not findings:
        print(
            f"{args.path}: reviewed within {args.max_age_days} days, and every rule, "
            "answer and next step cites a source with a URL."
        )
    else:
        print(f"{args.path}: {len(findings)} thing(s) to fix")
        for finding in findings:
            print(f"  {args.path}:{finding.line}: {finding.message}")
    report = readings_report(args.path)
    if report:
        print("\n" + "\n".join(report))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
