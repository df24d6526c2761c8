"""Benchmarks careerbot against the stock `rasa init` bot, in one run on this machine.

    python -m bot.devtools.bench [--requests 48] [--rounds 3] [--no-cluster] [--no-careers] [--out build/bench.md]
                                 [--record]
    python -m bot.devtools.bench --careers-only   # the many-careers comparison alone, with this checkout's model

Trains the stock bot with the same Rasa in a temporary folder, starts each bot
on 127.0.0.1 and sends both the same mixed questions over the REST channel,
with 1 and 8 concurrent clients, in interleaved rounds. Prints a table of both
with their ratios: latency p50/p95, throughput, errors, the servers' peak
memory (RSS, every process of the bot), CPU per answer, time from start to
the first answer, and training time. Then measures careerbot's multi-instance
mode (bot/devtools/cluster.py: 2 Rasa instances behind nginx) at 8 and 32 clients,
and careerbot serving 300 more careers against the real ones alone
(bot/devtools/bench_careers.py). It prints, and exits 1 only when the
many-careers comparison misses one of its limits. `--record` also writes the figures the
docs quote into docs/numbers.yml (`make docs-numbers` copies them into the docs). Traffic goes to 127.0.0.1 only, and
every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import requests

from bot import PROJECT_DIR
from bot.launch.processes import descendants, free_port, stop_process, wait_until
from bot.settings import environment

BIN_DIR = Path(sys.executable).parent
QUESTIONS = [
    "hello",
    "how much do they earn?",
    "what are the working hours?",
    "do I need a license?",
    "what degree do I need?",
    "what do they do?",
    "what's the job outlook?",
    "thanks",
    "what are today's mortgage rates?",
    "tell me a joke",
    "is this career right for me?",
    "bye",
]
# The many-careers comparison: this many generated career files beside the real ones (issue 19: a site of 300).
SCALE_CAREERS = 300
ENV = dict(environment(), RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")


def family(pids: List[int]) -> List[int]:
    """The processes and all their descendants (Sanic's workers are children of `rasa run`)."""
    return [found for pid in pids for found in (pid, *descendants(pid))]


def peak_rss_mb(pids: List[int]) -> float:
    """Sum of the processes' (and their descendants') peak resident memory (VmHWM), in MB."""
    total = 0
    for pid in family(pids):
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


# A question, and the metadata its request carries (the page's context), if any.
Question = Tuple[str, Optional[Dict[str, Any]]]


def load(url: str, clients: int, per_client: int, mix: Optional[List[Question]] = None) -> LoadResult:
    """`clients` clients at once, each asking `per_client` questions: one visitor per pass through the mix.

    The mix is QUESTIONS (no metadata) unless one is given.
    """
    questions = mix if mix is not None else [(question, None) for question in QUESTIONS]
    result = LoadResult()
    lock = threading.Lock()

    def user(index: int) -> None:
        session = requests.Session()
        for i in range(per_client):
            if i % len(questions) == 0:
                # A visitor asks the whole mix once, then the next visitor comes.
                sender = f"bench-{uuid.uuid4().hex[:8]}-{index}"
            message, metadata = questions[i % len(questions)]
            body: Dict[str, Any] = {"sender": sender, "message": message}
            if metadata is not None:
                body["metadata"] = metadata
            started = time.perf_counter()
            try:
                response = session.post(url, json=body, timeout=60)
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


def wait_for_answer(
    url: str,
    processes: List[subprocess.Popen],
    timeout: float = 300,
    message: str = "hello",
    expect: Optional[str] = None,
) -> float:
    """The perf_counter() time of the bot's first answer to `message` (containing `expect`, if given), or raises."""

    def answered() -> Optional[float]:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a server exited during start-up")
        try:
            response = requests.post(
                url, json={"sender": f"warmup-{uuid.uuid4().hex[:8]}", "message": message}, timeout=5
            )
            replies = response.json() if response.status_code == 200 else None
            if replies and (expect is None or any(expect in str(r.get("text", "")) for r in replies)):
                return time.perf_counter()
        except requests.RequestException:
            pass
        return None

    return wait_until(answered, timeout, "the bot's first answer", interval=0.1)


def cpu_ms(pids: List[int]) -> float:
    """CPU time (user + system) the processes and their descendants have used so far, in ms."""
    total = 0
    for pid in family(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total * 1000 / os.sysconf("SC_CLK_TCK")


@dataclass
class Running:
    """A started bot: where to send questions and the processes that serve them."""

    url: str
    processes: List[subprocess.Popen]
    first_answer_s: float = 0.0

    @property
    def pids(self) -> List[int]:
        return [p.pid for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()  # all at once: they stop in parallel
        for process in self.processes:
            stop_process(process)


@dataclass
class BotRun:
    name: str
    training_s: float
    first_answer_s: float = 0.0
    peak_rss_mb: float = 0.0
    # clients -> one LoadResult per round
    rounds: Dict[int, List[LoadResult]] = field(default_factory=dict)
    cpu_ms: float = 0.0
    answered: int = 0

    def pooled(self, clients: int) -> LoadResult:
        """Every round's answers together (for percentiles and error counts)."""
        pooled = LoadResult()
        for result in self.rounds[clients]:
            pooled.latencies += result.latencies
            pooled.errors += result.errors
            pooled.empty += result.empty
        return pooled

    def throughput(self, clients: int) -> float:
        """The median round's answers per second."""
        return statistics.median(r.throughput for r in self.rounds[clients])


def start_bot(
    start: Callable[[], "tuple[str, List[subprocess.Popen]]"], message: str = "hello", expect: Optional[str] = None
) -> Running:
    """Starts a bot and waits for its first answer (to `message`, containing `expect`), timing the whole."""
    started = time.perf_counter()
    url, processes = start()
    running = Running(url, processes)
    try:
        running.first_answer_s = wait_for_answer(url, processes, message=message, expect=expect) - started
    except BaseException:
        running.stop()
        raise
    return running


def measure_side_by_side(
    bots: Dict[str, Running], runs: Dict[str, BotRun], concurrency: List[int], per_client: int, rounds: int
) -> None:
    """Loads the bots in turn, round after round, swapping who goes first.

    The machine's speed drifts over minutes (other tenants, CPU frequency);
    interleaving short rounds gives both bots the same conditions, and the
    median round's throughput and the pooled percentiles damp one bad round.
    """
    for running in bots.values():
        load(running.url, 2, len(QUESTIONS))  # warm caches and connections, not measured
    names = list(bots)
    for round_index in range(rounds):
        order = names if round_index % 2 == 0 else names[::-1]
        for clients in concurrency:
            for name in order:
                running, run = bots[name], runs[name]
                cpu_before = cpu_ms(running.pids)
                result = load(running.url, clients, per_client)
                run.cpu_ms += cpu_ms(running.pids) - cpu_before
                run.answered += len(result.latencies) + result.errors
                run.rounds.setdefault(clients, []).append(result)
                print(
                    f"  round {round_index + 1}, {clients} client(s), {name}: p50 {result.pct(0.5):.1f} ms, "
                    f"{result.throughput:.1f} req/s, {result.errors} errors",
                    flush=True,
                )
    for name, running in bots.items():
        runs[name].peak_rss_mb = peak_rss_mb(running.pids)


def _timed(args: List[str], cwd: Path) -> float:
    """Seconds `args` took to run (quietly; it must succeed)."""
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def train_stock(workdir: Path) -> float:
    return _timed([str(BIN_DIR / "rasa"), "init", "--no-prompt", "--init-dir", str(workdir)], workdir)


def train_ours(out: Path, config: Optional[Path] = None) -> float:
    rasa_train = [str(BIN_DIR / "rasa"), "train", "--force", "--fixed-model-name", "careerbot", "--out", str(out)]
    return _timed([*rasa_train, *(["--config", str(config)] if config else [])], PROJECT_DIR)


def start_stock(workdir: Path) -> "tuple[str, List[subprocess.Popen]]":
    port = free_port()
    model = next(iter(sorted((workdir / "models").glob("*.tar.gz"))))
    process = subprocess.Popen(
        [str(BIN_DIR / "rasa"), "run", "--model", str(model), "-i", "127.0.0.1", "-p", str(port)],
        cwd=workdir,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return f"http://127.0.0.1:{port}/webhooks/rest/webhook", [process]


def start_ours(
    model: Path,
    workdir: Path,
    env: Optional[Dict[str, str]] = None,
    endpoints: Optional[Path] = None,
    settings_env: Optional[Dict[str, str]] = None,
) -> "tuple[str, List[subprocess.Popen]]":
    """Our bot as `make run` starts it (SQLite conversation store), on free ports.

    `env` and `endpoints` let bot/devtools/bench_choices.py start variants of it;
    `settings_env` adds CAREERBOT_* settings (bot/devtools/bench_careers.py: the knowledge directory).
    """
    from bot.launch.serve import RASA_RUN, Servers
    from bot.settings import Settings

    settings = Settings.from_env(
        {
            "CAREERBOT_RASA_PORT": str(free_port()),
            "CAREERBOT_ACTION_PORT": str(free_port()),
            "CAREERBOT_WIDGET_PORT": str(free_port()),
            "CAREERBOT_TRACKER_URL": f"sqlite:///{workdir / 'bench.db'}",
            **(settings_env or {}),
        }
    )
    servers = Servers(settings, model, log_dir=workdir / "logs", extra_env=env)
    # Started without waiting, so that the time to the first answer covers everything.
    servers.actions = servers._spawn("actions", [sys.executable, "-m", "bot.launch.action_server"])
    servers.rasa = servers._spawn(
        "rasa",
        [
            *RASA_RUN,
            "--model",
            str(model),
            "--endpoints",
            str(endpoints or servers.endpoints_file()),
            "--credentials",
            str(_rest_only_credentials(workdir)),
            "--interface",
            "127.0.0.1",
            "--port",
            str(settings.rasa_port),
        ],
    )
    return f"{servers.rasa_url}/webhooks/rest/webhook", servers.processes


def _rest_only_credentials(workdir: Path) -> Path:
    path = workdir / "credentials.yml"
    path.write_text("bot.channels.rest.ValidatingRestInput:\n")
    return path


def ratio(ours: float, stock: float) -> str:
    return f"{ours / stock:.2f}x" if stock else "n/a"


def table(ours: BotRun, stock: BotRun, concurrency: List[int]) -> str:
    rows = [
        ("Training time (s)", ours.training_s, stock.training_s),
        ("Time to first answer (s)", ours.first_answer_s, stock.first_answer_s),
        ("Peak memory, all processes (MB)", ours.peak_rss_mb, stock.peak_rss_mb),
        (
            "CPU per answer, all processes (ms)",
            ours.cpu_ms / max(ours.answered, 1),
            stock.cpu_ms / max(stock.answered, 1),
        ),
    ]
    for clients in concurrency:
        o, s = ours.pooled(clients), stock.pooled(clients)
        rows += [
            (f"p50 latency, {clients} client(s) (ms)", o.pct(0.5), s.pct(0.5)),
            (f"p95 latency, {clients} client(s) (ms)", o.pct(0.95), s.pct(0.95)),
            (f"Throughput, {clients} client(s) (req/s)", ours.throughput(clients), stock.throughput(clients)),
            (f"Errors, {clients} client(s)", float(o.errors), float(s.errors)),
            (f"Empty replies, {clients} client(s)", float(o.empty), float(s.empty)),
        ]
    lines = ["| measure | careerbot | stock rasa init | careerbot / stock |", "|---|---|---|---|"]
    lines += [f"| {name} | {o:.1f} | {s:.1f} | {ratio(o, s)} |" for name, o, s in rows]
    return "\n".join(lines)


def headline(ours: BotRun, stock: BotRun) -> Dict[str, str]:
    """The figures docs/benchmarks.md's targets quote, as the table prints them (docs/numbers.yml, run "bench")."""
    o1, s1 = ours.pooled(1), stock.pooled(1)
    figures = {
        "p50_1": (o1.pct(0.5), s1.pct(0.5), "{:.1f}"),
        "throughput_8": (ours.throughput(8), stock.throughput(8), "{:.1f}"),
        "memory": (ours.peak_rss_mb, stock.peak_rss_mb, "{:,.0f}"),
        "first_answer": (ours.first_answer_s, stock.first_answer_s, "{:.1f}"),
    }
    found = {"errors_8": str(ours.pooled(8).errors)}
    for name, (o, s, shown) in figures.items():
        found.update(
            {f"{name}.ratio": ratio(o, s), f"{name}.careerbot": shown.format(o), f"{name}.stock": shown.format(s)}
        )
    return found


def measure_cluster(model: Path, workdir: Path, concurrency: List[int], per_client: int) -> str:
    """Our bot in the multi-instance mode: 2 Rasa instances behind nginx (bot/devtools/cluster.py)."""
    from bot.devtools.cluster import Cluster, ServiceMissing

    try:
        cluster = Cluster(model, workdir, instances=2).start()
    except ServiceMissing as missing:
        return f"Multi-instance mode not measured: {missing}."
    try:
        url = f"{cluster.url}/webhooks/rest/webhook"
        load(url, 2, len(QUESTIONS))
        lines = [
            "| clients | p50 latency (ms) | p95 latency (ms) | throughput (req/s) | errors | empty replies |",
            "|---|---|---|---|---|---|",
        ]
        for clients in concurrency:
            result = load(url, clients, per_client)
            print(
                f"  multi-instance, {clients} clients: p50 {result.pct(0.5):.1f} ms, "
                f"{result.throughput:.1f} req/s, {result.errors} errors",
                flush=True,
            )
            lines.append(
                f"| {clients} | {result.pct(0.5):.1f} | {result.pct(0.95):.1f} | {result.throughput:.1f} "
                f"| {result.errors} | {result.empty} |"
            )
        lines.append("")
        lines.append(
            f"Peak memory of the bot's processes (2 Rasa instances and the action server): "
            f"{peak_rss_mb(cluster.server_pids):.0f} MB; PostgreSQL, Redis and nginx not counted."
        )
        return "\n".join(lines)
    finally:
        cluster.close()


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4 * len(QUESTIONS), help="questions per client per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per bot and load")
    parser.add_argument("--no-cluster", action="store_true", help="skip the multi-instance measurement")
    parser.add_argument(
        "--cluster-only",
        action="store_true",
        help="only the multi-instance mode, with this checkout's trained model (to compare two checkouts in turn)",
    )
    parser.add_argument("--no-careers", action="store_true", help="skip the many-careers comparison")
    parser.add_argument(
        "--careers-only",
        action="store_true",
        help="only the many-careers comparison, with this checkout's trained model (exit 1 if a limit is missed)",
    )
    parser.add_argument(
        "--careers", type=int, default=SCALE_CAREERS, help="generated career files for the scale comparison"
    )
    parser.add_argument("--career-runs", type=int, default=3, help="starts of each site in the scale comparison")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "bench.md")
    parser.add_argument(
        "--record",
        action="store_true",
        help="also write the figures the docs quote into docs/numbers.yml (then: make docs-numbers)",
    )
    args = parser.parse_args(argv)
    if args.record and (args.cluster_only or args.careers_only or args.no_cluster or args.no_careers):
        parser.error("--record measures the whole run: no --cluster-only, --careers-only, --no-cluster or --no-careers")
    if args.careers_only:
        model = PROJECT_DIR / "models" / "careerbot.tar.gz"
        if not model.is_file():
            print(f"error: no trained model at {model}: run `make train`", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp_name:
            careers, met, _ = _measure_careers(model, Path(tmp_name), args)
        print(f"\nMachine: {machine()}\n\n{careers}")
        return 0 if met else 1
    if args.cluster_only:
        model = PROJECT_DIR / "models" / "careerbot.tar.gz"
        if not model.is_file():
            print(f"error: no trained model at {model}: run `make train`", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp_name:
            cluster = measure_cluster(model, Path(tmp_name), [8, 32], args.requests)
        print(f"\nMachine: {machine()}\n\n{cluster}")
        return 0
    concurrency = [1, 8]
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp_name:
        tmp = Path(tmp_name)
        stock_dir, ours_dir = tmp / "stock", tmp / "ours"
        stock_dir.mkdir()
        ours_dir.mkdir()
        print("training the stock rasa init bot...", flush=True)
        stock = BotRun("stock", train_stock(stock_dir))
        print("training careerbot...", flush=True)
        ours = BotRun("careerbot", train_ours(ours_dir))
        model = ours_dir / "careerbot.tar.gz"
        bots: Dict[str, Running] = {}
        try:
            # One at a time, so that each start has the machine to itself.
            print("starting the stock bot...", flush=True)
            bots["stock"] = start_bot(lambda: start_stock(stock_dir))
            print("starting careerbot...", flush=True)
            bots["careerbot"] = start_bot(lambda: start_ours(model, ours_dir))
            stock.first_answer_s = bots["stock"].first_answer_s
            ours.first_answer_s = bots["careerbot"].first_answer_s
            print("measuring both, interleaved...", flush=True)
            measure_side_by_side(bots, {"stock": stock, "careerbot": ours}, concurrency, args.requests, args.rounds)
        finally:
            for running in bots.values():
                running.stop()
        cluster = "Multi-instance mode not measured (--no-cluster)."
        if not args.no_cluster:
            print("measuring careerbot's multi-instance mode...", flush=True)
            cluster = measure_cluster(model, tmp / "cluster", [8, 32], args.requests)
        scale: Dict[str, str] = {}
        careers, met = "Many careers not measured (--no-careers).", True
        if not args.no_careers:
            careers, met, scale = _measure_careers(model, tmp / "careers", args)
    speed = (
        f"Machine: {machine()}\n\n"
        f"Each client asks {args.requests} questions per round ({len(QUESTIONS)} per visitor); "
        f"{args.rounds} interleaved rounds.\n\n"
        f"{table(ours, stock, concurrency)}\n\n"
        f"Multi-instance mode (careerbot, 2 Rasa instances behind nginx, PostgreSQL, Redis lock store):\n\n"
        f"{cluster}"
    )
    text = f"{speed}\n\n{careers}\n"
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    if args.record:
        from bot.devtools import docs_numbers

        figures = {**headline(ours, stock), "speed_report": speed, "careers_report": careers}
        figures.update({f"careers.{name}.ratio": shown for name, shown in scale.items()})
        docs_numbers.record("bench", "python -m bot.devtools.bench --record (make bench)", figures)
        print("recorded in docs/numbers.yml; `make docs-numbers` writes the figures into the docs")
    return 0 if met else 1


def _measure_careers(model: Path, workdir: Path, args: argparse.Namespace) -> "tuple[str, bool, Dict[str, str]]":
    """The scale comparison (bot/devtools/bench_careers.py): its table, with a title, whether it met its limits,
    and its ratios."""
    from bot.devtools import bench_careers

    print(f"measuring careerbot with {args.careers} more careers, against the real ones alone...", flush=True)
    table, met, ratios = bench_careers.measure(model, workdir, args.careers, args.career_runs, args.requests)
    title = (
        f"Many careers (careerbot with the real career files and {args.careers} generated ones, against the real "
        f"files alone; {args.career_runs} starts of each in turn, {args.requests} questions per start, 1 client):"
    )
    verdict = "every limit met" if met else "a limit was MISSED"
    return f"{title}\n\n{table}\n\n{verdict}", met, ratios


if __name__ == "__main__":
    sys.exit(main())
