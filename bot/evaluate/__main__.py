"""Runs bot.devtools.evaluate: accuracy, off-topic leak and clarification (see its docstring)."""

import sys

from bot.devtools.evaluate import main

sys.argv[0] = "python -m bot.evaluate"  # what --help shows as the command
sys.exit(main())
