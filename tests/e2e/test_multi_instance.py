"""Two Rasa instances behind nginx, sharing a PostgreSQL tracker store and a Redis lock store.

PostgreSQL, Redis and nginx come from Debian's packages (`make services`
installs them) and run here on 127.0.0.1 for the length of this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from bot import PROJECT_DIR
from bot.devtools.cluster import Cluster
from bot.launch.processes import wait_until
from tests.support.browser import chromium

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"
# Two Rasa instances behind nginx, on PostgreSQL and Redis.
pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def whole_cluster(tmp_path_factory):
    """One action server, two Rasa instances, nginx balancing them (REST round-robin, socket.io sticky)."""
    with Cluster(MODEL, tmp_path_factory.mktemp("cluster"), instances=2) as running:
        yield running


@pytest.fixture(scope="module")
def cluster(whole_cluster):
    first, second = whole_cluster.instances
    return first, second, whole_cluster.url, whole_cluster.postgres


def say(base_url, sender, message):
    response = requests.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def test_a_conversation_keeps_its_context_across_instances(cluster):
    first, second, _, _ = cluster
    sender = f"across-{uuid.uuid4().hex[:8]}"
    assert "$42,000 to $59,000" in say(first.rasa_url, sender, "how much do they earn?")
    assert "Loan managers earn $59,000 to $87,000 a year." in say(second.rasa_url, sender, "and the managers?")
    assert "no rules specific to Ohio" in (
        say(first.rasa_url, sender, "do I need a license?") + say(second.rasa_url, sender, "what about in Ohio?")
    )


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
        rows = connection.execute(
            sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE :p ORDER BY id"),
            {"p": f"load-{run}-%"},
        ).fetchall()
    engine.dispose()
    import json

    by_sender = {}
    for sender, data in rows:
        by_sender.setdefault(sender, []).append(json.loads(data)["text"])
    assert len(by_sender) == 24
    assert all(texts == questions for texts in by_sender.values())  # each once, in order


def post_together(base_url, body, start):
    """POSTs `body` to the REST webhook, all but its last byte at once and the last one when `start` lets
    every caller go: the server has the request only then, so the copies reach it within microseconds."""
    import http.client

    parts = urlsplit(base_url)
    data = json.dumps(body).encode()
    head = (
        f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as connection:
        connection.sendall(head + data[:-1])
        start.wait(timeout=60)
        connection.sendall(data[-1:])
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, json.loads(response.read())


def test_one_message_sent_to_both_instances_at_the_same_instant_is_answered_once(cluster):
    """The same body with one message_id, sent to both instances at once (as a client that timed out on one
    and resent to the other might): one turn is stored, and both callers get its replies. Both instances
    take the conversation's lock in Redis; with Rasa's own Redis lock store some of these conversations
    were answered twice (bot/rasa/lock_store.py says why)."""
    first, second, _, postgres = cluster
    run, lanes, rounds = uuid.uuid4().hex[:6], 3, 30

    def lane(index):
        """`rounds` conversations, one after the other, each with one message sent to both instances at once."""
        start = threading.Barrier(2)
        senders = [f"twice-{run}-{index}-{round_}" for round_ in range(rounds)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            for sender in senders:
                body = {"sender": sender, "message": "what are the hours?", "message_id": uuid.uuid4().hex}
                copies = [pool.submit(post_together, servers.rasa_url, body, start) for servers in (first, second)]
                (status, one), (other_status, other) = (copy.result() for copy in copies)
                assert (status, other_status) == (200, 200), (one, other)
                assert one == other and "9am to 5pm" in "\n".join(m.get("text", "") for m in one), (one, other)
        return senders

    # Lanes side by side: while one lane's second copy waits for the lock, the others' copies race.
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        senders = [sender for senders in pool.map(lane, range(lanes)) for sender in senders]

    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            stored = dict(
                connection.execute(
                    sa.text(
                        "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id LIKE :p "
                        "GROUP BY sender_id"
                    ),
                    {"p": f"twice-{run}-%"},
                ).fetchall()
            )
    finally:
        engine.dispose()
    assert stored == {sender: 1 for sender in senders}


class KeptConnection:
    """One HTTP/1.1 connection, kept alive across requests; `same` says whether it ever had to reconnect."""

    def __init__(self, base_url):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.sockets = []

    def post(self, sender, message):
        body = json.dumps({"sender": sender, "message": message})
        self.connection.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        data = json.loads(response.read())
        self.sockets.append(self.connection.sock)
        return response.status, dict(response.getheaders()), data

    @property
    def same(self):
        return all(sock is self.sockets[0] for sock in self.sockets) and self.sockets[0] is not None


def test_tracker_store_outage_is_reported_and_recovered(cluster):
    """While the database is down the client gets a 503 to retry and the log says why;
    once it is back, turns are answered and stored there again, with no restart, and on the
    same kept-alive connection (a 503 once stuck to the connection that saw it)."""
    first, second, _, postgres = cluster
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    # The second instance opens pooled connections now and stays idle through the outage.
    assert say(second.rasa_url, f"idle-{uuid.uuid4().hex[:8]}", "what are the hours?")
    kept = KeptConnection(first.rasa_url)
    assert kept.post(sender, "what are the hours?")[0] == 200
    postgres.stop()
    try:
        status, headers, body = kept.post(sender, "what are the hours?")
        assert status == 503
        assert headers["Retry-After"] == "5"
        assert body == {"error": "the conversation store is unavailable; please try again shortly"}
        assert "conversation store unavailable, this turn is not saved" in (first.log_dir / "rasa.log").read_text()
    finally:
        postgres.start()

    def stored():
        engine = sa.create_engine(postgres.url)
        try:
            with engine.connect() as connection:
                return connection.execute(
                    sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender}
                ).scalar()
        finally:
            engine.dispose()

    before = stored()

    def answered():
        reply = kept.post(sender, "what do they do?")
        return reply if reply[0] == 200 else None

    _, _, body = wait_until(answered, 30, "a turn is answered once PostgreSQL is back", interval=1)
    assert "duties" in "\n".join(m.get("text", "") for m in body)
    assert stored() == before + 1
    # Every later turn on the same connection is answered too.
    status, _, body = kept.post(sender, "and the pay?")
    assert status == 200 and stored() == before + 2
    assert kept.same
    # Its connections died with the database; its first turn afterwards is answered all the same.
    response = requests.post(
        f"{second.rasa_url}/webhooks/rest/webhook",
        timeout=30,
        json={"sender": f"idle-{uuid.uuid4().hex[:8]}", "message": "what are the hours?"},
    )
    assert response.status_code == 200 and "9am to 5pm" in response.text


@pytest.mark.parametrize("sender", ["a\u0000b", "x\udc00"])
def test_hostile_ids_are_refused_and_the_service_stays_up_on_postgresql(cluster, sender):
    """A NUL in a sender once made PostgreSQL's store fail and Rasa exit."""
    first, second, url, _ = cluster
    response = requests.post(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": "hi"}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "'sender' must be valid UTF-8 text without control characters" in response.json()["error"]
    assert first.rasa.poll() is None and second.rasa.poll() is None
    assert "9am to 5pm" in say(url, f"after-{uuid.uuid4().hex[:8]}", "what are the hours?")


@pytest.mark.parametrize("sender", ["a\u0000b", "x\udc00"])
def test_the_store_itself_reports_hostile_ids_as_errors_not_a_missing_schema(cluster, rasa_domain, sender):
    """Behind the door too: the store raises, and Rasa's fail-safe store gets the error, instead of
    Rasa reading the ValueError as a missing schema and exiting."""
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa.tracker_store import CareerSQLTrackerStore

    store = CareerSQLTrackerStore(rasa_domain, host=cluster[3].url)
    errors = []
    failsafe = FailSafeTrackerStore(store, on_tracker_store_error=errors.append)
    asyncio.run(failsafe.save(DialogueStateTracker(sender, rasa_domain.slots)))
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    store.engine.dispose()


# --- The widget through nginx ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture(scope="module")
def demo_through_nginx(whole_cluster):
    """The widget's demo page, on the origin the instances allow, with the widget pointed at nginx."""
    from bot.devtools.cluster import wait_port

    widget_port = whole_cluster.instances[0].settings.widget_port
    env = dict(
        os.environ,
        CAREERBOT_WIDGET_PORT=str(widget_port),
        CAREERBOT_RASA_PORT=str(whole_cluster.nginx.port),
        PYTHONPATH=str(PROJECT_DIR),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.widget.server"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(widget_port)
        yield f"http://127.0.0.1:{widget_port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def socketio_requests(cluster):
    """(Engine.IO session id, transport, status, the instance that answered) of every socket.io request."""
    log = cluster.nginx.socketio_log
    for line in log.read_text().splitlines() if log.exists() else []:
        uri, status, upstreams = line.split(" ", 2)
        query = parse_qs(urlsplit(uri).query)
        yield (query.get("sid", [None])[0], query.get("transport", [None])[0], int(status), upstreams.split(", ")[-1])


def test_the_widget_through_nginx_keeps_each_session_on_one_instance_and_fails_over(
    whole_cluster, demo_through_nginx, browser
):
    """The widget's own client, as a visitor's browser runs it: long-polling first, then the upgrade to a
    WebSocket, every request of a session on the instance that opened it; when that instance stops, the
    widget reconnects to the other one and the conversation goes on with its context."""
    instances = {f"127.0.0.1:{servers.settings.rasa_port}": servers for servers in whole_cluster.instances}
    context = browser.new_context()
    serving = None
    try:
        page = context.new_page()
        page.goto(demo_through_nginx)
        page.get_by_role("button", name="Chat with us").click()
        box = page.get_by_role("textbox", name="Your message")
        box.fill("how much do they earn?")
        box.press("Enter")
        page.get_by_text("$59,000 to $87,000", exact=False).first.wait_for(timeout=90000)
        serving = [upstream for sid, _, _, upstream in socketio_requests(whole_cluster) if sid][-1]
        instances[serving].stop_rasa()
        box.fill("and the managers?")
        box.press("Enter")
        page.get_by_text("Loan managers earn $59,000 to $87,000 a year.").wait_for(timeout=120000)
    finally:
        context.close()
        if serving is not None:
            instances[serving].start_rasa()

    # A WebSocket's line is written when it closes.
    wait_until(
        lambda: (
            len({sid for sid, transport, _, _ in socketio_requests(whole_cluster) if transport == "websocket"}) >= 2
        ),
        60,
        "nginx logs both WebSocket sessions",
    )
    requests_seen = list(socketio_requests(whole_cluster))
    by_session = {}
    for sid, _, _, upstream in requests_seen:
        if sid:
            by_session.setdefault(sid, set()).add(upstream)
    assert all(len(upstreams) == 1 for upstreams in by_session.values()), requests_seen
    assert set().union(*by_session.values()) == set(instances), requests_seen
    assert {(transport, status) for _, transport, status, _ in requests_seen} >= {("polling", 200), ("websocket", 101)}
    assert not [request for request in requests_seen if request[2] >= 400], requests_seen
