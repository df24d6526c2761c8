"""The review page's HTML (bot/ops/review/page.py serves it): no script, every control a form control.

Everything that came from the store or the files is escaped here, in one place: `_e`.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import quote

# A group shows this many of its messages to check one by one; its buttons still apply to all of them.
SHOWN_PER_GROUP = 40

BUTTONS = (
    ("label", "Label"),
    ("out_of_scope", "Out of scope"),
    ("ignore", "Ignore"),
    ("needs_content", "Needs content"),
)
REASON_NAMES = {
    "fallback": "fallback",
    "out_of_scope": "out-of-scope answer",
    "unresolved_clarification": "clarifying question not resolved",
    "low_confidence": "low confidence",
    "not_helpful": "rated not helpful",
}

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; color: #1f1f1f; background: #fff; max-width: 62rem;
       margin: 0 auto; padding: 16px; overflow-wrap: anywhere; }
a { color: #0b4f8a; }
:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }
.skip { position: absolute; left: 8px; top: -48px; background: #fff; padding: 8px; }
.skip:focus { top: 8px; }
.status { border-left: 4px solid #1e7b34; padding: 4px 12px; background: #eef7f0; }
.status.error { border-color: #b3261e; background: #fbeeed; }
.group { border: 1px solid #c5ccd6; border-radius: 8px; padding: 8px 16px; margin: 16px 0; }
fieldset { border: 1px solid #c5ccd6; border-radius: 6px; margin: 8px 0; }
ul.messages { list-style: none; padding: 0; margin: 0; }
ul.messages li { padding: 4px 0; border-bottom: 1px solid #e4e7eb; }
ul.messages label { white-space: pre-wrap; }
.meta { color: #4a5360; font-size: 14px; display: block; margin-left: 28px; }
input[type=checkbox] { width: 18px; height: 18px; margin: 0 8px 0 0; vertical-align: -3px; }
select, button, input[type=password] { font: inherit; padding: 4px 10px; margin: 4px 4px 4px 0; }
button { border: 1px solid #0b4f8a; border-radius: 6px; background: #0b4f8a; color: #fff; cursor: pointer; }
button.other { background: #fff; color: #0b4f8a; }
.transcript p { margin: 4px 0; white-space: pre-wrap; }
.transcript mark { background: #fff3c4; color: inherit; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(at: Optional[float]) -> str:
    return f"{datetime.fromtimestamp(at, timezone.utc):%Y-%m-%d %H:%M} UTC" if at else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _counted(counts: Mapping[Any, int], names: Mapping[str, str] = {}) -> str:
    return ", ".join(f"{names.get(str(k), k or 'none')} {n}" for k, n in counts.items())


def document(title: str, main: str, header: str = "") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} · careerbot</title><style>{STYLE}</style></head><body>
<a class="skip" href="#main">Skip to the inbox</a>
<header><h1>{_e(title)}</h1>{header}</header>
<main id="main" tabindex="-1">
{main}
</main>
</body></html>
"""


def inbox_page(
    data: Dict[str, Any],
    topics: Sequence[str],
    content: Mapping[str, List[Dict[str, Any]]],
    csrf: str,
    store: str,
    status: str = "",
    error: bool = False,
) -> str:
    """The inbox (`data`: the dict `list --json` prints), the decision forms and the content team's list."""
    groups = "".join(_group(group, topics, csrf) for group in data["groups"])
    if status:
        role = "alert" if error else "status"
        line = f"<p id='status' class='status{' error' if error else ''}' role='{role}'>{_e(status)}</p>"
    else:
        line = "<div id='status' role='status'></div>"
    return document(
        "Review inbox",
        f"""{line}
<p>For each group: check the messages a decision is about, or none for the whole group, then pick a topic and
<b>Label</b> (they become training examples), or <b>Out of scope</b> (negative examples), <b>Ignore</b>, or
<b>Needs content</b> (the topic is right but the career's knowledge lacks the fact). Decided messages leave the inbox;
<code>make review-train</code> then trains a new model and keeps it only if it is not worse.</p>
{groups or "<p>Nothing waiting.</p>"}
{_content(content)}""",
        header=f"<p>{_count(data['waiting'], 'message')} waiting in {_count(len(data['groups']), 'group')}, "
        f"from {_e(store)}.</p>",
    )


def _group(group: Dict[str, Any], topics: Sequence[str], csrf: str) -> str:
    gid = _e(group["id"])
    messages = group["messages"]
    items = "".join(_message(m) for m in messages[:SHOWN_PER_GROUP])
    if len(messages) > SHOWN_PER_GROUP:
        items += (
            f"<li>… and {len(messages) - SHOWN_PER_GROUP} more (with none checked, the buttons apply to them too)</li>"
        )
    options = "<option value=''>Choose a topic</option>" + "".join(
        f"<option value='{_e(t)}'>{_e(t)}</option>" for t in topics
    )
    buttons = "".join(
        f"<button type='submit' name='decision' value='{value}'{'' if value == 'label' else ' class=other'}>"
        f"{name}</button>"
        for value, name in BUTTONS
    )
    examples = "; ".join(f"“{_e(text)}”" for text in group["examples"])
    return f"""<section class="group" id="{gid}" aria-labelledby="{gid}-h">
<h2 id="{gid}-h">{_count(group["count"], "message")}: {examples}</h2>
<p>Why: {_e(_counted(group["reasons"], REASON_NAMES))}. Predicted: {_e(_counted(group["intents"]))}.
<a href="/transcript/{quote(group["id"])}">A conversation of this group (redacted)</a></p>
<form method="post" action="/decide">
<input type="hidden" name="csrf" value="{_e(csrf)}"><input type="hidden" name="group" value="{gid}">
<fieldset><legend>Messages (none checked: the decision applies to the whole group)</legend>
<ul class="messages">{items}</ul></fieldset>
<fieldset><legend>Decision</legend>
<label for="t-{gid}">Topic (for Label)</label>
<select id="t-{gid}" name="intent">{options}</select>
{buttons}
</fieldset>
</form>
</section>"""


def _message(m: Mapping[str, Any]) -> str:
    mid = _e(m["id"])
    predicted = f", predicted {_e(m['intent'])}" if m.get("intent") else ""
    if m.get("confidence") is not None:
        predicted += f" ({m['confidence']:.2f})"
    return (
        f"<li><input type='checkbox' name='message' value='{mid}' id='m-{mid}'>"
        f"<label for='m-{mid}'>{_e(m['text'])}</label>"
        f"<span class='meta'>{_e(REASON_NAMES.get(m['reason'], m['reason']))}{predicted}, "
        f"{_e(m['career'])}, {_e(m['channel'])}, {_e(_when(m['at']))}</span></li>"
    )


def _content(per_career: Mapping[str, List[Dict[str, Any]]]) -> str:
    def entry(e: Mapping[str, Any]) -> str:
        topic = e.get("topic") or e.get("intent")
        return f"<li>{_e(e.get('text', ''))}{f' (topic: {_e(topic)})' if topic else ''}</li>"

    body = "".join(
        f"<h3>{_e(career)}</h3><ul>{''.join(entry(e) for e in entries)}</ul>"
        for career, entries in sorted(per_career.items())
    )
    return (
        "<section aria-labelledby='content-h'><h2 id='content-h'>Needs content: for the content team</h2>"
        "<p>Questions on the right topic whose answer the career's knowledge lacks, per career.</p>"
        f"{body or '<p>Nothing yet.</p>'}</section>"
    )


def transcript_page(lines: Iterable[Tuple[str, str, float]], marked: Set[str], back: str) -> str:
    """One conversation, redacted, with the visitor's messages in `marked` marked; `back`: a fragment of /."""
    shown = "".join(
        f"<p><b>{'Visitor' if who == 'visitor' else 'Bot'}</b> <small>{_e(_when(at))}</small>: "
        + (f"<mark>{_e(text)}</mark>" if who == "visitor" and text in marked else _e(text))
        + "</p>"
        for who, text, at in lines
    )
    return document(
        "A conversation of the inbox",
        f"""<p>Contact details are redacted. The message waiting in the inbox is marked.</p>
<div class="transcript">{shown or "<p>Nothing stored any more.</p>"}</div>
<p><a href="/#{_e(back)}">Back to the inbox</a></p>""",
    )


def login_page(wrong: bool = False) -> str:
    said = "<p class='status error' role='alert'>That is not the token.</p>" if wrong else ""
    return document(
        "Review inbox",
        f"""{said}<form method="post" action="/login">
<p><label for="token">Review token (CAREERBOT_REVIEW_TOKEN)</label><br>
<input type="password" id="token" name="token" autocomplete="current-password" required></p>
<p><button type="submit">Open the inbox</button></p>
</form>""",
    )


def message_page(line: str) -> str:
    """A refusal or a problem, in one line, with the way back."""
    return document("Review inbox", f"<p role='alert'>{_e(line)}</p><p><a href='/'>The inbox</a></p>")
