"""The team's triage of each advisory that applies to the pins: `security/triage.yml`.

Each entry, keyed by advisory id (PYSEC-…, GHSA-… or CVE-…), says:

    package: aiohttp            # the package it is about
    aliases: [CVE-2024-23829]   # optional: other ids of the same advisory
    status: not-reachable       # fixed | not-reachable | open
    why: one line, specific     # what in this project makes it so
    review_by: 2027-01-31       # open only: the date the risk was accepted until
    fixed_in: 3.10.11           # only for an advisory the snapshot lacks (see below)

An entry with `fixed_in` records an advisory known from elsewhere (a newer database,
the package's own notice): the audit treats it as affecting every version below
`fixed_in`, because the snapshot cannot say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import yaml

from tools.security import ROOT
from tools.security.locks import normalise, shown
from tools.security.osv import parse_version

TRIAGE_FILE = ROOT / "security" / "triage.yml"
FIXED, NOT_REACHABLE, OPEN = "fixed", "not-reachable", "open"
STATUSES = (FIXED, NOT_REACHABLE, OPEN)
_FIELDS = {"package", "aliases", "status", "why", "review_by", "fixed_in"}


class TriageError(Exception):
    """A triage file that cannot be read or has a malformed entry; the message says which."""


@dataclass(frozen=True)
class Entry:
    """The triage of one advisory."""

    id: str
    package: str
    status: str
    why: str
    aliases: Tuple[str, ...] = ()
    review_by: Optional[dt.date] = None
    fixed_in: Optional[str] = None

    @property
    def ids(self) -> Tuple[str, ...]:
        return (self.id, *self.aliases)

    def as_advisory(self) -> Dict[str, Any]:
        """An entry with `fixed_in` as an OSV advisory: every version below the fix affected."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.why,
            "url": f"https://osv.dev/vulnerability/{self.id}",
            "recorded_in": "triage",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": self.package},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": self.fixed_in}]}
                    ],
                }
            ],
        }


def _entry(key: str, raw: Any) -> Entry:
    """One entry, checked: every problem says the advisory id and the field."""
    where = f"triage entry {key}"
    if not isinstance(raw, dict):
        raise TriageError(f"{where}: expected fields (package, status, why), got {raw!r}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise TriageError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}"
        )
    for field in ("package", "status", "why"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise TriageError(f"{where}: '{field}' is missing or empty")
    if raw["status"] not in STATUSES:
        raise TriageError(f"{where}: status '{raw['status']}' is not one of {', '.join(STATUSES)}")
    review_by = raw.get("review_by")
    if review_by is not None and not isinstance(review_by, dt.date):
        raise TriageError(f"{where}: 'review_by' is not a date like 2027-01-31")
    if raw["status"] == OPEN and review_by is None:
        raise TriageError(f"{where}: an open advisory needs 'review_by', the date the risk is accepted until")
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise TriageError(f"{where}: 'aliases' is not a list of ids")
    fixed_in = raw.get("fixed_in")
    if fixed_in is not None and parse_version(str(fixed_in)) is None:
        raise TriageError(f"{where}: 'fixed_in' {fixed_in!r} is not a version")
    return Entry(
        id=key,
        package=normalise(raw["package"]),
        status=raw["status"],
        why=" ".join(raw["why"].split()),
        aliases=tuple(aliases),
        review_by=review_by,
        fixed_in=None if fixed_in is None else str(fixed_in),
    )


def load_triage(path: Path = TRIAGE_FILE) -> Dict[str, Entry]:
    """The triage entries by advisory id, each checked; a TriageError for a bad file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TriageError(f"cannot read the triage file {shown(path)}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise TriageError(f"the triage file {shown(path)} is not valid YAML: {error}") from error
    advisories = (raw or {}).get("advisories") if isinstance(raw, dict) else None
    if not isinstance(advisories, dict):
        raise TriageError(f"the triage file {shown(path)} needs an 'advisories:' mapping of id to entry")
    entries = {str(key): _entry(str(key), value) for key, value in advisories.items()}
    _check_ids_once(entries.values())
    return entries


def _check_ids_once(entries: Iterable[Entry]) -> None:
    """An id or alias in two entries would give one advisory two verdicts."""
    seen: Dict[str, str] = {}
    for entry in entries:
        for name in entry.ids:
            if name in seen and seen[name] != entry.id:
                raise TriageError(f"{name} is in two triage entries: {seen[name]} and {entry.id}")
            seen[name] = entry.id


def find_entry(entries: Mapping[str, Entry], ids: Iterable[str]) -> Optional[Entry]:
    """The entry for an advisory known by any of these ids (its own id or an alias)."""
    by_name = {name: entry for entry in entries.values() for name in entry.ids}
    return next((by_name[name] for name in ids if name in by_name), None)


def added_advisories(entries: Mapping[str, Entry]) -> List[Dict[str, Any]]:
    """The advisories recorded only in the triage file (those with `fixed_in`)."""
    return [entry.as_advisory() for entry in entries.values() if entry.fixed_in]
