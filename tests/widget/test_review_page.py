"""The review page (`make review`, bot/ops/review/page.py) in headless Chromium, by keyboard, on a store that
real servers wrote: visitors asked what the bot misses or should not answer, over REST. Each test decides into
a tmp copy of data/ and a tmp review/ directory, never the checkout's."""

from __future__ import annotations

import contextlib
import html
import re
import shutil
import threading
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
import requests

from bot import PROJECT_DIR
from bot.ops.review.decisions import reviewed_lines
from bot.ops.review.page import PageConfig, make_server
from tests.support.servers import running, say
from tests.widget.test_accessibility import axe_violations, serious

FAMILY = "is it enough to raise a family on"
# Close enough to FAMILY to share its group (bot/ops/review/groups.py); the address keeps FAMILY_MAIL out of it.
FAMILY_TOO = "is that enough to raise a family on"
FAMILY_MAIL = "is it enough to raise a family on? write to me at ann.lee@example.com"
FAMILY_MAIL_SHOWN = "is it enough to raise a family on? write to me at [e-mail redacted]"
PERU = "what is the capital of peru"
PERU_AGAIN = "whats the capital of peru"
SCRIPT = "<script>alert('x')</script> who won the match"
# Word for word a line of the blind test sets: labelling it is refused (bot/similarity.py).
JOKE = "tell me a joke"
# Each visitor's messages; the one who typed SCRIPT was talking about loan officers.
VISITORS = [
    [FAMILY],
    [FAMILY_TOO],
    [FAMILY_MAIL],
    [PERU],
    [PERU_AGAIN],
    ["what do loan officers earn?", SCRIPT],
    [JOKE],
]
TOKEN = "a-long-random-review-token-0123"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """The conversation store the real servers wrote, each visitor in a conversation of their own."""
    workdir = tmp_path_factory.mktemp("review-store")
    with contextlib.contextmanager(running)(workdir) as servers:
        for number, texts in enumerate(VISITORS):
            for text in texts:
                assert say(servers, f"visitor-{number}", text)
        return servers.settings.tracker_url


class Page:
    """The review page served from a thread, deciding into tmp copies."""

    def __init__(self, store: str, tmp: Path, token: Optional[str] = None) -> None:
        self.data, self.review = tmp / "data", tmp / "review"
        shutil.copytree(PROJECT_DIR / "data", self.data)
        self.server = make_server(PageConfig(store, self.data, self.review, token), "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def review(store, tmp_path) -> Iterator[Page]:
    page = Page(store, tmp_path)
    yield page
    page.close()


@pytest.fixture
def tab(browser):
    # axe-core goes in as an inline script, which the page's Content-Security-Policy refuses otherwise.
    context = browser.new_context(viewport={"width": 1024, "height": 800}, bypass_csp=True)
    yield context.new_page()
    context.close()


FOCUS = """(() => { const e = document.activeElement, s = getComputedStyle(e);
    return [e.tagName, e.id, (e.textContent || '').trim().slice(0, 40), e.matches(':focus-visible'),
            s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2]; })()"""


def tab_until(tab, condition: str, limit: int = 80) -> List[list]:
    """Presses Tab until `condition` (a JS expression on `e`, the focused element) holds; every control on the
    way must show a focus ring."""
    seen = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUS)
        seen.append(focused)
        assert focused[3] and focused[4], f"no visible focus on {focused}"
        if tab.evaluate(f"(e => {condition})(document.activeElement)"):
            return seen
    raise AssertionError(f"Tab never reached {condition}: {seen[-10:]}")


def group_of(tab, text: str) -> str:
    return tab.locator("section.group", has=tab.get_by_text(text, exact=True)).get_attribute("id")


def label_by_keyboard(tab, text: str, intent: str) -> str:
    """From the top of the inbox: Tab to the topic list of `text`'s group, the arrow keys to `intent`, Tab to
    Label, Enter. The status line the page comes back with."""
    gid = group_of(tab, text)
    tab_until(tab, f"e.id === 't-{gid}'")
    for _ in range(60):
        if tab.evaluate("document.activeElement.value") == intent:
            break
        tab.keyboard.press("ArrowDown")
    tab_until(tab, "e.textContent === 'Label'", limit=1)
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    return tab.locator("#status").inner_text()


def test_the_owner_labels_a_whole_group_by_keyboard(tab, review):
    tab.goto(review.url)
    # The first Tab reaches the skip link, shown while focused; Enter moves on to the inbox.
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to the inbox"
    assert tab.locator(".skip").bounding_box()["y"] >= 0
    tab.keyboard.press("Enter")
    status = label_by_keyboard(tab, FAMILY, "ask_pay")
    assert re.match(r"2 messages labelled ask_pay: training examples in .*reviewed\.yml\.$", status), status
    assert tab.get_by_text(FAMILY, exact=True).count() == 0
    assert tab.get_by_text(FAMILY_MAIL_SHOWN, exact=True).count() == 1  # in a group of its own
    assert sorted(reviewed_lines(review.data)) == [(FAMILY, "ask_pay"), (FAMILY_TOO, "ask_pay")]


def test_the_owner_decides_one_checked_message_by_keyboard(tab, review):
    tab.goto(review.url)
    gid = group_of(tab, PERU)
    assert group_of(tab, PERU_AGAIN) == gid
    tab_until(tab, f"e.type === 'checkbox' && e.labels[0].textContent === {PERU!r}")
    tab.keyboard.press("Space")
    assert tab.evaluate("document.activeElement.checked")
    tab_until(tab, f"e.textContent === 'Out of scope' && e.closest('section')?.id === '{gid}'")
    with tab.expect_navigation():
        tab.keyboard.press("Space")
    assert tab.locator("#status").inner_text().startswith("1 message marked out of scope: negative examples in")
    assert tab.get_by_text(PERU, exact=True).count() == 0
    assert tab.get_by_text(PERU_AGAIN, exact=True).count() == 1  # the unchecked one still waits
    assert reviewed_lines(review.data) == [(PERU, "out_of_scope")]


def test_what_visitors_typed_is_shown_as_text_and_transcripts_are_redacted(tab, review):
    tab.goto(review.url)
    assert tab.evaluate("document.scripts.length") == 0
    assert tab.get_by_text(SCRIPT, exact=True).count() == 1
    assert "&lt;script&gt;alert(" in tab.content()
    # The group's conversation, by keyboard.
    gid = group_of(tab, FAMILY)
    tab_until(tab, f"e.tagName === 'A' && e.closest('section')?.id === '{gid}'")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    shown = tab.locator("main").inner_text()
    assert FAMILY in shown and "Bot" in shown
    assert tab.locator("mark").count() >= 1
    assert serious(axe_violations(tab)) == []
    # One message's conversation: the contact details in it are redacted.
    tab.goto(review.url)
    message = tab.get_by_label(FAMILY_MAIL_SHOWN, exact=True).get_attribute("value")
    tab.goto(f"{review.url}/transcript/{message}")
    assert FAMILY_MAIL_SHOWN in tab.locator("mark").inner_text() and "ann.lee" not in tab.content()


def test_axe_finds_nothing_serious_on_the_inbox(tab, review):
    tab.goto(review.url)
    violations = axe_violations(tab)
    assert serious(violations) == [], violations


# --- Refusals, over plain HTTP ------------------------------------------------------------------


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_a_refused_decision_says_why_in_one_line_with_a_4xx(review):
    inbox = requests.get(review.url, timeout=30).text
    gid = re.search(r'<section class="group" id="(g[0-9a-f]+)"[^>]*>\s*<h2[^>]*>[^<]*“' + JOKE, inbox).group(1)
    refused = requests.post(
        f"{review.url}/decide",
        data={"csrf": csrf_of(inbox), "group": gid, "intent": "ask_pay", "decision": "label"},
        allow_redirects=False,
        timeout=30,
    )
    assert refused.status_code == 400
    status = re.search(r"<p id='status' class='status error' role='alert'>([^<]*)</p>", refused.text).group(1)
    assert "tell me a joke" in status and "test_set.yml" in status and "\n" not in status
    assert reviewed_lines(review.data) == []
    no_topic = requests.post(
        f"{review.url}/decide",
        data={"csrf": csrf_of(inbox), "group": gid, "intent": "", "decision": "label"},
        timeout=30,
    )
    assert no_topic.status_code == 400 and "choose the topic" in no_topic.text


def test_needs_content_lists_the_message_per_career_and_ignore_drops_one(review):
    inbox = requests.get(review.url, timeout=30).text
    groups = dict(re.findall(r'<section class="group" id="(g[0-9a-f]+)"[^>]*>\s*<h2[^>]*>[^“]*“([^”]*)”', inbox))
    by_text = {html.unescape(text): gid for gid, text in groups.items()}

    def post(text: str, decision: str, intent: str = "") -> requests.Response:
        form = {"csrf": csrf_of(inbox), "group": by_text[text], "intent": intent, "decision": decision}
        return requests.post(f"{review.url}/decide", data=form, allow_redirects=False, timeout=30)

    moved = post(SCRIPT, "needs_content", "ask_overview")
    assert moved.status_code == 303 and moved.headers["Location"].startswith("/?done=")
    ignored = post(JOKE, "ignore")
    assert ignored.status_code == 303
    after = requests.get(review.url + ignored.headers["Location"], timeout=30).text
    assert "1 message ignored (recorded in" in after
    content = after[after.index("<h2 id='content-h'>") :]
    assert "<h3>loan_officers</h3>" in content
    assert f"<li>{html.escape(SCRIPT)} (topic: overview)</li>" in content
    waiting = after[: after.index("<h2 id='content-h'>")]
    assert html.escape(SCRIPT) not in waiting and f"“{JOKE}”" not in waiting
    assert reviewed_lines(review.data) == []  # neither decision makes a training example
    # The status line of a redirect is the page's own: a made-up key shows none.
    assert "<div id='status' role='status'></div>" in requests.get(f"{review.url}/?done=made-up", timeout=30).text


def test_a_form_without_this_process_csrf_token_writes_nothing(review):
    inbox = requests.get(review.url, timeout=30).text
    gid = re.search(r'<section class="group" id="(g[0-9a-f]+)"', inbox).group(1)
    form = {"group": gid, "intent": "ask_pay", "decision": "label"}
    # As another site's page would post it, with the owner's browser: no token, or one it made up.
    for csrf in ({}, {"csrf": "x" * 43}):
        refused = requests.post(
            f"{review.url}/decide", data={**form, **csrf}, headers={"Origin": "http://evil.example"}, timeout=30
        )
        assert refused.status_code == 403 and "not from this page" in refused.text
    assert not review.review.exists() and reviewed_lines(review.data) == []
    # A DNS name of another site pointed at 127.0.0.1 (rebinding) does not get the page either.
    rebound = requests.get(review.url, headers={"Host": "evil.example"}, timeout=30)
    assert rebound.status_code == 403 and csrf_of_or_none(rebound.text) is None


def csrf_of_or_none(html: str) -> Optional[str]:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    return found.group(1) if found else None


def test_with_a_token_every_request_needs_it(store, tmp_path, tab):
    page = Page(store, tmp_path, token=TOKEN)
    try:
        for headers in ({}, {"Authorization": "Bearer wrong-token-of-enough-length"}):
            response = requests.get(page.url, headers=headers, timeout=30)
            assert response.status_code == 401 and csrf_of_or_none(response.text) is None
            assert requests.get(f"{page.url}/transcript/x", headers=headers, timeout=30).status_code == 401
        assert requests.post(f"{page.url}/decide", data={}, timeout=30).status_code == 401
        inbox = requests.get(page.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert inbox.status_code == 200 and csrf_of(inbox.text)
        # In the browser: the login form, by keyboard, sets a cookie that is not the token.
        tab.goto(page.url)
        assert serious(axe_violations(tab)) == []
        tab_until(tab, "e.id === 'token'")
        tab.keyboard.type("not the token at all")
        with tab.expect_navigation():
            tab.keyboard.press("Enter")
        assert tab.get_by_role("alert").inner_text() == "That is not the token."
        tab.get_by_label("Review token").fill(TOKEN)
        with tab.expect_navigation():
            tab.keyboard.press("Enter")
        assert tab.get_by_role("heading", level=1).inner_text() == "Review inbox"
        assert tab.get_by_text(FAMILY, exact=True).count() == 1
        [cookie] = tab.context.cookies()
        assert TOKEN not in cookie["value"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    finally:
        page.close()
