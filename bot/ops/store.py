"""The conversation store as every operator command opens it (report, report-views, purge, forget).

One place decides how an ops command reaches the store, so that each of them
fails the same way: with one line naming the store (never its password) and a
non-zero exit, never a traceback and never a wait without end.

- SQLite: the file must exist and be a SQLite database; it is never created,
  and opened read-only when the command only reads. A connection that writes
  overwrites what it deletes (``secure_delete``).
- PostgreSQL (psycopg2): ``connect_timeout``, so a server that accepts the
  connection and never answers is an error after CONNECT_TIMEOUT_S;
  ``statement_timeout`` and ``lock_timeout``, so a stuck query or a lock held by
  another session ends too; TCP keepalives, so a server that vanished
  mid-query is noticed.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional
from urllib.parse import quote

import sqlalchemy as sa

from bot import database

CONNECT_TIMEOUT_S = 10
# One statement (the report: each fetch of its cursor; the views: their check of every event):
# generous, yet a stuck command still ends.
STATEMENT_TIMEOUT_S = 300
# Waiting for a lock another session holds (a running bot holds them for moments only).
LOCK_TIMEOUT_S = 30
# SQLite: how long a command waits for the bot's write lock before it gives up.
SQLITE_BUSY_S = 30

SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(Exception):
    """A problem the site owner can fix: one line, and a non-zero exit."""


def sqlite_file(url: str) -> Optional[Path]:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    return None


def display_url(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^/:@]*):[^@/]*@", r"\1:***@", url)


def check_sqlite_file(path: Path) -> None:
    where = f"{path} (CAREERBOT_TRACKER_URL)"
    if not path.exists():
        raise StoreError(f"no conversation store at {where}: the file does not exist")
    if not path.is_file():
        raise StoreError(f"no conversation store at {where}: not a file")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(f"cannot read the conversation store {where}: {error.strerror or error}") from None
    if not header:
        # SQLite would open it as an empty database; the bot never leaves one (it creates
        # its tables at start), so this is a wrong path or a truncated file.
        raise StoreError(f"the conversation store {where} is empty (0 bytes): not a database the bot wrote")
    if header != SQLITE_HEADER:
        raise StoreError(f"the conversation store {where} is not a SQLite database")


def _sqlite_engine(path: Path, write: bool) -> sa.engine.Engine:
    # mode=rw/ro: a file deleted after the check is an error, never a new empty database.
    uri = f"file:{quote(str(path))}?mode={'rw' if write else 'ro'}"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_S, check_same_thread=False)
        if write:
            # Deleted rows and freed pages are overwritten with zeros, not only unlinked.
            # (Debian's SQLite does this by default; other builds do not.)
            connection.execute("PRAGMA secure_delete=ON")
        return connection

    return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)


def _postgres_engine(url: str) -> sa.engine.Engine:
    connect_args = database.postgres_connect_args(
        url,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        statement_timeout_s=STATEMENT_TIMEOUT_S,
        lock_timeout_s=LOCK_TIMEOUT_S,
        application_name="careerbot-ops",
    )
    if connect_args:
        # A server that vanishes in the middle of a long report query is noticed.
        connect_args.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
    return sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)


class Store:
    """The store of one command: an engine, and what its errors say."""

    def __init__(self, url: str, write: bool) -> None:
        self.url = url
        self.display = display_url(url)
        self.path = sqlite_file(url)
        if self.path is not None:
            check_sqlite_file(self.path)
            self.engine = _sqlite_engine(self.path, write)
        elif url.startswith("sqlite"):
            raise StoreError("CAREERBOT_TRACKER_URL: expected sqlite:///path/to/file.db")
        else:
            try:
                self.engine = _postgres_engine(url)
            except (sa.exc.ArgumentError, ImportError, ValueError) as error:
                raise StoreError(f"CAREERBOT_TRACKER_URL {self.display}: {error}") from None

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def require_events(self, connection: sa.engine.Connection) -> None:
        if not sa.inspect(connection).has_table("events"):
            raise StoreError(
                f"the conversation store {self.display} has no events table: "
                "not a store the bot wrote (start the bot once with it, or fix CAREERBOT_TRACKER_URL)"
            )

    def event_data(self, row_id: Any, raw: Any) -> Dict[str, Any]:
        """One stored event's JSON, or a one-line error that names the row."""
        try:
            data = json.loads(raw or "{}")
        except (TypeError, ValueError) as error:
            raise StoreError(
                f"the conversation store {self.display} is damaged: event id {row_id} (table events) "
                f"is not valid JSON ({error}); restore the store from a backup, or delete that row"
            ) from None
        if not isinstance(data, dict):
            raise StoreError(
                f"the conversation store {self.display} is damaged: event id {row_id} (table events) "
                f"is {type(data).__name__} JSON, not an object; restore the store from a backup, or delete that row"
            )
        return data

    def check_events(self, connection: sa.engine.Connection) -> int:
        """Reads every event's JSON (streamed): a damaged one is an error. Returns how many there are."""
        rows = connection.execution_options(stream_results=True).execute(
            sa.text("SELECT id, data FROM events ORDER BY id")
        )
        count = 0
        for row_id, raw in rows:
            self.event_data(row_id, raw)
            count += 1
        return count

    def failure(self, error: BaseException, doing: str) -> StoreError:
        """A database error as one line: what failed, where, and why."""
        cause = str(getattr(error, "orig", None) or error).strip()
        cause = cause.splitlines()[0] if cause else type(error).__name__
        password = sa.engine.make_url(self.url).password if not self.is_sqlite else None
        if password:
            cause = cause.replace(str(password), "***")
        if "timeout expired" in cause:
            cause += f" (no answer within {CONNECT_TIMEOUT_S} s)"
        elif "statement timeout" in cause:
            cause += f" (statement_timeout {STATEMENT_TIMEOUT_S} s)"
        elif "lock timeout" in cause:
            cause += f" (lock_timeout {LOCK_TIMEOUT_S} s)"
        elif "database is locked" in cause:
            cause += f" (another process held it for {SQLITE_BUSY_S} s)"
        return StoreError(f"cannot {doing} the conversation store {self.display}: {cause}")


@contextmanager
def opened(url: str, *, write: bool, doing: str) -> Iterator[Store]:
    """The store for one command; any database error inside becomes a StoreError."""
    store = Store(url, write)
    # The driver's own errors too: the report reads through the driver's cursor.
    errors = (sa.exc.SQLAlchemyError, sqlite3.Error, getattr(store.engine.dialect.dbapi, "Error", sqlite3.Error))
    try:
        yield store
    except errors as error:
        raise store.failure(error, doing) from None
    finally:
        store.engine.dispose()
