"""Log redaction (bot/logs.py): what a log line keeps of a turn, through Python's real logging."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import warnings

import pytest

from bot import logs
from bot.rasa import internals
from bot.settings import Settings

TEXT = "my name is Zoltan Quaxley and I hate my job"
SENDER = "visitor-7f3c9b"
EMAIL = "zoltan.quaxley@example.org"


@pytest.fixture
def captured():
    """Redaction installed as in the servers, and a handler added afterwards (as Rasa and Sanic do)."""
    assert logs.install(Settings.from_env({}))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("careerbot.test_logs")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)
    logs.uninstall()
    internals.restore()


def test_the_turns_text_and_sender_are_replaced_however_they_are_written():
    redactor = logs.Redactor()
    turn = redactor.turn([TEXT + ' "quoted"\n'], [SENDER])
    text = TEXT + ' "quoted"\n'
    line = (
        f"plain '{text}' repr {text!r} json {json.dumps(text)} "
        f"json-dict {json.dumps({'sender_id': SENDER})} conversation '{SENDER}'"
    )
    redacted = redactor.redact(line, turn)
    assert "Zoltan" not in redacted and SENDER not in redacted
    assert redacted.count(logs.REDACTED_TEXT) == 3
    assert redacted.count(redactor.sender_tag(SENDER)) == 2


def test_non_ascii_text_is_replaced_in_ascii_json_too():
    redactor = logs.Redactor()
    text = "je m'appelle Zoé Quaxley"
    redacted = redactor.redact(json.dumps({"event": "x", "data": text}), redactor.turn([text]))
    assert "Quaxley" not in redacted and logs.REDACTED_TEXT in redacted


def test_the_sender_hash_is_stable_short_and_keyed():
    tag = logs.Redactor().sender_tag(SENDER)
    assert tag == logs.Redactor().sender_tag(SENDER)
    assert tag != logs.Redactor().sender_tag(SENDER + "x")
    assert tag != logs.Redactor(b"another deployment's secret").sender_tag(SENDER)
    assert len(tag) == len("[sender ]") + 10


def test_short_texts_and_words_inside_longer_words_are_left_alone():
    redactor = logs.Redactor()
    turn = redactor.turn(["ok", "pay"], ["me"])
    assert redactor.redact("ok: took me to utter_pay, pay", turn) == f"ok: took me to utter_pay, {logs.REDACTED_TEXT}"


@pytest.mark.parametrize(
    "line, expected",
    [
        (f"write to {EMAIL} please", f"write to {logs.REDACTED_EMAIL} please"),
        (
            "call +1 555 123 4567 or (555) 123-4567 or 555.123.4567",
            f"call {logs.REDACTED_PHONE} or {logs.REDACTED_PHONE} or {logs.REDACTED_PHONE}",
        ),
        ("whatsapp:+15551234567", f"whatsapp:{logs.REDACTED_PHONE}"),
    ],
)
def test_emails_and_phone_numbers_are_masked_without_a_turn(line, expected):
    assert logs.Redactor().redact(line) == expected


def test_timestamps_addresses_and_ids_are_not_taken_for_phone_numbers():
    line = (
        "2026-05-01 12:00:00,123 rasa.core INFO 127.0.0.1:5005 pid 123456789 ts 1714564800.123456 "
        "postgresql://user@db:5432/x 2026-05-01T12:00:00+00:00"
    )
    assert logs.Redactor().redact(line) == line


def test_text_fields_of_dumped_json_and_dicts_are_redacted():
    line = (
        'body=\'{"events": [{"event": "user", "text": "an earlier \\"message\\""}]}\' '
        "and {'text': 'what I wrote', 'message': 'hello there'}"
    )
    redacted = logs.Redactor().redact(line)
    assert "earlier" not in redacted and "what I wrote" not in redacted and "hello there" not in redacted
    assert redacted.count(logs.REDACTED_TEXT) == 3


def test_log_lines_and_tracebacks_hold_no_visitor_content(captured):
    log, stream = captured
    logs.remember([f"{TEXT}, write to {EMAIL}"], [SENDER])
    log.error("An exception occurred while handling user message '%s'.", f"{TEXT}, write to {EMAIL}")
    log.debug("conversation %r", SENDER)
    try:
        raise ValueError(f"could not store {SENDER}: {TEXT}, write to {EMAIL}")
    except ValueError:
        log.exception("Encountered an exception while running action 'action_x'")
    out = stream.getvalue()
    assert "Zoltan" not in out and SENDER not in out and EMAIL not in out
    assert out.count(logs.REDACTED_TEXT) == 2
    assert out.count(logs.Redactor().sender_tag(SENDER)) == 2
    assert "Traceback (most recent call last)" in out and "ValueError: could not store [sender " in out


def test_warnings_go_through_the_redaction(captured):
    _, stream = captured
    handler = logging.StreamHandler(stream)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.addHandler(handler)
    try:
        logs.remember(["/greet{not json " + TEXT], [])
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn(f"Failed to parse arguments in line '/greet{{not json {TEXT}'", stacklevel=1)
    finally:
        warnings_logger.removeHandler(handler)
    assert "Failed to parse arguments" in stream.getvalue()
    assert "Zoltan" not in stream.getvalue()


def test_each_concurrent_turn_redacts_its_own_text(captured):
    log, stream = captured

    async def turn(n: int) -> None:
        text = f"secret number {n} of Zoltan"
        logs.remember([text], [f"{SENDER}-{n}"])
        await asyncio.sleep(0)
        log.error("failed turn '%s' of %s", text, f"{SENDER}-{n}")

    async def all_turns() -> None:
        await asyncio.gather(*(turn(n) for n in range(5)))

    asyncio.run(all_turns())
    out = stream.getvalue()
    assert "Zoltan" not in out and SENDER not in out
    assert out.count(logs.REDACTED_TEXT) == 5


def test_the_rasa_door_remembers_every_turn(captured):
    """Agent.handle_message, which every channel calls, makes the turn known to the redaction."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    log, stream = captured
    internals.install_log_turns()

    async def failed_turn() -> None:
        # An agent without a model ignores the message; the turn is known all the same.
        await Agent().handle_message(UserMessage(TEXT, sender_id=SENDER))
        log.error("An exception occurred while handling user message '%s' from %s.", TEXT, SENDER)

    asyncio.run(failed_turn())
    assert "Zoltan" not in stream.getvalue() and SENDER not in stream.getvalue()


def test_the_action_servers_request_gives_every_user_text_and_the_sender():
    call = {
        "next_action": "action_x",
        "sender_id": SENDER,
        "tracker": {
            "sender_id": SENDER,
            "latest_message": {"text": "latest words"},
            "events": [
                {"event": "user", "text": "first words"},
                {"event": "bot", "text": "bot words"},
                {"event": "user", "text": "latest words"},
            ],
        },
    }
    texts, senders = logs.action_call_secrets(call)
    assert set(texts) == {"first words", "latest words"} and SENDER in senders
    assert logs.action_call_secrets("not a dict") == ([], [])
    assert logs.action_call_secrets({"tracker": {"events": "broken"}}) == ([None], [None, None])


def test_with_log_content_on_nothing_is_redacted():
    assert not logs.install(Settings.from_env({"CAREERBOT_LOG_CONTENT": "true"}))
    logs.remember([TEXT], [SENDER])
    assert logs.redact(f"{TEXT} {SENDER} {EMAIL}") == f"{TEXT} {SENDER} {EMAIL}"


def test_a_long_line_without_an_email_is_redacted_quickly():
    import time

    line = "a" * 200_000
    started = time.monotonic()
    assert logs.Redactor().redact(line) == line
    assert time.monotonic() - started < 2.0
