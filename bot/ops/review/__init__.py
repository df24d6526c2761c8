"""The review inbox: what the bot got wrong, grouped, for the site owner to turn into training data
(`python -m bot.ops.review`, `make review`, `make review-train`; docs/review.md)."""
