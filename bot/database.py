"""How the project's own code connects to the conversation store, so that no caller can wait forever.

The handoff outbox, the Slack event ids and the operators' commands each open
the store themselves (Rasa's tracker store has its own engine). Each must end
when the database accepts a connection and never answers, or holds a lock
without end: these are the connection arguments that bound those waits, for
psycopg2 (the PostgreSQL driver in the lock file) and for SQLite.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import sqlalchemy as sa


def postgres_connect_args(
    url: str,
    *,
    connect_timeout_s: int,
    statement_timeout_s: int,
    lock_timeout_s: Optional[int] = None,
    application_name: Optional[str] = None,
) -> Dict[str, Any]:
    """psycopg2's arguments for a bounded connect and bounded statements; {} for another driver."""
    if sa.engine.make_url(url).get_driver_name() != "psycopg2":
        return {}
    options = f"-c statement_timeout={statement_timeout_s * 1000}"
    if lock_timeout_s is not None:
        options += f" -c lock_timeout={lock_timeout_s * 1000}"
    args: Dict[str, Any] = {"connect_timeout": connect_timeout_s, "options": options}
    if application_name:
        args["application_name"] = application_name
    return args


def sqlite_connect_args(busy_timeout_s: float) -> Dict[str, Any]:
    """SQLite has no statement timeout: a file locked by another process is waited for this long.

    The engine's pool hands connections to worker threads, hence no same-thread check.
    """
    return {"timeout": busy_timeout_s, "check_same_thread": False}
