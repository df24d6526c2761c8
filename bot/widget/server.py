"""Serves the widget's assets and a demo careers page, with no CDN involved.

    python -m bot.widget.server

GET /            the demo page, with the widget pointed at this Rasa server
GET /widget/...  careerbot.js, careerbot.css and the vendored socket.io client
"""

from __future__ import annotations

import html
import logging
import mimetypes
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Type

from bot.settings import Settings, SettingsError

WIDGET_DIR = Path(__file__).resolve().parent
STATIC_DIR = WIDGET_DIR / "static"
DEMO_PAGE = WIDGET_DIR / "demo" / "index.html"

logger = logging.getLogger(__name__)


def demo_page(rasa_url: str) -> bytes:
    return DEMO_PAGE.read_text(encoding="utf-8").replace("{{RASA_URL}}", html.escape(rasa_url)).encode()


def static_file(path: str) -> "Path | None":
    """The file under STATIC_DIR that a /widget/ path names, never anything outside it."""
    candidate = (STATIC_DIR / path).resolve()
    if STATIC_DIR not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def make_handler(settings: Settings) -> Type[BaseHTTPRequestHandler]:
    rasa_url = f"http://{settings.rasa_host}:{settings.rasa_port}"

    class Handler(BaseHTTPRequestHandler):
        server_version = "careerbot-widget"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, demo_page(rasa_url), "text/html; charset=utf-8", cache=False)
            elif path.startswith("/widget/") and (file := static_file(path[len("/widget/") :])):
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if kind.startswith("text/") or kind.endswith("javascript"):
                    kind += "; charset=utf-8"
                self._send(HTTPStatus.OK, file.read_bytes(), kind, cache=True)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", cache=False)

        def _send(self, status: HTTPStatus, body: bytes, kind: str, cache: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            # The widget is meant to be embedded in other sites' pages.
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "public, max-age=300" if cache else "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), fmt % args)

    return Handler


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    server = ThreadingHTTPServer((settings.widget_host, settings.widget_port), make_handler(settings))
    logger.info("widget demo on http://%s:%s/", settings.widget_host, settings.widget_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
