"""The chat widget in real headless Chromium, against the real Rasa and action servers
(the fixtures `servers` and `page` are in conftest.py, the helpers in tests/support/browser.py)."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Dict, List

from bot import PROJECT_DIR
from bot.launch.processes import wait_until
from tests.support.browser import (
    answered,
    ask,
    embed,
    in_widget,
    log_text,
    open_chat,
    open_in_another_tab,
    wait_in_widget,
)

SCREENSHOTS = PROJECT_DIR / "build" / "screenshots"


def stored_events(servers, conversation_id: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(str(servers.settings.sqlite_path)) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (conversation_id,)
        )
        return [json.loads(data) for (data,) in rows]


def stored_user_texts(servers, conversation_id: str) -> List[str]:
    return [event.get("text") for event in stored_events(servers, conversation_id)]


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
    assert page.locator(".cb-from-user .cb-text").last.inner_text() == "Managers' pay?"
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
    assert page.locator(".cb-from-user .cb-text").last.inner_text() == attack
    assert page.locator(".cb-log img").count() == 0
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


def focused(page, what: str = "textContent") -> Any:
    return in_widget(page, f"root.activeElement && root.activeElement.{what}")


def test_keyboard_only_conversation(page):
    page.get_by_role("button", name="Chat with us").wait_for()
    # The launcher comes after the page's own links (the demo page lists the career guides).
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused(page) == "Chat with us":
            break
    assert focused(page) == "Chat with us"
    page.keyboard.press("Enter")
    assert focused(page, "id") == "cb-input"
    page.keyboard.type("what are the working hours?")
    page.keyboard.press("Enter")
    answered(page, 1)
    assert "9am to 5pm" in log_text(page)
    # Tab from the input back through the choices of the last answer.
    page.keyboard.press("Shift+Tab")
    for _ in range(10):
        if focused(page, "classList.contains('cb-choice')"):
            break
        page.keyboard.press("Shift+Tab")
    choice = focused(page)
    assert choice
    page.keyboard.press("Enter")
    wait_in_widget(page, "root.querySelectorAll('.cb-from-user').length >= 2")
    assert page.locator(".cb-from-user .cb-text").last.inner_text() == choice
    page.keyboard.press("Escape")
    assert focused(page) == "Chat with us"


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
    wait_in_widget(page, "root.querySelector('.cb-status').textContent === ''", timeout=60000)
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
    page.evaluate(
        """(id) => {
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        const state = JSON.parse(localStorage.getItem(key));
        state.sessionId = id;
        localStorage.setItem(key, JSON.stringify(state));
    }""",
        conversation_id,
    )
    page.reload()
    page.wait_for_function(f"""() => {{
        const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
        const id = JSON.parse(localStorage.getItem(key)).sessionId || '';
        return id.includes('.') && !id.startsWith('{conversation_id}');
    }}""")
    ask(page, "how much do they earn?")
    page.get_by_text("$59,000 to $87,000", exact=False).first.wait_for()


def conversation_of(page) -> str:
    return stored_session_id(page).split(".")[0]


# --- Never lose a message ------------------------------------------------------------------


def test_a_message_typed_offline_survives_a_reload_and_is_sent_once_when_the_server_is_back(page, servers):
    open_chat(page)
    ask(page, "what do they do?")
    conversation_id = conversation_of(page)
    servers.stop_rasa()
    try:
        page.get_by_text("Can't reach the assistant", exact=False).wait_for(timeout=30000)
        box = page.get_by_role("textbox", name="Your message")
        box.fill("what are the working hours?")
        box.press("Enter")
        queued = page.locator(".cb-from-user.cb-queued")
        queued.get_by_text("Not sent yet").wait_for()
        page.reload()
        # After the reload, still there, still marked, and only once.
        page.get_by_text("Can't reach the assistant", exact=False).wait_for(timeout=30000)
        queued.get_by_text("Not sent yet").wait_for()
        assert queued.count() == 1
        assert queued.locator(".cb-text").inner_text() == "what are the working hours?"
        # Counted while Rasa is down: once it is back the reply may come before the next line runs.
        bot_messages_before = page.locator(".cb-from-bot").count()
    finally:
        servers.start_rasa()
    # start_rasa returned once Rasa answers; the widget reconnects within its 3 s backoff.
    answered(page, bot_messages_before)
    assert "9am to 5pm" in log_text(page)
    assert page.locator(".cb-not-sent:visible").count() == 0
    assert stored_user_texts(servers, conversation_id) == ["what do they do?", "what are the working hours?"]
    assert page.locator(".cb-from-bot", has_text="9am to 5pm").count() == 1


# --- Many tabs ---------------------------------------------------------------------------


def two_tabs(context, servers):
    """The demo page in two tabs of one browser, the chat opened in the first and seen open in the second."""
    first, second = context.new_page(), context.new_page()
    first.goto(f"{servers.widget_url}/")
    open_chat(first)
    second.goto(f"{servers.widget_url}/")
    open_in_another_tab(second)
    return first, second


def test_two_tabs_show_one_conversation_and_lose_nothing_across_reloads(browser, servers):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        first, second = two_tabs(context, servers)
        ask(first, "what are the working hours?")
        # The question asked in the first tab, and its answer, appear in the second.
        second.locator(".cb-from-user", has_text="what are the working hours?").wait_for()
        second.locator(".cb-from-bot", has_text="9am to 5pm").wait_for()
        ask(second, "how much do they earn?")
        first.locator(".cb-from-user", has_text="how much do they earn?").wait_for()
        first.locator(".cb-from-bot", has_text="$59,000 to $87,000").wait_for()
        # The tab that talked to the server goes away for a moment: the other one takes over.
        first.reload()
        ask(first, "and the managers?")
        second.locator(".cb-from-bot", has_text="Loan managers earn $59,000 to $87,000 a year.").wait_for()
        second.reload()
        questions = ["what are the working hours?", "how much do they earn?", "and the managers?"]
        for tab in (first, second):
            tab.locator(".cb-from-bot", has_text="Loan managers earn").wait_for()
            assert tab.locator(".cb-from-user .cb-text").all_inner_texts() == questions
            assert tab.locator(".cb-from-bot", has_text="9am to 5pm").count() == 1
        assert stored_user_texts(servers, conversation_of(first)) == questions
    finally:
        context.close()


# --- Scroll and style ------------------------------------------------------------------------


def test_a_long_conversation_reopens_at_its_latest_message_with_no_unstyled_flash(browser, servers):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{servers.widget_url}/")
        open_chat(page)
        ask(page, "what are the working hours?")
        # A long conversation in storage: 60 earlier exchanges, then the latest message.
        page.evaluate("""() => {
            const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
            const state = JSON.parse(localStorage.getItem(key));
            const earlier = [];
            for (let i = 0; i < 60; i++) {
                earlier.push({id: 'q' + i, from: 'user', text: 'question ' + i, t: i * 2 + 1});
                earlier.push({id: 'a' + i, from: 'bot', text: 'answer ' + i + '\\n\\nwith a second paragraph',
                              t: i * 2 + 2});
            }
            earlier.push({id: 'latest', from: 'bot', text: 'the latest message', t: Date.now()});
            state.messages = earlier;
            localStorage.setItem(key, JSON.stringify(state));
        }""")
        held = []
        page.route("**/widget/careerbot.css", lambda route: held.append(route))
        page.reload(wait_until="domcontentloaded")
        page.wait_for_function("() => document.querySelector('careerbot-chat')")

        def stylesheet_held() -> bool:
            page.wait_for_timeout(50)  # Playwright runs the route handler only inside one of its calls
            return bool(held)

        wait_until(stylesheet_held, 30, "the widget asks for its stylesheet", interval=0)
        # Until its stylesheet is in, the widget shows nothing at all.
        assert in_widget(page, "root.querySelector('.cb-root').getBoundingClientRect().height") == 0
        held[0].continue_()
        page.get_by_text("the latest message").wait_for()
        position = in_widget(
            page, "(l => [l.scrollTop, l.clientHeight, l.scrollHeight])(root.querySelector('.cb-log'))"
        )
        top, height, full = position
        assert full > 3 * height, position
        assert top + height >= full - 2, position

        # Scrolled up to read: a new message (from another tab) does not pull the view down.
        in_widget(page, "(root.querySelector('.cb-log').scrollTop = 0)")
        wait_in_widget(page, "root.querySelector('.cb-log').scrollTop === 0")
        page.evaluate("() => new Promise(requestAnimationFrame)")
        other = context.new_page()
        other.goto(f"{servers.widget_url}/")
        open_in_another_tab(other)
        ask(other, "what do they do?")
        page.locator(".cb-from-user", has_text="what do they do?").wait_for()
        assert in_widget(page, "root.querySelector('.cb-log').scrollTop") == 0
        # Sending brings the view down again; the answer, longer than the view, shows from its start.
        ask(page, "how much do they earn?")
        assert 0 <= answer_start_in_view(page) <= 16
    finally:
        context.close()


# The first bubble after the visitor's latest message.
LATEST_ANSWER = (
    "(all => all[all.map(m => m.classList.contains('cb-from-user')).lastIndexOf(true) + 1])"
    "([...root.querySelectorAll('.cb-message')])"
)


def answer_start_in_view(page) -> float:
    """Where the first bubble of the latest answer starts, in px below the top of the log's view."""
    return in_widget(
        page,
        f"""(a => a.getBoundingClientRect().top
        - root.querySelector('.cb-log').getBoundingClientRect().top)({LATEST_ANSWER})""",
    )


def at_end(page) -> bool:
    return in_widget(page, "(l => l.scrollTop + l.clientHeight >= l.scrollHeight - 2)(root.querySelector('.cb-log'))")


def test_a_long_answer_opens_at_its_start(page):
    open_chat(page)
    ask(page, "how much do they earn?")
    assert in_widget(page, "(l => l.scrollHeight > l.clientHeight)(root.querySelector('.cb-log'))"), (
        "the answer is not longer than the view: the test shows nothing"
    )
    assert 0 <= answer_start_in_view(page) <= 16
    assert not at_end(page)
    assert page.locator(".cb-new").is_hidden()  # reading from the start is no missed message


class Hold:
    """Routes the widget's WebSocket and holds the server's socket.io events (replies, acks) while `held`
    is a list; every other frame (engine.io's pings) goes through."""

    def __init__(self) -> None:
        self.held: Any = None
        self.routes: List[Any] = []

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        self.routes.append(ws)

        def from_server(message: Any) -> None:
            if self.held is not None and isinstance(message, str) and message[:2] in ("42", "43"):
                self.held.append((ws, message))
            else:
                ws.send(message)

        server.on_message(from_server)

    def release(self) -> None:
        held, self.held = self.held or [], None
        for ws, message in held:
            ws.send(message)


def test_a_reply_that_arrives_while_the_visitor_reads_further_up_gets_a_new_message_button(page, servers, site_pages):
    hold = Hold()
    page.route_web_socket(re.compile(r".*/socket\.io/.*"), hold.route)
    embed(page, site_pages, servers, 'data-transports="websocket"')
    open_chat(page)
    ask(page, "how much do they earn?")
    hold.held = []
    box = page.get_by_role("textbox", name="Your message")
    box.fill("what are the working hours?")
    box.press("Enter")
    wait_until(lambda: bool(page.evaluate("1") and hold.held), 90, "the replies reach the route")
    # The visitor scrolls up to read the pay ranges again; then the reply comes.
    in_widget(page, "(root.querySelector('.cb-log').scrollTop = 0)")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    hold.release()
    page.locator(".cb-from-bot", has_text="9am to 5pm").wait_for()
    answered(page, 0)
    assert in_widget(page, "root.querySelector('.cb-log').scrollTop") == 0
    pill = page.get_by_role("button", name="New message")
    pill.wait_for()
    pill.click()
    # To the reply, from its start; the button has done its work.
    wait_in_widget(page, "root.querySelector('.cb-new').hidden")
    assert 0 <= answer_start_in_view(page) <= 16 or at_end(page)
    assert page.locator(".cb-from-bot", has_text="9am to 5pm").first.is_visible()
    position = in_widget(
        page,
        f"""(a => [a.getBoundingClientRect().top, root.querySelector('.cb-log')
        .getBoundingClientRect().top])({LATEST_ANSWER})""",
    )
    assert position[0] >= position[1] - 1, position  # its first line is in view


def test_a_lost_acknowledgement_does_not_show_the_answer_twice(page, servers, site_pages):
    """The ack of the first try is lost with the connection; the widget sends the message again, and the
    server refuses a second turn and sends the first replies again: the widget shows them once."""
    frames: List[str] = []
    dropped: List[str] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(message: Any) -> None:
            frames.append(str(message))
            if not dropped and isinstance(message, str) and message.startswith("43"):
                dropped.append(message)
                ws.close()
                server.close()
            else:
                ws.send(message)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), route)
    embed(page, site_pages, servers, 'data-transports="websocket"')
    open_chat(page)
    ask(page, "what are the working hours?")
    replies = [f for f in frames if f.startswith("42") and "bot_uttered" in f and "9am to 5pm" in f]
    assert dropped and '"answered"' in dropped[0], frames
    assert len(replies) == 2, frames  # the first answer, then the server's copy of it
    assert any('"duplicate"' in f for f in frames if f.startswith("43")), frames
    assert page.locator(".cb-from-bot", has_text="9am to 5pm").count() == 1
    assert stored_user_texts(servers, conversation_of(page)) == ["what are the working hours?"]
    # Nor in the stored transcript, which a reload or another tab shows.
    page.reload()
    page.locator(".cb-from-bot", has_text="9am to 5pm").wait_for()
    assert page.locator(".cb-from-bot", has_text="9am to 5pm").count() == 1


# --- Clear states ----------------------------------------------------------------------------


def test_a_refused_origin_tells_the_visitor_and_names_the_setting_in_the_console(page, servers, site_pages):
    console = []
    page.on("console", lambda message: console.append((message.type, message.text)))
    # The site's pages by another name: another origin, not in CAREERBOT_CORS_ORIGINS.
    origin = site_pages.origin.replace("127.0.0.1", "localhost")
    embed(page, site_pages, servers, origin=origin)
    open_chat(page)
    page.get_by_text("Sorry, the chat is not available on this page.").wait_for()
    assert "Retrying" not in log_text(page) + page.locator(".cb-status").inner_text()
    assert page.get_by_role("textbox", name="Your message").is_disabled()
    errors = [text for kind, text in console if kind == "error" and text.startswith("careerbot:")]
    assert len(errors) == 1, console
    assert origin in errors[0] and "CAREERBOT_CORS_ORIGINS" in errors[0]


def test_the_character_counter_uses_the_servers_limit_and_nothing_is_cut(page):
    from bot.channels.rest import MAX_MESSAGE_LENGTH as LIMIT

    open_chat(page)
    box = page.get_by_role("textbox", name="Your message")
    counter = page.locator(".cb-counter")
    box.fill("x" * (LIMIT // 2))
    wait_in_widget(page, "root.querySelector('.cb-counter').textContent === ''")
    box.fill("x" * (LIMIT - 10))
    counter.get_by_text("10 characters left").wait_for()
    box.fill("é" * (LIMIT + 5))
    counter.get_by_text("5 characters too many: shorten your message to send it").wait_for()
    assert box.get_attribute("aria-invalid") == "true"
    box.press("Enter")
    # Not sent and not cut: the text stays for the visitor to shorten.
    assert page.locator(".cb-from-user").count() == 0
    assert box.input_value() == "é" * (LIMIT + 5)
    box.fill("what are the working hours?")
    bot_messages_before = page.locator(".cb-from-bot").count()
    box.press("Enter")
    answered(page, bot_messages_before)
    assert "9am to 5pm" in log_text(page)


def test_the_typing_indicator_is_a_live_region_filled_while_the_bot_answers(page):
    open_chat(page)
    typing = page.locator(".cb-typing")
    assert typing.get_attribute("aria-live") == "polite" and typing.get_attribute("role") == "status"
    in_widget(
        page,
        """(() => {
        window.typingSeen = [];
        const node = root.querySelector('.cb-typing');
        new MutationObserver(() => window.typingSeen.push(node.textContent))
            .observe(node, {childList: true, characterData: true, subtree: true});
    })()""",
    )
    ask(page, "what are the working hours?")
    assert page.evaluate("window.typingSeen") == ["The assistant is typing…", ""]


# --- Site owner's controls ------------------------------------------------------------------------

THEMED = (
    'data-title="Conseiller carrière" data-launcher="Posez une question" data-greeting="Bonjour !" '
    'data-placeholder="Votre question" data-input-label="Votre message" data-send-label="Envoyer" '
    'data-close-label="Fermer" data-start-over-label="Recommencer" data-typing-text="Il écrit…" '
    'data-you-label="Vous :" data-assistant-label="Conseiller :" '
    'data-color-primary="#7a1f5c" data-color-on-primary="#fffdf0" data-color-bot-bubble="#f4eef2" '
    'data-position="left" data-offset="24px"'
)


def test_colours_position_and_every_string_come_from_attributes(page, servers, site_pages):
    embed(page, site_pages, servers, THEMED)
    launcher = page.get_by_role("button", name="Posez une question")
    launcher.wait_for()
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
    assert launcher.evaluate("b => getComputedStyle(b).color") == "rgb(255, 253, 240)"
    box = launcher.bounding_box()
    assert box["x"] == 24 and box["y"] + box["height"] == 800 - 24
    open_chat(page, launcher="Posez une question", label="Votre message")
    assert page.locator(".cb-title").inner_text() == "Conseiller carrière"
    assert page.get_by_role("textbox", name="Votre message").get_attribute("placeholder") == "Votre question"
    for name in ("Envoyer", "Fermer", "Recommencer"):
        page.get_by_role("button", name=name).wait_for()
    assert "Bonjour !" in log_text(page)
    assert page.locator(".cb-from-bot .cb-visually-hidden").first.text_content() == "Conseiller : "
    in_widget(
        page,
        """(() => {
        window.typingSeen = [];
        const node = root.querySelector('.cb-typing');
        new MutationObserver(() => window.typingSeen.push(node.textContent)).observe(node, {childList: true});
    })()""",
    )
    ask(page, "what are the working hours?", label="Votre message")
    assert "Il écrit…" in page.evaluate("window.typingSeen")
    assert page.locator(".cb-from-user .cb-visually-hidden").first.text_content() == "Vous : "
    assert page.locator(".cb-header").evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(122, 31, 92)"
    page.get_by_role("button", name="Fermer").click()
    launcher.wait_for()


def test_start_over_clears_the_transcript_in_every_tab_and_starts_a_new_session(browser, servers):
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        page, other = two_tabs(context, servers)
        ask(page, "how much do they earn?")
        old = conversation_of(page)
        other.get_by_role("button", name="Start over").click()
        for tab in (page, other):
            wait_in_widget(tab, "!root.querySelector('.cb-from-user')")
            assert log_text(tab).strip().startswith("Assistant:") and "Hi! I answer questions" in log_text(tab)
        page.wait_for_function(f"""() => {{
            const key = Object.keys(localStorage).find(k => k.startsWith('careerbot:v1:'));
            const id = JSON.parse(localStorage.getItem(key)).sessionId;
            return id && !id.startsWith('{old}');
        }}""")
        ask(other, "what are the working hours?")
        new = conversation_of(page)
        assert stored_user_texts(servers, old) == ["how much do they earn?"]
        assert stored_user_texts(servers, new) == ["what are the working hours?"]
        page.reload()
        page.locator(".cb-from-bot", has_text="9am to 5pm").wait_for()
        assert page.locator(".cb-from-user .cb-text").all_inner_texts() == ["what are the working hours?"]
    finally:
        context.close()


def test_the_javascript_api_and_the_page_context_as_metadata(page, servers, site_pages):
    embed(page, site_pages, servers, """data-context='{"article": "pay-guide"}'""")
    page.wait_for_function("() => window.Careerbot")
    page.evaluate("Careerbot.open()")
    page.get_by_role("textbox", name="Your message").wait_for()
    page.evaluate("Careerbot.close()")
    page.get_by_role("button", name="Chat with us").wait_for()
    assert page.locator(".cb-panel").is_hidden()
    assert page.evaluate("Careerbot.send('what are the working hours?')") is True
    page.get_by_role("textbox", name="Your message").wait_for()
    answered(page, 0)
    assert "9am to 5pm" in log_text(page)
    assert page.evaluate("Careerbot.send('   ')") is False
    conversation_id = conversation_of(page)
    [event] = stored_events(servers, conversation_id)
    assert event["metadata"]["context"] == {"article": "pay-guide"}

    page.evaluate("Careerbot.reset()")
    wait_in_widget(page, "!root.querySelector('.cb-message')")
    page.evaluate("Careerbot.send('how much do they earn?')")
    answered(page, 0)
    assert conversation_of(page) != conversation_id

    page.evaluate("Careerbot.destroy()")
    assert page.evaluate("[document.querySelector('careerbot-chat'), window.Careerbot]") == [None, None]
    # Removed cleanly: the same tag can put it back, with the conversation.
    page.evaluate(f"""() => {{
        const tag = document.createElement('script');
        tag.src = '{servers.widget_url}/widget/careerbot.js';
        tag.dataset.server = '{servers.rasa_url}';
        document.body.appendChild(tag);
    }}""")
    page.locator(".cb-from-bot", has_text="$59,000 to $87,000").first.wait_for()
    page.evaluate("Careerbot.send('and the managers?')")
    page.locator(".cb-from-bot", has_text="Loan managers earn $59,000 to $87,000 a year.").wait_for()


HOSTILE_PAGE = """<style>
  * { font-family: "Comic Sans MS", cursive !important; color: rgb(255, 0, 0) !important;
      line-height: 5 !important; letter-spacing: 4px !important; }
  button, input { display: none !important; background: rgb(0, 255, 0) !important; }
  careerbot-chat { display: none !important; opacity: 0 !important; }
  #cb-panel, #cb-input, #cb-title, .cb-panel, .cb-log, .cb-launcher, .cb-root { display: none !important; }
</style>
<script>
  window.pageIoCalls = 0;
  window.io = function () { window.pageIoCalls += 1; throw new Error("the page's own socket.io"); };
  window.io.marker = "the page's";
</script>"""


def test_the_pages_css_and_its_own_window_io_do_not_affect_the_widget(page, servers, site_pages):
    embed(page, site_pages, servers, head=HOSTILE_PAGE)
    launcher = page.get_by_role("button", name="Chat with us")
    launcher.wait_for()
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 79, 138)"
    assert launcher.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
    assert "Comic" not in launcher.evaluate("b => getComputedStyle(b).fontFamily")
    assert launcher.evaluate("b => getComputedStyle(b).letterSpacing") == "normal"
    open_chat(page)
    ask(page, "what are the working hours?")
    assert "9am to 5pm" in log_text(page)
    assert page.evaluate("[window.io.marker, window.pageIoCalls]") == ["the page's", 0]
    # No id of the widget's is in the page's document.
    assert page.evaluate("document.querySelectorAll('[id^=cb-]').length") == 0
