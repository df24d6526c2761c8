"""Sending one handoff: an e-mail over SMTP, a signed JSON webhook.

Each raises :class:`PermanentError` when the other side refused the handoff
for good (it will not take it on a retry either) and any other exception
when it may work later (the server is down, a timeout, a 5xx).

The webhook's body is the JSON of :func:`payload`. ``X-Careerbot-Timestamp``
holds the time of the attempt (Unix seconds), and ``X-Careerbot-Signature``
``sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` under
CAREERBOT_HANDOFF_WEBHOOK_SECRET: signing the time too lets a receiver refuse
a captured request sent again later (docs/handoff-webhook.md). The handoff's
id is in ``X-Careerbot-Handoff-Id``, the same on every attempt: receivers drop
a second delivery by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Dict

from bot import domain_text
from bot.handoff.outbox import Handoff
from bot.settings import SmtpServer

SIGNATURE_HEADER = "X-Careerbot-Signature"
TIMESTAMP_HEADER = "X-Careerbot-Timestamp"
ID_HEADER = "X-Careerbot-Handoff-Id"
TIMEOUT_S = 10.0


class PermanentError(Exception):
    """The destination refused this handoff; retrying will not change that."""


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def payload(handoff: Handoff) -> Dict[str, Any]:
    return {
        "id": handoff.id,
        "type": "careerbot.handoff",
        "created_at": _iso(handoff.created_at),
        "conversation_id": handoff.sender_id,
        "channel": handoff.channel,
        "email": handoff.email,
        "question": handoff.question,
        "topic": handoff.topic,
        "topic_label": domain_text.topic_label(handoff.topic),
        "route": handoff.route,
        "transcript": [
            dict(line, at=_iso(line["at"])) if isinstance(line.get("at"), (int, float)) else line
            for line in handoff.transcript
        ],
    }


def signature(timestamp: str, body: bytes, secret: str) -> str:
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def post_webhook(url: str, secret: str, handoff: Handoff) -> None:
    body = json.dumps(payload(handoff), ensure_ascii=False, separators=(",", ":")).encode()
    # The time of this attempt, not of the handoff: a retry hours later is still fresh.
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "careerbot-handoff/1",
            ID_HEADER: handoff.id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(timestamp, body, secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            response.read()
    except urllib.error.HTTPError as error:
        # 408 and 429 ask for a later try; any other 4xx is this request's fault.
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise PermanentError(f"webhook answered HTTP {error.code}") from None
        raise RuntimeError(f"webhook answered HTTP {error.code}") from None


def transcript_text(handoff: Handoff) -> str:
    lines = []
    for line in handoff.transcript:
        name = "utter_handoff_transcript_visitor" if line.get("from") == "visitor" else "utter_handoff_transcript_bot"
        at = line.get("at")
        when = _iso(at) if isinstance(at, (int, float)) else ""
        lines.append(domain_text.text(name, time=when, text=line.get("text") or ""))
    return "\n".join(lines)


def message_id(handoff: Handoff) -> str:
    return f"<{handoff.id}@careerbot.handoff>"


def email_message(handoff: Handoff, sender: str, recipients: "tuple[str, ...]") -> EmailMessage:
    values = dict(
        id=handoff.id,
        question=handoff.question or "",
        email=handoff.email or "",
        topic=domain_text.topic_label(handoff.topic),
        channel=handoff.channel or "",
        time=_iso(handoff.created_at),
        route=handoff.route or "",
        conversation_id=handoff.sender_id,
        transcript=transcript_text(handoff),
    )
    message = EmailMessage()
    message["Subject"] = domain_text.text("utter_handoff_email_subject", domain_text.DOMAIN_FILE, **values)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    if handoff.email:
        message["Reply-To"] = handoff.email
    message["Date"] = format_datetime(datetime.fromtimestamp(handoff.created_at, timezone.utc))
    # The same on every attempt (no time, pid or random part, unlike make_msgid): should a crash
    # between the server's acceptance and the outbox's mark send it again, mail clients show one.
    message["Message-ID"] = message_id(handoff)
    message[ID_HEADER] = handoff.id
    message.set_content(domain_text.text("utter_handoff_email_body", domain_text.DOMAIN_FILE, **values))
    return message


def send_email(server: SmtpServer, sender: str, recipients: "tuple[str, ...]", handoff: Handoff) -> None:
    message = email_message(handoff, sender, recipients)
    try:
        if server.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
        with client:
            if server.starttls:
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        raise PermanentError("the SMTP server refused the recipients") from None
    except smtplib.SMTPAuthenticationError as error:
        # A wrong password stays wrong until someone fixes the setting; keep retrying meanwhile.
        raise RuntimeError(f"SMTP authentication failed ({error.smtp_code})") from None
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentError(f"the SMTP server refused the message ({error.smtp_code})") from None
        raise RuntimeError(f"the SMTP server answered {error.smtp_code}") from None
