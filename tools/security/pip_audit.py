"""pip-audit's online answer for the lock files, read with the same triage as the offline audit.

    python -m tools.security.pip_audit PIP_AUDIT [--triage FILE] [--lock FILE ...]

Runs the pip-audit executable PIP_AUDIT on each lock file in `locks.LOCK_FILES`
(`--no-deps --disable-pip`: the pins as written) with JSON output, then sorts its answer
into three: it found advisories, it found none, or it could not ask. pip-audit itself
cannot tell the last two apart: when its service is out of reach it may report each
package as skipped and still exit 0 ("No known vulnerabilities found").

Exit status:
  0  pip-audit asked about every pin; each advisory it found is triaged as in
     `python -m tools.security.audit`
  1  an advisory it found needs a person (untriaged, open past its review date, or
     marked fixed but still affected)
  2  a lock file or the triage file is missing or malformed
  3  pip-audit could not ask its service about every pin: use the offline audit
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from tools.security.audit import COULD_NOT_RUN, NEEDS_A_PERSON, OK, Finding, finding_lines, judge
from tools.security.locks import LockFileError, Pin, default_paths, normalise, read_locks, shown
from tools.security.triage import TRIAGE_FILE, Entry, TriageError, find_entry, load_triage

COULD_NOT_ASK = 3
TIMEOUT_SECONDS = 600


def ask(executable: str, lock: Path) -> Tuple[Optional[List[Mapping[str, Any]]], str]:
    """pip-audit's answer for one lock file (its report's dependencies, None when it gave
    no report) and the last error it wrote. One lock file a run: pip-audit refuses two
    files that pin one package at two versions, as Rasa's and the action server's do."""
    command = [executable, "--requirement", str(lock), "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json", "--aliases", "on", "--desc", "on"]
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "pip-audit.json"
        try:
            done = subprocess.run(
                [*command, "--output", str(report)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, str(error)
        text = report.read_text(encoding="utf-8") if report.is_file() else ""
    errors = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
    return read_report(text), (errors[-1] if errors else "")


def read_report(text: str) -> Optional[List[Mapping[str, Any]]]:
    """The `dependencies` of pip-audit's JSON report, or None when there is no usable report."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    dependencies = data.get("dependencies") if isinstance(data, dict) else None
    return dependencies if isinstance(dependencies, list) else None


def skipped(dependencies: Sequence[Mapping[str, Any]]) -> List[str]:
    """The packages pip-audit could not ask about, each with its reason."""
    return [f"{dep.get('name')}: {dep['skip_reason']}" for dep in dependencies if dep.get("skip_reason")]


def findings_from(
    dependencies: Sequence[Mapping[str, Any]],
    pins: Sequence[Pin],
    entries: Mapping[str, Entry],
    today: dt.date,
) -> List[Finding]:
    """One finding per advisory pip-audit reported for a pin, with its triage."""
    found = []
    for dep in dependencies:
        key, version = normalise(str(dep.get("name", ""))), str(dep.get("version", ""))
        mine = [pin for pin in pins if pin.key == key and pin.version == version]
        for vuln in dep.get("vulns") or ():
            ids = (str(vuln["id"]), *[str(alias) for alias in vuln.get("aliases") or ()])
            entry = find_entry(entries, ids)
            fixed = tuple(str(v) for v in vuln.get("fix_versions") or ())
            found += [Finding(pin, ids[0], ids[1:], fixed, entry, judge(entry, today)) for pin in mine]
    return found


Answer = Tuple[str, Optional[Sequence[Mapping[str, Any]]], str]


def verdict(answers: Sequence[Answer], findings: Sequence[Finding]) -> int:
    """Print what pip-audit's answers (lock file, dependencies, error) mean, and return
    the exit status."""
    could_not_ask = False
    for lock, dependencies, reason in answers:
        if dependencies is None:
            print(
                f"!! pip-audit gave no report for {lock}, so it could not ask its service. {reason}".rstrip()
            )
            could_not_ask = True
        elif missing := skipped(dependencies):
            print(
                f"!! pip-audit could not ask about {len(missing)} of {len(dependencies)} packages in {lock}:"
            )
            print(f"   {missing[0]}")
            could_not_ask = True
    if could_not_ask:
        return COULD_NOT_ASK
    needing = [finding for finding in findings if finding.problem]
    if needing:
        print(f"!! {len(needing)} of the advisories pip-audit found need a person (marked !! above).")
        return NEEDS_A_PERSON
    asked = sum(len(dependencies or ()) for _, dependencies, _ in answers)
    print(f"pip-audit asked about all {asked} pins; the {len(findings)} advisories it found are triaged.")
    return OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("Exit status:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pip_audit", help="the pip-audit executable")
    parser.add_argument("--triage", type=Path, default=TRIAGE_FILE, help="default: security/triage.yml")
    parser.add_argument(
        "--lock", type=Path, action="append", help="a lock file (repeatable; default: locks.LOCK_FILES)"
    )
    args = parser.parse_args(argv)
    try:
        entries = load_triage(args.triage)
        locks = args.lock or default_paths()
        pins, _ = read_locks(locks)
    except (TriageError, LockFileError) as error:
        print(f"!! pip-audit was not run: {error}", file=sys.stderr)
        return COULD_NOT_RUN
    answers: List[Answer] = []
    findings: List[Finding] = []
    for lock in locks:
        dependencies, reason = ask(args.pip_audit, lock)
        answers.append((shown(lock), dependencies, reason))
        mine = [pin for pin in pins if pin.lock == shown(lock)]
        found = findings_from(dependencies or [], mine, entries, dt.date.today())
        if found:
            print(f"{shown(lock)}: pip-audit found {len(found)} advisories")
            print("\n".join(finding_lines(found)))
        findings += found
    return verdict(answers, findings)


if __name__ == "__main__":
    sys.exit(main())
