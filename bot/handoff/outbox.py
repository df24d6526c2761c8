"""The outbox table: one row per handoff, with its delivery state.

Status: ``pending`` until every configured destination has accepted it, then
``sent``; ``failed`` when a destination refused it for good (an SMTP 5xx, a
webhook 4xx), and ``abandoned`` for a form left after the address was given
(never delivered, kept without the address). A row is claimed with a lease
before it is sent, so two action servers on one database never send it both.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa

TABLE = "careerbot_handoffs"
STATUSES = ("pending", "sent", "failed", "abandoned")
DESTINATIONS = ("email", "webhook")
# A worker that claimed a row and died lets another take it after this long.
LEASE_S = 120.0

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
)


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

    @classmethod
    def from_row(cls, row: Any) -> "Handoff":
        data = dict(row._mapping)
        data.pop("lease_until", None)
        data["transcript"] = json.loads(data.get("transcript") or "[]")
        return cls(**data)


_engines: Dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> sa.engine.Engine:
    """One engine per database URL and process, with SQLite waiting for a lock instead of failing."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = sa.create_engine(url, connect_args={"timeout": 5, "check_same_thread": False})
            else:
                engine = sa.create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return engine


class Outbox:
    def __init__(self, url: str) -> None:
        self.engine = engine_for(url)
        self._ready = False

    def ensure_table(self) -> None:
        if not self._ready:
            metadata.create_all(self.engine, checkfirst=True)
            self._ready = True

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
                .values({f"{destination}_sent_at": time.time() if at is None else at})
            )

    def finish(
        self,
        handoff_id_: str,
        status: str,
        attempts: int,
        error: Optional[str] = None,
        next_attempt_at: Optional[float] = None,
    ) -> None:
        assert status in STATUSES
        values: Dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "lease_until": None,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        }
        if status == "sent":
            values["sent_at"] = time.time()
        with self.engine.begin() as connection:
            connection.execute(handoffs.update().where(handoffs.c.id == handoff_id_).values(**values))

    def list(
        self, status: Optional[str] = None, since: Optional[float] = None, until: Optional[float] = None
    ) -> List[Handoff]:
        if not sa.inspect(self.engine).has_table(TABLE):
            return []
        query = sa.select(handoffs).order_by(handoffs.c.created_at)
        if status:
            query = query.where(handoffs.c.status == status)
        if since is not None:
            query = query.where(handoffs.c.created_at >= since)
        if until is not None:
            query = query.where(handoffs.c.created_at < until)
        with self.engine.connect() as connection:
            return [Handoff.from_row(row) for row in connection.execute(query)]

    def get(self, handoff_id_: str) -> Optional[Handoff]:
        self.ensure_table()
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id_)).first()
        return Handoff.from_row(row) if row else None
