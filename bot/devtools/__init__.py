"""What developers run: the benchmarks (make bench, make bench-choices), the
NLU evaluation (python -m bot.devtools.evaluate), the multi-instance harness (cluster)
and the off-topic split report. Never imported by the servers."""
