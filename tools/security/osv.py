"""Does an OSV advisory affect a given version of a PyPI package?

OSV (https://ossf.github.io/osv-schema/) lists, per affected package, ranges of events
(`introduced`, `fixed`, `last_affected`, `limit`) and explicit `versions`. A version is
affected when it is in `versions` or inside any ECOSYSTEM range; versions compare by
PEP 440 (`packaging.version`), so 2.0rc1 comes before 2.0, and 2.0.post1 after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from packaging.version import InvalidVersion, Version

from tools.security.locks import normalise

Advisory = Mapping[str, Any]
# Range types whose events are PyPI versions. GIT ranges name commits, not versions.
VERSION_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")


@dataclass(frozen=True)
class Match:
    """How an advisory affects a pinned version: the versions that fix it, if known."""

    fixed_in: Tuple[str, ...]
    last_affected: Tuple[str, ...]


def parse_version(text: str) -> Optional[Version]:
    """The PEP 440 version, or None for text that is not one (some old releases)."""
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def entries_for(advisory: Advisory, package: str) -> List[Mapping[str, Any]]:
    """The advisory's `affected` entries for this PyPI package (names normalised)."""
    key = normalise(package)
    found = []
    for entry in advisory.get("affected") or ():
        named = entry.get("package") or {}
        if named.get("ecosystem", "PyPI") == "PyPI" and normalise(str(named.get("name", ""))) == key:
            found.append(entry)
    return found


def _event_version(event: Mapping[str, Any]) -> Tuple[str, Optional[Version]]:
    """The event's kind and version; `introduced: "0"` is below every version."""
    kind, text = next(iter(event.items()))
    return kind, parse_version(text)


def in_range(version: Version, events: Sequence[Mapping[str, Any]]) -> bool:
    """Whether `version` lies inside one OSV range, walking its events in version order
    as the OSV specification does: an `introduced` at or below the version opens, a
    `fixed` at or below it closes, a `last_affected` below it closes; a `limit` at or
    below it puts the version outside the range."""
    walk: List[Tuple[Optional[Version], str]] = []
    for event in events:
        kind, at = _event_version(event)
        if kind == "introduced" and str(event[kind]) == "0":
            walk.append((None, kind))
        elif at is not None:
            walk.append((at, kind))
    limits = [at for at, kind in walk if kind == "limit" and at is not None]
    if limits and not any(version < limit for limit in limits):
        return False
    walk.sort(key=lambda item: (item[0] is not None, item[0] or Version("0")))
    affected = False
    for at, kind in walk:
        if kind == "introduced" and (at is None or at <= version):
            affected = True
        elif at is not None and (
            (kind == "fixed" and at <= version) or (kind == "last_affected" and at < version)
        ):
            affected = False
    return affected


def _listed(version: str, versions: Iterable[str]) -> bool:
    """Whether the version is in an explicit `versions` list (1.0 and 1.0.0 are equal)."""
    wanted = parse_version(version)
    for listed in versions:
        if listed == version:
            return True
        parsed = parse_version(listed)
        if wanted is not None and parsed is not None and parsed == wanted:
            return True
    return False


def match(advisory: Advisory, package: str, version: str) -> Optional[Match]:
    """How the advisory affects `package` at `version`, or None when it does not (a
    withdrawn advisory affects nothing)."""
    if advisory.get("withdrawn"):
        return None
    wanted = parse_version(version)
    fixed: List[str] = []
    last: List[str] = []
    hit = False
    for entry in entries_for(advisory, package):
        if _listed(version, entry.get("versions") or ()):
            hit = True
        for span in entry.get("ranges") or ():
            if span.get("type") not in VERSION_RANGE_TYPES or wanted is None:
                continue
            events = span.get("events") or ()
            if in_range(wanted, events):
                hit = True
                fixed += [str(e["fixed"]) for e in events if "fixed" in e and _above(e["fixed"], wanted)]
                last += [str(e["last_affected"]) for e in events if "last_affected" in e]
    if not hit:
        return None
    return Match(fixed_in=_ordered(fixed), last_affected=_ordered(last))


def _above(text: str, version: Version) -> bool:
    parsed = parse_version(text)
    return parsed is not None and parsed > version


def _ordered(versions: Iterable[str]) -> Tuple[str, ...]:
    """Versions once each, lowest first, so the nearest fix is named first."""
    unique = {text: parse_version(text) for text in versions}
    return tuple(sorted(unique, key=lambda text: (unique[text] is None, unique[text] or Version("0"))))


def covered_by_ranges(version: str, entry: Mapping[str, Any]) -> bool:
    """Whether one of the entry's version ranges already holds `version`, so listing it
    in `versions` too adds nothing (the snapshot leaves such versions out)."""
    parsed = parse_version(version)
    if parsed is None:
        return False
    return any(
        span.get("type") in VERSION_RANGE_TYPES and in_range(parsed, span.get("events") or ())
        for span in entry.get("ranges") or ()
    )
