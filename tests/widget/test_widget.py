"""The chat widget in real headless Chromium, against the real Rasa and action servers."""

from __future__ import annotations

import pytest

from bot import PROJECT_DIR

SCREENSHOTS = PROJECT_DIR / "build" / "screenshots"


@pytest.fixture
def page(browser, servers):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{servers.widget_url}/")
    yield page
    context.close()


def open_chat(page):
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox", name="Your message").wait_for()


def ask(page, text):
    before = page.locator(".cb-from-bot").count()
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('.cb-from-bot').length > {before}")
    # Replies arrive as several bubbles; wait until the one with the buttons is in.
    page.wait_for_timeout(300)


def log_text(page) -> str:
    return page.locator(".cb-log").inner_text()


def test_pay_question_shows_the_ranges_as_a_list(page):
    open_chat(page)
    assert "Hi! I answer questions" in log_text(page)  # the greeting on open
    ask(page, "how much do they earn?")
    page.get_by_text("$59,000 to $87,000", exact=False).wait_for()
    items = page.locator(".cb-from-bot li").all_inner_texts()
    assert "Loan managers: $59,000 to $87,000 a year" in items
    assert "Payscale" in log_text(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-desktop.png"))


def test_follow_up_button_sends_its_payload_and_shows_its_title(page):
    open_chat(page)
    ask(page, "how much do they earn?")
    page.get_by_role("button", name="Managers' pay?").last.click()
    page.get_by_text("Loan managers earn $59,000 to $87,000 a year.").wait_for()
    assert page.locator(".cb-from-user").last.inner_text().endswith("Managers' pay?")
    # Buttons of earlier answers stay clickable after later messages.
    page.get_by_role("button", name="What should I study?").first.click()
    page.get_by_text("Business, Finance, Economics or Accounting", exact=False).wait_for()


def test_reload_keeps_the_conversation_and_its_context(page):
    open_chat(page)
    ask(page, "do I need a license?")
    page.get_by_text("Mortgage Loan Originator License", exact=False).first.wait_for()
    page.reload()
    page.get_by_text("Mortgage Loan Originator License", exact=False).first.wait_for()
    assert "do I need a license?" in log_text(page)
    ask(page, "what about in Ohio?")
    page.get_by_text("no rules specific to Ohio", exact=False).wait_for()


def test_html_from_the_user_stays_inert_text(page):
    open_chat(page)
    attack = "<img src=x onerror=alert(1)>"
    ask(page, attack)
    assert page.locator(".cb-from-user").last.inner_text().endswith(attack)
    assert page.locator(".cb-log img").count() == 0
    page.wait_for_timeout(500)
    assert page.dialogs == []


def test_markdown_is_rendered_safely(page):
    rendered = page.evaluate("""() => {
        const node = window.CareerbotWidget.renderText(
            "**Bold** and [a link](https://example.com/x) and [bad](javascript:alert(1))\\n- one\\n- two");
        return {html: node.innerHTML, links: [...node.querySelectorAll('a')].map(a => [a.href, a.target, a.rel])};
    }""")
    assert "<strong>Bold</strong>" in rendered["html"]
    assert rendered["links"] == [["https://example.com/x", "_blank", "noopener noreferrer"]]
    assert "javascript:" not in "".join(link[0] for link in rendered["links"])
    assert "<li>one</li><li>two</li>" in rendered["html"]


def test_keyboard_only_conversation(page):
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Chat with us"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "cb-input"
    page.keyboard.type("what are the working hours?")
    page.keyboard.press("Enter")
    page.get_by_text("9am to 5pm", exact=False).wait_for()
    page.wait_for_timeout(300)
    # Tab from the input back through the choices of the last answer.
    page.keyboard.press("Shift+Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.classList.contains('cb-choice')"):
            break
        page.keyboard.press("Shift+Tab")
    choice = page.evaluate("document.activeElement.textContent")
    assert choice
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.cb-from-user').length >= 2")
    assert page.locator(".cb-from-user").last.inner_text().endswith(choice)
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.textContent") == "Chat with us"


def test_phone_width_has_no_horizontal_scroll(browser, servers):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(f"{servers.widget_url}/")
    open_chat(page)
    ask(page, "how much do they earn?")
    page.get_by_text("$59,000 to $87,000", exact=False).wait_for()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-375px.png"))
    context.close()
    assert widths[0] <= widths[1] == 375


def test_recovers_when_the_server_restarts(page, servers):
    open_chat(page)
    ask(page, "how much do they earn?")
    page.get_by_text("$59,000 to $87,000", exact=False).wait_for()
    servers.stop_rasa()
    try:
        page.get_by_text("Can't reach the assistant", exact=False).wait_for(timeout=20000)
    finally:
        servers.start_rasa()
    page.wait_for_function("document.querySelector('.cb-status').textContent === ''", timeout=30000)
    # The conversation survived in the SQL tracker store: the follow-up still has its context.
    ask(page, "and the managers?")
    page.get_by_text("Loan managers earn $59,000 to $87,000 a year.").wait_for()


def stored_session_id(page) -> str:
    """The session id the widget keeps in localStorage, once the server has confirmed one."""
    return page.wait_for_function("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        return key && JSON.parse(localStorage.getItem(key)).sessionId;
    }""").json_value()


def test_the_widget_keeps_the_server_issued_id_with_its_token(page):
    open_chat(page)
    ask(page, "what are the working hours?")
    session_id = stored_session_id(page)
    conversation_id, token = session_id.split(".")
    assert len(conversation_id) == 32 and len(token) == 43
    page.reload()
    page.get_by_text("9am to 5pm", exact=False).first.wait_for()
    ask(page, "how much do they earn?")
    assert stored_session_id(page) == session_id


def test_a_stored_id_without_its_token_gets_a_new_session_and_chats_on(page):
    open_chat(page)
    ask(page, "what are the working hours?")
    conversation_id = stored_session_id(page).split(".")[0]
    # An id copied from someone else, without the token: the widget must still work.
    page.evaluate("""(id) => {
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        const state = JSON.parse(localStorage.getItem(key));
        state.sessionId = id;
        localStorage.setItem(key, JSON.stringify(state));
    }""", conversation_id)
    page.reload()
    page.wait_for_function(f"""() => {{
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        const id = JSON.parse(localStorage.getItem(key)).sessionId || '';
        return id.includes('.') && !id.startsWith('{conversation_id}');
    }}""")
    ask(page, "how much do they earn?")
    page.get_by_text("$59,000 to $87,000", exact=False).first.wait_for()
