"""Which known advisories apply to the pinned packages, offline, and has each been triaged?

    python -m tools.security.audit [--snapshot FILE] [--triage FILE] [--lock FILE ...]
                                   [--max-age-days 30] [--doc]

Reads every pin in the lock files (`locks.LOCK_FILES`), finds the advisories in the
snapshot of the PyPA advisory database (`snapshot.py`) whose version ranges hold the
pinned version, and prints them with the triage from `security/triage.yml`. It says
how old the snapshot is, and warns past --max-age-days: advisories published since
then are not known to it. `--doc` prints the triage table for docs/security.md instead.

Exit status:
  0  every advisory that applies is triaged not-reachable, or open within its review date
  1  something needs a person: an advisory with no triage entry, an open one past its
     review date, or one marked fixed whose pinned version is still affected
  2  the audit could not run: the snapshot, a lock file or the triage file is missing or
     malformed, or a pinned package is not covered by the snapshot (make it again)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from tools.security.locks import LockFileError, Pin, default_paths, read_locks
from tools.security.osv import match
from tools.security.snapshot import SnapshotError, find_snapshot, load_snapshot, snapshot_age
from tools.security.triage import (
    FIXED,
    OPEN,
    TRIAGE_FILE,
    Entry,
    TriageError,
    added_advisories,
    find_entry,
    load_triage,
)

OK, NEEDS_A_PERSON, COULD_NOT_RUN = 0, 1, 2
MAX_AGE_DAYS = 30
UNTRIAGED = "UNTRIAGED"
DOC_START = "<!-- triage table: made by `python -m tools.security.audit --doc` from security/triage.yml -->"
DOC_END = "<!-- end of triage table -->"


@dataclass(frozen=True)
class Finding:
    """One advisory that applies to one pin, with its triage and what, if anything, is wrong."""

    pin: Pin
    id: str
    aliases: Tuple[str, ...]
    fixed_in: Tuple[str, ...]
    entry: Optional[Entry]
    problem: Optional[str]
    # Recorded only in triage.yml (`fixed_in`): the snapshot does not hold it.
    outside_snapshot: bool = False

    @property
    def status(self) -> str:
        return self.entry.status if self.entry else UNTRIAGED


def judge(entry: Optional[Entry], today: dt.date) -> Optional[str]:
    """What needs a person about an advisory that applies, given its triage (None: nothing)."""
    if entry is None:
        return "no triage entry: add one to security/triage.yml"
    if entry.status == FIXED:
        return "triaged as fixed, but the pinned version is still affected"
    if entry.status == OPEN and entry.review_by is not None and entry.review_by < today:
        return f"open, and its review date {entry.review_by} has passed"
    return None


def applicable(
    pins: Sequence[Pin],
    advisories: Mapping[str, Sequence[Mapping[str, Any]]],
    entries: Mapping[str, Entry],
    today: dt.date,
) -> List[Finding]:
    """Every (pin, advisory) where the advisory's ranges hold the pinned version."""
    found = []
    for pin in pins:
        for advisory in advisories.get(pin.key, ()):
            hit = match(advisory, pin.key, pin.version)
            if hit is None:
                continue
            ids = (str(advisory["id"]), *advisory.get("aliases", ()))
            entry = find_entry(entries, ids)
            outside = advisory.get("recorded_in") == "triage"
            found.append(
                Finding(pin, ids[0], tuple(ids[1:]), hit.fixed_in, entry, judge(entry, today), outside)
            )
    return found


def all_advisories(
    snapshot: Mapping[str, Any], entries: Mapping[str, Entry]
) -> Dict[str, List[Mapping[str, Any]]]:
    """The snapshot's advisories by package, plus those recorded only in the triage file
    (skipped where the snapshot already holds them under another id)."""
    merged: Dict[str, List[Mapping[str, Any]]] = {k: list(v) for k, v in snapshot["advisories"].items()}
    known = {name for listed in merged.values() for a in listed for name in (a["id"], *a.get("aliases", ()))}
    for advisory in added_advisories(entries):
        if not ({advisory["id"], *advisory["aliases"]} & known):
            merged.setdefault(advisory["affected"][0]["package"]["name"], []).append(advisory)
    return merged


def stale_entries(entries: Mapping[str, Entry], findings: Sequence[Finding]) -> List[Entry]:
    """Entries not marked fixed whose advisory no longer applies to any pin (after a pin
    was raised, say): they should now say fixed, or go."""
    used = {finding.entry.id for finding in findings if finding.entry}
    return [entry for entry in entries.values() if entry.status != FIXED and entry.id not in used]


def table(rows: Sequence[Sequence[str]]) -> List[str]:
    """Plain text columns, each as wide as its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def finding_lines(findings: Sequence[Finding]) -> List[str]:
    """The findings of one lock file as a table, each needing a person flagged below its row."""
    rows = [["package", "pinned", "advisory (aliases)", "fixed in", "triage"]]
    notes: Dict[int, str] = {}
    for finding in sorted(findings, key=lambda f: (f.pin.key, f.id)):
        aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
        aliases += " *" if finding.outside_snapshot else ""
        status = finding.status + (
            f" until {finding.entry.review_by}" if finding.entry and finding.entry.review_by else ""
        )
        rows.append(
            [
                finding.pin.name,
                finding.pin.version,
                finding.id + aliases,
                ", ".join(finding.fixed_in) or "-",
                status,
            ]
        )
        if finding.problem:
            notes[len(rows) - 1] = finding.problem
    lines = []
    for number, line in enumerate(table(rows)):
        lines.append("  " + line)
        if number in notes:
            lines.append(f"    !! {notes[number]}")
    if any(finding.outside_snapshot for finding in findings):
        lines.append(
            "  * not in the snapshot: recorded in security/triage.yml with the version that fixes it"
        )
    return lines


def stub(findings: Sequence[Finding]) -> List[str]:
    """Entries to paste into security/triage.yml for the untriaged advisories."""
    lines = []
    for finding in sorted({f.id: f for f in findings if f.entry is None}.values(), key=lambda f: f.id):
        lines += [f"  {finding.id}:", f"    package: {finding.pin.key}"]
        if finding.aliases:
            lines.append(f"    aliases: [{', '.join(finding.aliases)}]")
        lines += ["    status: not-reachable  # or open (with review_by: YYYY-MM-DD)", "    why: ..."]
    return lines


def report(
    findings: Sequence[Finding], pins: Sequence[Pin], locks: Sequence[str], notes: Sequence[str]
) -> List[str]:
    """The whole report: per lock file, the advisories that apply; then what needs a person."""
    lines: List[str] = []
    for lock in locks:
        mine = [finding for finding in findings if finding.pin.lock == lock]
        count = sum(1 for pin in pins if pin.lock == lock)
        lines.append(f"{lock}: {count} pins, {len(mine)} advisories apply")
        lines += finding_lines(mine) if mine else ["  (none)"]
        lines.append("")
    lines += [f"note: {note}" for note in notes]
    missing = stub(findings)
    if missing:
        lines += [
            "",
            "Paste into security/triage.yml under 'advisories:', then fill in status and why:",
            *missing,
        ]
    return lines


def doc_table(entries: Mapping[str, Entry]) -> List[str]:
    """The triage as the markdown table docs/security.md shows, between its markers."""
    lines = [DOC_START, "", "| package | advisory | status | why |", "|---|---|---|---|"]
    for entry in sorted(entries.values(), key=lambda e: (e.package, e.id)):
        ids = entry.id + (f" ({', '.join(entry.aliases)})" if entry.aliases else "")
        status = entry.status + (f" (review by {entry.review_by})" if entry.review_by else "")
        outside = f" Not in the snapshot; fixed in {entry.fixed_in}." if entry.fixed_in else ""
        lines.append(f"| {entry.package} | {ids} | {status} | {entry.why.replace('|', '/')}{outside} |")
    return [*lines, "", DOC_END]


def age_lines(snapshot: Mapping[str, Any], today: dt.date, max_age: int) -> Tuple[List[str], int]:
    """Where the snapshot came from and how old it is, with a warning when too old."""
    age = snapshot_age(snapshot, today)
    lines = [
        f"Advisory snapshot: {snapshot['source']} at {str(snapshot['commit'])[:12]}, "
        f"dated {snapshot['snapshot_date']}: {age} days old."
    ]
    if age > max_age:
        lines.append(
            f"!! The snapshot is older than {max_age} days: advisories published since "
            f"{snapshot['snapshot_date']} are not in it. Make a new one (docs/security.md, Dependency audit)."
        )
    return lines, age


def run(args: argparse.Namespace) -> int:
    """The audit itself; returns the exit status."""
    today = args.today or dt.date.today()
    try:
        entries = load_triage(args.triage)
        if args.doc:
            print("\n".join(doc_table(entries)))
            return OK
        snapshot = load_snapshot(args.snapshot or find_snapshot())
        lock_paths = args.lock or default_paths()
        pins, notes = read_locks(lock_paths)
    except (TriageError, SnapshotError, LockFileError) as error:
        print(f"!! The audit could not run: {error}", file=sys.stderr)
        return COULD_NOT_RUN
    header, _ = age_lines(snapshot, today, args.max_age_days)
    findings = applicable(pins, all_advisories(snapshot, entries), entries, today)
    locks = list(dict.fromkeys(pin.lock for pin in pins))
    print("\n".join(header + [""] + report(findings, pins, locks, notes)))
    return verdict(findings, pins, snapshot, entries)


def verdict(
    findings: Sequence[Finding],
    pins: Sequence[Pin],
    snapshot: Mapping[str, Any],
    entries: Mapping[str, Entry],
) -> int:
    """The exit status, with a closing line saying why."""
    for entry in stale_entries(entries, findings):
        print(
            f"note: {entry.id} ({entry.package}) no longer applies to any pin: mark it fixed, or remove it."
        )
    uncovered = sorted({pin.key for pin in pins} - set(snapshot["packages"]))
    if uncovered:
        print(
            f"!! The snapshot does not cover {', '.join(uncovered)}: "
            "make it again (python -m tools.security.snapshot)."
        )
        return COULD_NOT_RUN
    needing = [finding for finding in findings if finding.problem]
    if needing:
        print(f"!! {len(needing)} of the advisories that apply need a person (marked !! above).")
        return NEEDS_A_PERSON
    print(f"All {len(findings)} advisories that apply are triaged (security/triage.yml).")
    return OK


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("Exit status:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument(
        "--snapshot",
        type=Path,
        help="the advisory snapshot (default: the first of snapshot.snapshot_places())",
    )
    made.add_argument("--triage", type=Path, default=TRIAGE_FILE, help="default: security/triage.yml")
    made.add_argument(
        "--lock", type=Path, action="append", help="a lock file (repeatable; default: locks.LOCK_FILES)"
    )
    made.add_argument(
        "--max-age-days", type=int, default=MAX_AGE_DAYS, help="warn when the snapshot is older (default: 30)"
    )
    made.add_argument("--today", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    made.add_argument(
        "--doc", action="store_true", help="print the triage table for docs/security.md and stop"
    )
    return made


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
