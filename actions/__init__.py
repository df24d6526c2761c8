"""Custom actions: one module per feature. rasa-sdk registers every Action subclass here."""

from actions import conversation, development, education, followup, licensing, overview, pay, work  # noqa: F401
