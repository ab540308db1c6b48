"""The dated, trimmed snapshot of the PyPA advisory database that the offline audit reads.

    python -m tools.security.snapshot --mirror <git dir> [--out FILE] [--lock FILE ...]

`<git dir>` is a copy of https://github.com/pypa/advisory-database (a clone's `.git`, or
a bare copy): the snapshot is made from its newest commit, and dated by that commit.
It keeps every advisory (`vulns/<package>/*.yaml`) for every package NAMED in the lock
files, whatever the version, so it still serves after pins are raised; each advisory is
trimmed to what the audit shows and matches on: id, aliases, a one-line summary, the
PyPI version ranges and listed versions, and one link. Versions that a range already
holds are dropped from the lists (the ranges say the same), which keeps the file small.

The snapshot is data copied from the database (CC BY 4.0), so it is not kept in this
repository's history; `SNAPSHOT_PLACES` says where the audit looks for it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from tools.security import ROOT
from tools.security.locks import LockFileError, default_paths, normalise, package_keys, read_locks, shown
from tools.security.osv import VERSION_RANGE_TYPES, covered_by_ranges

SOURCE = "https://github.com/pypa/advisory-database"
LICENCE = "CC BY 4.0, the PyPA advisory database's contributors"
# Where the audit looks, first found wins: the environment's choice; the steering
# repository's shared/ folder beside this checkout (as CI lays it out); this checkout's
# build/ (not in git), where this script writes by default.
SNAPSHOT_ENV = "ADVISORY_SNAPSHOT"
SHARED_SNAPSHOT = ROOT.parent / "shared" / "security" / "pypa-snapshot.json"
BUILD_SNAPSHOT = ROOT / "build" / "security" / "pypa-snapshot.json"
SUMMARY_CHARACTERS = 240


class SnapshotError(Exception):
    """A snapshot that is missing or not of the expected shape; the message says which."""


def snapshot_places() -> List[Path]:
    """Where the audit looks for the snapshot, in order."""
    chosen = os.environ.get(SNAPSHOT_ENV)
    return ([Path(chosen)] if chosen else []) + [SHARED_SNAPSHOT, BUILD_SNAPSHOT]


def find_snapshot() -> Path:
    """The first snapshot found in `snapshot_places`, or a SnapshotError saying how to make one."""
    places = snapshot_places()
    for place in places:
        if place.is_file():
            return place
    looked = ", ".join(shown(place) for place in places)
    raise SnapshotError(
        f"no advisory snapshot found (looked in: {looked}). Make one from a copy of {SOURCE}: "
        f"python -m tools.security.snapshot --mirror <its git dir>"
    )


def load_snapshot(path: Path) -> Dict[str, Any]:
    """The snapshot at `path`, checked for the fields the audit relies on."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SnapshotError(f"cannot read the advisory snapshot {shown(path)}: {error}") from error
    problems = snapshot_problems(data)
    if problems:
        raise SnapshotError(f"the advisory snapshot {shown(path)} is not usable: {'; '.join(problems)}")
    return data


def snapshot_problems(data: Any) -> List[str]:
    """What is wrong with a snapshot's shape (nothing, for a good one)."""
    if not isinstance(data, dict):
        return ["it is not a JSON object"]
    problems = [f"'{key}' is missing" for key in ("source", "commit", "snapshot_date") if not data.get(key)]
    try:
        dt.date.fromisoformat(str(data.get("snapshot_date")))
    except ValueError:
        problems.append("'snapshot_date' is not a date like 2024-10-10")
    if not isinstance(data.get("packages"), list):
        problems.append("'packages' is not a list")
    advisories = data.get("advisories")
    if not isinstance(advisories, dict):
        return problems + ["'advisories' is not a mapping of package to advisories"]
    for package, listed in advisories.items():
        for advisory in listed if isinstance(listed, list) else [None]:
            if not isinstance(advisory, dict) or not advisory.get("id") or "affected" not in advisory:
                problems.append(f"an advisory for {package} lacks an id or 'affected'")
    return problems


def snapshot_age(data: Mapping[str, Any], today: dt.date) -> int:
    """How many days old the snapshot's database commit is."""
    return (today - dt.date.fromisoformat(str(data["snapshot_date"]))).days


# Making the snapshot from a copy of the database.


def _git(mirror: Path, *args: str, data: Optional[bytes] = None) -> bytes:
    done = subprocess.run(["git", f"--git-dir={mirror}", *args], input=data, capture_output=True, check=False)
    if done.returncode != 0:
        raise SnapshotError(f"git {' '.join(args)} failed in {mirror}: {done.stderr.decode().strip()}")
    return done.stdout


def _read_blobs(mirror: Path, paths: Sequence[str], commit: str) -> Iterable[Tuple[str, bytes]]:
    """Each file's bytes at the commit, read in one `git cat-file --batch` call."""
    request = "".join(f"{commit}:{path}\n" for path in paths).encode()
    out = _git(mirror, "cat-file", "--batch", data=request)
    position = 0
    for path in paths:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        start = header_end + 1
        yield path, out[start : start + size]
        position = start + size + 1


def one_line(advisory: Mapping[str, Any]) -> str:
    """The advisory's summary, or the first sentence of its details, cut to one short line."""
    text = str(advisory.get("summary") or advisory.get("details") or "").strip()
    line = " ".join(text.split("\n\n", 1)[0].split())
    if not advisory.get("summary"):
        line = line.split(". ", 1)[0].rstrip(".") + "."
    return line if len(line) <= SUMMARY_CHARACTERS else line[: SUMMARY_CHARACTERS - 1].rstrip() + "…"


def advisory_url(advisory: Mapping[str, Any]) -> str:
    """The advisory's own page if it names one, else its record on osv.dev."""
    for reference in advisory.get("references") or ():
        if reference.get("type") == "ADVISORY" and reference.get("url"):
            return str(reference["url"])
    return f"https://osv.dev/vulnerability/{advisory['id']}"


def trim(advisory: Mapping[str, Any], package: str) -> Optional[Dict[str, Any]]:
    """The advisory cut to what the audit uses, for one package; None when withdrawn or
    when it names no PyPI versions for the package."""
    if advisory.get("withdrawn"):
        return None
    affected = []
    for entry in advisory.get("affected") or ():
        named = entry.get("package") or {}
        if named.get("ecosystem") != "PyPI" or normalise(str(named.get("name", ""))) != package:
            continue
        ranges = [
            {"type": span["type"], "events": [{k: str(v) for k, v in e.items()} for e in span["events"]]}
            for span in entry.get("ranges") or ()
            if span.get("type") in VERSION_RANGE_TYPES
        ]
        kept: Dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": package}, "ranges": ranges}
        versions = [str(v) for v in entry.get("versions") or () if not covered_by_ranges(str(v), kept)]
        if versions:
            kept["versions"] = versions
        if ranges or versions:
            affected.append(kept)
    if not affected:
        return None
    return {
        "id": str(advisory["id"]),
        "aliases": sorted(str(alias) for alias in advisory.get("aliases") or ()),
        "summary": one_line(advisory),
        "published": str(advisory.get("published", ""))[:10],
        "url": advisory_url(advisory),
        "affected": affected,
    }


def make_snapshot(mirror: Path, packages: Sequence[str]) -> Dict[str, Any]:
    """The snapshot of the mirror's newest commit for these (normalised) package names."""
    commit = _git(mirror, "rev-parse", "HEAD").decode().strip()
    date = _git(mirror, "show", "-s", "--format=%cI", commit).decode().strip()
    wanted = set(packages)
    listing = _git(mirror, "ls-tree", "-r", "--name-only", commit, "vulns/").decode().splitlines()
    paths = [
        path
        for path in listing
        if path.endswith((".yaml", ".yml")) and normalise(path.split("/")[1]) in wanted
    ]
    advisories: Dict[str, List[Dict[str, Any]]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path, blob in _read_blobs(mirror, paths, commit):
        package = normalise(path.split("/")[1])
        kept = trim(yaml.load(blob, Loader=loader), package)
        if kept:
            advisories.setdefault(package, []).append(kept)
    return {
        "source": SOURCE,
        "commit": commit,
        "snapshot_date": dt.datetime.fromisoformat(date).astimezone(dt.timezone.utc).date().isoformat(),
        "licence": LICENCE,
        "made_by": "python -m tools.security.snapshot",
        "packages": sorted(wanted),
        "advisories": {
            name: sorted(found, key=lambda a: a["id"]) for name, found in sorted(advisories.items())
        },
    }


def write_snapshot(data: Mapping[str, Any], out: Path) -> None:
    """One advisory a line: small, and a new snapshot's diff against an old one reads well."""
    lines = ["{"]
    header = [key for key in data if key != "advisories"]
    lines += [f"  {json.dumps(key)}: {json.dumps(data[key])}," for key in header]
    lines.append('  "advisories": {')
    packages = list(data["advisories"].items())
    for number, (package, listed) in enumerate(packages):
        lines.append(f"    {json.dumps(package)}: [")
        lines += [
            f"      {json.dumps(advisory, ensure_ascii=False)}{',' if i < len(listed) - 1 else ''}"
            for i, advisory in enumerate(listed)
        ]
        lines.append("    ]" + ("," if number < len(packages) - 1 else ""))
    lines += ["  }", "}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", required=True, type=Path, help="git dir of a copy of " + SOURCE)
    parser.add_argument("--out", type=Path, default=BUILD_SNAPSHOT, help=f"default: {shown(BUILD_SNAPSHOT)}")
    parser.add_argument(
        "--lock",
        type=Path,
        action="append",
        help="a lock file to cover (repeatable; default: locks.LOCK_FILES)",
    )
    args = parser.parse_args(argv)
    try:
        pins, _ = read_locks(args.lock or default_paths())
        data = make_snapshot(args.mirror, package_keys(pins))
    except (LockFileError, SnapshotError) as error:
        print(f"!! {error}", file=sys.stderr)
        return 2
    write_snapshot(data, args.out)
    count = sum(len(listed) for listed in data["advisories"].values())
    print(
        f"Wrote {shown(args.out)}: {count} advisories for {len(data['advisories'])} of "
        f"{len(data['packages'])} packages, database commit {data['commit'][:12]} "
        f"of {data['snapshot_date']}, {args.out.stat().st_size // 1024} KB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
