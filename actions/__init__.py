"""Custom actions: one module per feature. rasa-sdk registers every Action subclass here."""

from actions import (  # noqa: F401
    careers,
    conversation,
    development,
    education,
    feedback,
    followup,
    handoff,
    licensing,
    overview,
    pay,
    session,
    work,
)
