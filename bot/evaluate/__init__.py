"""`python -m bot.evaluate`: the documented command of the NLU evaluation.

The code is bot/devtools/evaluate.py; this package only keeps the command
that the README, docs/understanding.md, docs/benchmarks.md and config.yml name.
"""
