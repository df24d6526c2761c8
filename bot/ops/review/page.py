"""The review inbox as a web page for the site owner: `make review`, `python -m bot.ops.review serve`.

The page has no script: every control is a form control in a form, so it works by keyboard (and without
JavaScript) and a decision is one POST, answered with a redirect back to the inbox and a status line.

Who may use it: bound to loopback (the default), whoever can reach 127.0.0.1, and only under a loopback
host name (a page of another site cannot reach it through a DNS name that points at 127.0.0.1). Bound
anywhere else, it refuses to start without CAREERBOT_REVIEW_TOKEN, and then every request must carry the
token (Authorization: Bearer, or the cookie the login form sets). Every form carries this process's CSRF
token, so a page of another site cannot submit a decision in the owner's browser.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import parse_qs, urlsplit

from bot import PROJECT_DIR
from bot.ops.review.cli import inbox_json
from bot.ops.review.decisions import ReviewError, decide, intents, needs_content
from bot.ops.review.inbox import load_inbox, transcript
from bot.ops.review.views import inbox_page, login_page, message_page, transcript_page
from bot.ops.store import StoreError, display_url
from bot.vectors import VectorsMissing

# What the owner can fix, in one line (503: the page cannot show the inbox until then).
UNAVAILABLE = (StoreError, VectorsMissing)

COOKIE = "careerbot_review"
# A form with a few hundred message ids is far below this; anything larger is not the page's form.
MAX_FORM_BYTES = 256 * 1024

DONE = {
    "label": "labelled {intent}: training examples in {nlu}/reviewed.yml",
    "out_of_scope": "marked out of scope: negative examples in {nlu}/reviewed_out_of_scope.yml",
    "ignore": "ignored (recorded in {review}/decisions.yml)",
    "needs_content": "marked “needs content”: in the content team's list below",
}


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PageConfig:
    tracker_url: str
    data_dir: Path
    review_dir: Path
    # None: no token asked for (only allowed on loopback).
    token: Optional[str] = None


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


class ReviewPage:
    """What the page shows and does, apart from HTTP."""

    def __init__(self, config: PageConfig) -> None:
        self.config = config
        self.csrf = secrets.token_urlsafe(32)
        # What the last decisions wrote, for the page the redirect leads to (a key, so no site can make
        # the page say something it did not do).
        self._statuses: "OrderedDict[str, str]" = OrderedDict()
        # One decision at a time: each reads the ledger and appends to it.
        self._deciding = threading.Lock()

    # --- The inbox ---------------------------------------------------------------------------

    def inbox(self, status: str = "", error: bool = False) -> str:
        data = inbox_json(load_inbox(self.config.tracker_url, self.config.review_dir))
        return inbox_page(
            data,
            intents(),
            needs_content(self.config.review_dir),
            self.csrf,
            display_url(self.config.tracker_url),
            status,
            error,
        )

    def transcript(self, ident: str) -> str:
        """One conversation of a group (or of one message), redacted."""
        messages = load_inbox(self.config.tracker_url, self.config.review_dir).find(ident)
        first = messages[0]
        marked = {m.text for m in messages if m.sender_id == first.sender_id}
        back = ident if ident.startswith("g") else "main"
        return transcript_page(transcript(self.config.tracker_url, first.sender_id), marked, back)

    # --- Decisions -----------------------------------------------------------------------------

    def decide(self, form: Mapping[str, List[str]]) -> str:
        """Applies one form's decision; the status line saying what was written. ReviewError: nothing was."""
        decision = (form.get("decision") or [""])[0]
        if decision not in DONE:
            raise ReviewError(f"{decision or 'no decision'}: expected one of {', '.join(DONE)}")
        intent = (form.get("intent") or [""])[0] or None
        if decision == "label" and intent is None:
            raise ReviewError("Label: choose the topic the messages should have")
        group = (form.get("group") or [""])[0]
        checked = form.get("message") or []
        with self._deciding:
            inbox = load_inbox(self.config.tracker_url, self.config.review_dir)
            messages = [m for ident in checked for m in inbox.find(ident)] if checked else inbox.find(group)
            written = decide(
                messages,
                decision,
                intent if decision in ("label", "needs_content") else None,
                data_dir=self.config.data_dir,
                review_dir=self.config.review_dir,
            )
        if not written:
            return "Nothing written: those messages were decided already."
        what = DONE[decision].format(
            intent=intent,
            nlu=_shown_path(self.config.data_dir / "nlu"),
            review=_shown_path(self.config.review_dir),
        )
        return f"{written} message{'' if written == 1 else 's'} {what}."

    def remember(self, status: str) -> str:
        key = secrets.token_urlsafe(9)
        self._statuses[key] = status
        while len(self._statuses) > 50:
            self._statuses.popitem(last=False)
        return key

    def recalled(self, key: str) -> str:
        return self._statuses.get(key, "")

    # --- Who may ---------------------------------------------------------------------------------

    @property
    def session(self) -> str:
        """The cookie's value: derived from the token, so the token itself never sits in the browser."""
        assert self.config.token is not None
        return hmac.new(self.config.token.encode(), b"careerbot review session", hashlib.sha256).hexdigest()

    def allowed(self, headers: Any) -> bool:
        """`headers`: the request's (an email.message.Message)."""
        token = self.config.token
        if token is None:
            return True
        bearer = headers.get("Authorization") or ""
        if bearer.startswith("Bearer ") and hmac.compare_digest(bearer[7:].strip().encode(), token.encode()):
            return True
        try:
            cookie = SimpleCookie(headers.get("Cookie") or "")
        except CookieError:
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), self.session.encode())


def _handler(page: ReviewPage, loopback: bool) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "careerbot-review"
        sys_version = ""

        def log_message(self, *args: object) -> None:
            # Paths hold message and group ids only; nothing a visitor typed.
            pass

        def _send(self, status: int, body: str = "", location: str = "", cookie: str = "") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            if cookie:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            # No script at all, no framing (a page of another site cannot trick a click onto a button).
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'",
            )
            self.end_headers()
            self.wfile.write(data)

        def _plain(self, status: int, line: str) -> None:
            self._send(status, message_page(line))

        def _admitted(self) -> bool:
            if loopback and page.config.token is None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                if not is_loopback(host):
                    self._plain(403, "This page answers only as 127.0.0.1 or localhost.")
                    return False
            if page.allowed(self.headers):
                return True
            if self.command == "GET" and urlsplit(self.path).path == "/":
                self._send(401, login_page())
            else:
                self._plain(401, "The review token is needed: open / to log in.")
            return False

        def _form(self) -> Optional[Dict[str, List[str]]]:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_FORM_BYTES:
                self._plain(413, "That form is larger than the page sends.")
                return None
            return parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if not self._admitted():
                return
            transcript = url.path.startswith("/transcript/")
            try:
                if url.path == "/":
                    key = (parse_qs(url.query).get("done") or [""])[0]
                    self._send(200, page.inbox(page.recalled(key)))
                elif transcript:
                    self._send(200, page.transcript(url.path[len("/transcript/") :]))
                else:
                    self._plain(404, "No such page: the inbox is at /.")
            except ReviewError as error:
                # A transcript's: an id no longer waiting; the inbox's: a ledger it cannot read.
                self._plain(404 if transcript else 503, str(error))
            except UNAVAILABLE as error:
                self._plain(503, str(error))

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/login" and page.config.token is not None:
                form = self._form()
                if form is None:
                    return
                given = (form.get("token") or [""])[0]
                if hmac.compare_digest(given.encode(), page.config.token.encode()):
                    cookie = f"{COOKIE}={page.session}; HttpOnly; SameSite=Strict; Path=/"
                    self._send(303, location="/", cookie=cookie)
                else:
                    self._send(401, login_page(wrong=True))
                return
            if not self._admitted():
                return
            if path != "/decide":
                self._plain(404, "No such form.")
                return
            form = self._form()
            if form is None:
                return
            if not hmac.compare_digest((form.get("csrf") or [""])[0].encode(), page.csrf.encode()):
                self._plain(
                    403, "This form is not from this page (or the page was served before a restart): reload the inbox."
                )
                return
            try:
                try:
                    status = page.decide(form)
                except ReviewError as error:
                    self._send(400, page.inbox(str(error), error=True))
                    return
            except (ReviewError, *UNAVAILABLE) as error:  # the inbox shown with a refusal could not be read
                self._plain(503, str(error))
                return
            self._send(303, location=f"/?done={page.remember(status)}#status")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _ServerIPv6(_Server):
    address_family = socket.AF_INET6


def make_server(config: PageConfig, host: str = "127.0.0.1", port: int = 8090) -> ThreadingHTTPServer:
    """The page's HTTP server, bound; ReviewError when bound beyond loopback without a token."""
    loopback = is_loopback(host)
    if not loopback and config.token is None:
        raise ReviewError(
            f"--host {host} is not loopback: set CAREERBOT_REVIEW_TOKEN (16 characters or more) so that the page "
            "asks for it"
        )
    server_class = _ServerIPv6 if ":" in host else _Server
    return server_class((host.strip("[]"), port), _handler(ReviewPage(config), loopback))


def serve(host: str, port: int, data_dir: Path, review_dir: Path) -> int:
    """Serves the page until Ctrl-C; 1 with one line on stderr when it cannot."""
    import sys

    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        config = PageConfig(settings.tracker_url, data_dir, review_dir, settings.review_token)
        server = make_server(config, host, port)
    except (SettingsError, ReviewError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 1
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"Review inbox on http://{shown}:{bound_port}/ (Ctrl-C stops)", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
