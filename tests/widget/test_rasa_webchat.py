"""rasa-webchat, the widely used third-party widget, against this bot's socket.io channel, in headless Chromium.

Its browser build comes from the npm registry (`make webchat`, pinned in the
Makefile). A site owner's page on its own origin loads it, as rasa-webchat's
README shows; the origin is allowed with CAREERBOT_CORS_ORIGINS, and the
socket.io connection goes to the real Rasa server.

What must hold: it connects, chats and gets answers; the session id the
server confirms (`<conversation id>.<token>`) is what rasa-webchat keeps and
sends back, so a reload continues the same conversation with its context; a
stored id without its token gets a new session, and chatting goes on.
"""

from __future__ import annotations

import json
import re
from typing import Iterator

import pytest

from bot import PROJECT_DIR
from tests.support.http import LocalServer, QuietHandler
from tests.support.servers import running

WEBCHAT_DIR = PROJECT_DIR / "build" / "rasa-webchat"
WEBCHAT_JS = WEBCHAT_DIR / "lib" / "index.js"
SESSION_ID = re.compile(r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rasa-webchat on careerbot</title></head>
<body>
  <script src="/rasa-webchat.js"></script>
  <script>
    WebChat.default({socketUrl: "%(rasa_url)s", socketPath: "/socket.io/", title: "Career advisor",
                     params: {storage: "local"}}, null);
  </script>
</body></html>
"""


class SitePage(LocalServer):
    """A site owner's web server on 127.0.0.1: the page with rasa-webchat, and its script."""

    def __init__(self) -> None:
        assert WEBCHAT_JS.exists(), f"no rasa-webchat at {WEBCHAT_JS}: `make webchat` fetches it from npm"
        self.rasa_url = ""
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path == "/rasa-webchat.js":
                    self.reply(200, WEBCHAT_JS.read_bytes(), "application/javascript")
                else:
                    self.reply(200, (PAGE % {"rasa_url": site.rasa_url}).encode(), "text/html; charset=utf-8")

        super().__init__(Handler)


@pytest.fixture(scope="module")
def site() -> Iterator[SitePage]:
    page = SitePage()
    yield page
    page.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, site):
    """The real servers, with the site's page origin allowed."""
    for servers in running(tmp_path_factory.mktemp("servers"), CAREERBOT_CORS_ORIGINS=site.url):
        site.rasa_url = servers.rasa_url
        yield servers


@pytest.fixture
def page(browser, servers, site):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.goto(f"{site.url}/")
    yield page
    context.close()


def open_chat(page) -> None:
    page.locator(".rw-launcher").click()
    page.locator(".rw-new-message").wait_for()


def ask(page, text: str, answer: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")
    page.locator(".rw-response", has_text=answer).first.wait_for(timeout=90_000)


def stored_session_id(page) -> str:
    """The session id rasa-webchat keeps in localStorage, once it has one."""
    page.wait_for_function("(JSON.parse(localStorage.getItem('chat_session') || '{}').session_id || '') !== ''")
    return json.loads(page.evaluate("localStorage.getItem('chat_session')"))["session_id"]


def test_rasa_webchat_chats_and_a_reload_continues_the_conversation(page):
    open_chat(page)
    ask(page, "how much do they earn?", "$59,000 to $87,000")
    session_id = stored_session_id(page)
    assert SESSION_ID.match(session_id), session_id

    page.reload()
    # The transcript comes back from rasa-webchat's storage, the context from the server.
    page.locator(".rw-response", has_text="$59,000 to $87,000").first.wait_for()
    ask(page, "and the managers?", "Loan managers earn $59,000 to $87,000 a year.")
    assert stored_session_id(page) == session_id


def test_rasa_webchat_with_an_id_but_no_token_gets_a_new_session_and_chats(page):
    open_chat(page)
    ask(page, "what are the working hours?", "9am to 5pm")
    session_id = stored_session_id(page)

    # What a visitor who copied someone's conversation id would have: the id alone.
    bare = session_id.split(".")[0]
    page.evaluate(
        """(bare) => {
        const state = JSON.parse(localStorage.getItem('chat_session'));
        state.session_id = bare;
        localStorage.setItem('chat_session', JSON.stringify(state));
    }""",
        bare,
    )
    page.reload()
    page.wait_for_function(
        "(JSON.parse(localStorage.getItem('chat_session') || '{}').session_id || '')"
        f".split('.')[0] !== {json.dumps(bare)}"
    )
    new_session = stored_session_id(page)
    assert SESSION_ID.match(new_session) and not new_session.startswith(bare)
    open_chat_if_closed(page)
    ask(page, "do I need a license?", "License")


def open_chat_if_closed(page) -> None:
    if page.locator(".rw-new-message").count() == 0:
        open_chat(page)
