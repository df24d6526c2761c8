"""The REST webhook's checks of a request body, before JSON decoding (end to end: tests/e2e/test_rest.py)."""

from __future__ import annotations

from bot.channels.rest import check_payload, json_too_deep


def test_the_body_sender_check_matches_what_json_decodes():
    # JSON's escapes reach the check as the characters they encode: \udc00 is a lone surrogate.
    assert check_payload(b'{"sender": "x\\udc00", "message": "hi"}')[0] == 400
    assert check_payload('{"sender": "é😀", "message": "hi"}'.encode()) is None


def test_deep_json_inside_strings_is_not_nesting():
    assert not json_too_deep('{"message": "' + "[" * 100 + '"}')
    assert not json_too_deep('{"message": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert json_too_deep("[" * 17 + "]" * 17)
    assert not json_too_deep("[" * 16 + "]" * 16)
