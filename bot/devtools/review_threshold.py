"""Measures the review inbox's low-confidence threshold (bot/ops/review/threshold.py) on the dev sets.

    python -m bot.devtools.review_threshold [--model models/careerbot.tar.gz]

Of the dev-set lines the bot answers with a career fact (a topic or a follow-up intent, not
refused as another job's question: bot.devtools.evaluate's Outcome), an answer is *wrong* when
the visitor does not get the right kind of reply (`answered_right`: another topic, or a career
fact for an off-topic line). The inbox flags an answer whose intent confidence is below the
threshold. For each candidate threshold the table gives how many answers it flags, how many of
the wrong ones it catches (recall), how many of the flagged ones are wrong (precision), and F1.

The rule: the candidate with the highest F1 of "flagged = wrong", the lowest such candidate on a
tie. F1 weighs the owner's two costs together: a right answer in the inbox is reading time for
nothing, a wrong answer not in it stays wrong. The candidates start above the FallbackClassifier's
threshold (config.yml, 0.3): below it no turn gets an answer at all.

Only the dev sets are read (tests/nlu/dev_set.yml and dev_set_2.yml), never the test set: the
test set is measured, not tuned on. tests/nlu/test_accuracy.py checks that the constant in
bot/ops/review/threshold.py is what this measures on the current model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from bot import PROJECT_DIR
from bot.clarify import gives_career_answer
from bot.devtools.evaluate import DEV_SET, DEV_SET_2, MODEL, Outcome, Report, evaluate_all, quiet_rasa

# Above the FallbackClassifier's 0.3, in steps of 0.05 (the constant is one of these, exactly).
CANDIDATES = tuple(round(0.35 + 0.05 * step, 2) for step in range(13))


def confidence(outcome: Outcome) -> float:
    """The classifier's confidence in the intent it predicted."""
    for entry in outcome.ranking:
        if entry.get("name") == outcome.predicted:
            return float(entry.get("confidence") or 0.0)
    return 0.0


def career_answers(reports: Iterable[Report]) -> List[Outcome]:
    """The lines the bot answers with a career fact."""
    return [
        o for report in reports for o in report.outcomes if gives_career_answer(o.predicted) and not o.refused_other_job
    ]


@dataclass(frozen=True)
class Row:
    threshold: float
    answers: int  # career answers measured
    wrong: int  # of them, wrong
    flagged: int  # below the threshold
    caught: int  # flagged and wrong

    @property
    def precision(self) -> float:
        return self.caught / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.caught / self.wrong if self.wrong else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def table(answers: Sequence[Outcome], candidates: Sequence[float] = CANDIDATES) -> List[Row]:
    scored = [(confidence(o), not o.answered_right) for o in answers]
    wrong = sum(is_wrong for _, is_wrong in scored)
    return [
        Row(
            threshold,
            len(scored),
            wrong,
            sum(c < threshold for c, _ in scored),
            sum(c < threshold and is_wrong for c, is_wrong in scored),
        )
        for threshold in candidates
    ]


def choose(rows: Sequence[Row]) -> Row:
    """The highest F1; the lowest threshold among equals (fewer right answers flagged)."""
    return max(rows, key=lambda row: (round(row.f1, 9), -row.threshold))


def render(rows: Sequence[Row], chosen: Row) -> str:
    first = rows[0]
    lines = [
        f"career answers on the dev sets: {first.answers}, wrong: {first.wrong}",
        "| below | flagged | wrong caught | right flagged | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        mark = " <- chosen" if row is chosen else ""
        lines.append(
            f"| {row.threshold:.2f} | {row.flagged} | {row.caught}/{row.wrong} | {row.flagged - row.caught} "
            f"| {row.precision:.1%} | {row.recall:.1%} | {row.f1:.3f} |{mark}"
        )
    lines.append(
        f"LOW_CONFIDENCE = {chosen.threshold} (the highest F1 of flagged = wrong; bot/ops/review/threshold.py)"
    )
    return "\n".join(lines)


def measure(model: Path = MODEL) -> List[Report]:
    """The dev sets' reports, as tests/nlu/test_accuracy.py also parses them."""
    cwd = os.getcwd()
    os.chdir(PROJECT_DIR)  # the model's SpacyNLP path is relative to the project
    try:
        return asyncio.run(evaluate_all(model, [DEV_SET, DEV_SET_2], offtopic=False))
    finally:
        os.chdir(cwd)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"error: no trained model at {args.model}: run `make train`", file=sys.stderr)
        return 1
    quiet_rasa()
    rows = table(career_answers(measure(args.model.resolve())))
    print(render(rows, choose(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
