"""The widget channel's session tokens: the secret they are signed with, and who a token proves
a conversation belongs to (the channel end to end: tests/e2e/test_socketio.py)."""

from __future__ import annotations

import hashlib
import hmac
import stat
from base64 import urlsafe_b64encode

from bot.channels import socketio as channel
from bot.settings import Settings


def test_the_secret_comes_from_the_environment_when_set(tmp_path):
    settings = Settings.from_env(
        {"CAREERBOT_TRACKER_URL": f"sqlite:///{tmp_path / 't.db'}", "CAREERBOT_SESSION_SECRET": "s" * 32}
    )
    assert channel.load_session_secret(settings) == b"s" * 32
    assert not (tmp_path / channel.SECRET_FILE_NAME).exists()


def test_an_unset_secret_is_generated_once_and_kept(tmp_path):
    settings = Settings.from_env({"CAREERBOT_TRACKER_URL": f"sqlite:///{tmp_path / 'var' / 't.db'}"})
    first = channel.load_session_secret(settings)
    assert len(first) >= 32
    assert channel.load_session_secret(settings) == first
    assert stat.S_IMODE((tmp_path / "var" / channel.SECRET_FILE_NAME).stat().st_mode) == 0o600


def test_tokens_verify_only_with_the_same_secret_and_id():
    secret = b"k" * 32
    session = channel.issue(secret, "abc123")
    assert channel.verified_conversation(secret, session) == "abc123"
    assert channel.verified_conversation(b"x" * 32, session) is None
    assert channel.verified_conversation(secret, "abc123") is None
    assert channel.verified_conversation(secret, "abc124." + session.split(".")[1]) is None
    assert channel.verified_conversation(secret, "abc123.é" + session.split(".")[1][1:]) is None
    expected = (
        urlsafe_b64encode(hmac.new(secret, b"careerbot socket.io session:abc123", hashlib.sha256).digest())
        .rstrip(b"=")
        .decode()
    )
    assert session == f"abc123.{expected}"
