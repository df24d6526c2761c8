"""Prints what the seeded off-topic split holds (bot/rasa/offtopic.py), and can write its training sample.

python -m bot.devtools.offtopic_split [--write build/offtopic.yml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from bot.rasa.offtopic import OUT_OF_SCOPE, OfftopicDataMissing, default_split


def to_yaml(texts: Sequence[str]) -> str:
    return 'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n' + "".join(f"    - {t}\n" for t in texts)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", type=Path, help="also write the training sample as Rasa NLU YAML (to look at)")
    args = parser.parse_args(argv)
    try:
        result = default_split()
    except OfftopicDataMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    intents = {(q.source, q.intent) for q in result.dev}
    print(f"development split: {len(result.dev)} queries over {len(intents)} source intents (never trained on)")
    print(f"training sample: {len(result.train)} queries, labelled {OUT_OF_SCOPE}")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(to_yaml([q.text for q in result.train]), encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
