"""The widget's accessibility and looks on a site owner's page, in headless Chromium against the real servers:
axe-core (from the npm registry, pinned: `make axe`) with the chat open and closed, keyboard focus at phone
width, contrast of every text under the site's theme and the visitor's dark mode (ratios computed here from
computed styles), and sizes that do not follow the page's root font size."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

import pytest

from bot import PROJECT_DIR
from tests.support.browser import ask, embed, in_widget, open_chat, wait_in_widget

AXE_JS = PROJECT_DIR / "build" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_DIR / "build" / "screenshots"

# A page with its own landmarks, links before and after the widget's tag, as most sites have.
SITE = """<header><a href="/">Home</a> <nav aria-label="Site"><a href="/jobs">Jobs</a></nav></header>
<main><h1>Careers</h1><p>An article with <a href="/more">a link</a>.</p></main>
<footer><a href="/contact">Contact</a></footer>"""

# WCAG 2.x AA for normal text (the widget has no text large enough for 3:1).
AA = 4.5


def axe_violations(page) -> List[Dict[str, Any]]:
    """axe-core's violations on the whole page, the widget's shadow root included."""
    assert AXE_JS.exists(), f"no axe-core at {AXE_JS}: `make axe` fetches it from the npm registry"
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    result: List[Dict[str, Any]] = page.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ['violations']});
        return results.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => [n.target, n.failureSummary])}));
    }""")
    return result


def serious(violations: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_axe_finds_nothing_serious_with_the_chat_closed_open_and_answering(page, servers, site_pages):
    embed(page, site_pages, servers, 'data-greeting="Hi! Ask me about the job."', body=SITE)
    page.get_by_role("button", name="Chat with us").wait_for()
    closed = axe_violations(page)
    open_chat(page)
    opened = axe_violations(page)
    ask(page, "how much do they earn?")
    answering = axe_violations(page)
    for name, violations in (("closed", closed), ("open", opened), ("with an answer", answering)):
        assert serious(violations) == [], f"chat {name}: {violations}"
        # Nor anything less: among them the three the issue found, list items outside a list (the log was an
        # <ol role="log">), the panel's <header> as a second banner, and a role not allowed on its element.
        assert violations == [], f"chat {name}: {violations}"


# --- Sizes -----------------------------------------------------------------------------------

SIZES = """[...root.querySelectorAll('*')].filter(e => e.getClientRects().length)
    .map(e => [e.tagName + '.' + e.className, getComputedStyle(e).fontSize,
               getComputedStyle(e).paddingTop, getComputedStyle(e).minHeight])"""


def test_sizes_come_from_the_widget_not_the_pages_root_font_size(browser, servers, site_pages):
    measured = []
    for head in ("", "<style>html { font-size: 62.5%; }</style>"):  # the common "1rem = 10px" reset
        context = browser.new_context(viewport={"width": 1024, "height": 800})
        try:
            page = context.new_page()
            embed(page, site_pages, servers, body=SITE, head=head)
            open_chat(page)
            ask(page, "how much do they earn?")
            measured.append(in_widget(page, SIZES))
        finally:
            context.close()
    plain, reset = measured
    assert plain == reset
    sizes = dict((name, size) for name, size, _, _ in plain)
    assert sizes["BUTTON.cb-choice"] == "14.4px" and sizes["H2.cb-title"] == "16.8px", sizes


# --- A dialog at phone width -----------------------------------------------------------------


def focus_in_widget(page) -> Tuple[bool, str]:
    """Whether the page's focus is inside the widget's open panel, and what has it."""
    return tuple(
        page.evaluate("""() => {
        const host = document.querySelector('careerbot-chat');
        const inner = host.shadowRoot.activeElement;
        const active = document.activeElement;
        return [active === host && !!inner && !!inner.closest('.cb-panel'),
                (inner || active).outerHTML.slice(0, 80)];
    }""")
    )


def test_at_phone_width_the_open_chat_is_a_modal_dialog_that_keeps_the_focus(browser, servers, site_pages):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    try:
        embed(page, site_pages, servers, 'data-greeting="Hi! Ask me about the job."', body=SITE)
        open_chat(page)
        ask(page, "what are the working hours?")  # an answer with choices and a link: more to tab through
        panel = page.get_by_role("dialog", name="Career advisor")
        assert panel.get_attribute("aria-modal") == "true"
        assert axe_violations(page) == []
        for key in ("Tab", "Shift+Tab"):
            seen = set()
            for _ in range(25):
                page.keyboard.press(key)
                inside, what = focus_in_widget(page)
                assert inside, f"{key} left the chat for {what}"
                seen.add(what)
            assert len(seen) >= 4, seen  # it went round the controls, not stuck on one
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        assert (
            page.evaluate("document.querySelector('careerbot-chat').shadowRoot.activeElement.textContent")
            == "Chat with us"
        )
        # Closed, the page is the page again: from the launcher (last in the page), Shift+Tab reaches its links.
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.textContent") == "Contact"
    finally:
        context.close()


def test_on_a_wide_screen_the_chat_is_not_modal_and_the_page_stays_reachable(page, servers, site_pages):
    embed(page, site_pages, servers, body=SITE)
    open_chat(page)
    panel = page.get_by_role("dialog", name="Career advisor")
    assert panel.get_attribute("aria-modal") in (None, "false")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "A":
            break
    else:
        raise AssertionError("Tab never left the chat for the page's links on a wide screen")


# --- Colours ---------------------------------------------------------------------------------

# Every text the widget shows, its colour and the background it is painted on (the first opaque
# background among its ancestors, through the shadow root to the page, with translucent ones blended in).
TEXTS = """(() => {
    const parent = e => e.parentElement || (e.parentNode && e.parentNode.host) || null;
    const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
    function background(e) {
        const layers = [];
        for (let n = e; n; n = parent(n)) {
            const c = rgba(getComputedStyle(n).backgroundColor);
            if (c[3] > 0) layers.push(c);
            if (c[3] >= 1) break;
        }
        let out = [255, 255, 255];
        for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a),
                                                            b * a + out[2] * (1 - a)];
        return out;
    }
    const texts = [];
    for (const e of root.querySelectorAll('*')) {
        if (!e.getClientRects().length || e.closest('.cb-visually-hidden')) continue;
        const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (own) texts.push([e.tagName + '.' + e.className + ' ' + e.textContent.trim().slice(0, 30),
                             rgba(getComputedStyle(e).color), background(e)]);
        if (e.tagName === 'INPUT') {
            texts.push(['placeholder', rgba(getComputedStyle(e, '::placeholder').color), background(e)]);
            texts.push(['input', rgba(getComputedStyle(e).color), background(e)]);
        }
    }
    return texts;
})()"""


def luminance(rgb: List[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: List[float], background: List[float]) -> float:
    # A translucent text colour is painted over its background.
    alpha = foreground[3] if len(foreground) > 3 else 1
    painted = [f * alpha + b * (1 - alpha) for f, b in zip(foreground[:3], background[:3], strict=True)]
    lighter, darker = sorted((luminance(painted), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def low_contrast(page) -> List[str]:
    texts = in_widget(page, TEXTS)
    assert len(texts) > 8, texts
    return [f"{name}: {contrast(fg, bg):.2f}:1" for name, fg, bg in texts if contrast(fg, bg) < AA]


def show_every_text(page) -> None:
    """The chat open with an answer that has choices and a link, a character count and a status line."""
    open_chat(page)
    ask(page, "how much do they earn?")
    from bot.channels.validation import MAX_MESSAGE_LENGTH

    page.get_by_role("textbox", name="Your message").fill("x" * (MAX_MESSAGE_LENGTH - 10))
    wait_in_widget(page, "root.querySelector('.cb-counter').textContent !== ''")
    in_widget(page, "root.querySelector('.cb-status').textContent = 'A status line'")


# A dark theme set as site owners do: through the custom properties, in the page's CSS or the attributes.
DARK_THEMES = {
    "page CSS, a bright primary": (
        "",
        "<style>careerbot-chat { --cb-background: #121212; --cb-text: #e6e6e6; "
        "--cb-bot-bubble: #2a2a2a; --cb-primary: #8ab4f8; }</style>",
    ),
    "attributes, a mid primary": (
        'data-color-background="#1e1e1e" data-color-text="#f0f0f0" '
        'data-color-bot-bubble="#333333" data-color-primary="#1a73e8"',
        "",
    ),
}


@pytest.mark.parametrize("theme", list(DARK_THEMES))
def test_a_dark_theme_through_the_custom_properties_keeps_every_text_readable(page, servers, site_pages, theme):
    attributes, head = DARK_THEMES[theme]
    embed(page, site_pages, servers, attributes, head=head, body=SITE)
    show_every_text(page)
    assert low_contrast(page) == []
    assert axe_violations(page) == []


def test_the_default_colours_are_readable(page, servers, site_pages):
    embed(page, site_pages, servers, body=SITE)
    show_every_text(page)
    assert low_contrast(page) == []


def test_the_visitors_dark_mode_gets_a_dark_widget_by_default(browser, servers, site_pages):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, color_scheme="dark")
    page = context.new_page()
    try:
        embed(page, site_pages, servers, body=SITE)
        show_every_text(page)
        background = in_widget(page, "getComputedStyle(root.querySelector('.cb-panel')).backgroundColor")
        assert luminance([float(v) for v in re.findall(r"[\d.]+", background)[:3]]) < 0.05, background
        assert low_contrast(page) == []
        assert axe_violations(page) == []
        # For docs/widget.md: the demo page, in dark mode.
        demo = context.new_page()
        demo.goto(f"{servers.widget_url}/")
        open_chat(demo)
        ask(demo, "what are the working hours?")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        demo.screenshot(path=str(SCREENSHOTS / "widget-dark.png"))
        # A site that wants the light widget whatever the visitor's setting says so.
        page = context.new_page()
        embed(page, site_pages, servers, 'data-color-scheme="light"', body=SITE)
        page.get_by_role("textbox", name="Your message").wait_for()  # open, as the chat was left
        background = in_widget(page, "getComputedStyle(root.querySelector('.cb-panel')).backgroundColor")
        assert background == "rgb(255, 255, 255)"
    finally:
        context.close()


# The focused control's ring (outline) and halo (box-shadow) colours, and the background around it:
# the first opaque background of its parent chain (the ring is drawn outside the control).
FOCUS_RING = """(() => {
    const parent = e => e.parentElement || (e.parentNode && e.parentNode.host) || null;
    const rgba = c => (c.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
    const e = root.activeElement;
    if (!e || !e.matches(':focus-visible')) return null;
    const style = getComputedStyle(e);
    let around = e.classList.contains('cb-log') ? e : parent(e);
    while (around && !(rgba(getComputedStyle(around).backgroundColor)[3] >= 1)) around = parent(around);
    const halo = (style.boxShadow.match(/rgba?\\([^)]*\\)/) || ['rgba(0, 0, 0, 0)'])[0];
    return [e.outerHTML.slice(0, 60), rgba(style.outlineColor), rgba(halo),
            around ? rgba(getComputedStyle(around).backgroundColor) : [255, 255, 255, 1]];
})()"""

# WCAG 2.x non-text contrast (1.4.11): a focus indicator against what is next to it.
NON_TEXT = 3.0


@pytest.mark.parametrize("theme", ["default", *DARK_THEMES])
def test_the_focus_ring_stands_out_on_every_control_and_theme(browser, servers, site_pages, theme):
    attributes, head = DARK_THEMES.get(theme, ("", ""))
    # At phone width the open chat keeps the focus, so Tab visits every control of the panel in turn.
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        embed(page, site_pages, servers, attributes, head=head, body=SITE)
        open_chat(page)
        ask(page, "how much do they earn?")
        rings = {}
        for _ in range(20):
            page.keyboard.press("Tab")
            ring = in_widget(page, FOCUS_RING)
            if ring:
                rings[ring[0]] = ring[1:]
        assert len(rings) >= 5, list(rings)  # the header's button, the log, choices, the input, send
        weak = [
            f"{what}: ring {contrast(ring, around):.2f}:1, halo {contrast(halo, around):.2f}:1"
            for what, (ring, halo, around) in rings.items()
            if max(contrast(ring, around), contrast(halo, around)) < NON_TEXT or contrast(ring, halo) < NON_TEXT
        ]
        assert weak == []
    finally:
        context.close()
