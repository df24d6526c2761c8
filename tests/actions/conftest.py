"""Runs an action as the action server would, and renders what it sends.

The tracker and dispatcher are rasa-sdk's own; the domain is the project's
domain.yml as Rasa sends it; responses are rendered by Rasa's own templated
NLG, so a placeholder the action forgot to fill shows up in the test.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


@dataclass
class Reply:
    response: Optional[str]
    text: str
    buttons: List[Dict[str, Any]]


@dataclass
class Outcome:
    events: List[Dict[str, Any]]
    replies: List[Reply]

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)


def make_tracker(
    text: str = "",
    intent: str = "ask_pay",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    ranking: Optional[Dict[str, float]] = None,
) -> Tracker:
    """A tracker whose latest message is `text` (sent with `metadata`); `events` come before that message.

    `ranking` is the classifier's, intent by intent; the intent is then its first.
    """
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": name, "confidence": value} for name, value in (ranking or {}).items()],
        "entities": [
            {"entity": e, "value": v, "start": 0, "end": len(v), "extractor": "SpacyEntityExtractor"}
            for e, v in (entities or {}).items()
        ]
        if isinstance(entities, dict)
        else (entities or []),
        "metadata": metadata or {},
    }
    if ranking:
        latest["intent"] = dict(latest["intent_ranking"][0])
    return Tracker(
        sender_id="test-user",
        slots=dict({"topic": None, "job_level": None, "us_state": None, "degree_field": None}, **(slots or {})),
        latest_message=latest,
        events=[*(events or []), {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


@pytest.fixture(scope="session")
def domain_dict(rasa_domain) -> Dict[str, Any]:
    return rasa_domain.as_dict()


@pytest.fixture(scope="session")
def render(rasa_domain):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker

    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    rasa_tracker = DialogueStateTracker("test-user", rasa_domain.slots)

    def _render(message: Dict[str, Any]) -> Reply:
        # The same call Rasa makes with what the action server returns.
        message = dict(message)
        name = message.pop("response", None)
        if name is None:
            return Reply(None, message.get("text") or "", message.get("buttons") or [])
        generated = asyncio.run(nlg.generate(name, rasa_tracker, "rest", **message))
        assert generated is not None, f"response {name} is not in the domain"
        # Buttons the action adds go after the response's own, as Rasa's RemoteAction does.
        buttons = list(generated.get("buttons") or []) + list(message.get("buttons") or [])
        return Reply(name, generated.get("text") or "", buttons)

    return _render


@pytest.fixture(scope="session")
def run_action(domain_dict, render):
    def _run(action, **tracker_args) -> Outcome:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, make_tracker(**tracker_args), domain_dict))
        replies = [render(m) for m in dispatcher.messages]
        for reply in replies:
            assert "{" not in reply.text, f"unfilled placeholder in {reply.response}: {reply.text}"
        return Outcome(events, replies)

    return _run


@pytest.fixture(scope="session")
def tracker():
    """Builds a rasa-sdk Tracker: tracker(text=..., intent=..., entities=..., slots=...)."""
    return make_tracker
