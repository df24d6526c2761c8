"""Two Rasa instances behind nginx, sharing a PostgreSQL tracker store and a Redis lock store.

PostgreSQL, Redis and nginx come from Debian's packages (`make services`
installs them) and run here on 127.0.0.1 for the length of this module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot import PROJECT_DIR
from bot.serve import Servers
from bot.settings import Settings

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None) if Path("/usr/lib/postgresql").exists() \
    else None
MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"


def _wait_port(port, timeout=30.0):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def postgres(free_ports):
    assert PG_BIN and shutil.which("runuser"), "PostgreSQL is not installed: run `make services`"
    port = free_ports()
    # Owned by the postgres user, which PostgreSQL insists on running as.
    root = Path(tempfile.mkdtemp(prefix="careerbot-pg-"))
    os.chmod(root, 0o755)
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_postgres + [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    control = PostgresControl(as_postgres, data, root, port)
    control.start()
    try:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c",
                        "CREATE DATABASE careerbot"], check=True, capture_output=True)
        control.url = f"postgresql://postgres@127.0.0.1:{port}/careerbot"
        yield control
    finally:
        control.stop()
        shutil.rmtree(root, ignore_errors=True)


class PostgresControl:
    def __init__(self, as_postgres, data, root, port):
        self.as_postgres, self.data, self.root, self.port = as_postgres, data, root, port
        self.url = ""

    def start(self):
        subprocess.run(self.as_postgres + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                                           str(self.root / "log"), "-w", "-o",
                                           f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True)

    def stop(self):
        subprocess.run(self.as_postgres + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                       capture_output=True)


@pytest.fixture(scope="module")
def redis(free_ports, tmp_path_factory):
    assert shutil.which("redis-server"), "Redis is not installed: run `make services`"
    port = free_ports()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(postgres, redis, free_ports, tmp_path_factory):
    """One action server, two Rasa instances, nginx balancing them round-robin."""
    assert shutil.which("nginx"), "nginx is not installed: run `make services`"
    workdir = tmp_path_factory.mktemp("cluster")
    action_port, widget_port = free_ports(), free_ports()
    env = {"CAREERBOT_REDIS_HOST": "127.0.0.1", "CAREERBOT_REDIS_PORT": str(redis)}
    instances = []
    for name in ("a", "b"):
        settings = Settings.from_env({
            "CAREERBOT_RASA_PORT": str(free_ports()), "CAREERBOT_ACTION_PORT": str(action_port),
            "CAREERBOT_WIDGET_PORT": str(widget_port), "CAREERBOT_TRACKER_URL": postgres.url,
        })
        instances.append(Servers(settings, MODEL, log_dir=workdir / f"logs-{name}", extra_env=env))
    first, second = instances
    nginx_port = free_ports()
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
error_log {workdir}/nginx-error.log;
pid {workdir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body;
  proxy_temp_path {workdir}/proxy;
  upstream rasa {{ server 127.0.0.1:{first.settings.rasa_port}; server 127.0.0.1:{second.settings.rasa_port}; }}
  server {{
    listen 127.0.0.1:{nginx_port};
    location / {{ proxy_pass http://rasa; proxy_read_timeout 60s; }}
  }}
}}
""")
    nginx = None
    try:
        first.start_actions()
        first.start_rasa()
        second.start_rasa()
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(nginx_port)
        yield first, second, f"http://127.0.0.1:{nginx_port}", postgres
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        second.stop()
        first.stop()


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
