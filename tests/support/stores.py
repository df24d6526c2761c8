"""Conversation stores with given events, written as Rasa's SQL tracker store writes them."""

from __future__ import annotations

import json
from typing import Iterable

from bot.ops.report.loading import Row


def write_events(url: str, rows: Iterable[Row]) -> str:
    """The rows in the `events` table of the store at `url` (SQLite or PostgreSQL), created if missing."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    engine = sa.create_engine(url)
    table = SQLTrackerStore.SQLEvent.__table__
    table.metadata.create_all(engine, tables=[table])
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {
                    "sender_id": r.sender_id,
                    "type_name": r.type_name,
                    "timestamp": r.timestamp,
                    "action_name": None,
                    "data": json.dumps({"event": r.type_name, "timestamp": r.timestamp, **r.data}),
                }
                for r in rows
            ],
        )
    engine.dispose()
    return url
