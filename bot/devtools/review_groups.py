"""How the review inbox's grouping threshold was chosen: python -m bot.devtools.review_groups.

Groups the lines of tests/nlu/dev_set_2.yml (a tuning set; never the test set) as the inbox
groups waiting messages (bot.vectors.greedy_groups over bot.vectors.sentence_vectors), for a few
thresholds, and prints for each: the share of same-intent pairs put in one group (higher: fewer
decisions for the owner) and the share of different-intent pairs merged (lower: a label given to
a group is right for more of its messages), and of the pairs put in one group, the share whose
intents differ (how often a group's label would be wrong for one of its messages). The chosen
value is GROUP_SIMILARITY in bot/ops/review/groups.py.
"""

from __future__ import annotations

import argparse
import sys
from itertools import combinations
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from bot import PROJECT_DIR
from bot.similarity import nlu_examples
from bot.vectors import VectorsMissing, greedy_groups, sentence_vectors

DEV_SET = PROJECT_DIR / "tests" / "nlu" / "dev_set_2.yml"
THRESHOLDS = (0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.925, 0.95)


Result = Tuple[float, float, float, float, int]


def measure(examples: Sequence[Tuple[str, str]], thresholds: Sequence[float]) -> List[Result]:
    """(threshold, same-intent pairs together, different-intent pairs merged, the share of different-intent
    pairs among the pairs in one group, groups) per threshold."""
    vectors = sentence_vectors(text for text, _ in examples)
    labels = [intent for _, intent in examples]
    pairs = list(combinations(range(len(examples)), 2))
    same = sum(1 for a, b in pairs if labels[a] == labels[b])
    results = []
    for threshold in thresholds:
        where = {}
        groups = greedy_groups(vectors, threshold)
        for number, members in enumerate(groups):
            for index in members:
                where[index] = number
        together = [(a, b) for a, b in pairs if where[a] == where[b]]
        kept = sum(1 for a, b in together if labels[a] == labels[b])
        merged = len(together) - kept
        results.append(
            (
                threshold,
                kept / max(same, 1),
                merged / max(len(pairs) - same, 1),
                merged / max(len(together), 1),
                len(groups),
            )
        )
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEV_SET, help="an NLU file (default: tests/nlu/dev_set_2.yml)")
    args = parser.parse_args(argv)
    examples = nlu_examples(args.set)
    try:
        results = measure(examples, THRESHOLDS)
    except VectorsMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(examples)} lines of {args.set.name}, {len({i for _, i in examples})} intents")
    print("threshold  same-intent pairs together  different-intent pairs merged  of pairs together: mixed  groups")
    for threshold, together, merged, mixed, groups in results:
        print(f"{threshold:9.3g}  {together:25.1%}  {merged:29.2%}  {mixed:24.1%}  {groups:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
