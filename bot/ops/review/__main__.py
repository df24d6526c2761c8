"""python -m bot.ops.review: the review inbox's command (bot/ops/review/cli.py)."""

import sys

from bot.ops.review.cli import main

sys.exit(main())
