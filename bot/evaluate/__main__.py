"""Runs bot.devtools.evaluate: accuracy, off-topic leak and clarification (see its docstring)."""

import sys

from bot.devtools.evaluate import main

sys.exit(main())
