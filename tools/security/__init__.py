"""The dependency audit: the pinned packages checked against known advisories.

`python -m tools.security.audit` checks the lock files (`locks.LOCK_FILES`) against a
dated snapshot of the PyPA advisory database and the team's triage (`security/triage.yml`);
`python -m tools.security.pip_audit` asks pip-audit's online service instead, with the
same triage; `python -m tools.security.snapshot` makes the snapshot from a copy of the
database. `make audit` runs them (docs/security.md, "Dependency audit").
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
