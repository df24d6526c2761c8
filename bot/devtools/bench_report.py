"""make bench-report: the deflection report's time and peak memory on large stores.

The stores are made of real conversations: the bot is started once (as `make run`
starts it) and plays the conversation sets of tests/conversations/ over REST, each
as a new visitor, on a page context taken in turn from PAGES, up to its first 1, 2,
3 or 4 turns in turn (most visits are short), clicking a "Was this helpful?" button
where it offers one (No every third time, else Yes) and asking for a person in every
fifth conversation. That store is kept as build/bench-report/seed.db.
Each large store replicates the seed's conversations, each copy with its own sender
id and moved in time, so that the copies' start times spread over SPREAD_DAYS; it is
kept as build/bench-report/store-<conversations>.db and reused.

The report runs as `make report` runs it, in a child process: the time is the
wall-clock time of the whole command, its CPU time that of the child and of the
processes it started (the report reads a large store in one process per CPU), the
peak memory the largest sum of their resident sets, sampled every SAMPLE_S (or the
kernel's peak for the largest one, if larger), and the load average of the machine
(1 minute) before and after. `--baseline REV` also runs the report of
git revision REV (its bot/ops/report.py, before the report was streamed) on the
smaller stores.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import requests

from bot import PROJECT_DIR
from bot.settings import environment

BENCH_DIR = PROJECT_DIR / "build" / "bench-report"
SEED = BENCH_DIR / "seed.db"
CONVERSATION_SETS = ("dev_set.yml", "dev_set_2.yml")
# The page contexts the seed's visitors come from, in turn: none, a career's page, another career's,
# a context that names no career.
PAGES: Tuple[Any, ...] = (None, {"career": "tellers"}, {"career": "loan_officers"}, "pay-guide")
HANDOFF_EVERY = 5
# Most visits are short: the conversations are played up to their first 1, 2, 3 or 4 turns in turn.
MOST_TURNS = 4
SPREAD_DAYS = 180
SIZES = (25_000, 250_000)
BATCH = 20_000
SAMPLE_S = 0.05


@dataclass
class Run:
    label: str
    seconds: float
    cpu_seconds: float  # user + system: what the wall time would be on an idle core
    peak_mb: float
    returncode: int
    load: Tuple[float, float]  # the 1-minute load average before and after


def record_seed(model: Path, path: Path) -> None:
    """Plays the conversation sets through the real bot; its SQLite store becomes the seed."""
    from bot.devtools.bench import start_bot, start_ours
    from bot.devtools.conversations import load_conversations

    conversations = [
        c for name in CONVERSATION_SETS for c in load_conversations(PROJECT_DIR / "tests" / "conversations" / name)
    ]
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-report-") as folder:
        workdir = Path(folder)
        running = start_bot(lambda: start_ours(model, workdir))
        try:
            clicks = cycle(("Yes", "Yes", "No"))
            pages = cycle(PAGES)
            with requests.Session() as http:
                for number, conversation in enumerate(conversations):
                    sender = f"bench-{conversation.id}-{uuid.uuid4().hex[:8]}"
                    page = next(pages)
                    body: Dict[str, Any] = {"sender": sender, **({"metadata": {"context": page}} if page else {})}
                    turns = [t.user for t in conversation.turns[: 1 + number % MOST_TURNS]]
                    if number % HANDOFF_EVERY == HANDOFF_EVERY - 1:
                        turns += ["/request_human", f"{sender}@example.com", "Can someone call me back?"]
                    for text in turns:
                        replies = http.post(running.url, json={**body, "message": text}, timeout=60)
                        replies.raise_for_status()
                        buttons = {b["title"]: b["payload"] for m in replies.json() for b in m.get("buttons", [])}
                        if "Yes" in buttons and "No" in buttons:
                            http.post(running.url, json={**body, "message": buttons[next(clicks)]}, timeout=60)
                    print(f"  seed: {number + 1}/{len(conversations)} conversations", end="\r", flush=True)
            print()
        finally:
            running.stop()
        source = sqlite3.connect(workdir / "bench.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(path)
        source.backup(target)
        source.close()
        target.close()


# Where an event's JSON holds its time, to write a copy's own there too.
DATA_TIME = re.compile(r'("timestamp": )([0-9.e+-]+)')

Event = Tuple[str, float, Optional[str], Optional[str], Tuple[str, str]]


def seed_conversations(seed: Path) -> List[List[Event]]:
    """The seed's events per sender: type, time from the sender's first event, intent, action, and the
    JSON around its time."""
    connection = sqlite3.connect(seed)
    rows = connection.execute(
        "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY sender_id, id"
    ).fetchall()
    connection.close()
    by_sender: Dict[str, List[Tuple[str, float, Optional[str], Optional[str], str]]] = {}
    for sender, kind, at, intent, action, data in rows:
        by_sender.setdefault(sender, []).append((kind, at, intent, action, data))
    return [
        [(k, at - events[0][1], i, a, _around_time(d)) for k, at, i, a, d in events] for events in by_sender.values()
    ]


def _around_time(data: str) -> Tuple[str, str]:
    found = DATA_TIME.search(data)
    return (data[: found.end(1)], data[found.end(2) :]) if found else (data, "")


def make_store(seed: Path, conversations: int, path: Path) -> None:
    """`conversations` copies of the seed's visitors, each a new sender, spread over SPREAD_DAYS."""
    visitors = seed_conversations(seed)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(seed)
    schema = [
        sql for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL")
    ]
    source.close()
    target = sqlite3.connect(partial)
    target.execute("PRAGMA journal_mode=OFF")
    target.execute("PRAGMA synchronous=OFF")
    for sql in schema:
        target.execute(sql)
    start = time.time() - SPREAD_DAYS * 86400
    gap = SPREAD_DAYS * 86400 / conversations
    batch: List[Tuple[Any, ...]] = []
    copies = 0
    while copies < conversations:
        for events in visitors:
            if copies >= conversations:
                break
            sender = f"{uuid.UUID(int=copies).hex}"
            begins = start + copies * gap
            for kind, offset, intent, action, (before, after) in events:
                at = begins + offset
                batch.append((sender, kind, at, intent, action, f"{before}{at!r}{after}" if after else before))
            copies += 1
            if len(batch) >= BATCH:
                _insert(target, batch)
                print(f"  {path.name}: {copies}/{conversations} conversations", end="\r", flush=True)
    _insert(target, batch)
    print()
    target.commit()
    target.close()
    partial.rename(path)


def _insert(connection: sqlite3.Connection, batch: List[Tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        batch,
    )
    batch.clear()


def _resident_kb(pid: int) -> int:
    """The resident sets of a process and of all its descendants, summed (KiB; shared pages count in each)."""
    total, pending = 0, [pid]
    while pending:
        process = pending.pop()
        try:
            with open(f"/proc/{process}/status", encoding="ascii", errors="replace") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{process}/task/{process}/children", encoding="ascii") as children:
                pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):  # it ended in between
            continue
    return total


def measure(label: str, command: Sequence[str], store: Path, out: Path, cwd: Path = PROJECT_DIR) -> Run:
    """Runs one report command as a child; its wall time, the CPU time of it and its processes, and the peak
    of their resident sets together (sampled) or the kernel's peak for the largest, whichever is larger."""
    env = dict(environment(), CAREERBOT_TRACKER_URL=f"sqlite:///{store}", RASA_TELEMETRY_ENABLED="false")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(
        [*command, "--out", str(out)], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_kb = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_kb
        while not done.wait(SAMPLE_S):
            peak_kb = max(peak_kb, _resident_kb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4's usage covers the child and the processes it waited for (its readers of the store).
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        assert child.stderr is not None
        print(f"  {label}: exit {child.returncode}: {child.stderr.read().decode(errors='replace')[-500:]}")
    return Run(
        label,
        seconds,
        usage.ru_utime + usage.ru_stime,
        max(peak_kb, usage.ru_maxrss) / 1024,  # KiB on Linux
        child.returncode,
        (load_before, os.getloadavg()[0]),
    )


def baseline(revision: str, workdir: Path) -> Path:
    """The report module of `revision` (one file, bot/ops/report.py), runnable next to this checkout."""
    source = subprocess.run(
        ["git", "show", f"{revision}:bot/ops/report.py"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout
    path = workdir / "report_baseline.py"
    path.write_text(source, encoding="utf-8")
    return path


def store_facts(path: Path) -> str:
    connection = sqlite3.connect(path)
    events, senders = connection.execute("SELECT COUNT(*), COUNT(DISTINCT sender_id) FROM events").fetchone()
    connection.close()
    return f"{senders} visitors, {events} events, {path.stat().st_size / 1e6:.0f} MB"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="conversations in each store (default: %(default)s)"
    )
    parser.add_argument(
        "--baseline", metavar="REV", help="also run the report of git revision REV on all but the largest store"
    )
    args = parser.parse_args(argv)
    if not SEED.is_file():
        model = PROJECT_DIR / "models" / "careerbot.tar.gz"
        if not model.is_file():
            print(f"error: no trained model at {model}: run `make train`", file=sys.stderr)
            return 2
        print(f"Recording the seed conversations through the bot into {SEED} ...")
        record_seed(model, SEED)
    print(f"Seed: {store_facts(SEED)}")
    runs: List[Tuple[str, Run]] = []
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-report-") as folder:
        workdir = Path(folder)
        old = baseline(args.baseline, workdir) if args.baseline else None
        for size in sorted(args.sizes):
            store = BENCH_DIR / f"store-{size}.db"
            if not store.is_file():
                print(f"Generating {store} ...")
                make_store(SEED, size, store)
            facts = store_facts(store)
            print(f"Store: {store} ({facts})")
            run = measure("report", [sys.executable, "-m", "bot.ops.report"], store, workdir / "report.html")
            runs.append((facts, run))
            if old is not None and size != max(args.sizes):
                # The old module imports bot.* as a script next to this checkout: PYTHONPATH is the checkout.
                command = [
                    sys.executable,
                    "-c",
                    f"import runpy, sys; sys.path.insert(0, {str(PROJECT_DIR)!r}); "
                    f"runpy.run_path({str(old)!r}, run_name='__main__')",
                ]
                runs.append((facts, measure(f"report at {args.baseline}", command, store, workdir / "old.html")))
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(
        "| Store | Report | Time | CPU time (user + system) | Peak memory (RSS, all processes) | Load before / after |"
    )
    print("|---|---|---|---|---|---|")
    for facts, run in runs:
        result = (
            f"{run.seconds:.1f} s | {run.cpu_seconds:.1f} s | {run.peak_mb:.0f} MB"
            if run.returncode == 0
            else f"failed (exit {run.returncode}) | |"
        )
        result += f" | {run.load[0]:.2f} / {run.load[1]:.2f}"
        print(f"| {facts} | {run.label} | {result} |")
    return 0 if all(run.returncode == 0 for _, run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
