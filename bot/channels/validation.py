"""What every channel checks at its door before a value reaches Rasa or the conversation store.

A conversation id (REST `sender`, socket.io `session_id`, a platform's user id)
becomes a primary-key value in the tracker store. A lone surrogate cannot be
encoded for SQLite, PostgreSQL refuses a NUL, and PostgreSQL's column holds 255
characters: each of these failed deep inside the store, so they are refused
here with a message the client can act on.

Every other string a client sends (the message, a message id, each string in
the metadata, keys included) is checked the same way: a lone surrogate in a
message once reached spaCy and came back as an apology after a traceback, and
one in the metadata was stored, where every later reader must decode it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, List, Optional

MAX_ID_LENGTH = 128
# Longer messages are refused (413 on REST): no career question needs more, and it
# bounds the work one request can cause.
MAX_MESSAGE_LENGTH = 2000
# A request is an object with a few fields and, at most, shallow metadata.
# Deeper JSON is refused before it is parsed: Python's parser recurses, and
# 100,000 levels made it raise a RecursionError.
MAX_JSON_DEPTH = 16
# A client's own id for a message, which makes sending it again safe (answered once).
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MESSAGE_ID_RULE = "8 to 64 letters, digits, '-' or '_'"

# What a client is told when its turn could not be stored: send it again after RETRY_AFTER_S.
STORE_UNAVAILABLE = "the conversation store is unavailable; please try again shortly"
RETRY_AFTER_S = 5


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


def text_problem(value: str, field: str) -> Optional[str]:
    """Why the string `value` cannot be stored, or None when it can (newlines and tabs are fine)."""
    if any(char == "\x00" or unicodedata.category(char) == "Cs" for char in value):
        return f"'{field}' must be valid UTF-8 text without NUL characters"
    return None


def message_id_problem(value: Any, field: str = "message_id") -> Optional[str]:
    """Why `value` cannot be a client's message id, or None when it can (None: no id given)."""
    if value is None or (isinstance(value, str) and MESSAGE_ID.fullmatch(value)):
        return None
    return f"'{field}' must be {MESSAGE_ID_RULE}"


def metadata_problem(value: Any, field: str = "metadata") -> Optional[str]:
    """Why `value` cannot be a message's metadata (a JSON object), or None when it can (None: no metadata)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return f"'{field}' must be an object"
    return _strings_problem(value, [field])


def _strings_problem(value: Any, path: List[str]) -> Optional[str]:
    # The depth is bounded: every request was refused above MAX_JSON_DEPTH before it was parsed.
    if isinstance(value, str):
        return text_problem(value, ".".join(path))
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _strings_problem(item, [*path[:-1], f"{path[-1]}[{index}]"])
            if problem:
                return problem
    elif isinstance(value, dict):
        for key, item in value.items():
            if text_problem(key, "key"):
                return f"a key in '{'.'.join(path)}' must be valid UTF-8 text without NUL characters"
            # A key is named in the path only once it is known to be good text, and only its start.
            problem = _strings_problem(item, [*path, key[:40]])
            if problem:
                return problem
    return None


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` opens more than `limit` nested arrays or objects (outside strings)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
