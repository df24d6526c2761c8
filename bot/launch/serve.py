"""Runs the action server, the Rasa server and the widget server, and keeps them running.

    python -m bot.launch.serve

Supervision:

- A server that dies is started again, after 1 s, then 2, 4, 8 ... up to
  30 s while it keeps dying, and the log names it and its exit code. When one
  server has died CRASH_LIMIT times within CRASH_WINDOW_S, bot.launch.serve stops the
  others and exits with code 1, so that systemd or Docker can take over.
- A server that runs but no longer answers (frozen by SIGSTOP, deadlocked,
  its event loop stuck) is restarted too: every CAREERBOT_PROBE_INTERVAL
  seconds (default 5) each server's health URL is asked, and a server that
  fails CAREERBOT_PROBE_FAILURES probes in a row (default 3; a probe fails on
  no answer within CAREERBOT_PROBE_TIMEOUT seconds, default 2, or an answer
  other than 200) is killed and restarted as if it had died, and the log
  says why. The Rasa server is asked its liveness (/health/live), not its
  readiness: a dependency that is down is not fixed by restarting Rasa.
- Ctrl-C, SIGTERM or SIGHUP stops everything. A second signal while stopping
  does not interrupt the stopping: it kills the servers that are still
  running at once, and bot.launch.serve still waits for each of them.
- Each server runs in its own process group (anything it starts goes with
  it) and with a parent-death signal: if bot.launch.serve itself is killed (even by
  SIGKILL), the kernel kills its servers, so none is left running without a
  supervisor, holding the ports of the next start.
- Before starting a server its port is checked: a port already taken (by a
  server left from an earlier run, or anything else) stops the start with an
  error that names the port, instead of taking whatever answers there for
  the server just started.

The Rasa server counts as started when its readiness endpoint
(/health/ready, bot/channels/health.py) answers with the model loaded; if a
dependency is not ready yet (a database still starting), the log says which,
and the server serves as soon as it is.

The end-to-end tests, the benchmark and bot.devtools.cluster use :class:`Servers` to
run the same processes; the restart loop is :meth:`Servers.supervise`.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from bot import PROJECT_DIR
from bot.knowledge import KnowledgeBase, KnowledgeError
from bot.launch.channel_config import write_enabled
from bot.launch.processes import STOP_TIMEOUT_S, signal_group, stop_process, wait_until
from bot.settings import Settings, SettingsError, environment

BIN_DIR = Path(sys.executable).parent
# The channels, and endpoints, whose variables are set (see bot/launch/channel_config.py).
ENDPOINTS_SOURCE = PROJECT_DIR / "endpoints.yml"
# `rasa run`, through the project's launcher (bot/launch/rasa_run.py).
RASA_RUN = [sys.executable, "-m", "bot.launch.rasa_run"]

# The servers, by the key supervise() and the logs use.
NAMES = {"actions": "action server", "rasa": "Rasa server", "widget": "widget server"}
PORT_VARIABLES = {"actions": "CAREERBOT_ACTION_PORT", "rasa": "CAREERBOT_RASA_PORT", "widget": "CAREERBOT_WIDGET_PORT"}

# A server that keeps dying is restarted after 1, 2, 4 ... seconds, at most 30.
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
# This many deaths of one server within the window, and bot.launch.serve gives up.
CRASH_LIMIT = 5
CRASH_WINDOW_S = 60.0
POLL_S = 0.25

log = logging.getLogger("bot.launch.serve")


class StartError(RuntimeError):
    """A server exited or did not answer in time."""


class PortTaken(StartError):
    """Something already listens on a port a server needs."""


def _libc_prctl() -> Optional[Callable[..., int]]:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


# Resolved once here: the function below runs in the forked child, where
# loading a library or importing a module could deadlock on a lock that
# another thread of the parent held at the fork.
_PRCTL = _libc_prctl()
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """A Popen preexec_fn: the child gets SIGKILL when `parent` exits.

    Linux sends the signal when the *thread* that started the child ends, so
    servers must be started from a thread that lives as long as the
    supervisor (bot.launch.serve and the tests use the main thread).
    """

    def preexec() -> None:
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def check_port_free(host: str, port: int, what: str, variable: str) -> None:
    """Raises PortTaken if something listens on (host, port)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers bind: connections of a previous run in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            raise PortTaken(
                f"port {port} on {host}, needed by the {what}, is already in use: stop what listens there "
                f"(`ss -ltnp 'sport = :{port}'` names it; it may be a careerbot left from an earlier run) "
                f"or set {variable} to another port"
            ) from None


def _probe(url: str, timeout: float = 5.0) -> Tuple[int, bytes]:
    """(HTTP status, body) of a GET; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # a local URL
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def health_problem(url: str, timeout: float) -> Optional[str]:
    """None when `url` answers 200 within `timeout` seconds; else why not, for the log."""
    try:
        status, _body = _probe(url, timeout)
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            return f"no answer within {timeout:g} s"
        return f"{type(reason).__name__}: {reason}"
    return None if status == 200 else f"HTTP {status}"


def failing_checks(body: bytes) -> Dict[str, str]:
    """{check: error} from a /health/ready answer (bot/channels/health.py)."""
    try:
        checks = json.loads(body)["checks"]
        return {name: str(check.get("error")) for name, check in checks.items() if not check.get("ok")}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {"answer": "not the readiness endpoint's"}


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"code {code} (killed by {signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"code {code}"


def _child(name: str) -> property:
    """Servers.<name>: the current process of that server, or None."""

    def get(servers: "Servers") -> Optional[subprocess.Popen]:
        return servers.children.get(name)

    def put(servers: "Servers", process: subprocess.Popen) -> None:
        servers.children[name] = process

    return property(get, put)


class Servers:
    """The action server, the Rasa server and the widget server as child processes."""

    def __init__(
        self,
        settings: Settings,
        model: Path,
        log_dir: Optional[Path] = None,
        extra_env: Optional[Dict[str, str]] = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.log_dir = log_dir
        self.env = dict(environment(), **(extra_env or {}))
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
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_DIR), self.env.get("PYTHONPATH")])),
        )
        if settings.career:
            self.env["CAREERBOT_CAREER"] = settings.career
        # Every server process started and not yet stopped, in start order.
        self.processes: List[subprocess.Popen] = []
        # The current process of each server, by its key in NAMES.
        self.children: Dict[str, subprocess.Popen] = {}
        self.build_dir = PROJECT_DIR / "build"

    # The current process of each server, as attributes (the tests and the benchmark use them).
    actions = _child("actions")
    rasa = _child("rasa")
    widget = _child("widget")

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.rasa_host}:{self.settings.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.settings.action_host}:{self.settings.action_port}"

    @property
    def widget_url(self) -> str:
        return f"http://{self.settings.widget_host}:{self.settings.widget_port}"

    def health_url(self, name: str) -> str:
        """What the supervisor asks to know that the server `name` still serves."""
        return {
            "actions": f"{self.action_url}/health",
            # Liveness, not readiness: readiness fails with the store or the action server.
            "rasa": f"{self.rasa_url}/health/live",
            "widget": f"{self.widget_url}/widget/careerbot.js",
        }[name]

    def _address(self, name: str) -> Tuple[str, int]:
        return {
            "actions": (self.settings.action_host, self.settings.action_port),
            "rasa": (self.settings.rasa_host, self.settings.rasa_port),
            "widget": (self.settings.widget_host, self.settings.widget_port),
        }[name]

    def check_port(self, name: str) -> None:
        host, port = self._address(name)
        check_port_free(host, port, NAMES[name], PORT_VARIABLES[name])

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
        try:
            process = subprocess.Popen(
                args,
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                # Its own process group: stopping it stops what it starts, and a
                # Ctrl-C in the terminal reaches only the supervisor, which stops
                # the servers in order.
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )
        finally:
            if out is not None:
                out.close()  # the child has its own copy
        self.processes.append(process)
        self.children[name] = process
        return process

    def start_actions(self, timeout: float = 60) -> None:
        self._launch_actions()(timeout)

    def _launch_actions(self) -> Callable[[float], None]:
        """Spawns the action server; the function returned waits until it answers."""
        self.check_port("actions")
        process = self._spawn("actions", [sys.executable, "-m", "bot.launch.action_server"])

        def wait(timeout: float) -> None:
            self._wait(process, f"{self.action_url}/health", "action server", timeout)

        return wait

    def stop_actions(self) -> None:
        """Stops only the action server (fault tests restart it with start_actions)."""
        self._stop_child("actions")

    def start_rasa(self, timeout: float = 180) -> None:
        self._launch_rasa()(timeout)

    def _launch_rasa(self) -> Callable[[float], None]:
        """Spawns the Rasa server; the function returned waits until it serves (its model loaded)."""
        self.check_port("rasa")
        if self.settings.sqlite_path is not None:
            self.settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # One file per port: servers started side by side (tests, bot.devtools.cluster)
        # with different variables must not overwrite each other's channels.
        credentials = self.port_files()[0]
        disabled = write_enabled(credentials, self.env)
        for channel, missing in disabled.items():
            print(f"channel {channel} is off: set {', '.join(missing)} to switch it on", flush=True)
        endpoints = self.endpoints_file()
        process = self._spawn(
            "rasa",
            [
                *RASA_RUN,
                "--model",
                str(self.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                "--interface",
                self.settings.rasa_host,
                "--port",
                str(self.settings.rasa_port),
                # The HTTP API can read and rewrite any conversation: on only behind a token.
                *(
                    ["--enable-api", "--auth-token", self.settings.rasa_api_token]
                    if self.settings.rasa_api_token
                    else []
                ),
            ],
        )

        def wait(timeout: float) -> None:
            status, body = self._wait(
                process, f"{self.rasa_url}/health/ready", "Rasa server", timeout, answered=self._rasa_serves
            )
            if status != 200:
                problems = "; ".join(f"{name}: {error}" for name, error in failing_checks(body).items())
                log.warning("the Rasa server is up but not ready (%s); it serves as soon as that is fixed", problems)

        return wait

    @staticmethod
    def _rasa_serves(status: int, body: bytes) -> bool:
        """Whether the Rasa server's readiness answer shows it serving: its model loaded.

        A dependency that is not ready (the conversation store, the action
        server) is reported, not waited for: the server recovers on its own
        when the dependency does, and a restart would not help.
        """
        return status == 200 or (status == 503 and "model" not in failing_checks(body))

    def stop_rasa(self) -> None:
        """Stops only the Rasa server (the widget test restarts it with start_rasa)."""
        self._stop_child("rasa")

    def start_widget(self, timeout: float = 30) -> None:
        self._launch_widget()(timeout)

    def _launch_widget(self) -> Callable[[float], None]:
        """Spawns the widget server; the function returned waits until it serves the script."""
        self.check_port("widget")
        process = self._spawn("widget", [sys.executable, "-m", "bot.widget.server"])

        def wait(timeout: float) -> None:
            self._wait(process, f"{self.widget_url}/widget/careerbot.js", "widget server", timeout)

        return wait

    def endpoints_file(self) -> Path:
        """endpoints.yml with only the endpoints whose variables are set, for this Rasa port."""
        endpoints = self.port_files()[1]
        write_enabled(endpoints, self.env, source=ENDPOINTS_SOURCE)
        return endpoints

    def _starter(self, name: str) -> Callable[[], None]:
        return {"actions": self.start_actions, "rasa": self.start_rasa, "widget": self.start_widget}[name]

    def start(self) -> "Servers":
        # Every port first, so that a taken one stops the start before anything runs.
        for name in NAMES:
            self.check_port(name)
        # All three spawn at once, then are waited for: each spends seconds importing and
        # loading, and none needs another to start (Rasa's readiness reports the action
        # server; it does not wait for it). One after the other, every start paid all three.
        waits = [(self._launch_actions(), 60.0), (self._launch_rasa(), 180.0), (self._launch_widget(), 30.0)]
        for wait, timeout in waits:
            wait(timeout)
        return self

    @staticmethod
    def _wait(
        process: subprocess.Popen,
        url: str,
        what: str,
        timeout: float,
        answered: Callable[[int, bytes], bool] = lambda status, _body: status == 200,
    ) -> Tuple[int, bytes]:
        def answer() -> Optional[Tuple[int, bytes]]:
            if process.poll() is not None:
                raise StartError(f"{what} exited with {_describe_exit(process.returncode)} before it answered")
            try:
                status, body = _probe(url)
            except (urllib.error.URLError, ConnectionError, OSError):
                return None
            return (status, body) if answered(status, body) else None

        try:
            return wait_until(answer, timeout, f"{what} answers at {url}", interval=0.5)
        except TimeoutError:
            raise StartError(f"{what} did not answer at {url} within {timeout:.0f} s") from None

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        # Sanic shuts down cleanly on SIGTERM; anything the server started in its group goes too.
        stop_process(process, STOP_TIMEOUT_S, group=True)

    def _forget(self, process: subprocess.Popen) -> None:
        if process in self.processes:
            self.processes.remove(process)
        for name, child in list(self.children.items()):
            if child is process:
                del self.children[name]

    def _stop_child(self, name: str) -> None:
        process = self.children[name]
        self._stop(process)
        self._forget(process)

    def stop(self) -> None:
        """Stops every server, the last started first; a second call (from a signal) may interrupt nothing."""
        for process in reversed(list(self.processes)):
            self._stop(process)
        self.processes.clear()
        self.children.clear()
        # The files written for this Rasa port go with it: a test run starts dozens of servers.
        for path in self.port_files():
            path.unlink(missing_ok=True)

    def port_files(self) -> List[Path]:
        """The credentials and endpoints files written for this Rasa port."""
        port = self.settings.rasa_port
        return [self.build_dir / f"credentials-{port}.yml", self.build_dir / f"endpoints-{port}.yml"]

    def kill(self) -> None:
        """SIGKILL to every running server; safe in a signal handler (stop() still reaps them)."""
        for process in list(self.processes):
            if process.returncode is None:
                signal_group(process.pid, signal.SIGKILL)

    def __enter__(self) -> "Servers":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wait_any(self) -> int:
        """Blocks until one of the servers exits; returns its exit code."""
        while True:
            for process in self.processes:
                if process.poll() is not None:
                    return process.returncode
            time.sleep(POLL_S)

    def supervise(self, crash_limit: int = CRASH_LIMIT, window_s: float = CRASH_WINDOW_S) -> int:
        """Restarts any server that exits or stops answering, until one fails `crash_limit` times within `window_s`.

        Returns the exit code for the supervisor: 1 when it gives up (the other
        servers are still running; the caller stops them). Ends early only by
        an exception, such as the KeyboardInterrupt of a signal.
        """
        deaths: Dict[str, Deque[float]] = {name: deque() for name in NAMES}
        health = HealthProbes(self)
        try:
            while True:
                for name, process in list(self.children.items()):
                    if process.poll() is not None:
                        log.error(
                            "the %s (pid %d) exited with %s",
                            NAMES[name],
                            process.pid,
                            _describe_exit(process.returncode),
                        )
                    elif health.failed(name, process):
                        log.error(
                            "the %s (pid %d) failed %d health checks in a row (%s); killing and restarting it",
                            NAMES[name],
                            process.pid,
                            health.failures[name],
                            health.last_problem[name],
                        )
                        # Frozen or hung: it would not act on SIGTERM (a stopped process does not even see it).
                        signal_group(process.pid, signal.SIGKILL)
                    else:
                        continue
                    self._stop(process)  # reaps it and anything it left in its group
                    self._forget(process)
                    health.forget(name)
                    if not self._restart(name, deaths[name], crash_limit, window_s):
                        return 1
                health.start_due()
                time.sleep(POLL_S)
        finally:
            health.close()

    def _restart(self, name: str, deaths: Deque[float], crash_limit: int, window_s: float) -> bool:
        """Starts the server `name` again after a backoff; False when it died too often to go on."""
        what = NAMES[name]
        while True:
            now = time.monotonic()
            deaths.append(now)
            while deaths and now - deaths[0] > window_s:
                deaths.popleft()
            if len(deaths) >= crash_limit:
                log.error("the %s failed %d times within %.0f s; giving up", what, len(deaths), window_s)
                return False
            delay = min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** (len(deaths) - 1))
            log.warning("restarting the %s in %.0f s", what, delay)
            time.sleep(delay)
            try:
                self._starter(name)()
            except StartError as error:
                log.error("the %s did not restart: %s", what, error)
                failed = self.children.get(name)
                if failed is not None:
                    self._stop(failed)
                    self._forget(failed)
                continue
            log.warning("the %s is running again (pid %d)", what, self.children[name].pid)
            return True


class HealthProbes:
    """Asks each running server its health URL every probe interval, in threads, and counts failures in a row."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.interval = servers.settings.probe_interval_s
        self.timeout = servers.settings.probe_timeout_s
        self.limit = servers.settings.probe_failures
        self.failures: Dict[str, int] = {name: 0 for name in NAMES}
        self.last_problem: Dict[str, str] = {}
        # The probe under way for each server, with the process it asks about.
        self._pending: Dict[str, Tuple[subprocess.Popen, "Future[Optional[str]]"]] = {}
        self._next = time.monotonic() + self.interval
        self._threads = ThreadPoolExecutor(len(NAMES), thread_name_prefix="health-probe")

    def start_due(self) -> None:
        """Starts a probe of every server that has none under way, once per interval."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval
        for name, process in self.servers.children.items():
            if name not in self._pending:
                probe = self._threads.submit(health_problem, self.servers.health_url(name), self.timeout)
                self._pending[name] = (process, probe)

    def failed(self, name: str, process: subprocess.Popen) -> bool:
        """Whether `process`, the server `name`, has now failed `limit` probes in a row."""
        pending = self._pending.get(name)
        if pending is None or not pending[1].done():
            return False
        del self._pending[name]
        asked, probe = pending
        if asked is not process:  # a probe of a process since replaced
            return False
        problem = probe.result()
        if problem is None:
            if self.failures[name]:
                log.info("the %s (pid %d) answers its health check again", NAMES[name], process.pid)
            self.failures[name] = 0
            return False
        self.failures[name] += 1
        self.last_problem[name] = problem
        log.warning(
            "the %s (pid %d) failed a health check (%d of %d in a row): %s at %s",
            NAMES[name],
            process.pid,
            self.failures[name],
            self.limit,
            problem,
            self.servers.health_url(name),
        )
        return self.failures[name] >= self.limit

    def forget(self, name: str) -> None:
        """The server `name` is being replaced: its count starts again."""
        self._pending.pop(name, None)
        self.failures[name] = 0

    def close(self) -> None:
        # Probes under way end by their own timeout; nothing waits for them.
        self._threads.shutdown(wait=False)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
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
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt
        # Already stopping: never interrupt that (it would leave servers running); hurry it.
        os.write(2, f"\n{signal.Signals(signum).name} again: killing the servers now\n".encode())
        servers.kill()

    # Also when started from a shell that ignores SIGINT for background jobs.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # nohup says keep running
        signal.signal(signal.SIGHUP, on_signal)
    try:
        servers.start()
        print(
            f"\ncareerbot is running.\n"
            f"  REST webhook:  {servers.rasa_url}/webhooks/rest/webhook\n"
            f"  Health:        {servers.rasa_url}/health/live, {servers.rasa_url}/health/ready\n"
            f"  Action server: {servers.action_url}\n"
            f"  Demo page with the chat widget: {servers.widget_url}/\n"
            f"  Try: curl -s -XPOST {servers.rasa_url}/webhooks/rest/webhook "
            f'-H \'Content-Type: application/json\' -d \'{{"sender": "me", "message": "how much do they earn?"}}\'\n'
            f"Press Ctrl-C to stop.\n",
            flush=True,
        )
        code = servers.supervise()
        print("error: stopping careerbot: a server keeps failing (see the log above)", file=sys.stderr)
        return code
    except StartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping careerbot", flush=True)
        return 0
    finally:
        stopping = True  # a signal from here on hurries the stop instead of interrupting it
        servers.stop()
        # Everything is stopped: a later signal has nothing left to do. Ignored, not handled, because
        # Python puts back the default action (die by the signal) while it shuts down, and a
        # SIGTERM landing then would turn this clean exit into "killed by SIGTERM".
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
