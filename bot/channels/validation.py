"""What every channel checks at its door before a value reaches Rasa or the conversation store.

A conversation id (REST `sender`, socket.io `session_id`, a platform's user id)
becomes a primary-key value in the tracker store. A lone surrogate cannot be
encoded for SQLite, PostgreSQL refuses a NUL, and PostgreSQL's column holds 255
characters: each of these failed deep inside the store, so they are refused
here with a message the client can act on.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Optional

MAX_ID_LENGTH = 128
# Longer messages are refused (413 on REST): no career question needs more, and it
# bounds the work one request can cause.
MAX_MESSAGE_LENGTH = 2000


def id_problem(value: Any, field: str) -> Optional[str]:
    """Why `value` cannot be a conversation id, or None when it can."""
    if not isinstance(value, str) or not value.strip():
        return f"'{field}' must be a non-empty string"
    if len(value) > MAX_ID_LENGTH:
        return f"'{field}' is longer than {MAX_ID_LENGTH} characters"
    for char in value:
        # Cs: surrogates (not encodable as UTF-8); Cc: NUL and the other control characters.
        if unicodedata.category(char) in ("Cs", "Cc"):
            return f"'{field}' must be valid UTF-8 text without control characters"
    return None
