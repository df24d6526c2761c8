"""Measures what each design choice does to speed and to NLU accuracy, each against the bot as built.

    python -m bot.devtools.bench_choices [--slow] [--requests 48] [--rounds 3] [--out build/bench-choices.md]

For every variant, the bot as built (the baseline) and the variant run side by
side on 127.0.0.1 and are loaded in interleaved rounds (bot/devtools/bench.py), so both
see the same machine. Printed per variant, each with its ratio to the
baseline: CPU per answer of all the bot's processes, p50 latency with 1
client, throughput with 8 clients, peak memory, and errors. Variants of config.yml are trained
first and also scored (bot/devtools/evaluate.py) on the NLU dev set (intent accuracy; clarified
lines are not right), on the off-topic dev split (leak rate: the share that would get
a career answer) and on the dev conversations (follow-up turns right,
tests/conversations/dev_set.yml). The test set is left alone: it is for the final measurement only.

Runtime variants (same model): each speed-up of bot/rasa/speedups.py switched off,
Rasa's own SQL tracker store, SQLite in journal mode, conversations in memory,
2 Sanic workers with a Redis lock store, 2 action server workers, every message read
alone (bot/context.py off: scored on the dev conversations as well). Config
variants: MemoizationPolicy added, without the character n-grams, without the off-topic
training sample or with less or more of it, without the WordLlama featurizer or
its weight changed, without the in-domain gate or with another threshold or margin, other
logistic regression regularisation (FallbackClassifier thresholds: `python -m
bot.devtools.evaluate --fallback-grid`, no training needed); with
--slow also DIET instead of logistic regression (with and without TensorFlow
thread limits) and TED added to the policies, which take minutes to train.
Last, the conversation stores alone, without Rasa around them: milliseconds
per turn to read a conversation back and to save it. It prints; it passes or
fails nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from bot import PROJECT_DIR
from bot.devtools import bench
from bot.launch.channel_config import select

ENDPOINTS_VARS = {"CAREERBOT_ACTION_URL": "set", "CAREERBOT_TRACKER_URL": "set"}


@dataclass
class Variant:
    name: str
    env: Dict[str, str] = field(default_factory=dict)
    endpoints: Optional[Callable[[Dict[str, Any]], None]] = None
    config: Optional[Callable[[Dict[str, Any]], None]] = None
    needs_redis: bool = False
    slow: bool = False
    # A runtime variant that changes what the bot understands in a conversation: scored on the
    # dev conversations too (config variants always are).
    conversations: bool = False


def _add_memoization(config: Dict[str, Any]) -> None:
    config["policies"].insert(0, {"name": "MemoizationPolicy"})


def _drop_char_ngrams(config: Dict[str, Any]) -> None:
    config["pipeline"] = [c for c in config["pipeline"] if c.get("analyzer") != "char_wb"]


def _diet_instead_of_logistic_regression(config: Dict[str, Any]) -> None:
    config["pipeline"] = [
        {"name": "DIETClassifier", "epochs": 100, "entity_recognition": False, "constrain_similarities": True}
        if c["name"] == "LogisticRegressionClassifier"
        else c
        for c in config["pipeline"]
    ]


def _without_offtopic_sample(config: Dict[str, Any]) -> None:
    config["importers"] = [i for i in config.get("importers", []) if not i["name"].endswith("OfftopicImporter")]


def _offtopic_per_intent(count: int) -> Callable[[Dict[str, Any]], None]:
    def edit(config: Dict[str, Any]) -> None:
        for importer in config.get("importers", []):
            if importer["name"].endswith("OfftopicImporter"):
                importer["per_intent"] = count

    return edit


def _without_wordllama(config: Dict[str, Any]) -> None:
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].endswith("WordLlamaFeaturizer")]


def _without_minilm(config: Dict[str, Any]) -> None:
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].endswith("MiniLMFeaturizer")]


def _without_embeddings_and_gate(config: Dict[str, Any]) -> None:
    _without_wordllama(config)
    _without_minilm(config)
    _without_gate(config)


def _wordllama_alone(config: Dict[str, Any]) -> None:
    """WordLlama's vector alone, with the gate at the cosine that suited it (0.5)."""
    _without_minilm(config)
    _gate(threshold=0.5)(config)


def _wordllama_scale(scale: float) -> Callable[[Dict[str, Any]], None]:
    def edit(config: Dict[str, Any]) -> None:
        for component in config["pipeline"]:
            if component["name"].endswith("WordLlamaFeaturizer"):
                component["scale"] = scale

    return edit


def _classifier_option(**options: Any) -> Callable[[Dict[str, Any]], None]:
    """Rasa's logistic regression fixes C and class_weight; bot.rasa.components.logistic_classifier's takes them."""

    def edit(config: Dict[str, Any]) -> None:
        for component in config["pipeline"]:
            if "LogisticRegression" in component["name"]:
                component.update(
                    name="bot.rasa.components.logistic_classifier.TunedLogisticRegressionClassifier", **options
                )

    return edit


def _without_gate(config: Dict[str, Any]) -> None:
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].endswith("InDomainGate")]


def _gate(**options: Optional[float]) -> Callable[[Dict[str, Any]], None]:
    def edit(config: Dict[str, Any]) -> None:
        for component in config["pipeline"]:
            if component["name"].endswith("InDomainGate"):
                component.update(options)

    return edit


def _add_ted(config: Dict[str, Any]) -> None:
    config["policies"].append({"name": "TEDPolicy", "max_history": 5, "epochs": 100, "constrain_similarities": True})


def _sql_store_of_rasa(endpoints: Dict[str, Any]) -> None:
    endpoints["tracker_store"]["type"] = "SQL"


def _sqlite_journal_mode(endpoints: Dict[str, Any]) -> None:
    endpoints["tracker_store"]["sqlite_wal"] = False


def _in_memory_store(endpoints: Dict[str, Any]) -> None:
    del endpoints["tracker_store"]


VARIANTS = [
    Variant("speed-ups of bot/rasa/speedups.py all off", env={"CAREERBOT_SPEEDUPS": "none"}),
    Variant("without the action-reply validator built once", env={"CAREERBOT_SPEEDUPS": "events,http,gc"}),
    Variant("without the event class table", env={"CAREERBOT_SPEEDUPS": "validator,http,gc"}),
    Variant("without kept HTTP sessions to the action server", env={"CAREERBOT_SPEEDUPS": "validator,events,gc"}),
    Variant("without gc.freeze()", env={"CAREERBOT_SPEEDUPS": "validator,events,http"}),
    Variant("Rasa's own SQL tracker store (ORM)", endpoints=_sql_store_of_rasa),
    Variant("SQLite in Rasa's rollback-journal mode, a connection per query", endpoints=_sqlite_journal_mode),
    Variant("conversations in memory only (lost on restart)", endpoints=_in_memory_store),
    Variant("2 Sanic workers with a Redis lock store", env={"SANIC_WORKERS": "2"}, needs_redis=True),
    Variant("2 action server workers", env={"ACTION_SERVER_SANIC_WORKERS": "2"}),
    Variant(
        "every message read alone (without bot/context.py)",
        env={"CAREERBOT_READ_IN_CONTEXT": "false"},
        conversations=True,
    ),
    Variant("MemoizationPolicy added before RulePolicy", config=_add_memoization),
    Variant("without the character n-grams", config=_drop_char_ngrams),
    Variant("without the off-topic training sample", config=_without_offtopic_sample),
    Variant("off-topic training sample halved (6 per source intent)", config=_offtopic_per_intent(6)),
    Variant("off-topic training sample doubled (24 per source intent)", config=_offtopic_per_intent(24)),
    Variant(
        "without the WordLlama and MiniLM featurizers (and the in-domain gate)", config=_without_embeddings_and_gate
    ),
    Variant("without the MiniLM featurizer (WordLlama alone, its gate at 0.5)", config=_wordllama_alone),
    Variant("WordLlama sentence vector weighted 3 instead of 10", config=_wordllama_scale(3.0)),
    Variant("without the in-domain gate", config=_without_gate),
    Variant("in-domain gate at 0.65 instead of 0.7", config=_gate(threshold=0.65)),
    Variant("in-domain gate at 0.75 instead of 0.7", config=_gate(threshold=0.75)),
    Variant("in-domain gate for every prediction, however sure", config=_gate(confident=1.01)),
    Variant("in-domain gate without its margin test", config=_gate(margin=None)),
    Variant("in-domain gate's margin test at 0.05 instead of 0.02", config=_gate(margin=0.05)),
    Variant("in-domain gate's margin test unless 0.9 sure instead of 0.95", config=_gate(margin_confident=0.9)),
    Variant("logistic regression C=0.3 (more regularised)", config=_classifier_option(C=0.3)),
    Variant("logistic regression C=3 (less regularised)", config=_classifier_option(C=3.0)),
    Variant("DIET (100 epochs) instead of logistic regression", config=_diet_instead_of_logistic_regression, slow=True),
    Variant(
        "DIET, TensorFlow limited to 1 thread per pool",
        config=_diet_instead_of_logistic_regression,
        env={"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"},
        slow=True,
    ),
    Variant("TEDPolicy added (max_history 5, 100 epochs)", config=_add_ted, slow=True),
]


def _endpoints_file(workdir: Path, edit: Callable[[Dict[str, Any]], None], env: Dict[str, str]) -> Path:
    from bot.launch.serve import ENDPOINTS_SOURCE

    text, _ = select(ENDPOINTS_SOURCE.read_text(), {**ENDPOINTS_VARS, **env})
    data = yaml.safe_load(text)
    edit(data)
    path = workdir / "endpoints.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class Scores:
    accuracy: float  # on the NLU dev set
    leak: float  # on the off-topic dev split
    clarification: float  # of the dev set's in-scope lines
    conversations: float  # follow-up turns right in the dev conversations (tests/conversations/dev_set.yml)

    def cells(self, base: Optional["Scores"]) -> List[str]:
        def cell(value: float, base_value: Optional[float]) -> str:
            return f"{value * 100:.1f} %" + (
                "" if base_value is None else f" ({(value - base_value) * 100:+.1f} points)"
            )

        return [
            cell(self.accuracy, None if base is None else base.accuracy),
            cell(self.leak, None if base is None else base.leak),
            cell(self.clarification, None if base is None else base.clarification),
            cell(self.conversations, None if base is None else base.conversations),
        ]


# config text -> (model, training seconds, scores): variants that share a config train once.
_TRAINED: Dict[str, "tuple[Path, float, Scores]"] = {}


def _train_variant(workdir: Path, edit: Callable[[Dict[str, Any]], None]) -> "tuple[Path, float, Scores]":
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())
    edit(config)
    text = yaml.safe_dump(config, sort_keys=False)
    if text not in _TRAINED:
        workdir.mkdir(parents=True)
        config_path = workdir / "config.yml"
        config_path.write_text(text)
        seconds = bench.train_ours(workdir, config=config_path)
        model = workdir / "careerbot.tar.gz"
        _TRAINED[text] = (model, seconds, scores(model))
    return _TRAINED[text]


def scores(model: Path) -> Scores:
    from bot.devtools.evaluate import DEV_SET_2, evaluate_all

    dev, traffic = asyncio.run(evaluate_all(model, [DEV_SET_2]))
    return Scores(dev.accuracy, traffic.leak_rate, dev.clarification_rate, conversation_score(model))


def conversation_score(model: Path, env: Optional[Dict[str, str]] = None) -> float:
    """The share of follow-up turns right in the dev conversations, the bot started with `env`."""
    from bot.devtools.conversations import DEV_SET, ConversationReport, load_conversations, run_conversations

    outcomes = run_conversations(model, {"dev": load_conversations(DEV_SET)}, env=env)
    return ConversationReport("dev", outcomes["dev"]).followup_accuracy


@dataclass
class Outcome:
    name: str
    runs: Dict[str, bench.BotRun]
    scores: Optional[Scores] = None
    training_s: Optional[float] = None
    note: str = ""


def _per_answer(run: bench.BotRun) -> float:
    return run.cpu_ms / max(run.answered, 1)


def same_model_scores(baseline: Scores, model: Path, variant: Variant) -> Scores:
    """A runtime variant's scores: the model's own, and the conversations as the variant plays them."""
    return Scores(baseline.accuracy, baseline.leak, baseline.clarification, conversation_score(model, env=variant.env))


def measure(
    variant: Variant, baseline_model: Path, baseline_scores: Scores, workdir: Path, requests: int, rounds: int
) -> Outcome:
    from bot.devtools.cluster import Redis

    workdir.mkdir(parents=True)
    model, variant_scores, training_s = baseline_model, None, None
    if variant.config:
        print(f"  training {variant.name}...", flush=True)
        model, training_s, variant_scores = _train_variant(workdir / "model", variant.config)
    elif variant.conversations:
        variant_scores = same_model_scores(baseline_scores, baseline_model, variant)
    redis = Redis().start() if variant.needs_redis else None
    env = dict(variant.env)
    if redis is not None:
        env.update(CAREERBOT_REDIS_HOST="127.0.0.1", CAREERBOT_REDIS_PORT=str(redis.port))
    endpoints = _endpoints_file(workdir, variant.endpoints, env) if variant.endpoints else None
    bots: Dict[str, bench.Running] = {}
    runs = {"baseline": bench.BotRun("baseline", 0.0), "variant": bench.BotRun(variant.name, 0.0)}
    try:
        (workdir / "baseline").mkdir()
        (workdir / "variant").mkdir()
        bots["baseline"] = bench.start_bot(lambda: bench.start_ours(baseline_model, workdir / "baseline"))
        bots["variant"] = bench.start_bot(
            lambda: bench.start_ours(model, workdir / "variant", env=env, endpoints=endpoints)
        )
        for name, running in bots.items():
            runs[name].first_answer_s = running.first_answer_s
        bench.measure_side_by_side(bots, runs, [1, 8], requests, rounds)
        return Outcome(variant.name, runs, variant_scores, training_s)
    finally:
        for running in bots.values():
            running.stop()
        if redis is not None:
            redis.close()


def _row(outcome: Outcome, baseline: Scores) -> str:
    base, var = outcome.runs["baseline"], outcome.runs["variant"]
    cells = [
        outcome.name,
        f"{_per_answer(var):.1f} ({bench.ratio(_per_answer(var), _per_answer(base))})",
        f"{var.pooled(1).pct(0.5):.1f} ({bench.ratio(var.pooled(1).pct(0.5), base.pooled(1).pct(0.5))})",
        f"{var.throughput(8):.1f} ({bench.ratio(var.throughput(8), base.throughput(8))})",
        f"{var.peak_rss_mb:.0f} ({bench.ratio(var.peak_rss_mb, base.peak_rss_mb)})",
        f"{var.pooled(1).errors + var.pooled(8).errors}",
        *(["same model"] * 4 if outcome.scores is None else outcome.scores.cells(baseline)),
        "" if outcome.training_s is None else f"{outcome.training_s:.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", action="store_true", help="also the variants that take minutes to train")
    parser.add_argument("--requests", type=int, default=4 * len(bench.QUESTIONS), help="questions per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="only variants whose name contains this text (alternatives: a|b)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "bench-choices.md")
    parser.add_argument(
        "--nlu-only",
        action="store_true",
        help="only the config variants, scored for understanding (no speed measurement)",
    )
    args = parser.parse_args(argv)
    os.chdir(PROJECT_DIR)  # the model's SpacyNLP path is relative to the project
    from bot.devtools.evaluate import quiet_rasa

    quiet_rasa()
    wanted = args.only.split("|") if args.only else [""]
    variants = [v for v in VARIANTS if (args.slow or not v.slow) and any(w in v.name for w in wanted)]
    if args.nlu_only:  # understanding only: the config variants and what reads the conversation
        return nlu_only(
            [v for v in variants if (v.config and v.config is not _add_memoization) or v.conversations], args.out
        )
    lines = [
        "| variant (each against the bot as built) | CPU per answer, all processes (ms) | p50, 1 client (ms) "
        "| throughput, 8 clients (req/s) | peak memory (MB) | errors | dev accuracy | off-topic leak "
        "| dev clarified | dev conversations | training (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="careerbot-choices-") as tmp_name:
        tmp = Path(tmp_name)
        print("training the bot as built...", flush=True)
        baseline_model = tmp / "baseline-model" / "careerbot.tar.gz"
        training_s = bench.train_ours(baseline_model.parent)
        baseline_scores = scores(baseline_model)
        print(
            f"  dev accuracy {baseline_scores.accuracy * 100:.1f} %, off-topic leak "
            f"{baseline_scores.leak * 100:.1f} %, dev clarified {baseline_scores.clarification * 100:.1f} %, "
            f"dev conversations {baseline_scores.conversations * 100:.1f} %, trained in {training_s:.0f} s",
            flush=True,
        )
        for index, variant in enumerate(variants):
            print(f"{variant.name}...", flush=True)
            outcome = measure(
                variant, baseline_model, baseline_scores, tmp / f"variant-{index}", args.requests, args.rounds
            )
            lines.append(_row(outcome, baseline_scores))
            print(lines[-1], flush=True)
    print("conversation stores...", flush=True)
    stores = store_costs()
    text = (
        f"Machine: {bench.machine()}\n\n"
        f"The bot as built: dev accuracy {baseline_scores.accuracy * 100:.1f} %, off-topic leak "
        f"{baseline_scores.leak * 100:.1f} %, dev clarified {baseline_scores.clarification * 100:.1f} %, "
        f"dev conversations {baseline_scores.conversations * 100:.1f} %, "
        f"trained in {training_s:.0f} s. In brackets: the variant against the bot as built, "
        f"measured side by side.\n\n"
        + "\n".join(lines)
        + "\n"
        + _payload_note()
        + f"\nThe conversation stores alone, 12 turns per conversation, in one process:\n\n{stores}"
    )
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


def nlu_only(variants: List[Variant], out: Path) -> int:
    """Each variant's dev accuracy, off-topic leak, dev clarification, dev conversations and training time."""
    lines = [
        "| variant (each against the bot as built) | dev accuracy | off-topic leak | dev clarified "
        "| dev conversations | training (s) |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="careerbot-choices-") as tmp_name:
        tmp = Path(tmp_name)
        print("training the bot as built...", flush=True)
        model, training_s, baseline = _train_variant(tmp / "baseline", lambda config: None)
        lines.append(f"| the bot as built | {' | '.join(baseline.cells(None))} | {training_s:.0f} |")
        print(lines[-1], flush=True)
        for index, variant in enumerate(variants):
            print(f"{variant.name}...", flush=True)
            if variant.config is None:
                variant_scores = same_model_scores(baseline, model, variant)
                lines.append(f"| {variant.name} | {' | '.join(variant_scores.cells(baseline))} | same model |")
            else:
                _, training_s, variant_scores = _train_variant(tmp / f"variant-{index}", variant.config)
                lines.append(f"| {variant.name} | {' | '.join(variant_scores.cells(baseline))} | {training_s:.0f} |")
            print(lines[-1], flush=True)
    text = f"Machine: {bench.machine()}\n\n" + "\n".join(lines) + "\n"
    print()
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return 0


def store_costs(conversations: int = 20, turns: int = 12) -> str:
    """Milliseconds per turn to read a conversation back and to save its new events, per store."""
    from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa import internals
    from bot.rasa.tracker_store import CareerSQLTrackerStore
    from bot.settings import SPEEDUPS

    # As in the Rasa process: only the store differs below.
    internals.install_speedups(frozenset(SPEEDUPS))
    internals.freeze_long_lived_objects()
    domain = Domain.load(str(PROJECT_DIR / "domain.yml"))

    async def per_turn(store: Any) -> "tuple[float, float]":
        read = write = 0.0
        for conversation in range(conversations):
            sender = f"bench-{conversation}"
            tracker = DialogueStateTracker(sender, domain.slots)
            for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
                tracker.update(event)
            await store.save(tracker)
            for _ in range(turns):
                started = time.perf_counter()
                tracker = await store.get_or_create_tracker(sender)
                read += time.perf_counter() - started
                for event in (
                    UserUttered("how much do they earn?", {"name": "ask_pay", "confidence": 0.9}),
                    ActionExecuted("action_answer_pay"),
                    BotUttered("They earn ..."),
                    SlotSet("topic", "pay"),
                    ActionExecuted("action_listen"),
                ):
                    tracker.update(event)
                started = time.perf_counter()
                await store.save(tracker)
                write += time.perf_counter() - started
        return read / (conversations * turns) * 1000, write / (conversations * turns) * 1000

    lines = ["| conversation store | read back (ms per turn) | save (ms per turn) |", "|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="careerbot-stores-") as tmp:
        stores = [
            ("Rasa's SQL store (ORM), SQLite", lambda: SQLTrackerStore(domain, host=f"sqlite:///{tmp}/a.db")),
            (
                "careerbot's, SQLite in journal mode",
                lambda: CareerSQLTrackerStore(domain, host=f"sqlite:///{tmp}/b.db", sqlite_wal=False),
            ),
            (
                "careerbot's, SQLite WAL, full sync (as built)",
                lambda: CareerSQLTrackerStore(domain, host=f"sqlite:///{tmp}/c.db"),
            ),
            ("Rasa's in-memory store (not persistent)", lambda: InMemoryTrackerStore(domain)),
        ]
        for name, make in stores:
            read, write = asyncio.run(per_turn(make()))
            lines.append(f"| {name} | {read:.2f} | {write:.2f} |")
    return "\n".join(lines) + "\n"


def _payload_note() -> str:
    """What Rasa sends the action server per call, and what leaving the domain out would save."""
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(PROJECT_DIR / "domain.yml"))
    started = time.perf_counter()
    for _ in range(200):
        json.loads(json.dumps(domain.as_dict()))
    ms = (time.perf_counter() - started) / 200 * 1000
    size = len(json.dumps(domain.as_dict()))
    return (
        f"\nEach action call carries the domain: {size / 1024:.1f} KB of JSON, {ms:.2f} ms to write and read "
        f"back on this machine. `enable_selective_domain` would leave it out.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
