"""The multi-instance set-up on one machine: Rasa instances behind nginx, sharing
a PostgreSQL tracker store and a Redis lock store, one action server, all on 127.0.0.1.

PostgreSQL, Redis and nginx are Debian's packages (`make services` installs
them). tests/e2e/test_multi_instance.py checks the set-up; `make bench`
measures it. Every server runs in a temporary folder and is stopped by
:meth:`Cluster.close` (or the ``with`` block).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional

from bot.launch.processes import LOOPBACK, free_port, stop_process, wait_until
from bot.launch.serve import Servers
from bot.settings import Settings


class ServiceMissing(RuntimeError):
    """A Debian package the set-up needs is not installed."""


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((LOOPBACK, port)) == 0


def wait_port(port: int, timeout: float = 30.0) -> None:
    wait_until(lambda: _listens(port), timeout, f"something listens on {LOOPBACK}:{port}")


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin")) if Path("/usr/lib/postgresql").exists() else []
    if not found or not shutil.which("runuser"):
        raise ServiceMissing("PostgreSQL is not installed: run `make services`")
    return found[-1]


class Postgres:
    """A throw-away PostgreSQL server with a `careerbot` database; :meth:`stop`/:meth:`start` simulate an outage."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.bin = _postgres_bin()
        self.port = port or free_port()
        # Owned by the postgres user, which PostgreSQL insists on running as.
        self.root = Path(tempfile.mkdtemp(prefix="careerbot-pg-"))
        os.chmod(self.root, 0o755)
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/careerbot"

    def create(self) -> "Postgres":
        subprocess.run(
            self.as_postgres + [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        self.start()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", "CREATE DATABASE careerbot"],
            check=True,
            capture_output=True,
        )
        return self

    def start(self) -> None:
        subprocess.run(
            self.as_postgres
            + [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "log"),
                "-w",
                "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            self.as_postgres + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
            capture_output=True,
        )

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class _Daemon:
    """A server of the set-up run as a quiet child process on a loopback port, stopped by :meth:`close`."""

    port: int
    process: Optional[subprocess.Popen] = None

    def _run(self, args: List[str]) -> None:
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def close(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)


class Redis(_Daemon):
    """A Redis server without persistence, for Rasa's lock store."""

    def __init__(self, port: Optional[int] = None) -> None:
        if not shutil.which("redis-server"):
            raise ServiceMissing("Redis is not installed: run `make services`")
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="careerbot-redis-"))

    def start(self) -> "Redis":
        self._run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ]
        )
        return self

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx(_Daemon):
    """nginx over the given local ports: round-robin for REST, sticky by client address for socket.io
    (as deploy/nginx.conf). Every socket.io request is logged with the instance that answered it."""

    def __init__(self, workdir: Path, upstream_ports: List[int], port: Optional[int] = None) -> None:
        if not shutil.which("nginx"):
            raise ServiceMissing("nginx is not installed: run `make services`")
        self.workdir, self.upstream_ports = workdir, upstream_ports
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socketio_log(self) -> Path:
        """One line per socket.io request: its URI, status and the instance(s) tried, last the one that answered."""
        return self.workdir / "nginx-socketio.log"

    def start(self) -> "Nginx":
        servers = " ".join(f"server 127.0.0.1:{port};" for port in self.upstream_ports)
        conf = self.workdir / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
error_log {self.workdir}/nginx-error.log;
pid {self.workdir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {self.workdir}/body;
  proxy_temp_path {self.workdir}/proxy;
  upstream rasa {{ {servers} keepalive 32; }}
  upstream rasa_socketio {{ ip_hash; {servers} }}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  log_format socketio '$request_uri $status $upstream_addr';
  server {{
    listen 127.0.0.1:{self.port};
    location /socket.io/ {{
      access_log {self.socketio_log} socketio;
      proxy_pass http://rasa_socketio;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 60s;
    }}
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 60s;
    }}
  }}
}}
""")
        self._run(["nginx", "-c", str(conf), "-p", str(self.workdir), "-g", "daemon off;"])
        return self


class Cluster:
    """``instances`` Rasa servers and one action server, behind nginx, on PostgreSQL and Redis."""

    def __init__(self, model: Path, workdir: Path, instances: int = 2) -> None:
        self.model, self.workdir, self.count = model, workdir, instances
        self.postgres: Optional[Postgres] = None
        self.redis: Optional[Redis] = None
        self.nginx: Optional[Nginx] = None
        self.instances: List[Servers] = []

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    @property
    def server_pids(self) -> List[int]:
        """The bot's own processes: every Rasa instance and the action server."""
        return [process.pid for servers in self.instances for process in servers.processes]

    def start(self) -> "Cluster":
        try:
            self.postgres = Postgres().create()
            self.redis = Redis().start()
            action_port, widget_port = free_port(), free_port()
            # One session secret: a widget session issued by one instance is valid on the others.
            env = {
                "CAREERBOT_REDIS_HOST": "127.0.0.1",
                "CAREERBOT_REDIS_PORT": str(self.redis.port),
                "CAREERBOT_SESSION_SECRET": secrets.token_urlsafe(32),
            }
            for index in range(self.count):
                settings = Settings.from_env(
                    {
                        "CAREERBOT_RASA_PORT": str(free_port()),
                        "CAREERBOT_ACTION_PORT": str(action_port),
                        "CAREERBOT_WIDGET_PORT": str(widget_port),
                        "CAREERBOT_TRACKER_URL": self.postgres.url,
                    }
                )
                self.instances.append(
                    Servers(settings, self.model, log_dir=self.workdir / f"logs-{index}", extra_env=env)
                )
            self.instances[0].start_actions()
            for servers in self.instances:
                servers.start_rasa()
            self.nginx = Nginx(self.workdir, [s.settings.rasa_port for s in self.instances]).start()
            return self
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for part in [self.nginx, *reversed(self.instances), self.redis, self.postgres]:
            if part is None:
                continue
            try:
                part.close() if not isinstance(part, Servers) else part.stop()
            except Exception:  # stop everything else even if one part fails
                pass

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
