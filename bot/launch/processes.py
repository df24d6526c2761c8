"""What every launcher, the benchmark and the tests do with ports and child processes, done one way.

- :func:`free_port`: a loopback port nothing listens on, for servers started side by side;
- :func:`wait_until`: polls a condition until it holds or a deadline passes (never a fixed sleep);
- :func:`stop_process`: SIGTERM, a bounded wait, then SIGKILL, for a process or its whole group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"
# Sanic finishes the requests in flight within 15 s of a SIGTERM.
STOP_TIMEOUT_S = 20.0


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Optional[T]], timeout: float, what: str, interval: float = 0.2) -> T:
    """The first truthy value of `condition()`, polled every `interval` s; TimeoutError after `timeout` s.

    `condition` may raise to stop the wait early (a server that exited will never answer).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)


def signal_group(pid: int, signum: int) -> None:
    """Sends `signum` to the process group that `pid` leads, if it is still there."""
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process(process: "subprocess.Popen[Any]", timeout: float = STOP_TIMEOUT_S, group: bool = False) -> None:
    """Stops and reaps `process`: SIGTERM, then SIGKILL after `timeout` s.

    With `group`, the signals go to the process group it leads (started with
    ``start_new_session=True``), and whatever it left in that group is killed too.
    """

    def send(signum: int) -> None:
        if group:
            signal_group(process.pid, signum)
        elif process.poll() is None:
            process.send_signal(signum)

    if process.poll() is None:
        send(signal.SIGTERM)
        # A stopped process (SIGSTOP, a debugger) acts on SIGTERM only once it runs again.
        send(signal.SIGCONT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()
    if group:
        signal_group(process.pid, signal.SIGKILL)


def children_of(pid: int) -> List[int]:
    """The direct children of `pid` (Linux /proc)."""
    found: List[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            pass
    return found


def descendants(pid: int) -> List[int]:
    """Every process below `pid` (Sanic's workers are children of `rasa run`, which is a child of bot.launch.serve)."""
    found: List[int] = []
    todo = children_of(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children_of(child)
    return found
