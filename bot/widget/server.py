"""Serves the widget's assets and a demo careers site, with no CDN involved.

    python -m bot.widget.server

GET /              the demo page, with the widget pointed at this Rasa server and no context
                   (so the default career), and a list of the career guides
GET /careers/<id>  a guide per career of the knowledge directory, its widget tagged with
                   data-context='{"career": "<id>"}'; the pages follow the knowledge files
                   (live reload), as the bot does
GET /widget/...    careerbot.js, careerbot.css and the vendored socket.io client
"""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, List, Mapping, Optional, Type
from urllib.parse import quote

from bot.knowledge import Career, KnowledgeBase, KnowledgeError, LiveKnowledge
from bot.settings import Settings, SettingsError

WIDGET_DIR = Path(__file__).resolve().parent
STATIC_DIR = WIDGET_DIR / "static"
DEMO_PAGE = WIDGET_DIR / "demo" / "index.html"
CAREER_PAGE = WIDGET_DIR / "demo" / "career.html"
CAREER_PATH = re.compile(r"^/careers/([^/]+)$")
_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")

logger = logging.getLogger(__name__)


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with every {{NAME}} replaced in one pass: a value that holds "{{...}}" stays as it is.
    The values are HTML already; an unknown placeholder is a KeyError, not a page with a hole."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def career_url(career: Career) -> str:
    return "/careers/" + quote(career.id, safe="")


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def career_links(knowledge: KnowledgeBase, current: Optional[str] = None) -> str:
    """<li> links to every career guide, by name; the `current` page's marked as such."""
    items = []
    for career in sorted(knowledge.careers.values(), key=lambda career: career.plural.casefold()):
        here = ' aria-current="page"' if career.id == current else ""
        href = html.escape(career_url(career))
        items.append(f'        <li><a href="{href}"{here}>{html.escape(_title(career.plural))}</a></li>')
    return "\n".join(items)


def _summary(career: Career) -> str:
    if not career.covers("overview"):
        return ""
    if career.is_statements("overview"):
        paragraphs: List[str] = career.statements("overview")
    else:
        paragraphs = [career.section("overview").get("summary", "")]
    return "\n".join(f"    <p>{html.escape(text)}</p>" for text in paragraphs if text)


def _sources(career: Career) -> str:
    items = []
    # A source cited in another (the article's Payscale figures) is part of that one.
    for source in (source for source in career.sources.values() if source.cited_in is None):
        # The schema lets only http(s) addresses through; anything else stays text.
        name = html.escape(source.name)
        if source.url and re.match(r"^https?://", source.url):
            name = f'<a href="{html.escape(source.url)}">{name}</a>'
        details = "; ".join(html.escape(detail) for detail in (source.reference, source.as_of) if detail)
        items.append(f"      <li>{name}{f' ({details})' if details else ''}</li>")
    return "\n".join(items)


def demo_page(rasa_url: str, knowledge: KnowledgeBase) -> bytes:
    values = {"RASA_URL": html.escape(rasa_url), "CAREER_LINKS": career_links(knowledge)}
    return fill(DEMO_PAGE.read_text(encoding="utf-8"), values).encode()


def career_page(rasa_url: str, knowledge: KnowledgeBase, career: Career) -> bytes:
    values = {
        "RASA_URL": html.escape(rasa_url),
        "CONTEXT": html.escape(json.dumps({"career": career.id})),
        "TITLE": html.escape(_title(career.plural)),
        "PLURAL": html.escape(career.plural),
        "SUMMARY": _summary(career),
        "SOURCES": _sources(career),
        "CAREER_LINKS": career_links(knowledge, current=career.id),
    }
    return fill(CAREER_PAGE.read_text(encoding="utf-8"), values).encode()


def static_file(path: str) -> "Path | None":
    """The file under STATIC_DIR that a /widget/ path names, never anything outside it."""
    candidate = (STATIC_DIR / path).resolve()
    if STATIC_DIR not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def make_handler(settings: Settings, knowledge: LiveKnowledge) -> Type[BaseHTTPRequestHandler]:
    rasa_url = f"http://{settings.rasa_host}:{settings.rasa_port}"

    class Handler(BaseHTTPRequestHandler):
        server_version = "careerbot-widget"

        def do_GET(self) -> None:  # http.server's naming
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, demo_page(rasa_url, knowledge.get()), "text/html; charset=utf-8", cache=False)
            elif (match := CAREER_PATH.match(path)) and (page := self._career_page(match.group(1))):
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", cache=False)
            elif path.startswith("/widget/") and (file := static_file(path[len("/widget/") :])):
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                if kind.startswith("text/") or kind.endswith("javascript"):
                    kind += "; charset=utf-8"
                self._send(HTTPStatus.OK, file.read_bytes(), kind, cache=True)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", cache=False)

        def _career_page(self, career_id: str) -> "bytes | None":
            current = knowledge.get()  # one snapshot for the page and its links
            career = current.get(career_id)
            return career_page(rasa_url, current, career) if career else None

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
        # The guides are the careers the bot serves: the same files, reloaded as the bot reloads them.
        knowledge = LiveKnowledge(settings.knowledge_dir, settings.career)
    except (SettingsError, KnowledgeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    server = ThreadingHTTPServer((settings.widget_host, settings.widget_port), make_handler(settings, knowledge))
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
