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

Four things keep one bad moment of the database from becoming an outage:

- Database calls run in worker threads, never on the event loop: another
  process holding SQLite's write lock, or a slow PostgreSQL, delays only the
  turns that need the database, while health checks and other channels answer.
- Reads and writes have their own threads (and, for a SQLite file, their own
  connections): in WAL mode a read never needs the write lock, so a writer
  stuck behind another process's lock must not hold up the reads queued
  behind it. Each turn may wait for the store ``CAREERBOT_STORE_TIMEOUT``
  seconds in all (default 5), whether queued for a thread or waiting for
  SQLite's lock; Rasa reads the conversation at the start of every turn, and
  that read starts the turn's allowance. A write that has begun is let finish
  (SQLite's lock wait is cut to what is left of the allowance), so a turn
  reported as not saved was never saved.
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
import contextvars
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generator, List, Optional, Text, TypeVar

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import POSTGRESQL_SCHEMA, SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Worker threads for reads, and as many for writes; more would only queue on the connection pool.
DB_THREADS = 4


class StoreTimeout(TimeoutError):
    """The conversation store did not serve a call within what was left of the turn's allowance."""


@dataclass
class _Allowance:
    """What a turn may still wait for the store, of `total` seconds."""

    sender_id: Text
    total: float
    seconds: float = -1.0

    def __post_init__(self) -> None:
        if self.seconds < 0:
            self.seconds = self.total


class _Connections:
    """Counts the database calls under way, so that one call can close every connection at a moment none is open.

    Closing the idle ones is not enough for a SQLite file in WAL mode that was
    read-only: a new connection of this process shares the read-only mapping of
    the -shm file while any connection opened in the read-only time is still
    open, and a call under way that opens one passes the mapping on. Under
    steady traffic (every turn reads, readiness probes overlap) that chain never
    ends and the store stays unwritable after the file is writable again.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_use = 0
        self._closing = False

    @contextlib.contextmanager
    def in_use(self, seconds: float) -> Generator[None, None, None]:
        with self._changed:
            if not self._changed.wait_for(lambda: not self._closing, seconds):
                raise StoreTimeout(f"the connections were being closed for over {seconds:g} s")
            self._in_use += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= 1
                self._changed.notify_all()

    def close_all(self, close: Callable[[], None], seconds: float) -> None:
        """Waits until no call is under way (new calls wait meanwhile), then runs `close`."""
        deadline = time.monotonic() + seconds
        with self._changed:
            if not self._changed.wait_for(lambda: not self._closing, seconds):
                raise StoreTimeout(f"the connections were being closed for over {seconds:g} s")
            self._closing = True
            try:
                if not self._changed.wait_for(lambda: self._in_use == 0, max(0.0, deadline - time.monotonic())):
                    raise StoreTimeout(f"database calls still under way after {seconds:g} s")
                close()
            finally:
                self._closing = False
                self._changed.notify_all()


# The allowance of the turn being handled. Rasa reads the conversation first in every turn,
# and that read sets a fresh one: Sanic serves the requests of a kept-alive connection in
# one context, so a value left from an earlier turn must never be reused.
_turn: contextvars.ContextVar[Optional[_Allowance]] = contextvars.ContextVar("careerbot_store_turn", default=None)


class CareerSQLTrackerStore(SQLTrackerStore):
    """:class:`rasa.core.tracker_store.SQLTrackerStore` with Core queries on the per-message path."""

    engine: sa.engine.Engine

    def __init__(self, *args: Any, sqlite_wal: bool = True, **kwargs: Any) -> None:
        """As Rasa's store; ``sqlite_wal: false`` under ``tracker_store`` keeps SQLite in Rasa's journal mode."""
        super().__init__(*args, **kwargs)
        # Bumped when the pooled connections are dropped (see _drop_connections).
        self._generation = 0
        # Whether the last write failed with a database error.
        self._write_failed = False
        # Whether it failed because the SQLite file was read-only (see _Connections).
        self._read_only_failed = False
        self._connections = _Connections()
        self.timeout_s = Settings.from_env().store_timeout_s
        # Reads get connections of their own where that lets them pass a stuck writer (SQLite in WAL mode).
        self.read_engine = self.engine
        if self.engine.dialect.name == "sqlite":
            if str(sqlite_wal).lower() not in ("false", "0", "no"):
                self._use_pooled_wal_engine()
        else:
            self._use_pinged_engine()
        self._read_sessions = sa.orm.session.sessionmaker(bind=self.read_engine)
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
        # Needs the write lock (SQLite) or a writable table (a read-only file, a PostgreSQL
        # replica or read-only transaction), and changes nothing: the readiness probe's write.
        self._no_op_write = table.delete().where(sa.false())
        self._readers: Optional[ThreadPoolExecutor] = None
        self._writers: Optional[ThreadPoolExecutor] = None
        self._tables_ready = self._has_table()

    def _has_table(self) -> bool:
        try:
            return sa.inspect(self.engine).has_table(self.SQLEvent.__tablename__)
        except sa.exc.SQLAlchemyError:
            return False

    def _allowance(self, sender_id: Text, new_turn: bool) -> _Allowance:
        current = _turn.get()
        if new_turn or current is None or current.sender_id != sender_id:
            current = _Allowance(sender_id, self.timeout_s)
            _turn.set(current)
        return current

    async def _in_thread(self, call: Callable[[float], T], allowance: _Allowance, write: bool, what: str) -> T:
        """Runs a blocking database call in a reader or writer thread, within the turn's allowance.

        `call` gets the seconds it may wait for a lock. A call still queued when the
        allowance runs out is dropped; a read that has begun is abandoned (its result
        is of no use any more); a write that has begun is awaited, so its outcome is
        the one reported. A database error drops the pooled connections.
        """
        if write:
            if self._writers is None:
                self._writers = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="tracker-store-write")
            executor = self._writers
        else:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="tracker-store-read")
            executor = self._readers
        late = StoreTimeout(f"{what} did not begin within {allowance.total:g} s: every worker thread was busy")
        if allowance.seconds <= 0:
            raise late
        started = time.monotonic()
        deadline = started + allowance.seconds

        # Readers may have opened connections since, while the database was read-only: if it
        # is writable now, any of them still open would keep this write from it. (Not after a
        # lock timeout: waiting for every call to end would hold the reads up behind the lock.)
        close_first = write and self._read_only_failed

        def job() -> T:
            left = deadline - time.monotonic()
            if left <= 0:
                raise late
            if close_first:
                self._connections.close_all(self._drop_connections, left)
            left = deadline - time.monotonic()
            with self._connections.in_use(left):
                return call(deadline - time.monotonic())

        future: Future[T] = executor.submit(job)
        outcome = asyncio.wrap_future(future)
        try:
            try:
                result = await asyncio.wait_for(asyncio.shield(outcome), max(0.0, deadline - started))
            except asyncio.TimeoutError:
                if future.cancel():
                    raise late from None
                if not write:
                    raise StoreTimeout(f"{what} took over {allowance.total:g} s") from None
                # A write under way: SQLite's lock wait ends at the deadline, and whether it was
                # stored is known only when it ends.
                result = await outcome
        except sa.exc.DBAPIError as error:
            self._drop_connections()
            self._write_failed = self._write_failed or write
            self._read_only_failed = self._read_only_failed or (write and "readonly" in str(error.orig))
            raise
        finally:
            allowance.seconds -= time.monotonic() - started
        if write:
            self._write_failed = self._read_only_failed = False
        return result

    def _drop_connections(self) -> None:
        """Closes every pooled connection: the idle ones now, those in use when they are given back.

        A connection opened while the database was read-only stays read-only, and
        one to a restarted server is dead. For a SQLite file in WAL mode, so does
        every new connection of this process while any connection opened in the
        read-only time is still open (they share one read-only mapping of the -shm
        file): all of them must go, the readers' too.
        """
        self._generation += 1
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def _wait_at_most(self, connection: Any, seconds: float) -> None:
        """SQLite waits for another connection's lock for `seconds` at most, in this call."""
        if self.engine.dialect.name == "sqlite":
            connection.execute(sa.text(f"PRAGMA busy_timeout={max(1, int(seconds * 1000))}"))

    def _ensure_tables(self) -> None:
        if not self._tables_ready:
            self.Base.metadata.create_all(self.engine)
            self._tables_ready = True
            logger.info("conversation store tables are ready")

    @contextlib.contextmanager
    def session_scope(self) -> Generator[sa.orm.Session, None, None]:
        """Rasa's session scope, with only a missing PostgreSQL schema ending the process."""
        with self._scope(self.sessionmaker) as session:
            yield session

    @contextlib.contextmanager
    def _scope(self, sessions: Callable[[], sa.orm.Session]) -> Generator[sa.orm.Session, None, None]:
        session = sessions()
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
        self.read_engine = self.engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _use_pooled_wal_engine(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        busy_ms = int(self.timeout_s * 1000)

        def pooled() -> sa.engine.Engine:
            # Rasa's sessions run on the event loop's thread, one at a time per
            # connection, so a pooled connection may move between threads safely.
            engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, pool_size=DB_THREADS, connect_args={"check_same_thread": False}
            )

            @sa.event.listens_for(engine, "connect")
            def _write_ahead_log(connection: Any, record: Any) -> None:
                record.info["generation"] = self._generation
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                # Another process (a second worker, `make report`) may hold the
                # write lock for a moment: wait for it rather than fail. Each call
                # of this store shortens the wait to what is left of its turn's.
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.close()

            @sa.event.listens_for(engine, "checkin")
            def _close_if_dropped(_connection: Any, record: Any) -> None:
                # In use while _drop_connections() ran: closed now, not kept in a discarded pool.
                if record.info.get("generation") != self._generation:
                    record.invalidate()

            return engine

        self.engine = pooled()
        self.read_engine = pooled()
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # Rasa's public reads, as Rasa defines them: the latest session, or every session.
    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._read(sender_id, self._latest_session_events)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._read(conversation_id, self._all_events)

    async def _read(self, sender_id: Text, query: Any) -> Optional[DialogueStateTracker]:

        def read(seconds: float) -> List[Dict[Text, Any]]:
            self._ensure_tables()
            with self._scope(self._read_sessions) as session:
                self._wait_at_most(session, seconds)
                return [json.loads(data) for data in session.execute(query, {"sender_id": sender_id}).scalars()]

        # Every turn starts by reading its conversation: a fresh allowance.
        events = await self._in_thread(read, self._allowance(sender_id, new_turn=True), False, "reading")
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        events = list(tracker.events)  # a snapshot: the tracker may change once this call returns

        def write(seconds: float) -> None:
            self._ensure_tables()
            with self.session_scope() as session:
                self._wait_at_most(session, seconds)
                stored = session.execute(self._stored_in_latest_session, {"sender_id": sender_id}).scalar_one()
                rows = [self._row(sender_id, event.type_name, event.as_dict()) for event in events[stored:]]
                if rows:
                    session.execute(self._insert, rows)
                session.commit()

        await self._in_thread(write, self._allowance(sender_id, new_turn=False), True, "saving")

    # For the readiness probe (bot/channels/health.py): the paths a turn takes, within `seconds`.
    async def check_read(self, seconds: float) -> None:
        """Raises unless a conversation can be read within `seconds`."""

        def read(left: float) -> None:
            self._ensure_tables()
            with self._scope(self._read_sessions) as session:
                self._wait_at_most(session, left)
                session.execute(self._latest_session_events, {"sender_id": ""}).all()

        await self._in_thread(read, _Allowance("", seconds), False, "reading")

    async def check_write(self, seconds: float) -> None:
        """Raises unless a write can begin within `seconds`; rolled back, so nothing is written."""

        def write(left: float) -> None:
            self._ensure_tables()
            with self.engine.connect() as connection:
                self._wait_at_most(connection, left)
                transaction = connection.begin()
                try:
                    connection.execute(self._no_op_write)
                finally:
                    transaction.rollback()

        await self._in_thread(write, _Allowance("", seconds), True, "writing")

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
