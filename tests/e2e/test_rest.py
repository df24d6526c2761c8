"""End to end: the real action server and Rasa server, asked over the REST webhook."""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict, List

import pytest
import requests

from bot.launch.serve import Servers


class Chat:
    def __init__(self, servers: Servers) -> None:
        self.url = f"{servers.rasa_url}/webhooks/rest/webhook"
        self.sender = f"e2e-{uuid.uuid4().hex[:8]}"

    def say(self, message: str) -> List[Dict[str, Any]]:
        response = requests.post(self.url, json={"sender": self.sender, "message": message}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def text(self, message: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(message))


@pytest.mark.parametrize(
    "question, facts",
    [
        ("what exactly is a mortgage servicing specialist?", ["banking industry"]),
        ("what would my daily tasks be", ["Maintaining records of mortgage applications"]),
        ("what are the working hours like", ["9am to 5pm, Monday through Friday"]),
        ("do they travel or stay in an office", ["occasionally travel to meet clients"]),
        ("how much money could I make doing this", ["$24,000 to $42,000", "$59,000 to $87,000", "Payscale"]),
        ("what do entry level people get paid", ["Starting mortgage loan specialists earn $24,000 to $42,000"]),
        ("which degree should i get for this", ["Business, Finance, Economics or Accounting"]),
        ("can I get in without a bachelors degree", ["loan document specialist or accounting clerk"]),
        ("is a license required for this job", ["Mortgage Loan Originator License"]),
        ("how do I get the MLO licence, is there an exam", ["Pass a licensing examination"]),
        ("what skills do you need to be good at it", ["attention to detail"]),
        ("will the employer train me when I start", ["banking practices"]),
        ("are there professional certifications for this", ["Certified Residential Mortgage Specialist"]),
        ("which companies hire mortgage servicing specialists", ["Commercial banks"]),
        ("what can I get promoted to later on", ["customer relationship manager"]),
        ("what is the job outlook", ["8 percent", "2012 through 2022", "Bureau of Labor Statistics"]),
        ("is this career a good fit for me?", ["a talent with numbers"]),
        ("what are the steps to become one", ["Mortgage Loan Originator License", "bachelor's degree"]),
    ],
)
def test_each_topic_in_own_words(servers, question, facts):
    messages = Chat(servers).say(question)
    text = "\n".join(m.get("text", "") for m in messages)
    for fact in facts:
        assert fact in text
    assert "Source" in text
    assert 2 <= len(messages[-1].get("buttons", [])) <= 3


@pytest.mark.parametrize(
    "question, facts",
    [
        ("how much mony do mortgae servicng specalists make", ["$24,000 to $42,000", "$59,000 to $87,000"]),
        ("how mcuh do begginers earn", ["Starting mortgage loan specialists", "$24,000 to $42,000"]),
        ("whta are the workng houres", ["9am to 5pm, Monday through Friday"]),
        ("waht degre shuold I studdy", ["Business, Finance, Economics or Accounting"]),
    ],
)
def test_several_misspelled_words_still_get_the_answer(servers, question, facts):
    """Issue 20: two or more misspellings in one message; the spelling normaliser (bot/rasa/spelling.py)."""
    text = Chat(servers).text(question)
    for fact in facts:
        assert fact in text


@pytest.mark.parametrize(
    "message",
    [
        "can you help me refinance my house",
        "what are today's mortgage rates",
        "tell me a joke",
        "asdkjh qwe zzz",
    ],
)
def test_off_topic_gets_the_fallback_not_a_fact(servers, message):
    messages = Chat(servers).say(message)
    text = "\n".join(m.get("text", "") for m in messages)
    assert "I only answer questions about becoming a mortgage servicing specialist" in text
    assert "$" not in text and "Source" not in text
    assert len(messages[-1].get("buttons", [])) >= 3


@pytest.mark.parametrize(
    "message, job",
    [
        ("how do I become a pilot", "pilot"),
        ("how many hours a week do nurses work?", "nurses"),
        ("what's the salary of a software engineer", "software engineer"),
    ],
)
def test_another_job_is_named_and_gets_no_fact(servers, message, job):
    messages = Chat(servers).say(message)
    text = "\n".join(m.get("text", "") for m in messages)
    assert f"not about {job}" in text
    assert "$" not in text and "Source" not in text
    assert len(messages[-1].get("buttons", [])) >= 3


def test_followup_managers_after_pay(servers):
    chat = Chat(servers)
    assert "$42,000 to $59,000" in chat.text("how much do they earn?")
    reply = chat.text("and the managers?")
    assert "Loan managers earn $59,000 to $87,000 a year." in reply
    assert "$24,000" not in reply


def test_followup_state_after_licence(servers):
    chat = Chat(servers)
    assert "Mortgage Loan Originator License" in chat.text("do I need a license?")
    reply = chat.text("what about in Ohio?")
    assert "vary by state" in reply and "no rules specific to Ohio" in reply
    assert "Pass a criminal background check" in reply


def test_followup_without_degree(servers):
    chat = Chat(servers)
    assert "bachelor's degree" in chat.text("what degree do I need?")
    assert "loan document specialist or accounting clerk" in chat.text("and if I don't have one?")


def test_greeting_and_help_name_the_topics(servers):
    chat = Chat(servers)
    assert "mortgage servicing specialist" in chat.text("hello")
    assert "pay at each level" in chat.text("what can you help me with?")


def test_emoji_and_other_scripts_get_an_answer(servers):
    for message in ["😀😀😀", "مرحبا", "שלום"]:
        messages = Chat(servers).say(message)
        assert messages and messages[0].get("text")


@pytest.mark.parametrize(
    "body, status, reason",
    [
        (b'{"sender": "a", "message": ""}', 400, "'message' is empty"),
        (b'{"sender": "a", "message": "   "}', 400, "'message' is empty"),
        (b'{"sender": "a", "message": "' + b"x" * 2001 + b'"}', 413, "longer than 2000"),
        (b'{"sender": "a", "message": "' + "é".encode() * 20_000 + b'"}', 413, "longer than 2000"),
        # Over the body limit (64 KiB): refused before the body is read in full.
        (b'{"sender": "a", "message": "' + "é".encode() * 100_000 + b'"}', 413, "larger than 65536 bytes"),
        (b'{"sender": "a", "message": "hi", "metadata": "' + b"x" * 10_000_000 + b'"}', 413, "larger than 65536 bytes"),
        # Conversation ids that once made the store fail and the server exit.
        (
            b'{"sender": "x\\udc00", "message": "hi"}',
            400,
            "'sender' must be valid UTF-8 text without control characters",
        ),
        (
            b'{"sender": "\\ud800x", "message": "hi"}',
            400,
            "'sender' must be valid UTF-8 text without control characters",
        ),
        (
            b'{"sender": "a\\u0000b", "message": "hi"}',
            400,
            "'sender' must be valid UTF-8 text without control characters",
        ),
        (b'{"sender": "a\\nb", "message": "hi"}', 400, "'sender' must be valid UTF-8 text without control characters"),
        (b'{"sender": "' + b"s" * 129 + b'", "message": "hi"}', 400, "'sender' is longer than 128 characters"),
        (b'{"sender": "   ", "message": "hi"}', 400, "'sender' must be a non-empty string"),
        (b'{"sender": 7, "message": "hi"}', 400, "'sender' must be a non-empty string"),
        # 100,000 levels of nesting: a RecursionError (500) before the depth check.
        (
            b'{"sender": "a", "message": "hi", "metadata": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
            400,
            "nests JSON more than 16 levels deep",
        ),
        (b"[" * 100_000 + b"]" * 100_000, 413, "larger than 65536 bytes"),
        (b"[" * 30_000, 400, "nests JSON more than 16 levels deep"),
        (b"\x00\x01\x02\xff binary", 400, "UTF-8"),
        (b'{"sender": "a", "message": ', 400, "not valid JSON"),
        (b'{"sender": "a", "message": "\xff\xfe"}', 400, "UTF-8"),
        (b'{"message": "hi"}', 400, "'sender' must be a non-empty string"),
        (b'{"sender": "a", "message": 42}', 400, "'message' must be a string"),
        (b'["sender", "message"]', 400, "JSON object"),
        # Every string field is checked as `sender` is. A lone surrogate in the message reached
        # spaCy and came back as a 200 with an apology; in the metadata it was stored.
        (b'{"sender": "a", "message": "hi\\udc00"}', 400, "'message' must be valid UTF-8 text without NUL characters"),
        (b'{"sender": "a", "message": "\\ud800 what is the pay?"}', 400, "'message' must be valid UTF-8 text"),
        (b'{"sender": "a", "message": "hi\\u0000"}', 400, "'message' must be valid UTF-8 text without NUL characters"),
        (
            b'{"sender": "a", "message": "hi", "metadata": {"page": "x\\udc00"}}',
            400,
            "'metadata.page' must be valid UTF-8 text without NUL characters",
        ),
        (b'{"sender": "a", "message": "hi", "metadata": {"a": [1, {"b": "\\u0000"}]}}', 400, "'metadata.a[1].b'"),
        (
            b'{"sender": "a", "message": "hi", "metadata": {"\\udc00": 1}}',
            400,
            "a key in 'metadata' must be valid UTF-8",
        ),
        (b'{"sender": "a", "message": "hi", "metadata": [1, 2]}', 400, "'metadata' must be an object"),
        (b'{"sender": "a", "message": "hi", "metadata": "page=1"}', 400, "'metadata' must be an object"),
        (b'{"sender": "a", "message": "hi", "input_channel": "x\\udc00"}', 400, "'input_channel' must be valid UTF-8"),
        (b'{"sender": "a", "message": "hi", "input_channel": 5}', 400, "'input_channel' must be a non-empty string"),
        (b'{"sender": "a", "message": "hi", "message_id": "short"}', 400, "'message_id' must be 8 to 64 letters"),
        (b'{"sender": "a", "message": "hi", "message_id": 12345678}', 400, "'message_id' must be 8 to 64 letters"),
        (b'{"sender": "a", "message": "hi", "message_id": "' + b"m" * 65 + b'"}', 400, "'message_id' must be 8 to 64"),
        (b'{"sender": "a", "message": "hi", "message_id": "abcdefgh\\n"}', 400, "'message_id' must be 8 to 64"),
        (b'{"sender": "a", "message": "hi", "message_id": "abcdefg\\u00e9"}', 400, "'message_id' must be 8 to 64"),
    ],
)
def test_bad_requests_get_a_clear_4xx(servers, body, status, reason):
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    response = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == status
    assert reason in response.json()["error"]
    # and the server still answers others
    assert "$59,000 to $87,000" in Chat(servers).text("what do loan managers earn?")


@pytest.mark.parametrize(
    "headers, status, reason",
    [
        ({"Content-Type": "text/plain"}, 415, "Content-Type: application/json"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type: application/json"),
        ({}, 415, "Content-Type: application/json"),
        # What any web page can send cross-site with fetch() or a form, no preflight needed.
        ({"Content-Type": "text/plain", "Origin": "https://evil.example"}, 403, "origin is not accepted"),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, "origin is not accepted"),
    ],
)
def test_browser_posts_from_other_sites_are_refused(servers, headers, status, reason):
    chat = Chat(servers)
    body = json.dumps({"sender": chat.sender, "message": "how much do they earn?"})
    response = requests.post(chat.url, data=body, headers=headers, timeout=30)
    assert response.status_code == status
    assert reason in response.json()["error"]


def test_the_widget_page_origin_and_server_clients_are_accepted(servers):
    chat = Chat(servers)
    for headers in ({"Origin": servers.widget_url}, {"Content-Type": "application/json; charset=utf-8"}):
        response = requests.post(
            chat.url, json={"sender": chat.sender, "message": "what are the hours?"}, headers=headers, timeout=30
        )
        assert response.status_code == 200 and "9am to 5pm" in response.json()[0]["text"]


def test_hostile_ids_leave_the_server_serving(servers):
    """The finding: one request with a lone surrogate as sender stopped the whole service."""
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    for sender in ["x\udc00", "a\u0000", "é" * 300]:
        response = requests.post(
            url,
            data=json.dumps({"sender": sender, "message": "hi"}, ensure_ascii=True),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 400
    assert servers.rasa.poll() is None
    assert "$59,000 to $87,000" in Chat(servers).text("what do loan managers earn?")


def test_action_server_down_gives_an_apology_then_recovers(servers):
    chat = Chat(servers)
    servers.stop_actions()
    try:
        messages = chat.say("how much do they earn?")
        assert [m["text"] for m in messages] == [
            "Sorry, I can't answer right now because of a technical problem on my side. Please try again in a moment."
        ]
    finally:
        servers.start_actions()
    assert "$24,000 to $42,000" in chat.text("how much do they earn?")


def test_html_and_script_get_the_fallback_as_plain_data(servers):
    messages = Chat(servers).say("<script>alert(1)</script><img src=x onerror=alert(1)>")
    assert messages and "I only answer questions about becoming a mortgage servicing specialist" in messages[0]["text"]


def test_a_flood_from_one_sender_is_answered_and_others_still_served(servers):
    from concurrent.futures import ThreadPoolExecutor

    flood = Chat(servers)
    # Bounded: 40 messages from one sender, 8 at a time, to this machine only.
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda i: flood.say(f"how much do they earn? {i}"), range(40)))
    assert all(reply and "$24,000" in reply[0]["text"] for reply in replies)
    assert "9am to 5pm" in Chat(servers).text("what are the working hours?")


# --- Sending again is safe: message_id -----------------------------------------------------


def post(servers: Servers, body: Dict[str, Any]) -> requests.Response:
    return requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)


def stored_texts(servers: Servers, sender: str) -> List[str]:
    import sqlite3

    with sqlite3.connect(str(servers.settings.sqlite_path)) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,))
        return [json.loads(data)["text"] for (data,) in rows]


def test_a_message_sent_again_with_its_id_gets_the_same_answer_and_no_second_turn(servers):
    """The finding: a client that retried after a lost answer made a second turn."""
    sender = f"again-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "how much do they earn?", "message_id": "rest-msg-0001"}
    first = post(servers, body)
    assert first.status_code == 200 and "$24,000 to $42,000" in first.text
    again = post(servers, body)
    assert again.status_code == 200 and again.json() == first.json()
    assert stored_texts(servers, sender) == ["how much do they earn?"]
    # The id is the turn's Rasa message id, and the conversation goes on from the first copy.
    assert (
        "Loan managers earn $59,000 to $87,000 a year."
        in post(servers, {"sender": sender, "message": "and the managers?", "message_id": "rest-msg-0002"}).text
    )
    assert stored_texts(servers, sender) == ["how much do they earn?", "and the managers?"]
    # Without an id every message is a turn, as before.
    for _ in range(2):
        assert post(servers, {"sender": sender, "message": "what are the hours?"}).status_code == 200
    assert stored_texts(servers, sender)[2:] == ["what are the hours?", "what are the hours?"]


def test_copies_sent_at_once_make_one_turn_and_get_one_answer(servers):
    from concurrent.futures import ThreadPoolExecutor

    sender = f"at-once-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "what are the working hours?", "message_id": "rest-once-0001"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: post(servers, body), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.json() == answers[0].json() for a in answers) and "9am to 5pm" in answers[0].text
    assert stored_texts(servers, sender) == ["what are the working hours?"]


def test_a_message_id_counts_in_its_own_conversation_and_only_for_the_same_text(servers):
    first, second = f"id-a-{uuid.uuid4().hex[:8]}", f"id-b-{uuid.uuid4().hex[:8]}"
    assert post(servers, {"sender": first, "message": "what do they do?", "message_id": "same-id-01"}).ok
    assert post(servers, {"sender": second, "message": "what do they do?", "message_id": "same-id-01"}).ok
    assert stored_texts(servers, second) == ["what do they do?"]
    # The same id for another message is a client's mistake: refused, not answered with the first reply.
    reused = post(servers, {"sender": first, "message": "what is the pay?", "message_id": "same-id-01"})
    assert reused.status_code == 409
    assert reused.json() == {"error": "'message_id' was already used in this conversation for another message"}
    assert stored_texts(servers, first) == ["what do they do?"]


def test_a_message_refused_with_503_and_sent_again_is_stored_once(servers):
    """The kill test's case at the door: the client did not get its answer and sends the same body again."""
    import sqlite3

    sender = f"retry-{uuid.uuid4().hex[:8]}"
    assert post(servers, {"sender": sender, "message": "hello"}).ok  # the tables exist
    body = {"sender": sender, "message": "what are the working hours?", "message_id": "rest-retry-01"}
    holder = sqlite3.connect(str(servers.settings.sqlite_path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        refused = post(servers, body)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    answers = [post(servers, body) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    assert stored_texts(servers, sender) == ["hello", "what are the working hours?"]


def test_a_message_sent_again_to_another_instance_or_after_a_restart_is_found_in_the_store(servers, tmp_path):
    """Nothing of it is kept in memory: a second instance on the same store, and a restart, know it."""
    from tests.support.servers import running

    sender = f"instances-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "do I need a license?", "message_id": "rest-other-01"}
    first = post(servers, body)
    assert first.status_code == 200 and "Mortgage Loan Originator License" in first.text
    for other in running(tmp_path, servers.settings.tracker_url):
        assert post(other, body).json() == first.json()
        other.stop_rasa()
        other.start_rasa()
        assert post(other, body).json() == first.json()
    assert stored_texts(servers, sender) == ["do I need a license?"]


def test_a_followup_that_names_no_topic_continues_the_conversations_topic(servers):
    # Issue 20: out of context "and how long would that take?" was not understood.
    chat = Chat(servers)
    assert "bachelor's degree" in chat.text("what are the steps to become one")
    reply = chat.text("ok, and how long would that take then?")
    assert "Mortgage Loan Originator License" in reply and "Sorry" not in reply


def test_where_the_facts_come_from_and_the_answer_again_briefly(servers):
    chat = Chat(servers)
    assert "$24,000 to $42,000" in chat.text("how much money could I make doing this")
    reply = chat.text("where do these figures come from?")
    assert "Payscale" in reply and "careeraddict.com" in reply and "$" not in reply
    assert "$24,000 to $42,000" in chat.text("briefly please")


def test_a_comparison_with_another_job_answers_this_careers_side_and_names_the_gap(servers):
    chat = Chat(servers)
    reply = chat.text("do they earn more than a real estate agent?")
    assert "$24,000 to $42,000" in reply
    assert "no information about real estate agents" in reply
