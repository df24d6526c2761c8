"""Scores whole conversations turn by turn, through the real bot (python -m bot.devtools.evaluate prints it).

A conversation set (tests/conversations/*.yml) holds conversations written blind, each
turn labelled with what the bot must answer *in context*: "and after a few years?"
after the starting pay is `ask_pay_level` with `level: experienced`. The bot is started
as `make run` starts it (Rasa, the action server, a SQLite store, on free loopback
ports); every turn is sent over REST, and the stored events of the turn say what the
visitor got:

- a topic intent is right when the turn's answer (the message that carries an answer
  id) is that topic's, about the career the turn names (default: the deployment's),
  and for `ask_pay_level` names that level; an honest "not covered" for that topic
  counts as that topic's answer;
- `out_of_scope` is right when the turn gives no career answer;
- `ask_source` is right when the turn cites the source;
- any other label (greet, thanks, affirm...) is right when the classifier said it.

The first turn of each conversation is reported apart from the follow-ups, which are
what the set is for.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import requests
import yaml

from bot import PROJECT_DIR
from bot.context import topic_of

TEST_SET = PROJECT_DIR / "tests" / "conversations" / "test_set.yml"
DEV_SET = PROJECT_DIR / "tests" / "conversations" / "dev_set.yml"
# Written later, blind like the others, with more references (how people point back).
DEV_SET_2 = PROJECT_DIR / "tests" / "conversations" / "dev_set_2.yml"
DEFAULT_CAREER = "mortgage_servicing_specialist"
SOURCE_RESPONSES = ("utter_answer_source", "utter_answer_source_at", "utter_answer_sources", "utter_answer_sources_at")
NOT_COVERED = ("utter_not_covered", "utter_not_covered_only")


@dataclass(frozen=True)
class Turn:
    user: str
    expect: str
    kind: str = "first"
    level: Optional[str] = None
    career: Optional[str] = None


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: List[Turn]


def load_conversations(path: Path) -> List[Conversation]:
    """The conversations of a set; a malformed one names the file, the conversation and the field."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise ValueError(f"{path}: expected a mapping with a 'conversations' list")
    conversations = []
    for number, raw in enumerate(data["conversations"], 1):
        where = f"{path}: conversation {raw.get('id', number) if isinstance(raw, dict) else number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list) or not raw["turns"]:
            raise ValueError(f"{where}: expected 'id' and a non-empty 'turns' list")
        turns = []
        for index, turn in enumerate(raw["turns"]):
            if not isinstance(turn, dict) or not isinstance(turn.get("user"), str) or not turn.get("expect"):
                raise ValueError(f"{where}, turn {index + 1}: expected 'user' (text) and 'expect' (an intent)")
            if turn["expect"] == "ask_pay_level" and turn.get("level") not in ("starting", "experienced", "manager"):
                raise ValueError(
                    f"{where}, turn {index + 1}: ask_pay_level needs 'level' (starting, experienced or manager)"
                )
            turns.append(
                Turn(
                    user=turn["user"],
                    expect=turn["expect"],
                    kind=turn.get("kind", "first") if index else "first",
                    level=turn.get("level"),
                    career=turn.get("career"),
                )
            )
        conversations.append(Conversation(str(raw.get("id", number)), turns))
    return conversations


@dataclass
class Reply:
    """What the bot did in one turn, from the stored events."""

    intent: Optional[str]
    ranking: List[Dict[str, Any]] = field(default_factory=list)
    responses: List[str] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)
    answers: List[Dict[str, Any]] = field(default_factory=list)  # messages carrying an answer: topic, career, text

    def label(self) -> str:
        """A short description of the reply, for the error list."""
        if self.answers:
            return ",".join(f"{a.get('topic')}@{a.get('career')}" for a in self.answers)
        return f"{self.intent}->{'/'.join(self.responses[:2]) or 'nothing'}"


@dataclass
class TurnOutcome:
    conversation: str
    index: int
    turn: Turn
    reply: Reply
    right: bool


def level_names() -> Dict[str, Dict[str, str]]:
    """Each career's pay levels: id -> the name its answer gives."""
    from bot.knowledge import KnowledgeBase
    from bot.settings import Settings

    knowledge = KnowledgeBase.load(Settings.from_env().knowledge_dir)
    return {cid: {level.id: level.name for level in c.pay_levels} for cid, c in knowledge.careers.items()}


def judge(turn: Turn, reply: Reply, levels: Dict[str, Dict[str, str]]) -> bool:
    career = turn.career or DEFAULT_CAREER
    if turn.expect == "out_of_scope":
        return not reply.answers
    if turn.expect == "ask_source":
        return any(r in SOURCE_RESPONSES for r in reply.responses) and not reply.answers
    if turn.expect.startswith("ask_"):
        topic = topic_of(turn.expect)
        for answer in reply.answers:
            if answer.get("topic") != topic or answer.get("career") != career:
                continue
            if turn.expect == "ask_pay_level":
                name = levels.get(career, {}).get(turn.level or "")
                # A career whose source has no levels answers with its figures: that is the honest answer.
                return name is None or name.lower() in answer.get("text", "").lower()
            return True
        return False
    return reply.intent == turn.expect and not reply.answers


def _stored_turns(database: Path, sender: str) -> List[Reply]:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    finally:
        connection.close()
    replies: List[Reply] = []
    for type_name, data in rows:
        event = json.loads(data)
        if type_name == "user":
            parsed = event.get("parse_data") or {}
            intent = parsed.get("intent", {}).get("name")
            replies.append(Reply(intent=intent, ranking=parsed.get("intent_ranking") or []))
        elif type_name == "bot" and replies:
            metadata = event.get("metadata") or {}
            reply = replies[-1]
            response = metadata.get("utter_action") or ""
            reply.responses.append(response)
            reply.texts.append(event.get("text") or "")
            topics = [metadata["topic"]] if metadata.get("answer_id") and metadata.get("topic") else []
            if response in NOT_COVERED:  # an honest "not covered" answers the topic asked
                topics = list(metadata.get("uncovered") or [])
            text = event.get("text") or ""
            reply.answers += [{"topic": topic, "career": metadata.get("career"), "text": text} for topic in topics]
    return replies


# Off-topic lines asked mid-conversation, right after an answer: the context must not pull them
# into the topic just answered. A seeded sample of the off-topic dev split (bot/rasa/offtopic.py).
DETOURS = 400
DETOUR_SEED = 20
OPENERS = (
    ("how much do mortgage servicing specialists earn?", "ask_pay"),
    ("what are the working hours like?", "ask_hours"),
    ("do I need a licence for this job?", "ask_licensing"),
    ("what does a mortgage servicing specialist do?", "ask_duties"),
)


def detours(count: int = DETOURS, seed: int = DETOUR_SEED) -> List[Conversation]:
    """Conversations of a topic question and then a real off-topic query (expected: no career answer)."""
    import random

    from bot.devtools.evaluate import offtopic_lines

    lines = [text for text, _ in offtopic_lines()]
    sample = random.Random(seed).sample(lines, min(count, len(lines)))
    return [
        Conversation(
            f"o{number:03d}",
            [
                Turn(OPENERS[number % len(OPENERS)][0], OPENERS[number % len(OPENERS)][1]),
                Turn(text, "out_of_scope", kind="detour"),
            ],
        )
        for number, text in enumerate(sample)
    ]


def run_conversations(
    model: Path, sets: Mapping[str, Sequence[Conversation]], env: Optional[Dict[str, str]] = None
) -> Dict[str, List[TurnOutcome]]:
    """Starts the bot once (`env`: a variant's environment) and plays every conversation of every set,
    each as a new visitor."""
    from bot.devtools.bench import start_bot, start_ours

    outcomes: Dict[str, List[TurnOutcome]] = {}
    with tempfile.TemporaryDirectory(prefix="careerbot-conversations-") as folder:
        workdir = Path(folder)
        running = start_bot(lambda: start_ours(model, workdir, env=env))
        try:
            levels = level_names()
            for name, conversations in sets.items():
                played = []
                for conversation in conversations:
                    sender = f"eval-{conversation.id}-{uuid.uuid4().hex[:8]}"
                    with requests.Session() as http:
                        for turn in conversation.turns:
                            answer = http.post(running.url, json={"sender": sender, "message": turn.user}, timeout=60)
                            answer.raise_for_status()
                    played.append((conversation, sender))
                outcomes[name] = []
                for conversation, sender in played:
                    replies = _stored_turns(workdir / "bench.db", sender)
                    if len(replies) != len(conversation.turns):
                        raise RuntimeError(
                            f"{conversation.id}: {len(conversation.turns)} turns sent, {len(replies)} stored"
                        )
                    for index, (turn, reply) in enumerate(zip(conversation.turns, replies, strict=True)):
                        outcomes[name].append(
                            TurnOutcome(conversation.id, index, turn, reply, judge(turn, reply, levels))
                        )
        finally:
            running.stop()
    return outcomes


@dataclass
class ConversationReport:
    name: str
    outcomes: List[TurnOutcome]

    @property
    def followups(self) -> List[TurnOutcome]:
        return [o for o in self.outcomes if o.index > 0]

    @property
    def followup_accuracy(self) -> float:
        followups = self.followups
        return sum(o.right for o in followups) / len(followups) if followups else 0.0

    @property
    def first_accuracy(self) -> float:
        firsts = [o for o in self.outcomes if o.index == 0]
        return sum(o.right for o in firsts) / len(firsts) if firsts else 0.0

    @property
    def leak_rate(self) -> float:
        """Of the follow-ups expected off-topic, the share given a career answer."""
        off = [o for o in self.followups if o.turn.expect == "out_of_scope"]
        return sum(not o.right for o in off) / len(off) if off else 0.0

    def summary(self, errors: bool = False) -> str:
        followups = self.followups
        if all(o.turn.kind == "detour" for o in followups):
            return (
                f"{self.name}: {len(followups)} off-topic queries asked right after an answer\n"
                f"  leak (a career answer): {self.leak_rate:.1%} ({sum(not o.right for o in followups)})"
                + "".join(f"\n    {o.turn.user!r} | {o.reply.label()}" for o in followups if errors and not o.right)
            )
        conversations = len({o.conversation for o in self.outcomes})
        lines = [
            f"{self.name}: {conversations} conversations, {len(self.outcomes)} turns",
            f"  follow-up turns right:  {self.followup_accuracy:.1%} "
            f"({sum(o.right for o in followups)} of {len(followups)})",
            f"  first turns right:      {self.first_accuracy:.1%}",
        ]
        kinds = Counter(o.turn.kind for o in followups)
        right = Counter(o.turn.kind for o in followups if o.right)
        lines.append("  by kind: " + ", ".join(f"{kind} {right[kind]}/{total}" for kind, total in kinds.most_common()))
        if errors:
            lines.append("  wrong turns (conversation#turn: text | expected | got):")
            for o in self.outcomes:
                if not o.right:
                    expected = o.turn.expect + (f"[{o.turn.level}]" if o.turn.level else "")
                    expected += f"@{o.turn.career}" if o.turn.career else ""
                    where = f"{o.conversation}#{o.index + 1}"
                    lines.append(f"    {where}: {o.turn.user!r} | {expected} | {o.reply.label()}")
        return "\n".join(lines)
