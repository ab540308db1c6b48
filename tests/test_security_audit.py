"""The offline dependency audit (tools/security/): OSV version matching, the snapshot, the
triage of the current pins, the doc's table, exit statuses, and reading pip-audit's answer."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from tests.conftest import ROOT
from tools.security import audit, pip_audit
from tools.security.locks import LOCK_FILES, default_paths, normalise, parse_lock, read_locks
from tools.security.osv import match
from tools.security.snapshot import (
    SnapshotError,
    find_snapshot,
    load_snapshot,
    make_snapshot,
    snapshot_problems,
    trim,
    write_snapshot,
)
from tools.security.triage import FIXED, TriageError, load_triage

DOC = ROOT / "docs" / "security.md"
TODAY = dt.date(2026, 12, 7)


def advisory(
    events: List[Dict[str, str]], versions: Optional[List[str]] = None, name: str = "demo", **extra: Any
) -> Dict[str, Any]:
    """An OSV advisory for one PyPI package with one ECOSYSTEM range."""
    affected: Dict[str, Any] = {
        "package": {"ecosystem": "PyPI", "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": events}] if events else [],
    }
    if versions is not None:
        affected["versions"] = versions
    return {"id": "TEST-1", "aliases": [], "affected": [affected], **extra}


# Fixes on two release lines, in one list of events; and the same listed out of order.
TWO_LINES = [{"introduced": "0"}, {"fixed": "1.15.4"}, {"introduced": "2.0.0"}, {"fixed": "2.0.3"}]
OUT_OF_ORDER = TWO_LINES[2:] + TWO_LINES[:2]

# (events, versions list, pinned version, affected?) - read as a specification of OSV matching.
MATCHING = [
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "1.9", True),
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "0.1", True),
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "2.0", False),
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "2.0rc1", True),  # a pre-release comes before 2.0
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "2.0.post1", False),  # a post-release after it
    ([{"introduced": "0"}, {"fixed": "2.0"}], None, "2.0.0", False),  # 2.0 and 2.0.0 are one version
    ([{"introduced": "1.5"}, {"fixed": "2.0"}], None, "1.4.9", False),
    ([{"introduced": "1.5"}, {"fixed": "2.0"}], None, "1.5", True),
    ([{"introduced": "1.5"}, {"fixed": "2.0"}], None, "1.10", True),  # versions compare as numbers, not text
    ([{"introduced": "0"}, {"last_affected": "1.3"}], None, "1.3", True),
    ([{"introduced": "0"}, {"last_affected": "1.3"}], None, "1.3.1", False),
    ([{"introduced": "0"}, {"last_affected": "1.3"}], None, "1.3rc1", True),
    ([{"introduced": "0"}], None, "99.0", True),  # no fix yet
    ([{"introduced": "0"}, {"limit": "3.0"}], None, "3.1", False),
    (TWO_LINES, None, "1.15.3", True),
    (TWO_LINES, None, "1.16", False),
    (TWO_LINES, None, "2.0.2", True),
    (TWO_LINES, None, "2.0.3", False),
    (OUT_OF_ORDER, None, "1.16", False),  # events are put in version order first
    (OUT_OF_ORDER, None, "2.0.1", True),
    # Explicit versions: a listed version applies even outside every range.
    ([], ["3.1", "3.2"], "3.1", True),
    ([], ["3.1", "3.2"], "3.1.0", True),
    ([], ["3.1", "3.2"], "3.3", False),
    ([{"introduced": "0"}, {"fixed": "1.0"}], ["5.0"], "5.0", True),
    ([], ["1.0-custom-build"], "1.0-custom-build", True),  # not PEP 440: matched as written
    ([{"introduced": "0"}], None, "not a version", False),  # a range cannot hold what is not a version
]


@pytest.mark.parametrize(("events", "versions", "pinned", "affected"), MATCHING)
def test_a_version_is_affected_as_the_osv_ranges_say(events, versions, pinned, affected):
    assert (match(advisory(events, versions), "demo", pinned) is not None) is affected


def test_two_separate_ranges_each_count():
    both = advisory([{"introduced": "0"}, {"fixed": "1.0"}])
    later = {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.2"}]}
    both["affected"][0]["ranges"].append(later)
    answers = [match(both, "demo", v) is not None for v in ("0.5", "2.0", "3.1", "3.2")]
    assert answers == [True, False, True, False]


def test_git_ranges_are_not_read_as_versions():
    git_only = advisory([])
    commits = [{"introduced": "0"}, {"fixed": "abc123"}]
    git_only["affected"][0]["ranges"] = [{"type": "GIT", "events": commits}]
    assert match(git_only, "demo", "1.0") is None


@pytest.mark.parametrize("pinned_name", ["ruamel.yaml", "ruamel_yaml", "Ruamel-YAML", "ruamel.-yaml"])
def test_package_names_match_once_normalised(pinned_name):
    found = advisory([{"introduced": "0"}, {"fixed": "1.0"}], name="ruamel.yaml")
    assert normalise(pinned_name) == "ruamel-yaml"
    assert match(found, pinned_name, "0.17.21") is not None
    assert match(found, "ruamel-yaml-clib", "0.17.21") is None
    assert match(found, "ruamelyaml", "0.17.21") is None  # PEP 503 keeps the separator


def test_another_ecosystem_and_a_withdrawn_advisory_affect_nothing():
    npm = advisory([{"introduced": "0"}])
    npm["affected"][0]["package"]["ecosystem"] = "npm"
    assert match(npm, "demo", "1.0") is None
    assert match(advisory([{"introduced": "0"}], withdrawn="2024-01-01T00:00:00Z"), "demo", "1.0") is None


def test_the_nearest_fix_is_named_first():
    lines = advisory(TWO_LINES)
    found = match(lines, "demo", "2.0.1")
    assert found is not None and found.fixed_in == ("2.0.3",)  # 1.15.4 is older than the pin
    found = match(lines, "demo", "1.2")
    assert found is not None and found.fixed_in == ("1.15.4", "2.0.3")
    found = match(advisory([{"introduced": "0"}, {"fixed": "3.0"}, {"fixed": "2.5"}]), "demo", "1.0")
    assert found is not None and found.fixed_in == ("2.5", "3.0")


def test_lock_files_are_read_as_pins_and_the_rest_is_noted():
    text = "# comment\nPyYAML==6.0.3\nuvicorn[standard]==0.30.0 ; python_version >= '3.8'\n-r other.txt\n"
    text += "local @ file:///tmp/local.whl\n--hash=sha256:00\n"
    pins, unpinned = parse_lock(text, "x.txt")
    assert [(p.key, p.version) for p in pins] == [("pyyaml", "6.0.3"), ("uvicorn", "0.30.0")]
    assert unpinned == ["local @ file:///tmp/local.whl"]


# The snapshot.


def test_trimming_keeps_what_the_audit_uses_and_drops_versions_the_ranges_hold():
    raw = {
        "id": "PYSEC-1",
        "aliases": ["CVE-1"],
        "details": "Something bad happens. More detail here.\n\nAnd more.",
        "published": "2024-01-02T03:04:05Z",
        "references": [{"type": "WEB", "url": "https://a"}, {"type": "ADVISORY", "url": "https://b"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
                "ranges": [
                    {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]},
                ],
                "versions": ["1.0", "1.5", "7.0"],
            },
            {"package": {"ecosystem": "PyPI", "name": "other"}, "versions": ["1.0"]},
        ],
    }
    kept = trim(raw, "demo-pkg")
    assert kept is not None
    assert kept["summary"] == "Something bad happens."
    assert kept["url"] == "https://b" and kept["published"] == "2024-01-02"
    (only,) = kept["affected"]
    assert only["ranges"] == [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]
    assert only["versions"] == ["7.0"]  # 1.0 and 1.5 are inside the range already
    for version in ("1.0", "1.5", "7.0", "3.0"):  # trimming changes no answer
        assert (match(kept, "demo-pkg", version) is None) == (match(raw, "demo-pkg", version) is None)
    assert trim({**raw, "withdrawn": "2024-02-01"}, "demo-pkg") is None


def _git(repo: Path, *args: str) -> None:
    """git in `repo`, as a fixed person on a fixed date, so the snapshot's date is known."""
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(repo)}
    for who in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{who}_NAME"], env[f"GIT_{who}_EMAIL"] = "t", "t@example.org"
        env[f"GIT_{who}_DATE"] = "2024-10-10T12:00:00Z"
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_a_snapshot_is_made_from_a_copy_of_the_database_and_dated_by_its_commit(tmp_path):
    repo = tmp_path / "db"
    for package, name, fixed in (("PyYAML", "PYSEC-1", "6.0"), ("unrelated", "PYSEC-2", "1.0")):
        folder = repo / "vulns" / package
        folder.mkdir(parents=True)
        body = f"id: {name}\nsummary: A problem\naffected:\n- package: {{ecosystem: PyPI, name: {package}}}\n"
        body += "  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: '0'\n"
        body += f"    - fixed: '{fixed}'\n"
        (folder / f"{name}.yaml").write_text(body)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "advisories")
    data = make_snapshot(repo / ".git", ["pyyaml", "requests"])
    assert data["snapshot_date"] == "2024-10-10" and len(data["commit"]) == 40
    assert data["packages"] == ["pyyaml", "requests"]
    assert [a["id"] for a in data["advisories"]["pyyaml"]] == ["PYSEC-1"]
    assert "unrelated" not in data["advisories"]
    out = tmp_path / "snapshot.json"
    write_snapshot(data, out)
    assert load_snapshot(out) == json.loads(out.read_text())


def test_a_malformed_snapshot_is_refused_with_the_reason():
    assert snapshot_problems([]) == ["it is not a JSON object"]
    good = {"source": "s", "commit": "c", "snapshot_date": "2024-10-10", "packages": [], "advisories": {}}
    assert snapshot_problems(good) == []
    undated = snapshot_problems({**good, "snapshot_date": "last year"})
    assert undated == ["'snapshot_date' is not a date like 2024-10-10"]
    incomplete = snapshot_problems({**good, "advisories": {"x": [{"id": "A"}]}})
    assert incomplete == ["an advisory for x lacks an id or 'affected'"]
    assert snapshot_problems({**good, "commit": ""}) == ["'commit' is missing"]


def _real_snapshot() -> Dict[str, Any]:
    """The snapshot the audit would use here; the test is skipped where there is none."""
    try:
        return load_snapshot(find_snapshot())
    except SnapshotError as error:
        pytest.skip(str(error))


def test_the_snapshot_in_use_is_well_formed_dated_and_covers_every_pinned_package():
    data = _real_snapshot()
    assert snapshot_problems(data) == []
    assert dt.date.fromisoformat(data["snapshot_date"]) <= dt.date.today()
    pins, _ = read_locks(default_paths())
    assert {pin.key for pin in pins} <= set(data["packages"])


# The triage of the current pins, and the doc.


def _findings(data: Dict[str, Any]) -> List[audit.Finding]:
    entries = load_triage()
    pins, _ = read_locks(default_paths())
    return audit.applicable(pins, audit.all_advisories(data, entries), entries, dt.date.today())


def test_every_advisory_the_snapshot_applies_to_the_pins_is_triaged():
    findings = _findings(_real_snapshot())
    assert [(f.pin.lock, f.pin.name, f.id, f.problem) for f in findings if f.problem] == []


def test_no_triage_entry_is_left_over_from_older_pins():
    entries = load_triage()
    assert [e.id for e in audit.stale_entries(entries, _findings(_real_snapshot()))] == []


def test_each_advisory_recorded_by_hand_says_fixed_exactly_when_no_pin_is_below_its_fix():
    """Needs no snapshot: the entries with `fixed_in` carry their own range."""
    entries = load_triage()
    empty = {"source": "s", "commit": "c", "snapshot_date": "2024-10-10", "packages": [], "advisories": {}}
    applying = {f.entry.id for f in _findings(empty) if f.entry}
    for entry in entries.values():
        if entry.fixed_in:
            assert (entry.id in applying) is (entry.status != FIXED), entry.id


def test_the_lock_files_are_listed_in_one_place():
    assert all(path.is_file() for path in default_paths()), LOCK_FILES
    recipe = (ROOT / "Makefile").read_text().split("\naudit:", 1)[1].split("\n\n", 1)[0]
    assert not [name for name in LOCK_FILES if name in recipe]  # the Makefile asks tools/security


def _doc_table() -> List[str]:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(audit.DOC_START), text.index(audit.DOC_END) + len(audit.DOC_END)
    return text[start:end].splitlines()


def test_the_doc_shows_the_triage_file_as_it_is():
    assert _doc_table() == audit.doc_table(load_triage()), "run python -m tools.security.audit --doc"


def test_the_doc_lists_every_advisory_that_applies():
    table = "\n".join(_doc_table())
    listed = [f.entry.id if f.entry else f.id for f in _findings(_real_snapshot())]
    assert [name for name in listed if f"| {name} " not in table] == []


# Exit statuses, on files made here.


@pytest.fixture
def files(tmp_path):
    """A lock, a snapshot with one advisory for it, and a triage file to fill in."""
    (tmp_path / "lock.txt").write_text("Demo_Pkg==1.5\nother==1.0\n")
    demo = advisory([{"introduced": "0"}, {"fixed": "2.0"}], name="demo-pkg", aliases=["CVE-9"])
    demo["id"] = "PYSEC-9"
    data: Dict[str, Any] = {
        "source": "https://example.org/db",
        "commit": "0" * 40,
        "snapshot_date": "2026-12-01",
        "packages": ["demo-pkg", "other"],
        "advisories": {"demo-pkg": [demo]},
    }
    (tmp_path / "snapshot.json").write_text(json.dumps(data))
    return tmp_path


def _run(files: Path, triage: str, *extra: str) -> int:
    (files / "triage.yml").write_text(triage)
    argv = ["--snapshot", str(files / "snapshot.json"), "--triage", str(files / "triage.yml")]
    return audit.main([*argv, "--lock", str(files / "lock.txt"), "--today", "2026-12-07", *extra])


TRIAGED = "advisories:\n  CVE-9: {package: demo-pkg, status: %s, why: because%s}\n"


@pytest.mark.parametrize(
    ("triage", "status"),
    [
        ("advisories: {}\n", 1),  # untriaged
        (TRIAGED % ("not-reachable", ""), 0),  # found through the alias
        (TRIAGED % ("open", ", review_by: 2027-01-31"), 0),
        (TRIAGED % ("open", ", review_by: 2026-12-01"), 1),  # its review date has passed
        (TRIAGED % ("fixed", ""), 1),  # but 1.5 is still affected
        (TRIAGED % ("open", ""), 2),  # an open entry needs review_by
        (TRIAGED % ("ignored", ""), 2),
        ("advisories: [oops]\n", 2),
    ],
)
def test_exit_status(files, capsys, triage, status):
    assert _run(files, triage) == status
    out = capsys.readouterr()
    if status == 1 and "{}" in triage:
        assert "  PYSEC-9:\n    package: demo-pkg\n    aliases: [CVE-9]" in out.out  # a stub to paste


def test_the_report_gives_the_snapshot_age_and_warns_when_old(files, capsys):
    _run(files, TRIAGED % ("not-reachable", ""))
    out = capsys.readouterr().out
    assert "dated 2026-12-01: 6 days old." in out and "older than" not in out
    assert "Demo_Pkg  1.5     PYSEC-9 (CVE-9)" in out and "2.0" in out
    _run(files, TRIAGED % ("not-reachable", ""), "--max-age-days", "5")
    assert "!! The snapshot is older than 5 days" in capsys.readouterr().out


def test_a_package_the_snapshot_does_not_cover_stops_the_audit(files, capsys):
    (files / "lock.txt").write_text("Demo_Pkg==3.0\nnewcomer==1.0\n")
    assert _run(files, "advisories: {}\n") == 2
    assert "does not cover newcomer" in capsys.readouterr().out


def test_missing_files_are_explained_not_a_traceback(files, capsys):
    assert audit.main(["--snapshot", str(files / "none.json"), "--lock", str(files / "lock.txt")]) == 2
    assert "cannot read the advisory snapshot" in capsys.readouterr().err
    (files / "triage.yml").write_text("advisories: {}\n")
    argv = ["--snapshot", str(files / "snapshot.json"), "--triage", str(files / "triage.yml")]
    assert audit.main([*argv, "--lock", str(files / "missing.txt")]) == 2
    assert "cannot read the lock file" in capsys.readouterr().err


def test_two_entries_for_one_advisory_are_refused(tmp_path):
    path = tmp_path / "t.yml"
    entry = "{package: x, status: fixed, why: w%s}"
    path.write_text(f"advisories:\n  A: {entry % ', aliases: [B]'}\n  B: {entry % ''}\n")
    with pytest.raises(TriageError, match="B is in two triage entries"):
        load_triage(path)


# pip-audit's answer.

# What pip-audit 2.10.1 writes (--format json) when its service cannot be reached.
ALL_SKIPPED = {
    "dependencies": [
        {
            "name": "aiohttp",
            "skip_reason": "Dependency not found on PyPI and could not be audited: aiohttp (3.9.5)",
        }
    ],
    "fixes": [],
}


def _answer(vulns: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [
        {"name": "demo-pkg", "version": "1.5", "vulns": vulns},
        {"name": "other", "version": "1.0", "vulns": []},
    ]


def test_pip_audits_answer_is_sorted_into_found_nothing_and_could_not_ask(files, capsys):
    pins, _ = read_locks([files / "lock.txt"])
    entries = load_triage_text(files, TRIAGED % ("not-reachable", ""))
    could_not_ask = pip_audit.COULD_NOT_ASK
    skipped = pip_audit.read_report(json.dumps(ALL_SKIPPED))
    assert pip_audit.verdict([("lock.txt", skipped, "")], []) == could_not_ask
    assert "could not ask about 1 of 1 packages in lock.txt" in capsys.readouterr().out
    no_report = pip_audit.read_report("Traceback ...")
    assert pip_audit.verdict([("lock.txt", no_report, "ERROR: no network")], []) == could_not_ask
    assert "gave no report for lock.txt" in capsys.readouterr().out
    clean = _answer([])
    assert (
        pip_audit.verdict([("lock.txt", clean, "")], pip_audit.findings_from(clean, pins, entries, TODAY))
        == 0
    )
    known = _answer([{"id": "GHSA-x", "aliases": ["CVE-9"], "fix_versions": ["2.0"]}])
    found = pip_audit.findings_from(known, pins, entries, TODAY)
    assert [(f.id, f.status, f.fixed_in) for f in found] == [("GHSA-x", "not-reachable", ("2.0",))]
    assert pip_audit.verdict([("lock.txt", known, "")], found) == 0
    new = _answer([{"id": "GHSA-new", "aliases": [], "fix_versions": []}])
    assert pip_audit.verdict([("lock.txt", new, "")], pip_audit.findings_from(new, pins, entries, TODAY)) == 1
    # One lock file answered, the other not: still could not ask.
    assert pip_audit.verdict([("a.txt", clean, ""), ("b.txt", None, "")], []) == could_not_ask


def load_triage_text(folder: Path, text: str):
    path = folder / "triage.yml"
    path.write_text(text)
    return load_triage(path)


def test_pip_audit_that_cannot_run_means_could_not_ask(files, capsys):
    (files / "triage.yml").write_text("advisories: {}\n")
    argv = [str(files / "no-such-pip-audit"), "--triage", str(files / "triage.yml")]
    argv += ["--lock", str(files / "lock.txt")]
    assert pip_audit.main(argv) == pip_audit.COULD_NOT_ASK
    assert re.search(r"pip-audit gave no report", capsys.readouterr().out)
