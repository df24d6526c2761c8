"""Issue 22's "done when", tried as a site owner would, in Chromium: visitors ask, in the widget, a pay question
the model sends to the out-of-scope answer; it waits on the review page; the owner labels it by keyboard; the
guarded retrain (`python -m bot.ops.review.retrain`, what `make review-train` runs) accepts the candidate
and prints the comparison; on the new model the same question gets the pay answer. Everything goes to tmp
copies (the data, the model, the store): the checkout is never written.

One training (about 2.5 min of CPU), scoring both models and the test stories: about 5 min alone, the slowest
test of the browser tier. Two labelled lines are enough to move this question from out of scope (0.52) to the
pay topic: a trial training with them gave ask_pay 0.99.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.launch.serve import Servers
from bot.settings import environment
from bot.similarity import near_held_out
from tests.support.browser import ask, log_text, open_chat
from tests.support.servers import MODEL, local_settings
from tests.widget.test_review_page import FAMILY, FAMILY_MAIL, FAMILY_MAIL_SHOWN, Page, label_by_keyboard

# What the pay answer says, for the default career of local_settings (the mortgage servicing specialist).
PAY_ANSWER = "The annual pay for mortgage servicing specialists"
OUT_OF_SCOPE_ANSWER = "Sorry, I can't help with that"
# One training, two scorings and the test stories, on 2 shared cores.
RETRAIN_TIMEOUT_S = 20 * 60


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visitor_asks(browser, servers: Servers, text: str) -> str:
    """A new visitor opens the demo page's chat and asks `text`; the chat's text after the answer."""
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{servers.widget_url}/")
        open_chat(page)
        ask(page, text)
        return log_text(page)
    finally:
        context.close()


@pytest.mark.model
# Alone it takes about 5 min (290 s here); beside make test's other worker, the training can take twice that.
@pytest.mark.timeout(RETRAIN_TIMEOUT_S + 300)
def test_a_missed_question_labelled_on_the_page_is_answered_after_the_guarded_retrain(browser, tmp_path):
    # Not a near-copy of a held-out line: else labelling it would be refused, and the test sets not blind.
    assert near_held_out([FAMILY, FAMILY_MAIL_SHOWN]) == []
    model = tmp_path / "models" / "careerbot.tar.gz"
    model.parent.mkdir()
    shutil.copy2(MODEL, model)
    before = _sha(model)
    store = f"sqlite:///{tmp_path / 'tracker.db'}"

    with Servers(local_settings(store), model, log_dir=tmp_path / "logs-before") as servers:
        for question in (FAMILY, FAMILY_MAIL):
            answered = visitor_asks(browser, servers, question)
            assert OUT_OF_SCOPE_ANSWER in answered and PAY_ANSWER not in answered

    review = Page(store, tmp_path)
    context = browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(review.url)
        # The address keeps the second visitor's question in a group of its own: two decisions.
        for text in (FAMILY, FAMILY_MAIL_SHOWN):
            assert label_by_keyboard(tab, text, "ask_pay").startswith("1 message labelled ask_pay")
        assert tab.get_by_text("raise a family").count() == 0
    finally:
        context.close()
        review.close()
    reviewed = (review.data / "nlu" / "reviewed.yml").read_text()
    assert FAMILY_MAIL_SHOWN in reviewed and "ann.lee" not in reviewed and "@example.com" not in reviewed

    retrain = subprocess.run(
        [sys.executable, "-m", "bot.ops.review.retrain", "--data", str(review.data), "--model", str(model)],
        cwd=PROJECT_DIR,
        env=dict(environment(), RASA_TELEMETRY_ENABLED="false"),
        capture_output=True,
        text=True,
        timeout=RETRAIN_TIMEOUT_S,
    )
    assert retrain.returncode == 0, retrain.stdout[-3000:] + retrain.stderr[-3000:]
    print(retrain.stdout)  # the comparison, side by side (pytest -s shows it)
    assert re.search(r"^ +current +candidate$", retrain.stdout, re.M), retrain.stdout
    assert re.search(r"^  intent accuracy +\d", retrain.stdout, re.M), retrain.stdout
    assert "\naccepted: " in retrain.stdout and _sha(model) != before

    with Servers(local_settings(store), model, log_dir=tmp_path / "logs-after") as servers:
        answered = visitor_asks(browser, servers, FAMILY)
        assert PAY_ANSWER in answered and OUT_OF_SCOPE_ANSWER not in answered, answered
