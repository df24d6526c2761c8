"""Headless Debian Chromium, driven by Playwright (no browser download)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = os.environ.get("CAREERBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> Iterator[Any]:
    """For a fixture: a launched headless Chromium, closed when the fixture ends."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()
