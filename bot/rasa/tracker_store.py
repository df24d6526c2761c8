"""Rasa's SQL tracker store, with the two queries every message makes written in SQLAlchemy Core.

Same table, same rows, same URL forms as ``type: SQL`` (a SQLite file or
PostgreSQL), so `make report` and existing databases work unchanged. What
changes is the cost per message. Rasa's store reads a conversation back as
ORM objects and writes new events through the ORM's unit of work; profiling
`make bench` put the two at about a third of the Rasa process's time. Here the
read selects only the stored JSON, and the write is one multi-row INSERT.
The queries mean the same as Rasa's: the events of the latest session
(after the last ``session_started``, in insertion order), and on save the
events beyond those already stored for that session.

For a SQLite file, two more changes (measured in docs/benchmarks.md):
connections are pooled instead of opened per query, and the database runs in
write-ahead-log mode. In Rasa's default rollback-journal mode every commit
syncs the journal and the database to disk several times; in WAL mode with
``synchronous=FULL`` a commit is one sync of the log. Every committed turn is
still on disk when the commit returns, as before, so a crash of the process,
the system or the power loses nothing that was answered. (``synchronous=NORMAL``
would be faster still, but could lose the last turns on a power cut.) WAL
needs the file on a local disk, not a network share.

Three things keep one bad moment of the database from becoming an outage:

- Database calls run in worker threads, never on the event loop: another
  process holding SQLite's write lock, or a slow PostgreSQL, delays only the
  turns that need the database, while health checks and other channels answer.
- Rasa's ``session_scope`` reads any ``ValueError`` raised inside it as "the
  PostgreSQL schema is missing" and exits the process; a lone surrogate in a
  conversation id (a ``UnicodeEncodeError``) or a NUL for PostgreSQL is a
  ``ValueError`` too. Here only the schema check itself can end the process;
  every other error reaches Rasa's fail-safe store, so the turn gets a 503.
- Tables are created when first needed, not only at start, and a failed
  query drops the pooled connections: a database that was missing or
  read-only at start, or went away, serves again as soon as it can, with no
  restart.

Enabled in endpoints.yml: ``tracker_store: {type: bot.rasa.tracker_store.CareerSQLTrackerStore, url: ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Generator, List, Optional, Text, TypeVar

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import POSTGRESQL_SCHEMA, SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Worker threads for database calls; more would only queue on the connection pool.
DB_THREADS = 4


class CareerSQLTrackerStore(SQLTrackerStore):
    """:class:`rasa.core.tracker_store.SQLTrackerStore` with Core queries on the per-message path."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, sqlite_wal: bool = True, **kwargs: Any) -> None:
        """As Rasa's store; ``sqlite_wal: false`` under ``tracker_store`` keeps SQLite in Rasa's journal mode."""
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            if str(sqlite_wal).lower() not in ("false", "0", "no"):
                self._use_pooled_wal_engine()
        else:
            self._use_pinged_engine()
        # Built once with the sender as a bound parameter: SQLAlchemy then
        # reuses the compiled SQL instead of building and keying it per message.
        table = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        latest_session = sa.and_(
            table.c.sender_id == sender, sa.or_(table.c.timestamp >= session_start, session_start.is_(None))
        )
        self._latest_session_events = sa.select(table.c.data).where(latest_session).order_by(table.c.id)
        self._all_events = sa.select(table.c.data).where(table.c.sender_id == sender).order_by(table.c.id)
        self._stored_in_latest_session = sa.select(sa.func.count()).select_from(table).where(latest_session)
        self._insert = table.insert()
        self._executor: Optional[ThreadPoolExecutor] = None
        self._tables_ready = self._has_table()

    def _has_table(self) -> bool:
        try:
            return sa.inspect(self.engine).has_table(self.SQLEvent.__tablename__)
        except sa.exc.SQLAlchemyError:
            return False

    async def _in_thread(self, call: Callable[[], T]) -> T:
        """Runs a blocking database call in a worker thread; a failure drops the pooled connections."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="tracker-store")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except sa.exc.DBAPIError:
            # A connection opened while the database was read-only stays
            # read-only, and one to a restarted server is dead: start afresh.
            self.engine.dispose()
            raise

    def _ensure_tables(self) -> None:
        if not self._tables_ready:
            self.Base.metadata.create_all(self.engine)
            self._tables_ready = True
            logger.info("conversation store tables are ready")

    @contextlib.contextmanager
    def session_scope(self) -> Generator[sa.orm.Session, None, None]:
        """Rasa's session scope, with only a missing PostgreSQL schema ending the process."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as error:
                rasa.shared.utils.cli.print_error_and_exit(
                    f"Requested PostgreSQL schema '{error}' was not found in the database. Create it, "
                    f"or unset the '{POSTGRESQL_SCHEMA}' environment variable to use the default schema."
                )
            yield session
        finally:
            session.close()

    def _use_pinged_engine(self) -> None:
        # After a database restart every pooled connection is dead, and an
        # instance that was idle during the outage would fail its first turn
        # on each of them: a ping at checkout replaces them instead.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _use_pooled_wal_engine(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        # Rasa's sessions run on the event loop's thread, one at a time per
        # connection, so a pooled connection may move between threads safely.
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=4, connect_args={"check_same_thread": False}
        )

        @sa.event.listens_for(self.engine, "connect")
        def _write_ahead_log(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            # Another process (a second worker, `make report`) may hold the
            # write lock for a moment: wait for it rather than fail.
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # Rasa's public reads, as Rasa defines them: the latest session, or every session.
    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._read(sender_id, self._latest_session_events)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._read(conversation_id, self._all_events)

    async def _read(self, sender_id: Text, query: Any) -> Optional[DialogueStateTracker]:

        def read() -> List[Dict[Text, Any]]:
            self._ensure_tables()
            with self.session_scope() as session:
                return [json.loads(data) for data in session.execute(query, {"sender_id": sender_id}).scalars()]

        events = await self._in_thread(read)
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        events = list(tracker.events)  # a snapshot: the tracker may change once this call returns

        def write() -> None:
            self._ensure_tables()
            with self.session_scope() as session:
                stored = session.execute(self._stored_in_latest_session, {"sender_id": sender_id}).scalar_one()
                rows = [self._row(sender_id, event.type_name, event.as_dict()) for event in events[stored:]]
                if rows:
                    session.execute(self._insert, rows)
                session.commit()

        await self._in_thread(write)

    @staticmethod
    def _row(sender_id: Text, type_name: Text, data: Dict[Text, Any]) -> Dict[Text, Any]:
        return {
            "sender_id": sender_id,
            "type_name": type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
