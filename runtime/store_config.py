"""Where the tracker store is: the SQLAlchemy URL of the SQL tracker store an
endpoints file configures, read as the Rasa server reads it. Used by the purge
(runtime.retention) and the careers team's report (tools/careers_team/report)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runtime import CACHED_SQL_STORE, PRODUCTION_DEFAULTS


class StoreConfigError(Exception):
    """The endpoints file names no SQL tracker store that can be read: a problem the
    person running the command can fix (shown without a traceback)."""


def database_url(endpoints: Path) -> Any:
    """The SQLAlchemy URL of the tracker store configured in `endpoints`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    if not endpoints.is_file():
        raise StoreConfigError(f"no endpoints file at {endpoints}")
    # The production profile's file may leave some settings to their defaults, as
    # the servers do (runtime/__main__.py); the rest come from the environment.
    for name, value in PRODUCTION_DEFAULTS.items():
        os.environ.setdefault(name, value)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or str(config.type).lower() not in ("sql", CACHED_SQL_STORE.lower()):
        raise StoreConfigError(
            f"{endpoints} does not configure an SQL tracker store "
            "(tracker_store: type: SQL), so there is nothing to read"
        )
    settings = config.kwargs
    dialect = settings.get("dialect", "sqlite")
    db = str(settings.get("db", "rasa.db"))
    if dialect == "sqlite" and db != ":memory:":
        path = Path(db) if Path(db).is_absolute() else endpoints.resolve().parent / db
        if not path.exists():
            raise StoreConfigError(f"no conversations stored yet: {path} does not exist")
        db = str(path)
    return SQLTrackerStore.get_db_url(
        dialect=dialect,
        host=config.url,
        port=settings.get("port"),
        db=db,
        username=settings.get("username"),
        password=settings.get("password"),
        query=settings.get("query"),
    )
