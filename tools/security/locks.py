"""The lock files the audit reads, and a reader for their `name==version` pins.

LOCK_FILES is the one list: the snapshot keeps advisories for every package named in
them, and both audits (offline and pip-audit) check every pin in them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

from tools.security import ROOT

# The assistant's environment (Rasa, Python 3.11) and the action server's own
# (rasa-sdk, Python 3.13).
LOCK_FILES: Tuple[str, ...] = ("requirements-lock.txt", "requirements-actions-lock.txt")

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;#\\]+)")


class LockFileError(Exception):
    """A lock file that is missing or cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Pin:
    """One pinned package: its name as written, its PEP 503 key, its version, its file."""

    name: str
    key: str
    version: str
    lock: str


def normalise(name: str) -> str:
    """The PEP 503 form of a package name, so `PyYAML`, `pyyaml` and `py_yaml` match."""
    return re.sub(r"[-_.]+", "-", name).lower()


def default_paths() -> List[Path]:
    """The lock files in LOCK_FILES, in the repository."""
    return [ROOT / name for name in LOCK_FILES]


def shown(path: Path) -> str:
    """A path as the reader knows it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def parse_lock(text: str, lock: str) -> Tuple[List[Pin], List[str]]:
    """The `name==version` pins in a lock file's text, and the lines that are not pins
    (an URL or an editable install: nothing to match an advisory against)."""
    pins: List[Pin] = []
    unpinned: List[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "--hash")):
            continue
        found = _PIN.match(line)
        if found:
            name, version = found.group(1), found.group(3)
            pins.append(Pin(name=name, key=normalise(name), version=version, lock=lock))
        else:
            unpinned.append(line)
    return pins, unpinned


def read_locks(paths: Sequence[Path]) -> Tuple[List[Pin], List[str]]:
    """Every pin in the given lock files, and a note for each line that is not a pin."""
    pins: List[Pin] = []
    notes: List[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise LockFileError(f"cannot read the lock file {shown(path)}: {error.strerror}") from error
        found, unpinned = parse_lock(text, shown(path))
        if not found:
            raise LockFileError(f"the lock file {shown(path)} pins nothing (expected lines like name==1.2.3)")
        pins.extend(found)
        notes.extend(f"{shown(path)}: not a name==version pin, not checked: {line}" for line in unpinned)
    return pins, notes


def package_keys(pins: Iterable[Pin]) -> List[str]:
    """The normalised names of the pinned packages, sorted, each once."""
    return sorted({pin.key for pin in pins})
