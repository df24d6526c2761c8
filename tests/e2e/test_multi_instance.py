"""Two Rasa instances behind nginx, sharing a PostgreSQL tracker store and a Redis lock store.

PostgreSQL, Redis and nginx come from Debian's packages (`make services`
installs them) and run here on 127.0.0.1 for the length of this module.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bot import PROJECT_DIR
from bot.cluster import Cluster

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One action server, two Rasa instances, nginx balancing them round-robin."""
    with Cluster(MODEL, tmp_path_factory.mktemp("cluster"), instances=2) as running:
        first, second = running.instances
        yield first, second, running.url, running.postgres


def say(base_url, sender, message):
    response = requests.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=60)
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def test_a_conversation_keeps_its_context_across_instances(cluster):
    first, second, _, _ = cluster
    sender = f"across-{uuid.uuid4().hex[:8]}"
    assert "$42,000 to $59,000" in say(first.rasa_url, sender, "how much do they earn?")
    assert "Loan managers earn $59,000 to $87,000 a year." in say(second.rasa_url, sender, "and the managers?")
    assert "no rules specific to Ohio" in (say(first.rasa_url, sender, "do I need a license?")
                                           + say(second.rasa_url, sender, "what about in Ohio?"))


def test_concurrent_users_lose_nothing_and_keep_their_order(cluster):
    _, _, nginx_url, postgres = cluster
    tracker_url = postgres.url
    run = uuid.uuid4().hex[:6]
    questions = ["how much do they earn?", "and the managers?", "what are the hours?", "what do they do?"]

    def conversation(user):
        sender = f"load-{run}-{user}"
        replies = [say(nginx_url, sender, q) for q in questions]
        return sender, replies

    # Bounded: 24 users, 4 messages each, 8 at a time, all to 127.0.0.1.
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(conversation, range(24)))

    for _, replies in results:
        assert "$24,000" in replies[0] and "Loan managers earn" in replies[1]
        assert "9am to 5pm" in replies[2] and "duties" in replies[3]

    engine = sa.create_engine(tracker_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE :p ORDER BY id"),
            {"p": f"load-{run}-%"}).fetchall()
    engine.dispose()
    import json

    by_sender = {}
    for sender, data in rows:
        by_sender.setdefault(sender, []).append(json.loads(data)["text"])
    assert len(by_sender) == 24
    assert all(texts == questions for texts in by_sender.values())  # each once, in order


def test_tracker_store_outage_is_reported_and_recovered(cluster):
    """While the database is down the client gets a 503 to retry and the log says why;
    once it is back, turns are answered and stored there again, with no restart."""
    first, _, _, postgres = cluster
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    postgres.stop()
    try:
        response = requests.post(f"{first.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": "what are the hours?"}, timeout=60)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json() == {"error": "the conversation store is unavailable; please try again shortly"}
        assert "conversation store unavailable, this turn is not saved" in (first.log_dir / "rasa.log").read_text()
    finally:
        postgres.start()

    def stored():
        engine = sa.create_engine(postgres.url)
        try:
            with engine.connect() as connection:
                return connection.execute(sa.text(
                    "SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                    {"s": sender}).scalar()
        finally:
            engine.dispose()

    deadline = time.monotonic() + 30
    while True:
        reply = say(first.rasa_url, sender, "what do they do?")
        if stored() or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert "duties" in reply and stored() >= 1
