"""The outbox table: one row per handoff, with its delivery state per destination.

Each destination (e-mail, webhook) of a handoff is sent, refused for good
(``<destination>_failed_at``: an SMTP 5xx, a webhook 4xx other than 408/429)
or still to do; the row's status sums them up: ``pending`` while a
destination is left to try, ``sent`` when every one accepted it, ``failed``
when one refused it (the others are still delivered), ``resolved`` when an
operator closed it by hand (make handoffs RESOLVE=<id>), and ``abandoned``
for a form left after the address was given (never delivered, kept without
the address). A row is claimed with a lease before it is sent, so two action
servers on one database never send it both.

A table written by an older version (without the per-destination columns) is
read as it is and gains the missing columns on the first write.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set

import sqlalchemy as sa

from bot import database

TABLE = "careerbot_handoffs"
STATUSES = ("pending", "sent", "failed", "resolved", "abandoned")
DESTINATIONS = ("email", "webhook")
# A worker that claimed a row and died lets another take it after this long.
LEASE_S = 120.0
# A database that accepts connections and never answers must not hang the
# worker (its thread is the action server's) or an operator's command.
CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_S = 30
# SQLite has no statement timeout: a locked file is waited for this long.
SQLITE_BUSY_TIMEOUT_S = 5

metadata = sa.MetaData()
handoffs = sa.Table(
    TABLE,
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float),
    sa.Column("lease_until", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", sa.Float),
    sa.Column("email_sent_at", sa.Float),
    sa.Column("webhook_sent_at", sa.Float),
    sa.Column("email", sa.String(320)),
    sa.Column("question", sa.Text),
    sa.Column("topic", sa.String(64)),
    sa.Column("channel", sa.String(64)),
    sa.Column("route", sa.Text),
    sa.Column("transcript", sa.Text),
    # Added after the first release: nullable, so that an old table gains them with ALTER TABLE.
    sa.Column("email_failed_at", sa.Float),
    sa.Column("webhook_failed_at", sa.Float),
    sa.Column("email_error", sa.Text),
    sa.Column("webhook_error", sa.Text),
    sa.Column("resolved_at", sa.Float),
)

# "email: ...; webhook: ...", as last_error holds them (the only record of them in rows of the first release).
_LAST_ERROR_PART = re.compile(r"(?:^|; )(email|webhook): (.*?)(?=; (?:email|webhook): |$)", re.DOTALL)


def handoff_id(sender_id: str, turn: str) -> str:
    """Stable per conversation turn: the same submission stored twice is one row."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"careerbot-handoff:{sender_id}:{turn}"))


@dataclass
class Handoff:
    id: str
    sender_id: str
    created_at: float
    status: str
    attempts: int = 0
    email: Optional[str] = None
    question: Optional[str] = None
    topic: Optional[str] = None
    channel: Optional[str] = None
    route: Optional[str] = None
    transcript: Sequence[Dict[str, Any]] = ()
    last_error: Optional[str] = None
    sent_at: Optional[float] = None
    email_sent_at: Optional[float] = None
    webhook_sent_at: Optional[float] = None
    next_attempt_at: Optional[float] = None
    lease_until: Optional[float] = None
    email_failed_at: Optional[float] = None
    webhook_failed_at: Optional[float] = None
    email_error: Optional[str] = None
    webhook_error: Optional[str] = None
    resolved_at: Optional[float] = None

    @classmethod
    def from_row(cls, row: Any) -> "Handoff":
        data = dict(row._mapping)
        data["transcript"] = json.loads(data.get("transcript") or "[]")
        return cls(**data)

    def _last_errors(self) -> Dict[str, str]:
        """The latest attempt's errors by destination, from last_error ("email: ...; webhook: ...")."""
        return {m.group(1): m.group(2) for m in _LAST_ERROR_PART.finditer(self.last_error or "")}

    def state(self, destination: str) -> str:
        """``sent``, ``failed`` (refused for good) or ``pending`` (not sent yet) for one destination."""
        assert destination in DESTINATIONS
        if getattr(self, f"{destination}_sent_at"):
            return "sent"
        if getattr(self, f"{destination}_failed_at"):
            return "failed"
        # A row the first release failed as a whole: what it had not sent then, it never would.
        if self.status == "failed" and not (self.email_failed_at or self.webhook_failed_at):
            return "failed" if destination in self._last_errors() else "pending"
        return "pending"

    def error(self, destination: str) -> Optional[str]:
        """The last error of one destination, None once it accepted the handoff."""
        if self.state(destination) == "sent":
            return None
        return getattr(self, f"{destination}_error") or self._last_errors().get(destination)


_engines: Dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> sa.engine.Engine:
    """One engine per database URL and process, with a bounded wait for the connection and each statement."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = sa.create_engine(url, connect_args=database.sqlite_connect_args(SQLITE_BUSY_TIMEOUT_S))
            else:
                connect_args = database.postgres_connect_args(
                    url, connect_timeout_s=CONNECT_TIMEOUT_S, statement_timeout_s=STATEMENT_TIMEOUT_S
                )
                engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
            _engines[url] = engine
        return engine


class Outbox:
    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self._ready = False

    def ensure_table(self) -> None:
        """Creates the table, or adds the columns a table of an older version lacks."""
        if self._ready:
            return
        metadata.create_all(self.engine, checkfirst=True)
        present = self._columns()
        for column in handoffs.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=self.engine.dialect)
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.text(f"ALTER TABLE {TABLE} ADD COLUMN {column.name} {kind}"))
            except sa.exc.DBAPIError:
                # Another process may have added it a moment ago; anything else is raised.
                if column.name not in self._columns():
                    raise
        self._ready = True

    def _columns(self) -> Set[str]:
        return {column["name"] for column in sa.inspect(self.engine).get_columns(TABLE)}

    def _select(self) -> "sa.sql.Select":
        """Every column this table has: an older table is read as it is, without a write."""
        present = self._columns()
        return sa.select(*(column for column in handoffs.columns if column.name in present))

    def add(self, handoff: Handoff) -> bool:
        """Stores a new handoff; False when a row with its id is already there (nothing changes)."""
        self.ensure_table()
        values = {
            "id": handoff.id,
            "sender_id": handoff.sender_id,
            "created_at": handoff.created_at,
            "status": handoff.status,
            "attempts": 0,
            "next_attempt_at": handoff.created_at if handoff.status == "pending" else None,
            "email": handoff.email,
            "question": handoff.question,
            "topic": handoff.topic,
            "channel": handoff.channel,
            "route": handoff.route,
            "transcript": json.dumps(list(handoff.transcript), ensure_ascii=False),
        }
        with self.engine.begin() as connection:
            exists = connection.execute(sa.select(handoffs.c.id).where(handoffs.c.id == handoff.id)).first()
            if exists:
                return False
            connection.execute(handoffs.insert().values(**values))
        return True

    def claim_due(self, now: Optional[float] = None, limit: int = 10) -> List[Handoff]:
        """Pending handoffs whose next attempt is due, leased to this worker."""
        self.ensure_table()
        now = time.time() if now is None else now
        claimed: List[Handoff] = []
        with self.engine.begin() as connection:
            rows = (
                connection.execute(
                    sa.select(handoffs.c.id)
                    .where(
                        handoffs.c.status == "pending",
                        handoffs.c.next_attempt_at <= now,
                        sa.or_(handoffs.c.lease_until.is_(None), handoffs.c.lease_until < now),
                    )
                    .order_by(handoffs.c.created_at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        for row_id in rows:
            # The lease is taken by a conditional UPDATE: of two workers, one changes the row.
            with self.engine.begin() as connection:
                taken = connection.execute(
                    handoffs.update()
                    .where(
                        handoffs.c.id == row_id,
                        handoffs.c.status == "pending",
                        sa.or_(handoffs.c.lease_until.is_(None), handoffs.c.lease_until < now),
                    )
                    .values(lease_until=now + LEASE_S)
                ).rowcount
                if taken:
                    row = connection.execute(sa.select(handoffs).where(handoffs.c.id == row_id)).first()
                    claimed.append(Handoff.from_row(row))
        return claimed

    def delivered(self, handoff_id_: str, destination: str, at: Optional[float] = None) -> None:
        """Marks one destination done, at once, so a later failure elsewhere never sends it again."""
        assert destination in DESTINATIONS
        with self.engine.begin() as connection:
            connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id_)
                .values({f"{destination}_sent_at": time.time() if at is None else at, f"{destination}_error": None})
            )

    def refused(self, handoff_id_: str, destination: str, error: str) -> None:
        """Marks one destination refused for good: it is not tried again until an operator asks (retry)."""
        assert destination in DESTINATIONS
        with self.engine.begin() as connection:
            connection.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id_)
                .values({f"{destination}_failed_at": time.time(), f"{destination}_error": error})
            )

    def finish(
        self,
        handoff_id_: str,
        status: str,
        attempts: int,
        error: Optional[str] = None,
        next_attempt_at: Optional[float] = None,
        errors: Optional[Dict[str, str]] = None,
    ) -> None:
        """Ends an attempt: the row's status, and the errors of the destinations that will be tried again."""
        assert status in STATUSES
        values: Dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "lease_until": None,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        }
        for destination, message in (errors or {}).items():
            assert destination in DESTINATIONS
            values[f"{destination}_error"] = message
        if status == "sent":
            values["sent_at"] = time.time()
        with self.engine.begin() as connection:
            connection.execute(handoffs.update().where(handoffs.c.id == handoff_id_).values(**values))

    def retry(self, handoff_id_: str, now: Optional[float] = None) -> bool:
        """Makes a failed, pending or resolved handoff due now, its refusals forgotten and its backoff reset.

        Only the destinations that have not accepted it are tried. False when
        it is sent or abandoned, unknown, or leased by a worker right now.
        """
        self.ensure_table()
        now = time.time() if now is None else now
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    handoffs.update()
                    .where(
                        handoffs.c.id == handoff_id_,
                        handoffs.c.status.in_(("pending", "failed", "resolved")),
                        sa.or_(handoffs.c.lease_until.is_(None), handoffs.c.lease_until < now),
                    )
                    .values(
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        last_error=None,
                        resolved_at=None,
                        email_failed_at=None,
                        webhook_failed_at=None,
                        email_error=None,
                        webhook_error=None,
                    )
                ).rowcount
            )

    def resolve(self, handoff_id_: str, now: Optional[float] = None) -> bool:
        """Closes a pending or failed handoff that someone dealt with by hand: no more attempts.

        False when it is in another status, unknown, or leased by a worker right now.
        """
        self.ensure_table()
        now = time.time() if now is None else now
        with self.engine.begin() as connection:
            return bool(
                connection.execute(
                    handoffs.update()
                    .where(
                        handoffs.c.id == handoff_id_,
                        handoffs.c.status.in_(("pending", "failed")),
                        sa.or_(handoffs.c.lease_until.is_(None), handoffs.c.lease_until < now),
                    )
                    .values(status="resolved", resolved_at=now, next_attempt_at=None)
                ).rowcount
            )

    def list(
        self, status: Optional[str] = None, since: Optional[float] = None, until: Optional[float] = None
    ) -> List[Handoff]:
        if not sa.inspect(self.engine).has_table(TABLE):
            return []
        query = self._select().order_by(handoffs.c.created_at)
        if status:
            query = query.where(handoffs.c.status == status)
        if since is not None:
            query = query.where(handoffs.c.created_at >= since)
        if until is not None:
            query = query.where(handoffs.c.created_at < until)
        with self.engine.connect() as connection:
            return [Handoff.from_row(row) for row in connection.execute(query)]

    def statuses(self) -> Dict[str, str]:
        """Every handoff's status by its id, read without a write (for the report)."""
        if not sa.inspect(self.engine).has_table(TABLE):
            return {}
        with self.engine.connect() as connection:
            return {row.id: row.status for row in connection.execute(sa.select(handoffs.c.id, handoffs.c.status))}

    def get(self, handoff_id_: str) -> Optional[Handoff]:
        if not sa.inspect(self.engine).has_table(TABLE):
            return None
        with self.engine.connect() as connection:
            row = connection.execute(self._select().where(handoffs.c.id == handoff_id_)).first()
        return Handoff.from_row(row) if row else None
