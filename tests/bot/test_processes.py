"""Stopping the servers' processes (bot/launch/processes.py)."""

from __future__ import annotations

import signal
import subprocess
import sys

from bot.launch.processes import stop_process


def test_a_stopped_process_is_ended_by_sigterm_not_left_for_sigkill():
    # A frozen server (SIGSTOP) is what the supervisor restarts; it must get the clean SIGTERM.
    # The servers handle SIGTERM (to shut down cleanly), so, unlike a default-fatal signal, it
    # waits until the process runs again.
    child = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGSTOP)
        stop_process(process, timeout=30)
        assert process.returncode == 7  # its own SIGTERM handler, not SIGKILL (-9) after the timeout
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
