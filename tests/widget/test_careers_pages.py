"""The demo site's guide per career (bot/widget/server.py): each guide's widget carries
data-context='{"career": "<id>"}', and the bot answers about the page's career. Issue 19's "Done when"
checks, through the widget in headless Chromium against the real servers (fixtures in conftest.py),
and the site itself: links, escaping, live reload of the guides.
"""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import requests
import yaml

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.launch.processes import free_port, wait_until
from tests.support.browser import ask, log_text, open_chat, open_in_another_tab
from tests.widget.test_accessibility import axe_violations

LOAN_OFFICERS_MEDIAN = "$63,380"
LOAN_OFFICERS_SOURCE = "U.S. Bureau of Labor Statistics, Occupational Outlook Handbook: Loan Officers"
TELLERS_PERCENTILES = ["$24,660", "$28,080", "$32,620", "$37,780", "$41,220"]  # p10, p25, median, p75, p90
TELLERS_SOURCE = "U.S. Bureau of Labor Statistics, Occupational Employment and Wages: 43-3071 Tellers"
MORTGAGE_MANAGERS = "$59,000 to $87,000"


@pytest.fixture
def visitor(browser, servers) -> Iterator:
    """A visitor's browser of their own (a fresh conversation), on the demo site."""
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.servers = servers
    yield page
    context.close()


def visit(page, path: str) -> None:
    page.goto(f"{page.servers.widget_url}{path}")


def reply(page, text: str) -> str:
    """The bot's messages in answer to `text`, asked in the open chat."""
    before = page.locator(".cb-from-bot").count()
    ask(page, text)
    return "\n".join(page.locator(".cb-from-bot").all_inner_texts()[before:])


def session_id(page) -> str:
    return page.wait_for_function("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        return key && JSON.parse(localStorage.getItem(key)).sessionId;
    }""").json_value()


# --- The "Done when" checks, through the widget ----------------------------------------------


def test_the_loan_officers_guide_answers_with_the_bls_median(visitor):
    visit(visitor, "/careers/loan_officers")
    open_chat(visitor)
    assert "Hi! I answer questions about loan officers" in log_text(visitor)
    answer = reply(visitor, "how much do they make?")
    assert LOAN_OFFICERS_MEDIAN in answer and LOAN_OFFICERS_SOURCE in answer
    assert MORTGAGE_MANAGERS not in answer


def test_the_tellers_guide_answers_with_the_percentiles(visitor):
    visit(visitor, "/careers/tellers")
    open_chat(visitor)
    answer = reply(visitor, "how much do they make?")
    assert all(figure in answer for figure in TELLERS_PERCENTILES), answer
    assert "Median" in answer and TELLERS_SOURCE in answer


def test_the_tellers_guide_says_its_source_does_not_cover_licensing(visitor):
    visit(visitor, "/careers/tellers")
    open_chat(visitor)
    answer = reply(visitor, "do I need a license?")
    assert "My source on tellers doesn't cover" in answer
    assert "Mortgage Loan Originator" not in answer


def test_without_context_a_question_naming_loan_officers_gets_their_pay(visitor):
    visit(visitor, "/")
    open_chat(visitor)
    answer = reply(visitor, "how much do loan officers make?")
    assert LOAN_OFFICERS_MEDIAN in answer and LOAN_OFFICERS_SOURCE in answer


def test_without_context_and_for_loan_officers_after_a_mortgage_pay_answer(visitor):
    visit(visitor, "/")
    open_chat(visitor)
    assert MORTGAGE_MANAGERS in reply(visitor, "how much do they earn?")
    answer = reply(visitor, "and for loan officers?")
    assert LOAN_OFFICERS_MEDIAN in answer and MORTGAGE_MANAGERS not in answer


def _has_intent(name: str) -> bool:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    return any(name == (intent if isinstance(intent, str) else next(iter(intent))) for intent in domain["intents"])


@pytest.mark.skipif(
    not _has_intent("list_careers"),
    reason="needs the list_careers intent (issue 19, the dialogue part), not in domain.yml yet",
)
def test_which_careers_names_all_three(visitor):
    visit(visitor, "/careers/tellers")
    open_chat(visitor)
    answer = reply(visitor, "Which careers can you tell me about?").lower()
    assert all(name in answer for name in ("mortgage servicing specialist", "loan officer", "teller")), answer


def test_moving_to_another_guide_keeps_the_conversation_and_answers_for_the_new_page(visitor):
    """The page changed: its career beats the conversation's (tellers, from the first page)."""
    visit(visitor, "/careers/tellers")
    open_chat(visitor)
    assert "$32,620" in reply(visitor, "how much do they make?")
    conversation = session_id(visitor)
    visitor.get_by_role("link", name="Loan officers").click()
    visitor.wait_for_url("**/careers/loan_officers")
    open_in_another_tab(visitor)  # the chat stays open across pages
    assert "$32,620" in log_text(visitor)  # the transcript came along
    answer = reply(visitor, "how much do they make?")
    assert LOAN_OFFICERS_MEDIAN in answer and "$32,620" not in answer
    assert session_id(visitor) == conversation
    # Staying on the page, a question naming another career still goes to that career.
    assert "$32,620" in reply(visitor, "and for tellers?")


# --- The site: pages, links, escaping, live reload -------------------------------------------


class Page(html.parser.HTMLParser):
    """The links, the widget tag's attributes and the h1 of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: List[Tuple[str, str]] = []
        self.current: List[str] = []  # the hrefs of links marked aria-current="page"
        self.widget: Dict[str, str] = {}
        self.h1 = ""
        self._in: List[str] = []
        self._href = ""
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script" and attributes.get("src", "").endswith("careerbot.js"):
            self.widget = attributes
        if tag == "a":
            self._href, self._text = attributes.get("href", ""), ""
            if attributes.get("aria-current") == "page":
                self.current.append(self._href)
        self._in.append(tag)

    def handle_endtag(self, tag):
        if tag == "a":
            self.links.append((self._href, self._text.strip()))
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if "a" in self._in:
            self._text += data
        if "h1" in self._in:
            self.h1 += data


def fetch(url: str) -> Page:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return Page(response.text)


def guides(page: Page) -> Dict[str, str]:
    return {href: text for href, text in page.links if href.startswith("/careers/")}


def test_the_demo_page_lists_a_guide_per_career_and_each_guide_links_to_every_guide(servers, knowledge):
    home = fetch(f"{servers.widget_url}/")
    assert "data-context" not in home.widget  # the plain page: the default career
    assert home.current == []
    listed = guides(home)
    assert listed == {
        f"/careers/{career_id}": career.plural[0].upper() + career.plural[1:]
        for career_id, career in knowledge.careers.items()
    }
    for href in listed:
        guide = fetch(f"{servers.widget_url}{href}")
        career_id = href.rsplit("/", 1)[1]
        assert json.loads(guide.widget["data-context"]) == {"career": career_id}
        assert guide.widget["data-server"] == servers.rasa_url
        assert guides(guide) == listed and guide.current == [href]
        assert ("/", "All career guides") in guide.links


@pytest.mark.parametrize("path", ["/", "/careers/tellers"])
def test_axe_finds_nothing_on_the_demo_page_and_a_guide(visitor, path):
    visit(visitor, path)
    visitor.get_by_role("button", name="Chat with us").wait_for()
    closed = axe_violations(visitor)
    open_chat(visitor)
    assert (closed, axe_violations(visitor)) == ([], [])


@pytest.mark.parametrize(
    "path", ["/careers/nobody", "/careers/", "/careers/tellers/", "/careers/..%2fserver.py", "/careers/tellers.yml"]
)
def test_a_guide_that_does_not_exist_is_a_404(servers, path):
    assert requests.get(f"{servers.widget_url}{path}", timeout=10).status_code == 404


HOSTILE = '</a><script>alert("name")</script>{{RASA_URL}}{{CAREER_LINKS}} tellers'


@pytest.fixture(scope="module")
def own_site(tmp_path_factory) -> Iterator[Tuple[str, Path]]:
    """The widget server alone, on a knowledge directory of its own: (its URL, the directory)."""
    directory = tmp_path_factory.mktemp("knowledge")
    shutil.copy(KNOWLEDGE_DIR / "loan_officers.yml", directory)
    port = free_port()
    env = dict(
        os.environ,
        CAREERBOT_KNOWLEDGE_DIR=str(directory),
        CAREERBOT_WIDGET_PORT=str(port),
        CAREERBOT_CAREER="",
        PYTHONPATH=str(PROJECT_DIR),
    )
    log = tmp_path_factory.mktemp("widget") / "widget.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.widget.server"], cwd=PROJECT_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the widget server exited:\n{log.read_text(errors='replace')}")
        try:
            return requests.get(f"{url}/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(up, 60, "the widget server answers")
        yield url, directory
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_broken_career_file_stops_the_site_at_start_and_names_the_file_and_field(tmp_path):
    shutil.copy(KNOWLEDGE_DIR / "tellers.yml", tmp_path)
    broken = tmp_path / "loan_officers.yml"
    broken.write_text(
        (KNOWLEDGE_DIR / "loan_officers.yml").read_text(encoding="utf-8").replace("  plural: loan officers\n", ""),
        encoding="utf-8",
    )
    env = dict(
        os.environ,
        CAREERBOT_KNOWLEDGE_DIR=str(tmp_path),
        CAREERBOT_WIDGET_PORT=str(free_port()),
        CAREERBOT_CAREER="",
        PYTHONPATH=str(PROJECT_DIR),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.widget.server"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {broken}: field 'career") and "plural" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def hostile_career(directory: Path) -> None:
    """A career file whose name, summary and source address try to break out of the page's HTML."""
    data = yaml.safe_load((KNOWLEDGE_DIR / "tellers.yml").read_text(encoding="utf-8"))
    name = HOSTILE.replace("tellers", "teller")
    data["career"].update(name=name, plural=HOSTILE, aliases=[name])
    data["overview"] = {"summary": "<img src=x onerror=alert('summary')>", "source": "oews"}
    data["sources"]["oews"]["url"] = 'https://example.com/?a="><script>alert("url")</script>'
    (directory / "hostile.yml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_a_career_added_while_the_site_runs_gets_its_guide_and_goes_when_removed(own_site):
    url, directory = own_site
    wait_until(lambda: set(guides(fetch(f"{url}/"))) == {"/careers/loan_officers"}, 30, "one guide listed")
    shutil.copy(KNOWLEDGE_DIR / "tellers.yml", directory)
    try:
        wait_until(lambda: "/careers/tellers" in guides(fetch(f"{url}/")), 30, "the tellers guide is listed")
        assert json.loads(fetch(f"{url}/careers/tellers").widget["data-context"]) == {"career": "tellers"}
    finally:
        (directory / "tellers.yml").unlink()
    wait_until(
        lambda: requests.get(f"{url}/careers/tellers", timeout=10).status_code == 404, 30, "the tellers guide is gone"
    )


def test_knowledge_text_stays_text_in_the_guides(own_site, browser):
    url, directory = own_site
    hostile_career(directory)
    try:
        wait_until(
            lambda: requests.get(f"{url}/careers/hostile", timeout=10).status_code == 200,
            30,
            "the hostile guide is served",
        )
        context = browser.new_context()
        page = context.new_page()
        dialogs: List[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            for path in ("/", "/careers/hostile", "/careers/loan_officers"):
                page.goto(f"{url}{path}")
                assert page.locator("main script, main img").count() == 0, path
            page.goto(f"{url}/careers/hostile")
            title = HOSTILE[0].upper() + HOSTILE[1:]
            assert page.locator("h1").inner_text() == title
            assert (
                page.get_by_role("link", name="U.S. Bureau of Labor Statistics", exact=False).get_attribute("href")
                == 'https://example.com/?a="><script>alert("url")</script>'
            )
            assert page.get_by_text("<img src=x onerror=alert('summary')>").count() == 1
            # The placeholders in the name are text, not placeholders filled in after it was inserted.
            assert "{{RASA_URL}}{{CAREER_LINKS}}" in page.locator("h1").inner_text()
        finally:
            context.close()
        assert dialogs == []
        assert guides(fetch(f"{url}/"))["/careers/hostile"] == title
    finally:
        (directory / "hostile.yml").unlink()
