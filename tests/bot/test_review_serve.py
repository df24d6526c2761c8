"""The review page refuses to start where it would be open to anyone (no browser, no store needed);
tests/widget/test_review_page.py tries the page itself in Chromium."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot import PROJECT_DIR
from bot.ops.review.page import is_loopback
from bot.settings import environment


def serve(host: str, token: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in environment().items() if k != "CAREERBOT_REVIEW_TOKEN"}
    if token:
        env["CAREERBOT_REVIEW_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.review", "serve", "--host", host, "--port", "0"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "host, token, said",
    [
        ("0.0.0.0", "", "error: --host 0.0.0.0 is not loopback: set CAREERBOT_REVIEW_TOKEN"),
        ("192.0.2.1", "", "error: --host 192.0.2.1 is not loopback: set CAREERBOT_REVIEW_TOKEN"),
        ("0.0.0.0", "short", "error: CAREERBOT_REVIEW_TOKEN: expected at least 16 characters"),
    ],
)
def test_beyond_loopback_the_page_does_not_start_without_a_long_token(host, token, said):
    done = serve(host, token)
    assert done.returncode == 1
    assert done.stderr.startswith(said) and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_on_loopback_it_starts_and_a_missing_store_is_one_line(tmp_path):
    import requests

    env = dict(environment(), CAREERBOT_TRACKER_URL=f"sqlite:///{tmp_path / 'none.db'}")
    env.pop("CAREERBOT_REVIEW_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.ops.review", "serve", "--port", "0", "--review", str(tmp_path / "review")],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = process.stdout.readline()
        assert started.startswith("Review inbox on http://127.0.0.1:") and "(Ctrl-C stops)" in started, (
            started + process.stderr.read() if process.poll() is not None else started
        )
        url = started.split()[3]
        response = requests.get(url, timeout=30)
        assert response.status_code == 503
        assert "none.db" in response.text and "Traceback" not in response.text
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert not (tmp_path / "none.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
