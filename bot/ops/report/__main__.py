"""python -m bot.ops.report: the deflection report's command (bot/ops/report/cli.py)."""

import sys

from bot.ops.report.cli import main

sys.exit(main())
