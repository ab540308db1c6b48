"""Reading the tracker store: the conversations' events, read-only, through SQLAlchemy
with the connection settings Rasa uses (the SQLite default or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import sqlalchemy as sa

EVENTS = sa.table(
    "events",
    sa.column("id"),
    sa.column("sender_id"),
    sa.column("type_name"),
    sa.column("timestamp"),
    sa.column("data"),
)


class ReportError(Exception):
    """A problem the person running the report can fix (shown without a traceback)."""


def database_url(endpoints: Path) -> Any:
    """The SQLAlchemy URL of the tracker store configured in `endpoints`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    if not endpoints.is_file():
        raise ReportError(f"no endpoints file at {endpoints}")
    from runtime import CACHED_SQL_STORE, PRODUCTION_DEFAULTS

    # The production profile's file may leave some settings to their defaults, as
    # the servers do (runtime/__main__.py); the rest come from the environment.
    for name, value in PRODUCTION_DEFAULTS.items():
        os.environ.setdefault(name, value)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or str(config.type).lower() not in ("sql", CACHED_SQL_STORE.lower()):
        raise ReportError(
            f"{endpoints} does not configure an SQL tracker store "
            "(tracker_store: type: SQL), so there is nothing to read"
        )
    settings = config.kwargs
    dialect = settings.get("dialect", "sqlite")
    db = str(settings.get("db", "rasa.db"))
    if dialect == "sqlite" and db != ":memory:":
        path = Path(db) if Path(db).is_absolute() else endpoints.resolve().parent / db
        if not path.exists():
            raise ReportError(f"no conversations stored yet: {path} does not exist")
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


def read_events(url: Any, since: dt.datetime, until: dt.datetime) -> Iterator[Dict[str, Any]]:
    """The stored events in [since, until), oldest first, each with its sender_id."""
    from rasa.core.tracker_store import create_engine_kwargs

    engine = sa.create_engine(url, **create_engine_kwargs(url))
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.data)
        .where(EVENTS.c.timestamp >= since.timestamp(), EVENTS.c.timestamp < until.timestamp())
        .order_by(EVENTS.c.timestamp, EVENTS.c.id)
    )
    try:
        with engine.connect() as connection:
            for sender_id, data in connection.execution_options(stream_results=True).execute(query):
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    continue  # a row that is not an event; nothing to count
                if isinstance(event, dict):
                    event["sender_id"] = sender_id
                    yield event
    except sa.exc.SQLAlchemyError as error:
        raise ReportError(
            f"could not read the tracker store: {error.__class__.__name__}: {str(error).splitlines()[0]}"
        ) from error
    finally:
        engine.dispose()
