"""Runs the action server and the Rasa server together, in the foreground.

    python -m bot.serve

Ctrl-C (or SIGTERM) stops both; if either one dies, the other is stopped too.
The end-to-end tests use :class:`Servers` to run the same two processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_DIR
from bot.channel_config import write_enabled
from bot.knowledge import KnowledgeBase, KnowledgeError
from bot.settings import Settings, SettingsError

BIN_DIR = Path(sys.executable).parent
# The channels, and endpoints, whose variables are set (see bot/channel_config.py).
CREDENTIALS = PROJECT_DIR / "build" / "credentials.yml"
ENDPOINTS_SOURCE = PROJECT_DIR / "endpoints.yml"
# `rasa run`, through the project's launcher (bot/rasa_run.py).
RASA_RUN = [sys.executable, "-m", "bot.rasa_run"]


class StartError(RuntimeError):
    """A server exited or did not answer in time."""


def _get(url: str, timeout: float = 2.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local URL)
        return response.status


class Servers:
    """The action server and the Rasa server as child processes."""

    def __init__(self, settings: Settings, model: Path, log_dir: Optional[Path] = None,
                 extra_env: Optional[Dict[str, str]] = None) -> None:
        self.settings = settings
        self.model = model
        self.log_dir = log_dir
        self.env = dict(os.environ, **(extra_env or {}))
        self.env.update(
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL=self.env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            CAREERBOT_ACTION_URL=settings.action_endpoint_url,
            CAREERBOT_KNOWLEDGE_DIR=str(settings.knowledge_dir),
            CAREERBOT_ACTION_HOST=settings.action_host,
            CAREERBOT_ACTION_PORT=str(settings.action_port),
            CAREERBOT_RASA_HOST=settings.rasa_host,
            CAREERBOT_RASA_PORT=str(settings.rasa_port),
            CAREERBOT_WIDGET_HOST=settings.widget_host,
            CAREERBOT_WIDGET_PORT=str(settings.widget_port),
            CAREERBOT_CORS_ORIGINS=",".join(settings.cors_origins),
            CAREERBOT_TRACKER_URL=settings.tracker_url,
            # Rasa imports the project's channel (bot.channels) from credentials.yml.
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
        )
        if settings.career:
            self.env["CAREERBOT_CAREER"] = settings.career
        self.processes: List[subprocess.Popen] = []
        self.build_dir = PROJECT_DIR / "build"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.rasa_host}:{self.settings.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.settings.action_host}:{self.settings.action_port}"

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=PROJECT_DIR, env=self.env, stdout=out,
                                   stderr=subprocess.STDOUT if out else None)
        self.processes.append(process)
        return process

    def start_actions(self, timeout: float = 60) -> None:
        self.actions = self._spawn("actions", [sys.executable, "-m", "bot.action_server"])
        self._wait(self.actions, f"{self.action_url}/health", "action server", timeout)

    def stop_actions(self) -> None:
        """Stops only the action server (fault tests restart it with start_actions)."""
        self._stop(self.actions)
        self.processes.remove(self.actions)

    def start_rasa(self, timeout: float = 180) -> None:
        if self.settings.sqlite_path is not None:
            self.settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        disabled = write_enabled(CREDENTIALS, self.env)
        for channel, missing in disabled.items():
            print(f"channel {channel} is off: set {', '.join(missing)} to switch it on", flush=True)
        endpoints = self.endpoints_file()
        self.rasa = process = self._spawn("rasa", [
            *RASA_RUN,
            "--model", str(self.model),
            "--endpoints", str(endpoints),
            "--credentials", str(CREDENTIALS),
            "--interface", self.settings.rasa_host,
            "--port", str(self.settings.rasa_port),
            # The HTTP API can read and rewrite any conversation: on only behind a token.
            *(["--enable-api", "--auth-token", self.settings.rasa_api_token] if self.settings.rasa_api_token else []),
        ])
        self._wait(process, f"{self.rasa_url}/", "Rasa server", timeout)

    @property
    def widget_url(self) -> str:
        return f"http://{self.settings.widget_host}:{self.settings.widget_port}"

    def start_widget(self, timeout: float = 30) -> None:
        process = self._spawn("widget", [sys.executable, "-m", "bot.widget.server"])
        self._wait(process, f"{self.widget_url}/widget/careerbot.js", "widget server", timeout)

    def stop_rasa(self) -> None:
        """Stops only the Rasa server (the widget test restarts it with start_rasa)."""
        self._stop(self.rasa)
        self.processes.remove(self.rasa)

    def endpoints_file(self) -> Path:
        """endpoints.yml with only the endpoints whose variables are set, for this Rasa port."""
        endpoints = self.build_dir / f"endpoints-{self.settings.rasa_port}.yml"
        write_enabled(endpoints, self.env, source=ENDPOINTS_SOURCE)
        return endpoints

    def start(self) -> "Servers":
        self.start_actions()
        self.start_rasa()
        self.start_widget()
        return self

    @staticmethod
    def _wait(process: subprocess.Popen, url: str, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StartError(f"{what} exited with code {process.returncode} before it answered")
            try:
                if _get(url) == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        raise StartError(f"{what} did not answer at {url} within {timeout:.0f} s")

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()  # Sanic shuts down cleanly on SIGTERM
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for process in reversed(self.processes):
            self._stop(process)
        self.processes.clear()

    def __enter__(self) -> "Servers":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_any(self) -> int:
        """Blocks until one of the servers exits; returns its exit code."""
        while True:
            for process in self.processes:
                if process.poll() is not None:
                    return process.returncode
            time.sleep(0.5)


def main() -> int:
    try:
        settings = Settings.from_env()
        KnowledgeBase.load(settings.knowledge_dir, settings.career)  # fail fast on a broken file
    except (KnowledgeError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    model = settings.models_dir / "careerbot.tar.gz"
    if not model.exists():
        print(f"error: no trained model at {model}; run `make run`, which trains it", file=sys.stderr)
        return 1

    servers = Servers(settings, model)
    # Ctrl-C and SIGTERM both stop everything, even when started from a shell
    # that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        servers.start()
        print(
            f"\ncareerbot is running.\n"
            f"  REST webhook:  {servers.rasa_url}/webhooks/rest/webhook\n"
            f"  Action server: {servers.action_url}\n"
            f"  Demo page with the chat widget: {servers.widget_url}/\n"
            f"  Try: curl -s -XPOST {servers.rasa_url}/webhooks/rest/webhook "
            f"-H 'Content-Type: application/json' -d '{{\"sender\": \"me\", \"message\": \"how much do they earn?\"}}'\n"
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        code = servers.wait_any()
        print(f"a server exited with code {code}; stopping", file=sys.stderr)
        return code or 1
    except StartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping careerbot", flush=True)
        return 0
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
