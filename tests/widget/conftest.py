"""Headless Debian Chromium, driven by Playwright, for the widget tests, and a site owner's pages."""

from __future__ import annotations

from typing import Dict, Iterator

import pytest

from tests.support.browser import chromium
from tests.support.http import LocalServer, QuietHandler


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
                self.reply(200 if body is not None else 404, (body or "not found").encode(),
                           "text/html; charset=utf-8")

        super().__init__(Handler)
        self.origin = self.url


@pytest.fixture(scope="module")
def site_pages() -> Iterator[SitePages]:
    pages = SitePages()
    yield pages
    pages.close()
