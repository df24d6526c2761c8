"""The widget when the server cannot store a turn: the message stays in its outbox and is sent again.

Real Chromium, the real servers, a real SQLite store locked by another
connection (this test process) with BEGIN EXCLUSIVE, as another process would.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import List

import pytest

from tests.support.servers import running

SHADOW = "document.querySelector('careerbot-chat').shadowRoot"
STORE_FAILED = "conversation store unavailable, this turn is not saved"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("servers"))


def stored_user_texts(servers, conversation_id: str) -> List[str]:
    with sqlite3.connect(str(servers.settings.sqlite_path)) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation_id,)
        )
        return [json.loads(data)["text"] for (data,) in rows]


def wait_in_widget(page, condition: str, timeout: float = 90000) -> None:
    page.wait_for_function(
        f"(() => {{ const host = document.querySelector('careerbot-chat'); if (!host) return false;"
        f" const root = host.shadowRoot; return {condition}; }})()",
        timeout=timeout,
    )


def rasa_log(servers) -> str:
    return (servers.log_dir / "rasa.log").read_text(errors="replace")


def test_a_message_the_store_could_not_save_stays_queued_and_is_answered_once_when_it_can(browser, servers):
    """The finding: the server acked "answered" for a turn it did not store, and the widget dropped it."""
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{servers.widget_url}/")
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_role("textbox", name="Your message")
        box.fill("what do they do?")
        box.press("Enter")
        wait_in_widget(page, "root.querySelectorAll('.cb-from-bot').length > 1 && !root.querySelector('.cb-queued')")
        session = page.evaluate("""() => {
            const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
            return JSON.parse(localStorage.getItem(key)).sessionId;
        }""")
        conversation_id = session.split(".")[0]
        failures_before = rasa_log(servers).count(STORE_FAILED)

        holder = sqlite3.connect(str(servers.settings.sqlite_path), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # no other connection may write until this ends
        try:
            box.fill("what are the working hours?")
            box.press("Enter")
            deadline = time.monotonic() + 90
            while rasa_log(servers).count(STORE_FAILED) == failures_before:
                assert time.monotonic() < deadline, "the locked store never refused the turn"
                time.sleep(0.1)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # Sent again by the widget after the server's retry_after, now that it can be stored.
        page.locator(".cb-from-bot", has_text="9am to 5pm").wait_for(timeout=90000)
        wait_in_widget(page, "!root.querySelector('.cb-queued')")
        assert page.locator(".cb-failed").count() == 0
        assert page.get_by_text("could not be answered", exact=False).count() == 0
        assert page.locator(".cb-from-bot", has_text="9am to 5pm").count() == 1
        assert stored_user_texts(servers, conversation_id) == ["what do they do?", "what are the working hours?"]
    finally:
        context.close()
