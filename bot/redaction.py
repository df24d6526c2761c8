"""Contact details out of text that leaves the conversation store (the report, logs, error notes).

E-mail addresses and phone numbers are matched as the logs match them
(bot/logs.py); any other run of 6 or more digits (an account, a card, an id
number), separators allowed, is redacted too.
"""

from __future__ import annotations

import re

from bot.logs import _EMAIL, _PHONE, REDACTED_EMAIL, REDACTED_PHONE

REDACTED_NUMBER = "[number redacted]"
_LONG_DIGITS = re.compile(r"(?<![\w])\d(?:[ .-]?\d){5,}(?![\w])")


def redact_contacts(text: str) -> str:
    text = _EMAIL.sub(REDACTED_EMAIL, text)
    text = _PHONE.sub(REDACTED_PHONE, text)
    return _LONG_DIGITS.sub(REDACTED_NUMBER, text)
