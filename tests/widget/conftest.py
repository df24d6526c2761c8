"""Headless Debian Chromium, driven by Playwright, for the widget tests, and a site owner's pages."""

from __future__ import annotations

from typing import Dict, Iterator

import pytest

from bot.launch.processes import free_port
from tests.support.browser import chromium, record_traffic
from tests.support.http import LocalServer, QuietHandler
from tests.support.servers import running


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


class SitePages(LocalServer):
    """A site owner's web server on 127.0.0.1, on an origin of its own: serves the HTML put in `pages`."""

    def __init__(self) -> None:
        self.pages: Dict[str, str] = {}
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = site.pages.get(self.path.split("?", 1)[0])
                self.reply(200 if body is not None else 404, (body or "not found").encode(), "text/html; charset=utf-8")

        super().__init__(Handler)
        self.origin = self.url


@pytest.fixture(scope="module")
def site_pages() -> Iterator[SitePages]:
    pages = SitePages()
    yield pages
    pages.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, site_pages):
    """The real servers; allowed origins: the demo page's, and a site owner's pages on 127.0.0.1
    (site_pages). The same pages as http://localhost:<port> are another origin, not allowed."""
    widget_port = free_port()
    yield from running(
        tmp_path_factory.mktemp("servers"),
        CAREERBOT_WIDGET_PORT=str(widget_port),
        CAREERBOT_CORS_ORIGINS=f"http://127.0.0.1:{widget_port},{site_pages.origin}",
    )


@pytest.fixture
def page(browser, servers):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.servers = servers
    page.traffic = record_traffic(page)
    page.goto(f"{servers.widget_url}/")
    yield page
    context.close()
