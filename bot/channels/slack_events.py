"""Slack event ids already handled, kept in the conversation store, where every Rasa instance sees them.

Slack retries an event it thinks was not delivered (no answer within 3 s, an
error status, a broken connection) up to three times within about five minutes.
Each retry is a new request, signed anew, with ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``, and carries the event's ``event_id`` unchanged (the
id is unique across Slack). An event is handled only when this table takes its
id: the first request inserts it, and any later request with that id, on this
instance or another behind the same load balancer, finds it there.

One row per id: ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite 3.24+, PostgreSQL)
is atomic, so two instances that get the same event at the same moment cannot
both take it. Ids are kept :data:`KEEP_S` (an hour, well beyond Slack's
retries) and then deleted, at most every :data:`PURGE_EVERY_S` per instance.
The rows hold an id and a time, nothing a user wrote.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bot import database

logger = logging.getLogger(__name__)

TABLE = "careerbot_slack_events"
# Slack's last retry comes about five minutes after the event.
KEEP_S = 60 * 60.0
PURGE_EVERY_S = 5 * 60.0
# Slack's event ids are short ("Ev0PV52K21"); the column's limit.
MAX_ID_LENGTH = 255
# A locked or unresponsive database fails the claim after this long, and Slack retries later.
DB_TIMEOUT_S = 5

metadata = sa.MetaData()
seen_events = sa.Table(
    TABLE,
    metadata,
    sa.Column("event_id", sa.String(MAX_ID_LENGTH), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False, index=True),
)


def _engine(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args=database.sqlite_connect_args(DB_TIMEOUT_S))
    connect_args = database.postgres_connect_args(url, connect_timeout_s=DB_TIMEOUT_S, statement_timeout_s=DB_TIMEOUT_S)
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class SeenEvents:
    """The ids of the Slack events taken for handling, in the conversation store at `url`."""

    def __init__(self, url: str, keep_s: float = KEEP_S, purge_every_s: float = PURGE_EVERY_S) -> None:
        self.url = url
        self.keep_s = keep_s
        self.purge_every_s = purge_every_s
        self._engine: Optional[sa.engine.Engine] = None
        self._table_ready = False
        self._next_purge = 0.0
        self._lock = threading.Lock()
        self._executor: Optional[ThreadPoolExecutor] = None

    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:
            if self._engine is None:
                self._engine = _engine(self.url)
            return self._engine

    def _ensure_table(self) -> None:
        if self._table_ready:
            return
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError:
            # Another instance created it between the check and the CREATE.
            if not sa.inspect(self.engine).has_table(TABLE):
                raise
        self._table_ready = True

    def _insert(self) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(seen_events).on_conflict_do_nothing(index_elements=["event_id"])

    def take(self, event_id: str, now: Optional[float] = None) -> bool:
        """True when `event_id` was not taken before (it is now); False for a retry or a replay.

        Raises SQLAlchemyError when the database cannot say: the caller must
        not handle the event then, or a retry could be handled twice.
        """
        now = time.time() if now is None else now
        self._ensure_table()
        purge = now >= self._next_purge
        with self.engine.begin() as connection:
            if purge:
                connection.execute(seen_events.delete().where(seen_events.c.seen_at < now - self.keep_s))
            inserted = connection.execute(self._insert().values(event_id=event_id, seen_at=now)).rowcount
        if purge:
            self._next_purge = now + self.purge_every_s
        return bool(inserted)

    async def take_async(self, event_id: str) -> bool:
        """:meth:`take` in a worker thread: a locked database never stalls the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(2, thread_name_prefix="slack-events")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.take, event_id)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        if self._engine is not None:
            self._engine.dispose()
