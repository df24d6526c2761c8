"""Benchmarks careerbot against the stock `rasa init` bot, in one run on this machine.

    python -m bot.bench [--requests 40] [--out build/bench.md]

Trains the stock bot with the same Rasa in a temporary folder, starts each bot
on 127.0.0.1, sends both the same mixed questions over the REST channel with 1
and 8 concurrent clients, and prints a table of both with their ratios:
latency p50/p95, throughput, errors, the servers' peak memory (RSS, every
process of the bot), time from start to the first answer, and training time.
It prints; it passes or fails nothing. Traffic goes to 127.0.0.1 only, and
every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import requests

from bot import PROJECT_DIR

BIN_DIR = Path(sys.executable).parent
QUESTIONS = [
    "hello", "how much do they earn?", "what are the working hours?", "do I need a license?",
    "what degree do I need?", "what do they do?", "what's the job outlook?", "thanks",
    "what are today's mortgage rates?", "tell me a joke", "is this career right for me?", "bye",
]
ENV = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pids: List[int]) -> float:
    """Sum of the processes' peak resident memory (VmHWM), in MB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class LoadResult:
    latencies: List[float] = field(default_factory=list)
    errors: int = 0  # no HTTP 200, or no response at all
    empty: int = 0  # HTTP 200 with no reply (the bot said nothing)
    wall: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def throughput(self) -> float:
        return (len(self.latencies) + self.errors) / self.wall if self.wall else 0.0


def load(url: str, clients: int, per_client: int) -> LoadResult:
    """`clients` clients at once, each asking `per_client` questions: one visitor per pass through QUESTIONS."""
    result = LoadResult()
    lock = threading.Lock()

    def user(index: int) -> None:
        session = requests.Session()
        for i in range(per_client):
            if i % len(QUESTIONS) == 0:
                # A visitor asks the whole mix once, then the next visitor comes.
                sender = f"bench-{uuid.uuid4().hex[:8]}-{index}"
            started = time.perf_counter()
            try:
                response = session.post(url, json={"sender": sender, "message": QUESTIONS[i % len(QUESTIONS)]},
                                        timeout=60)
                ok, empty = response.status_code == 200, response.status_code == 200 and not response.json()
            except requests.RequestException:
                ok, empty = False, False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                    result.empty += empty
                else:
                    result.errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(user, range(clients)))
    result.wall = time.perf_counter() - started
    return result


def wait_for_answer(url: str, processes: List[subprocess.Popen], timeout: float = 300) -> float:
    """The perf_counter() time of the bot's first answer (or raises)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a server exited during start-up")
        try:
            response = requests.post(url, json={"sender": "warmup", "message": "hello"}, timeout=5)
            if response.status_code == 200 and response.json():
                return time.perf_counter()
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("no answer before the timeout")


@dataclass
class BotRun:
    name: str
    training_s: float
    first_answer_s: float = 0.0
    peak_rss_mb: float = 0.0
    loads: Dict[int, LoadResult] = field(default_factory=dict)


def measure(name: str, training_s: float, start: Callable[[], "tuple[str, List[subprocess.Popen]]"],
            per_client: int, concurrency: List[int]) -> BotRun:
    run = BotRun(name, training_s)
    started = time.perf_counter()
    url, processes = start()
    try:
        run.first_answer_s = wait_for_answer(url, processes) - started
        for clients in concurrency:
            run.loads[clients] = load(url, clients, per_client)
        run.peak_rss_mb = peak_rss_mb([p.pid for p in processes])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return run


def train_stock(workdir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN_DIR / "rasa"), "init", "--no-prompt", "--init-dir", str(workdir)],
                   cwd=workdir, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def train_ours(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN_DIR / "rasa"), "train", "--force", "--fixed-model-name", "careerbot", "--out", str(out)],
                   cwd=PROJECT_DIR, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def start_stock(workdir: Path) -> "tuple[str, List[subprocess.Popen]]":
    port = free_port()
    model = next(iter(sorted((workdir / "models").glob("*.tar.gz"))))
    process = subprocess.Popen([str(BIN_DIR / "rasa"), "run", "--model", str(model), "-i", "127.0.0.1",
                                "-p", str(port)], cwd=workdir, env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"http://127.0.0.1:{port}/webhooks/rest/webhook", [process]


def start_ours(model: Path, workdir: Path) -> "tuple[str, List[subprocess.Popen]]":
    from bot.serve import Servers
    from bot.settings import Settings

    settings = Settings.from_env({
        "CAREERBOT_RASA_PORT": str(free_port()), "CAREERBOT_ACTION_PORT": str(free_port()),
        "CAREERBOT_WIDGET_PORT": str(free_port()), "CAREERBOT_TRACKER_URL": f"sqlite:///{workdir / 'bench.db'}",
    })
    servers = Servers(settings, model, log_dir=workdir / "logs")
    # Started without waiting, so that the time to the first answer covers everything.
    servers.actions = servers._spawn("actions", [sys.executable, "-m", "bot.action_server"])
    servers.rasa = servers._spawn("rasa", [
        str(BIN_DIR / "rasa"), "run", "--model", str(model), "--endpoints", str(servers.endpoints_file()),
        "--credentials", str(_rest_only_credentials(workdir)), "--interface", "127.0.0.1",
        "--port", str(settings.rasa_port)])
    return f"{servers.rasa_url}/webhooks/rest/webhook", servers.processes


def _rest_only_credentials(workdir: Path) -> Path:
    path = workdir / "credentials.yml"
    path.write_text("bot.channels.ValidatingRestInput:\n")
    return path


def ratio(ours: float, stock: float) -> str:
    return f"{ours / stock:.2f}x" if stock else "n/a"


def table(ours: BotRun, stock: BotRun, concurrency: List[int]) -> str:
    rows = [("Training time (s)", ours.training_s, stock.training_s),
            ("Time to first answer (s)", ours.first_answer_s, stock.first_answer_s),
            ("Peak memory, all processes (MB)", ours.peak_rss_mb, stock.peak_rss_mb)]
    for clients in concurrency:
        o, s = ours.loads[clients], stock.loads[clients]
        rows += [(f"p50 latency, {clients} client(s) (ms)", o.pct(0.5), s.pct(0.5)),
                 (f"p95 latency, {clients} client(s) (ms)", o.pct(0.95), s.pct(0.95)),
                 (f"Throughput, {clients} client(s) (req/s)", o.throughput, s.throughput),
                 (f"Errors, {clients} client(s)", float(o.errors), float(s.errors)),
                 (f"Empty replies, {clients} client(s)", float(o.empty), float(s.empty))]
    lines = ["| measure | careerbot | stock rasa init | careerbot / stock |", "|---|---|---|---|"]
    lines += [f"| {name} | {o:.1f} | {s:.1f} | {ratio(o, s)} |" for name, o, s in rows]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="questions per client")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "bench.md")
    args = parser.parse_args(argv)
    concurrency = [1, 8]
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        tmp = Path(tmp)
        stock_dir, ours_dir = tmp / "stock", tmp / "ours"
        stock_dir.mkdir()
        ours_dir.mkdir()
        print("training the stock rasa init bot...", flush=True)
        stock_training = train_stock(stock_dir)
        print("training careerbot...", flush=True)
        ours_training = train_ours(ours_dir)
        print("measuring the stock bot...", flush=True)
        stock = measure("stock", stock_training, lambda: start_stock(stock_dir), args.requests, concurrency)
        print("measuring careerbot...", flush=True)
        ours = measure("careerbot", ours_training, lambda: start_ours(ours_dir / "careerbot.tar.gz", ours_dir),
                       args.requests, concurrency)
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"
    text = f"Machine: {machine}\n\n{table(ours, stock, concurrency)}\n"
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
