"""Stand-ins for where handoffs go: an SMTP server (aiosmtpd) and a helpdesk's webhook, on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Dict, List, Optional, Tuple

from aiosmtpd.controller import Controller

from tests.support.http import LocalServer, QuietHandler

HANDOFF_ID = "X-Careerbot-Handoff-Id"


@dataclass
class Mail:
    message: EmailMessage
    recipients: List[str]
    login: Optional[bytes]  # the SMTP login the sender used, None without one
    cipher: Optional[Tuple[str, str, int]]  # the TLS cipher it came over, None in clear


class Inbox:
    """aiosmtpd handler: answers every message with `answer` and keeps those it accepts (2xx)."""

    def __init__(self, answer: str = "250 OK") -> None:
        self.answer = answer
        self.mails: List[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook)
        if self.answer.startswith("2"):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.mails.append(
                Mail(message, list(envelope.rcpt_tos), session.auth_data, server.transport.get_extra_info("cipher"))
            )
        return self.answer

    def with_id(self, handoff_id: str) -> List[EmailMessage]:
        return [mail.message for mail in self.mails if mail.message[HANDOFF_ID] == handoff_id]


class SmtpServer:
    """aiosmtpd on a fixed loopback port, started and stopped at will (a new controller each time).

    `options` go to aiosmtpd's Controller: ssl_context (smtps), tls_context and
    require_starttls (STARTTLS), authenticator and auth_require_tls (a login)."""

    def __init__(self, inbox: Inbox, port: int, **options: Any) -> None:
        self.inbox, self.port, self.options = inbox, port, options
        self.controller: Optional[Controller] = None

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class WebhookReceiver(LocalServer):
    """A helpdesk's webhook endpoint: answers every POST with `status`, keeps its headers and raw body."""

    def __init__(self, status: int = 204, path: str = "/hook") -> None:
        self.status = status
        self.requests: List[Tuple[Dict[str, str], bytes]] = []
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.reply(receiver.status, b"", "text/plain")

        super().__init__(Handler)
        self.url += path

    @property
    def bodies(self) -> List[bytes]:
        return [body for _, body in self.requests]

    def with_id(self, handoff_id: str) -> List[Tuple[Dict[str, str], bytes]]:
        return [(headers, body) for headers, body in self.requests if headers.get(HANDOFF_ID) == handoff_id]
