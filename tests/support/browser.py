"""Headless Debian Chromium, driven by Playwright (no browser download), and how the widget tests
look into the careerbot widget.

The widget lives in an open shadow root: Playwright's locators reach into it;
scripts evaluated in the page go through SHADOW.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Any, Deque, Iterator

from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = os.environ.get("CAREERBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Iterator[Any]:
    """For a fixture: a launched headless Chromium, closed when the fixture ends."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


# --- The careerbot widget in a page ---------------------------------------------------------

SHADOW = "document.querySelector('careerbot-chat').shadowRoot"


def record_traffic(page) -> Deque[str]:
    """The page's last socket.io packets and console lines, for the message of a wait that times out."""
    traffic: Deque[str] = collections.deque(maxlen=60)

    def note(kind: str, detail: Any) -> None:
        traffic.append(f"{kind} {str(detail)[:200]}")

    page.on("console", lambda message: note(f"console.{message.type}", message.text))
    page.on(
        "request",
        lambda request: (
            note(f"{request.method}", f"{request.url} {request.post_data or ''}")
            if "/socket.io" in request.url
            else None
        ),
    )
    page.on(
        "response", lambda response: note(f"{response.status}", response.url) if "/socket.io" in response.url else None
    )

    def on_websocket(socket: Any) -> None:
        note("ws.open", socket.url)
        socket.on("framesent", lambda payload: note("ws>", payload))
        socket.on("framereceived", lambda payload: note("ws<", payload))
        socket.on("close", lambda _: note("ws.close", socket.url))

    page.on("websocket", on_websocket)
    return traffic


def diagnosis(page) -> str:
    """What the widget shows and stores, its last packets and the servers' last log lines."""
    parts = []
    try:
        parts.append(
            "widget: "
            + json.dumps(
                in_widget(
                    page,
                    """({
            status: root.querySelector('.cb-status').textContent,
            online: root.querySelector('.cb-online') !== null,
            typing: root.querySelector('.cb-typing').textContent,
            queued: root.querySelectorAll('.cb-queued').length,
            bot: root.querySelectorAll('.cb-from-bot').length,
            stored: Object.keys(localStorage).filter(k => k.startsWith('careerbot:'))
                .map(k => localStorage.getItem(k).slice(-1500)),
        })""",
                )
            )
        )
    except Exception as error:  # a diagnosis never hides the failure it describes
        parts.append(f"widget: unreadable ({error})")
    parts.append("traffic:\n  " + "\n  ".join(getattr(page, "traffic", [])))
    servers = getattr(page, "servers", None)
    if servers is not None and servers.log_dir is not None:
        for log in sorted(servers.log_dir.glob("*.log")):
            lines = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if line[:1].strip() and "Warning" not in line and "sanic.access" not in line
            ]
            parts.append(f"{log.name}:\n  " + "\n  ".join(lines[-25:]))
    return "\n".join(parts)


def in_widget(page, expression: str) -> Any:
    """Evaluates `expression` with `root` bound to the widget's shadow root."""
    return page.evaluate(f"(() => {{ const root = {SHADOW}; return {expression}; }})()")


def wait_in_widget(page, condition: str, timeout: float = 90000) -> Any:
    return page.wait_for_function(
        f"(() => {{ const host = document.querySelector('careerbot-chat'); if (!host) return false;"
        f" const root = host.shadowRoot; return {condition}; }})()",
        timeout=timeout,
    )


def open_chat(page, launcher: str = "Chat with us", label: str = "Your message"):
    page.get_by_role("button", name=launcher).click()
    page.get_by_role("textbox", name=label).wait_for()


def open_in_another_tab(page):
    """A tab opened after the chat was opened in another one opens with the chat open, as a reload does."""
    page.get_by_role("textbox", name="Your message").wait_for()


def answered(page, bot_messages_before: int, timeout: float = 90000) -> None:
    """Waits until a new reply is in and every message is acknowledged: the server acks a
    message after the whole turn, so by then every bubble of the reply has arrived.

    Count `bot_messages_before` before the message can go out: a reply that arrives before
    the count is taken would be waited for in vain."""
    try:
        wait_in_widget(
            page,
            f"root.querySelectorAll('.cb-from-bot').length > {bot_messages_before}"
            " && !root.querySelector('.cb-queued')"
            " && root.querySelector('.cb-typing').textContent === ''",
            timeout=timeout,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"no answer within {timeout / 1000:.0f} s\n{diagnosis(page)}") from None


def ask(page, text, label: str = "Your message"):
    before = page.locator(".cb-from-bot").count()
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter")
    answered(page, before)


def log_text(page) -> str:
    return page.locator(".cb-log").inner_text()


ARTICLE = "<main><h1>Careers</h1><p>An article.</p></main>"


def embed_html(servers, attributes: str = "", head: str = "", body: str = ARTICLE) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>A site owner's page</title>{head}</head>
<body>{body}
<script src="{servers.widget_url}/widget/careerbot.js" data-server="{servers.rasa_url}" {attributes} defer></script>
</body></html>"""


def embed(
    page, site_pages, servers, attributes: str = "", head: str = "", origin: str = "", body: str = ARTICLE
) -> None:
    """Opens a site owner's page with the one-tag embed, on the site's own origin (allowed) unless told."""
    path = f"/page-{len(site_pages.pages)}.html"
    site_pages.pages[path] = embed_html(servers, attributes, head, body)
    page.goto(f"{origin or site_pages.origin}{path}")
