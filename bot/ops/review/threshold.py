"""Below which classifier confidence an answer goes to the review inbox.

Measured by `python -m bot.devtools.review_threshold` on the dev sets (never the test set): of
the answers that give a career fact, the threshold that best separates the wrong ones from the
right ones (the highest F1 of "flagged = wrong"; its docstring has the rule, and it prints the table).
tests/nlu/test_accuracy.py checks that this is what the command measures on the current model:
after a retrain that moves it, run the command and copy its choice here.
"""

LOW_CONFIDENCE = 0.6
