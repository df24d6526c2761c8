"""The benchmark's own arithmetic and load loop, against a local fake bot (no timings asserted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from bot.devtools import bench
from bot.launch.processes import stop_process
from tests.support.http import LocalServer, QuietHandler


class FakeBot(QuietHandler):
    """Answers like Rasa's REST channel; 'boom' gets a 500, 'silence' an empty list."""

    seen = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeBot.seen.append((body["sender"], body["message"]))
        status, reply = 200, [{"recipient_id": body["sender"], "text": "ok"}]
        if body["message"] == "boom":
            status, reply = 500, {"error": "boom"}
        elif body["message"] == "silence":
            reply = []
        self.reply(status, json.dumps(reply).encode(), "application/json")


@pytest.fixture
def fake_bot():
    FakeBot.seen = []
    server = LocalServer(FakeBot)
    yield f"{server.url}/webhooks/rest/webhook"
    server.close()


def test_each_client_asks_the_mix_as_one_visitor_after_another(fake_bot):
    per_client = 2 * len(bench.QUESTIONS) + 3
    result = bench.load(fake_bot, clients=3, per_client=per_client)
    assert len(result.latencies) == 3 * per_client and result.errors == 0 and result.empty == 0
    by_sender = {}
    for sender, message in FakeBot.seen:
        by_sender.setdefault(sender, []).append(message)
    # 3 clients, each 3 visitors: two whole mixes, then the start of a third.
    assert len(by_sender) == 9
    assert sorted(len(m) for m in by_sender.values()) == [3] * 3 + [len(bench.QUESTIONS)] * 6
    assert all(m == bench.QUESTIONS[: len(m)] for m in by_sender.values())


def test_failures_and_silences_are_counted_apart(fake_bot, monkeypatch):
    monkeypatch.setattr(bench, "QUESTIONS", ["hello", "boom", "silence", "hello"])
    result = bench.load(fake_bot, clients=2, per_client=4)
    assert result.errors == 2 and result.empty == 2 and len(result.latencies) == 6
    assert result.throughput == pytest.approx(8 / result.wall)


def test_percentiles_pooling_and_the_median_round():
    run = bench.BotRun("x", 0.0)
    rounds = [
        bench.LoadResult([0.010, 0.020], 1, 0, 1.0),
        bench.LoadResult([0.030], 0, 1, 2.0),
        bench.LoadResult([0.040, 0.050, 0.060], 0, 0, 1.0),
    ]
    run.rounds[8] = rounds
    pooled = run.pooled(8)
    assert sorted(pooled.latencies) == [0.010, 0.020, 0.030, 0.040, 0.050, 0.060]
    assert (pooled.errors, pooled.empty) == (1, 1)
    assert pooled.pct(0.5) == pytest.approx(40.0)  # ms
    assert run.throughput(8) == 3.0  # rounds give 3, 0.5 and 3 answers per second
    assert bench.ratio(1.0, 4.0) == "0.25x" and bench.ratio(1.0, 0.0) == "n/a"


# The child spends this much CPU by its own clock before it reports its pid.
CHILD_CPU_S = 0.5


def test_memory_and_cpu_count_a_process_and_its_children():
    child_code = (
        f"import sys, time\nwhile time.process_time() < {CHILD_CPU_S}: pass\nprint('busy', flush=True); time.sleep(30)"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            f"c = subprocess.Popen([sys.executable, '-c', {child_code!r}], stdout=subprocess.PIPE); "
            "c.stdout.readline(); print(c.pid, flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        child = int(parent.stdout.readline())
        assert set(bench.family([parent.pid])) == {parent.pid, child}
        assert bench.peak_rss_mb([parent.pid]) > bench.peak_rss_mb([child]) > 0
        # /proc counts CPU in clock ticks (10 ms): allow one tick of rounding per process.
        ticks_ms = 1000 / os.sysconf("SC_CLK_TCK")
        assert bench.cpu_ms([child]) >= CHILD_CPU_S * 1000 - ticks_ms
        assert bench.cpu_ms([parent.pid]) >= bench.cpu_ms([child])  # the child's CPU counts for its parent
    finally:
        for pid in bench.family([parent.pid])[1:]:
            os.kill(pid, signal.SIGKILL)
        stop_process(parent)


def test_the_generated_careers_validate_beside_the_real_ones(tmp_path):
    from bot import KNOWLEDGE_DIR
    from bot.devtools import bench_careers
    from bot.knowledge import KnowledgeBase, main

    dirs = bench_careers.knowledge_dirs(tmp_path, 12)
    many = KnowledgeBase.load(dirs["many"], bench_careers.DEFAULT_CAREER)
    real = KnowledgeBase.load(dirs["real"], bench_careers.DEFAULT_CAREER)
    assert sorted(real.careers) == sorted(p.stem for p in KNOWLEDGE_DIR.glob("*.yml"))
    generated = sorted(set(many.careers) - set(real.careers))
    assert generated == [f"fixture_career_{n:03d}" for n in range(1, 13)]
    # Each its own names, found in a message; the fixture's facts otherwise.
    assert [c.id for c in many.named_in("fixture career 007s or fixture job 012?")] == [
        "fixture_career_007",
        "fixture_career_012",
    ]
    assert many.get("fixture_career_003").pay_level("principal").high == 37000
    assert main([str(dirs["many"]), "--career", bench_careers.DEFAULT_CAREER]) == 0  # `make check-knowledge`


def test_generated_ids_widen_with_the_count():
    from bot.devtools.bench_careers import fixture_id

    assert (fixture_id(7, 300), fixture_id(7, 1000), fixture_id(1000, 1000)) == (
        "fixture_career_007",
        "fixture_career_0007",
        "fixture_career_1000",
    )


def test_the_scale_table_fails_a_ratio_over_the_limit_or_any_error():
    from bot.devtools.bench_careers import LIMIT, Site, table

    def site(careers, start, memory, latencies, errors=0):
        return Site(
            "x", careers, [start, start + 2, start - 1], [memory] * 3, bench.LoadResult(list(latencies), errors, 0, 1.0)
        )

    real = site(3, 20.0, 700.0, [0.010, 0.020, 0.030])
    text, met = table(site(303, 20.0 * LIMIT, 700.0, [0.010, 0.020, 0.030]), real, 3, 1)
    assert met and "| 1.20x | at most 1.2x | yes |" in text
    for many in (
        site(303, 20.0 * LIMIT + 0.1, 700.0, [0.010, 0.020, 0.030]),  # start-up
        site(303, 20.0, 700.0 * LIMIT + 1, [0.010, 0.020, 0.030]),  # memory
        site(303, 20.0, 700.0, [0.010, 0.030, 0.030]),  # p50 1.5x
        site(303, 20.0, 700.0, [0.010, 0.020, 0.030], errors=1),
    ):
        text, met = table(many, real, 3, 1)
        assert not met and "| NO |" in text
