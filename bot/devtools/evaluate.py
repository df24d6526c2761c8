"""Measures what the trained model understands: on the test set, the dev set and the real off-topic traffic.

    python -m bot.devtools.evaluate [--model models/careerbot.tar.gz] [--set tests/nlu/dev_set.yml ...] [--no-offtopic]
                           [--no-conversations] [--errors] [--record] [--json FILE]

For each set it prints:

- intent accuracy: the share of lines whose intent is right. An out_of_scope line is
  right when the model says out_of_scope or gives the plain fallback. A line the bot
  would answer with a clarifying question (bot.clarify) is NOT counted right; it is
  counted apart as the clarification rate.
- answer accuracy: the same, for the kind of reply the visitor gets. The actions
  refuse a career intent when the message asks about another job ("how much do
  nurses make?") and name that job instead (actions.base.other_job, run here on the
  model's entities): such a refusal is right for an out_of_scope line and wrong for
  an in-scope one.
- the leak rate: of the off-topic lines, the share that would get a career answer
  (a topic intent, `inform` or `ask_without`, not refused as another job's question);
  for the off-topic traffic also per kind of message (bot.rasa.offtopic.CATEGORIES:
  small talk, one's own job and day, utilities, factual questions, banking);
- the clarification rate and the plain fallback rate, over the in-scope lines (over
  every line for the off-topic traffic);
- the most frequent confusion pairs (expected -> predicted).

Then, unless `--set` or `--no-conversations` is given, the conversation sets
(tests/conversations/, bot.devtools.conversations): the bot is started and every
conversation played turn by turn; it prints the share of follow-up turns answered
as meant in context, by kind, and the leak of off-topic queries asked right after
an answer.

The off-topic traffic is the development split of bot/rasa/offtopic.py (never trained on).
The misspelled variants of the test set and of dev set 2 are made here, by the seeded
noise of bot/devtools/noise.py (1 or 2 edits in 1 to 3 words of each line), never stored.
`--json FILE` also writes each set's figures as JSON (`as_json`), for a program that compares
models (bot/ops/review/retrain.py, which may not load Rasa itself). `--record` also writes
the figures the docs quote into docs/numbers.yml (`make docs-numbers` then copies them into
the docs). `--errors` lists every wrong line; use it on the dev set only: the test set is
measured, never tuned on (its misspelled variant never lists its lines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot import PROJECT_DIR
from bot.clarify import clarification_pair, gives_career_answer
from bot.devtools import docs_numbers, noise
from bot.rasa.nlu_data import load_test_set
from bot.similarity import NEAR_DUPLICATE as NEAR_DUPLICATE
from bot.similarity import near_duplicates as near_duplicates
from bot.similarity import normalise as normalise

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
TEST_SET = PROJECT_DIR / "tests" / "nlu" / "test_set.yml"
DEV_SET = PROJECT_DIR / "tests" / "nlu" / "dev_set.yml"
# Written blind like the test set, later: the set to tune on (the first dev set has near-copies in training).
DEV_SET_2 = PROJECT_DIR / "tests" / "nlu" / "dev_set_2.yml"
MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"
OFFTOPIC_NAME = "off-topic dev split"


@dataclass
class Outcome:
    text: str
    expected: str  # an intent; for the off-topic traffic always out_of_scope
    predicted: str
    clarified: bool = False  # predicted nlu_fallback and the bot asks which of two topics
    # Another job the message asks about (the actions' own rule, actions.base.other_job): with
    # a career intent predicted, the bot refuses and names that job instead of answering.
    other_job: Optional[str] = None
    # The classifier's own ranking (nlu_fallback left out), to try other fallback thresholds.
    ranking: List[Mapping[str, Any]] = field(default_factory=list, repr=False)
    # The kind of off-topic message (bot.rasa.offtopic.CATEGORIES), for the off-topic traffic.
    category: Optional[str] = None

    @property
    def off_topic(self) -> bool:
        return self.expected == OUT_OF_SCOPE

    @property
    def plain_fallback(self) -> bool:
        return self.predicted == FALLBACK_INTENT and not self.clarified

    @property
    def right(self) -> bool:
        """The classifier alone is right."""
        if self.off_topic:
            return self.predicted == OUT_OF_SCOPE or self.plain_fallback
        return self.predicted == self.expected

    @property
    def refused_other_job(self) -> bool:
        return self.other_job is not None and gives_career_answer(self.predicted)

    @property
    def answered_right(self) -> bool:
        """The visitor gets the right kind of reply: the classifier's intent, or a refusal that names another job."""
        if self.refused_other_job:
            return self.off_topic
        return self.right

    @property
    def leaked(self) -> bool:
        """An off-topic message gets a career fact (a refusal naming another job is not one)."""
        return self.off_topic and gives_career_answer(self.predicted) and not self.refused_other_job

    @property
    def shown(self) -> str:
        """The prediction as the visitor sees it: clarified turns are told apart from plain fallbacks."""
        if self.refused_other_job:
            return "other job"
        return "clarify" if self.clarified else self.predicted


def named_other_job(text: str, parsed: Mapping[str, Any]) -> Optional[str]:
    """The other job the actions would refuse for this parse, by their own rule."""
    if not any(e.get("entity") == "other_career" for e in parsed.get("entities") or []):
        return None
    from rasa_sdk import Tracker

    from actions.base import other_job
    from bot.knowledge import default_knowledge

    tracker = Tracker("evaluate", {}, {**parsed, "text": text}, [], False, None, {}, "")
    return other_job(tracker, default_knowledge().career())


def outcome(text: str, expected: str, parsed: Mapping[str, Any]) -> Outcome:
    predicted = (parsed.get("intent") or {}).get("name") or FALLBACK_INTENT
    ranking = parsed.get("intent_ranking") or []
    clarified = predicted == FALLBACK_INTENT and clarification_pair(ranking) is not None
    return Outcome(
        text,
        expected,
        predicted,
        clarified,
        ranking=[r for r in ranking if r.get("name") != FALLBACK_INTENT],
        other_job=named_other_job(text, parsed),
    )


def with_fallback(original: Outcome, threshold: float, ambiguity: float) -> Outcome:
    """The outcome had Rasa's FallbackClassifier used these thresholds (its rule, on the same ranking)."""
    ranking = original.ranking
    if not ranking:
        return original
    first = float(ranking[0].get("confidence") or 0.0)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    if first < threshold or first - second < ambiguity:
        parsed = {
            "intent": {"name": FALLBACK_INTENT, "confidence": threshold},
            "intent_ranking": [{"name": FALLBACK_INTENT, "confidence": threshold}, *ranking],
        }
    else:
        parsed = {"intent": ranking[0], "intent_ranking": ranking}
    return replace(
        outcome(original.text, original.expected, parsed), other_job=original.other_job, category=original.category
    )


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class Report:
    name: str
    outcomes: List[Outcome] = field(default_factory=list)
    # The off-topic traffic: every line is off-topic and the conversation intents
    # (thanks, yes, no...) are fine too, as long as no career fact is given.
    traffic: bool = False
    # A blind set's variant whose wrong lines are never listed, even with --errors.
    blind: bool = False

    @property
    def in_scope(self) -> List[Outcome]:
        return [o for o in self.outcomes if not o.off_topic]

    @property
    def off_topic(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.off_topic]

    @property
    def accuracy(self) -> float:
        return _rate(sum(o.right for o in self.outcomes), len(self.outcomes))

    @property
    def answer_accuracy(self) -> float:
        return _rate(sum(o.answered_right for o in self.outcomes), len(self.outcomes))

    @property
    def in_scope_accuracy(self) -> float:
        return _rate(sum(o.right for o in self.in_scope), len(self.in_scope))

    @property
    def leak_rate(self) -> float:
        return _rate(sum(o.leaked for o in self.off_topic), len(self.off_topic))

    @property
    def refused(self) -> int:
        """Lines answered out_of_scope or with the plain fallback."""
        return sum(o.predicted == OUT_OF_SCOPE or o.plain_fallback for o in self.outcomes)

    def _base(self) -> List[Outcome]:
        return self.outcomes if self.traffic else self.in_scope

    @property
    def clarification_rate(self) -> float:
        return _rate(sum(o.clarified for o in self._base()), len(self._base()))

    @property
    def fallback_rate(self) -> float:
        return _rate(sum(o.plain_fallback for o in self._base()), len(self._base()))

    @property
    def errors(self) -> List[Outcome]:
        return [o for o in self.outcomes if (o.leaked if self.traffic else not o.right)]

    def leaks_by_category(self) -> List[Tuple[str, int, int]]:
        """(category, leaked, lines) for every category of off-topic line, in bot.rasa.offtopic's order."""
        from bot.rasa.offtopic import CATEGORIES

        counts: Counter = Counter()
        leaks: Counter = Counter()
        for o in self.off_topic:
            if o.category is not None:
                counts[o.category] += 1
                leaks[o.category] += o.leaked
        order = [c for c in CATEGORIES if c in counts] + sorted(set(counts) - set(CATEGORIES))
        return [(c, leaks[c], counts[c]) for c in order]

    def confusions(self, top: int = 10) -> List[Tuple[Tuple[str, str], int]]:
        pairs = Counter((o.expected, o.shown) for o in self.errors)
        return pairs.most_common(top)

    def summary(self, errors: bool = False) -> str:
        n, base = len(self.outcomes), len(self._base())
        lines = [f"{self.name}: {n} lines"]
        if self.traffic:
            refused = self.refused
            lines.append(f"  leak rate (a career answer): {self.leak_rate:.1%} ({len(self.errors)}/{n})")
            lines.append(f"  refused (out_of_scope or fallback): {_rate(refused, n):.1%} ({refused}/{n})")
            by_category = self.leaks_by_category()
            if by_category:
                lines.append(
                    "  leak rate by category: "
                    + ", ".join(f"{c} {_rate(k, m):.1%} ({k}/{m})" for c, k, m in by_category)
                )
        else:
            right = sum(o.right for o in self.outcomes)
            lines.append(f"  intent accuracy: {self.accuracy:.1%} ({right}/{n})")
            answered = sum(o.answered_right for o in self.outcomes)
            lines.append(f"  answer accuracy (other jobs refused by name): {self.answer_accuracy:.1%} ({answered}/{n})")
            in_right = sum(o.right for o in self.in_scope)
            lines.append(f"  in-scope accuracy: {self.in_scope_accuracy:.1%} ({in_right}/{len(self.in_scope)})")
            if self.off_topic:
                leaked = sum(o.leaked for o in self.off_topic)
                lines.append(
                    f"  leak rate of its out_of_scope lines: {self.leak_rate:.1%} ({leaked}/{len(self.off_topic)})"
                )
        clarified = sum(o.clarified for o in self._base())
        fallback = sum(o.plain_fallback for o in self._base())
        scope = "" if self.traffic else " of in-scope lines"
        lines.append(f"  clarification rate{scope}: {self.clarification_rate:.1%} ({clarified}/{base})")
        lines.append(f"  plain fallback rate{scope}: {self.fallback_rate:.1%} ({fallback}/{base})")
        if self.confusions():
            lines.append(
                "  top confusions (expected -> predicted): "
                + ", ".join(f"{e} -> {p} ({c})" for (e, p), c in self.confusions())
            )
        if errors and not self.blind:
            for o in self.errors:
                kind = f" [{o.category}]" if o.category else ""
                lines.append(f"  - {o.text!r}{kind}: expected {o.expected}, got {o.shown}")
        return "\n".join(lines)


def offtopic_lines() -> List[Tuple[str, str]]:
    from bot.rasa import offtopic

    return [(q.text, OUT_OF_SCOPE) for q in offtopic.default_split().dev]


def offtopic_categories() -> List[str]:
    """The category of each line of offtopic_lines(), in the same order."""
    from bot.rasa import offtopic

    return [q.category for q in offtopic.default_split().dev]


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog unless told otherwise."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


class Parser:
    """The trained model's NLU, loaded once for all the sets."""

    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(str(model))

    async def parse_all(self, lines: Sequence[Tuple[str, str]]) -> List[Outcome]:
        return [outcome(text, expected, await self.agent.parse_message(text)) for text, expected in lines]


async def evaluate_lines(
    parser: Parser, name: str, lines: Sequence[Tuple[str, str]], traffic: bool = False, blind: bool = False
) -> Report:
    return Report(name, await parser.parse_all(lines), traffic=traffic, blind=blind)


async def evaluate(model: Path, test_set: Path) -> Report:
    parser = Parser(model)
    return await evaluate_lines(parser, test_set.name, load_test_set(test_set))


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR) if path.is_absolute() and PROJECT_DIR in path.parents else path)


def misspelled_name(path: Path, seed: int = noise.SEED) -> str:
    return f"{_shown(path)}, misspelled (bot/devtools/noise.py, seed {seed})"


async def evaluate_all(
    model: Path, sets: Sequence[Path], offtopic: bool = True, misspelled: Sequence[Path] = ()
) -> List[Report]:
    """A report per set, then one per misspelled variant of `misspelled`, then the off-topic traffic."""
    parser = Parser(model)
    reports = [await evaluate_lines(parser, _shown(path), load_test_set(path)) for path in sets]
    for path in misspelled:
        lines = noise.misspelled_lines(load_test_set(path))
        blind = path.resolve() == TEST_SET.resolve()
        reports.append(await evaluate_lines(parser, misspelled_name(path), lines, blind=blind))
    if offtopic:
        traffic = await evaluate_lines(parser, OFFTOPIC_NAME, offtopic_lines(), traffic=True)
        for line, kind in zip(traffic.outcomes, offtopic_categories(), strict=True):
            line.category = kind
        reports.append(traffic)
    return reports


def training_lines(config: Path = PROJECT_DIR / "config.yml") -> List[Tuple[str, str]]:
    """(text, intent) of every NLU training example as `rasa train` sees it, the off-topic sample included."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_nlu_importer_from_config(
        str(config), training_data_paths=[str(PROJECT_DIR / "data")]
    )
    return [(m.get("text"), m.get("intent")) for m in importer.get_nlu_data().intent_examples]


THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
AMBIGUITIES = (0.0, 0.05, 0.1, 0.15)


def fallback_grid(dev: Report, traffic: Report) -> str:
    """Accuracy, clarification and leak for every pair of FallbackClassifier thresholds."""
    lines = [
        "FallbackClassifier thresholds on the dev set and the off-topic dev split:",
        "| threshold | ambiguity | dev accuracy | dev clarified | dev plain fallback | off-topic leak |",
        "|---|---|---|---|---|---|",
    ]
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            d = Report(dev.name, [with_fallback(o, threshold, ambiguity) for o in dev.outcomes])
            t = Report(traffic.name, [with_fallback(o, threshold, ambiguity) for o in traffic.outcomes], traffic=True)
            lines.append(
                f"| {threshold} | {ambiguity} | {d.accuracy:.1%} | {d.clarification_rate:.1%} "
                f"| {d.fallback_rate:.1%} | {t.leak_rate:.1%} |"
            )
    return "\n".join(lines)


def as_percent(rate: float) -> str:
    """A rate as summary() prints it, without the sign: 0.962 -> 96.2."""
    return f"{rate * 100:.1f}"


# The record's names of the default sets (docs/numbers.yml, run "evaluate").
RECORDED_SETS = {"test": TEST_SET, "dev": DEV_SET, "dev_2": DEV_SET_2}


def figures(reports: Sequence[Report]) -> Dict[str, str]:
    """The figures the docs quote from a run over the default sets, as summary() prints them.

    bot/devtools/docs_numbers.py copies them from docs/numbers.yml into the docs, and
    tests/nlu/test_accuracy.py checks that the record holds the current model's.
    """
    names = {_shown(path): name for name, path in RECORDED_SETS.items()}
    names.update({misspelled_name(path): f"misspelled_{name}" for name, path in RECORDED_SETS.items()})
    names[OFFTOPIC_NAME] = "offtopic"
    found: Dict[str, str] = {}
    for report in reports:
        name = names.get(report.name)
        if name is None:
            continue
        if report.traffic:
            found[f"{name}.refused"] = as_percent(_rate(report.refused, len(report.outcomes)))
            found[f"{name}.leak"] = as_percent(report.leak_rate)
            found[f"{name}.leaked"] = f"{len(report.errors):,}"
        else:
            found[f"{name}.intent_accuracy"] = as_percent(report.accuracy)
            found[f"{name}.answer_accuracy"] = as_percent(report.answer_accuracy)
            if report.off_topic:
                found[f"{name}.leak"] = as_percent(report.leak_rate)
        found[f"{name}.clarification"] = as_percent(report.clarification_rate)
        found[f"{name}.fallback"] = as_percent(report.fallback_rate)
    return found


def as_json(reports: Sequence[Report]) -> List[Dict[str, Any]]:
    """Each set's figures with their counts, for `--json`: a program compares them without Rasa."""
    return [
        {
            "name": report.name,
            "traffic": report.traffic,
            "lines": len(report.outcomes),
            "right": sum(o.right for o in report.outcomes),
            "answered_right": sum(o.answered_right for o in report.outcomes),
            "off_topic": len(report.off_topic),
            "leaked": sum(o.leaked for o in report.off_topic),
            "intent_accuracy": report.accuracy,
            "answer_accuracy": report.answer_accuracy,
            "leak_rate": report.leak_rate,
        }
        for report in reports
    ]


def conversation_figures(reports: Mapping[str, Any]) -> Dict[str, str]:
    """The figures the docs quote of the conversation sets (ConversationReports by their name here)."""
    from bot.devtools import conversations as c

    found = {
        f"{name}.followup_accuracy": as_percent(reports[_shown(path)].followup_accuracy)
        for name, path in (("test", c.TEST_SET), ("dev", c.DEV_SET), ("dev_2", c.DEV_SET_2))
    }
    found["detours.leak"] = as_percent(reports[DETOURS_NAME].leak_rate)
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument(
        "--set",
        dest="sets",
        type=Path,
        action="append",
        help=f"an NLU test file (repeatable); default: {TEST_SET.name}, {DEV_SET.name} and {DEV_SET_2.name}",
    )
    parser.add_argument("--no-offtopic", action="store_true", help="skip the off-topic dev split")
    parser.add_argument(
        "--no-conversations",
        action="store_true",
        help="skip the conversation sets (they start the bot: Rasa and the action server)",
    )
    parser.add_argument(
        "--no-misspelled",
        action="store_true",
        help=f"skip the misspelled variants of {TEST_SET.name} and {DEV_SET_2.name}",
    )
    parser.add_argument("--errors", action="store_true", help="list every wrong line (tune on the dev sets only)")
    parser.add_argument(
        "--fallback-grid",
        action="store_true",
        help="instead: try FallbackClassifier thresholds on the dev set and the off-topic split",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="also write the figures the docs quote into docs/numbers.yml (then: make docs-numbers)",
    )
    parser.add_argument("--json", type=Path, help="also write each set's figures to this file as JSON")
    args = parser.parse_args(argv)
    if args.record and (args.sets or args.fallback_grid or args.no_offtopic or args.no_misspelled or args.errors):
        parser.error(
            "--record measures the default run: no --set, --fallback-grid, --no-offtopic, --no-misspelled or --errors"
        )
    sets = args.sets or [p for p in (TEST_SET, DEV_SET, DEV_SET_2) if p.exists()]
    if args.fallback_grid:
        sets = [DEV_SET_2]
    json_file = args.json.resolve() if args.json else None  # named from where the command runs
    os.chdir(PROJECT_DIR)  # the model's SpacyNLP path is relative to the project
    quiet_rasa()
    misspelled = (
        [] if args.fallback_grid or args.no_misspelled else [p for p in sets if p.resolve() in (TEST_SET, DEV_SET_2)]
    )
    reports = asyncio.run(
        evaluate_all(args.model, sets, offtopic=args.fallback_grid or not args.no_offtopic, misspelled=misspelled)
    )
    if args.fallback_grid:
        print(fallback_grid(*reports))
        return 0
    for report in reports:
        print(report.summary(errors=args.errors))
    if json_file:
        json_file.write_text(json.dumps({"model": str(args.model), "sets": as_json(reports)}, indent=2) + "\n")
    if args.record:
        docs_numbers.record("evaluate", "python -m bot.devtools.evaluate --record", figures(reports))
    if not args.no_conversations and not args.sets:
        played = play_conversations(args.model)
        print(conversation_summaries(played, errors=args.errors))
        if args.record:
            docs_numbers.record(
                "conversations", "python -m bot.devtools.evaluate --record", conversation_figures(played)
            )
    if args.record:
        print("recorded in docs/numbers.yml; `make docs-numbers` writes the figures into the docs")
    return 0


DETOURS_NAME = "off-topic dev split, mid-conversation"


def play_conversations(model: Path) -> Dict[str, Any]:
    """The conversation sets turn by turn, and off-topic queries asked mid-conversation (bot.devtools.conversations):
    a ConversationReport per set, by name."""
    from bot.devtools import conversations as c

    sets = {
        _shown(c.TEST_SET): c.load_conversations(c.TEST_SET),
        _shown(c.DEV_SET): c.load_conversations(c.DEV_SET),
        _shown(c.DEV_SET_2): c.load_conversations(c.DEV_SET_2),
        DETOURS_NAME: c.detours(),
    }
    played = c.run_conversations(model, sets)
    return {name: c.ConversationReport(name, outcomes) for name, outcomes in played.items()}


def conversation_summaries(reports: Mapping[str, Any], errors: bool = False) -> str:
    """The reports of play_conversations; the test set's errors are never listed: it is measured, not tuned on."""
    from bot.devtools import conversations as c

    return "\n".join(
        report.summary(errors=errors and not name.endswith(c.TEST_SET.name)) for name, report in reports.items()
    )


if __name__ == "__main__":
    sys.exit(main())
