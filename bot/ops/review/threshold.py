"""Below which classifier confidence an answer goes to the review inbox.

PLACEHOLDER while issue 22 is built: `python -m bot.devtools.review_threshold` will measure it.
"""

LOW_CONFIDENCE = 0.5
