"""The scale benchmark: a site of 300 careers against the same bot with only the real careers.

    python -m bot.devtools.bench --careers-only [--careers 300] [--career-runs 3]

Writes the real career files into one temporary knowledge directory and the
real files plus `count` generated ones (copies of the test fixture, each with
its own id and names) into another, then starts careerbot on each in turn
(A B A B ...: the machine's drift falls on both), the same trained model
and everything else equal. Each start is timed from the start command to the
first pay answer (the action server has loaded every file by then); each
running bot answers a fixed mix of questions (careers named, pages' contexts,
the default career, off-topic) with one client; then the peak memory of its
processes is read. The limits are ratios (many careers / real careers).
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
import yaml

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.devtools.bench import LoadResult, Question, load, peak_rss_mb, start_bot, start_ours
from bot.knowledge import KnowledgeBase, career_files

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "knowledge" / "lighthouse_keeper.yml"
DEFAULT_CAREER = "mortgage_servicing_specialist"
# Each measure of the many-career site may be at most this many times the real site's.
LIMIT = 1.2
# What the generated careers' pay answer holds (the fixture's lowest level), and not the real careers'.
FIXTURE_FIGURE = "$11,000"


def _page(career_id: str) -> Dict[str, Any]:
    return {"context": {"career": career_id}}


# One visitor's questions. Every one has the same meaning on both sites except
# those about generated careers, which the real site answers for its default
# career (an unknown page) or as a question it cannot place.
MIX: List[Question] = [
    ("hello", None),
    ("how much do they earn?", None),
    ("how much do loan officers make?", None),
    ("and for tellers?", None),
    ("what do they do?", _page("loan_officers")),
    ("do I need a license?", _page("tellers")),
    ("what are the working hours?", _page("fixture_career_150")),
    ("how much do fixture career 007s earn?", None),
    ("what's the job outlook for bank tellers?", None),
    ("thanks", None),
    ("what are today's mortgage rates?", None),
    ("bye", None),
]


def fixture_id(number: int, count: int) -> str:
    return f"fixture_career_{number:0{max(3, len(str(count)))}d}"


def write_fixture_careers(directory: Path, count: int) -> List[Path]:
    """`count` copies of the fixture career, each with its own file name (id), name, plural and alias."""
    template = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    written = []
    for number in range(1, count + 1):
        career_id = fixture_id(number, count)
        words = career_id.replace("_", " ")  # "fixture career 007"
        template["career"].update(
            id=career_id, name=words, plural=f"{words}s", aliases=[words.replace("career", "job")]
        )
        path = directory / f"{career_id}.yml"
        path.write_text(yaml.safe_dump(template, sort_keys=False, allow_unicode=True), encoding="utf-8")
        written.append(path)
    return written


def knowledge_dirs(workdir: Path, count: int) -> Dict[str, Path]:
    """The real site (its career files) and the large one (the same plus `count` generated), checked."""
    dirs = {"real": workdir / "knowledge-real", "many": workdir / "knowledge-many"}
    for directory in dirs.values():
        directory.mkdir(parents=True)
        for path in career_files(KNOWLEDGE_DIR):
            shutil.copy(path, directory / path.name)
    write_fixture_careers(dirs["many"], count)
    for directory in dirs.values():
        KnowledgeBase.load(directory, DEFAULT_CAREER)  # a broken generator stops here, with the file and field
    return dirs


@dataclass
class Site:
    name: str
    careers: int
    first_answer_s: List[float] = field(default_factory=list)
    peak_rss_mb: List[float] = field(default_factory=list)
    load: LoadResult = field(default_factory=LoadResult)


def _start(model: Path, workdir: Path, knowledge_dir: Path) -> Any:
    workdir.mkdir(parents=True)
    settings = {"CAREERBOT_KNOWLEDGE_DIR": str(knowledge_dir), "CAREERBOT_CAREER": DEFAULT_CAREER}
    return start_bot(
        lambda: start_ours(model, workdir, settings_env=settings), message="how much do they earn?", expect="$"
    )


def _check_serves_generated(url: str, count: int) -> None:
    """The large site must answer its generated careers, or the comparison measures nothing."""
    last = fixture_id(count, count)
    for body in (
        {"sender": "check-page", "message": "how much do they earn?", "metadata": _page(last)},
        {"sender": "check-name", "message": f"how much do {last.replace('_', ' ')}s earn?"},
    ):
        replies = requests.post(url, json=body, timeout=60).json()
        if not any(FIXTURE_FIGURE in str(reply.get("text", "")) for reply in replies):
            raise RuntimeError(f"the {count}-career bot did not answer for {last}: {replies!r}")


def measure(model: Path, workdir: Path, count: int, runs: int, per_client: int) -> Tuple[str, bool, Dict[str, str]]:
    """Both sites, `runs` starts each in turn; returns the printed table, whether every limit was met, and the
    ratios as the table shows them (first_answer, memory, p50)."""
    dirs = knowledge_dirs(workdir, count)
    sites = {
        "many": Site("many", len(career_files(dirs["many"]))),
        "real": Site("real", len(career_files(dirs["real"]))),
    }
    # An unmeasured first start warms the disk cache for both, and checks the large site serves its careers.
    print(f"  checking that the {sites['many'].careers}-career bot serves its generated careers...", flush=True)
    running = _start(model, workdir / "check", dirs["many"])
    try:
        _check_serves_generated(running.url, count)
    finally:
        running.stop()
    for run in range(runs):
        for name in ("real", "many"):
            site = sites[name]
            running = _start(model, workdir / f"{name}-{run + 1}", dirs[name])
            try:
                load(running.url, 1, len(MIX), MIX)  # warm caches and connections, not measured
                result = load(running.url, 1, per_client, MIX)
                rss = peak_rss_mb(running.pids)
            finally:
                running.stop()
            site.first_answer_s.append(running.first_answer_s)
            site.peak_rss_mb.append(rss)
            site.load.latencies += result.latencies
            site.load.errors += result.errors
            site.load.empty += result.empty
            print(
                f"  run {run + 1}, {site.careers} careers: first answer {running.first_answer_s:.1f} s, "
                f"peak memory {rss:.0f} MB, p50 {result.pct(0.5):.1f} ms, {result.errors} errors, "
                f"{result.empty} empty",
                flush=True,
            )
    text, met = table(sites["many"], sites["real"], runs, per_client)
    names = ("first_answer", "memory", "p50")
    shown = {
        name: f"{ours / base:.2f}x"
        for name, (_, ours, base) in zip(names, limited(sites["many"], sites["real"], runs, per_client), strict=True)
    }
    return text, met, shown


def limited(many: Site, real: Site, runs: int, per_client: int) -> List[Tuple[str, float, float]]:
    """The measures with a limit: (name, the large site's, the real files')."""
    return [
        (
            f"Time to first answer (s), median of {runs} starts",
            statistics.median(many.first_answer_s),
            statistics.median(real.first_answer_s),
        ),
        (
            "Peak memory, Rasa and action server (MB), median",
            statistics.median(many.peak_rss_mb),
            statistics.median(real.peak_rss_mb),
        ),
        (f"p50 latency, 1 client (ms), {runs * per_client} answers", many.load.pct(0.5), real.load.pct(0.5)),
    ]


def table(many: Site, real: Site, runs: int, per_client: int) -> Tuple[str, bool]:
    lines = [
        f"| measure | {many.careers} careers | {real.careers} careers | ratio | limit | met? |",
        "|---|---|---|---|---|---|",
    ]
    met = True
    for name, ours, base in limited(many, real, runs, per_client):
        ok = base > 0 and ours / base <= LIMIT
        met = met and ok
        lines.append(
            f"| {name} | {ours:.1f} | {base:.1f} | {ours / base:.2f}x | at most {LIMIT}x | {'yes' if ok else 'NO'} |"
        )
    lines.append(f"| p95 latency, 1 client (ms) | {many.load.pct(0.95):.1f} | {real.load.pct(0.95):.1f} | | | |")
    failures = (many.load.errors + many.load.empty, real.load.errors + real.load.empty)
    ok = failures == (0, 0)
    met = met and ok
    lines.append(f"| Errors and empty replies | {failures[0]} | {failures[1]} | | none | {'yes' if ok else 'NO'} |")
    return "\n".join(lines), met
