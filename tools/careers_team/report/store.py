"""Reading the tracker store: the conversations' events, read-only, through SQLAlchemy
with the connection settings Rasa uses (the SQLite default or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
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
    """A problem the person running the report can fix (shown without a traceback).
    The tracker store's settings are read by runtime.store_config.database_url, whose
    StoreConfigError is such a problem too."""


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
