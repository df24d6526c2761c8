"""Real off-topic traffic: a seeded split of two public intent corpora into a development set and a training sample.

    python -m bot.devtools.offtopic_split [--write build/offtopic.yml]   (what the split holds)

The corpora (one query a line, `text<TAB>intent`) are real messages people sent to
other assistants, none of them about this career:

- HWU64: X. Liu, A. Eshghi, P. Swietojanski, V. Rieser, "Benchmarking Natural Language
  Understanding Services for building Conversational Agents", 2019. CC BY 4.0.
- BANKING77: I. Casanueva, T. Temcinas, D. Gerz, M. Henderson, I. Vulic, "Efficient Intent
  Detection with Dual Sentence Encoders", 2020. CC BY 4.0.

They ship with the project in data/offtopic/ (with their attribution and licence);
CAREERBOT_OFFTOPIC_DIR points at another copy. Every source intent is split on its own (stratified), with a seed, so the
split is the same on every machine:

- the DEVELOPMENT split (DEV_FRACTION of each intent) measures the leak rate
  (`python -m bot.devtools.evaluate`) and is never trained on;
- the TRAINING SAMPLE (TRAIN_PER_INTENT of each intent's remaining lines) becomes
  out_of_scope training data through `bot.rasa.components.offtopic_importer.OfftopicImporter`, named in
  config.yml, so every `rasa train` and `rasa data validate` gets it without a
  generated file.

Source intents that are really our conversation intents (praise, yes, "that's not what
I meant", stop, and small talk that greets, thanks, asks for help or asks whether it is
a bot) are never labelled out_of_scope: they stay out of the training sample; in the
development split they count only as leaks if they get a career answer.
"""

from __future__ import annotations

import difflib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot import PROJECT_DIR
from bot.settings import offtopic_dir

ENV_VAR = "CAREERBOT_OFFTOPIC_DIR"
DEFAULT_DIR = PROJECT_DIR / "data" / "offtopic"
SOURCES = ("hwu64", "banking77")
SEED = "careerbot-issue-11"
DEV_FRACTION = 0.15
TRAIN_PER_INTENT = 12
OUT_OF_SCOPE = "out_of_scope"
# A training line this similar to a development line of its intent would make the
# leak rate a memory test (HWU64 has many templated near-copies).
NEAR_COPY = 0.85

# HWU64 intents that are our conversation intents: praise (feedback_helpful, thanks),
# yes (affirm), "that's not what I meant" (deny, feedback_unhelpful), stop (cancel).
# "Say that again", "explain that", "whatever" and "confirm that" have no intent here:
# they are out_of_scope.
CONVERSATION_INTENTS = frozenset({"general_praise", "general_affirm", "general_negate", "general_commandstop"})
# general_quirky is small talk of every kind; the lines that greet, thank, ask for help
# or ask whether the assistant is a person belong to conversation intents.
_CONVERSATION_CUES = re.compile(
    r"\b(hi|hello|hey|bye|goodbye|good ?(night|morning|evening|afternoon)|thanks?|thank you|"
    r"human|person|robot|bot|real|who are you|what can you|can you help|help|yes|no|ok|okay)\b",
    re.IGNORECASE,
)

# The kinds of off-topic message, to see where the leaks come from (`python -m bot.devtools.evaluate`
# prints the leak of each). HWU64's intents are named scenario_intent; the category follows
# the scenario. BANKING77 is all about one's own bank account and card.
SMALL_TALK = "small talk"  # chat with the assistant itself, about it or about life; yes, no, stop, say again
OWN_WORK = "own job and day"  # one's own meetings, schedule, mail, to-do lists: pay days, the office
UTILITIES = "utilities"  # requests to an assistant: alarms, lights, music, games, food, routes, posts
FACTUAL = "factual questions"  # facts, definitions, sums, currencies, news, weather, the date
BANKING = "banking"
OTHER = "other"
CATEGORIES = (SMALL_TALK, OWN_WORK, UTILITIES, FACTUAL, BANKING, OTHER)
_HWU64_SCENARIOS = {
    "general": SMALL_TALK,
    "calendar": OWN_WORK,
    "email": OWN_WORK,
    "lists": OWN_WORK,
    "alarm": UTILITIES,
    "audio": UTILITIES,
    "iot": UTILITIES,
    "music": UTILITIES,
    "play": UTILITIES,
    "takeaway": UTILITIES,
    "cooking": UTILITIES,
    "transport": UTILITIES,
    "social": UTILITIES,
    "recommendation": UTILITIES,
    "qa": FACTUAL,
    "news": FACTUAL,
    "weather": FACTUAL,
    "datetime": FACTUAL,
}


def category(source: str, intent: str) -> str:
    """The kind of off-topic message a source intent holds (one of CATEGORIES)."""
    if source == "banking77":
        return BANKING
    if source == "hwu64":
        return _HWU64_SCENARIOS.get(intent.partition("_")[0], OTHER)
    return OTHER


class OfftopicDataMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Query:
    text: str
    source: str
    intent: str

    @property
    def category(self) -> str:
        return category(self.source, self.intent)

    @property
    def conversational(self) -> bool:
        if self.intent in CONVERSATION_INTENTS:
            return True
        return self.intent == "general_quirky" and bool(_CONVERSATION_CUES.search(self.text))


@dataclass(frozen=True)
class Split:
    dev: List[Query]
    train: List[Query]


def data_dir() -> Path:
    directory = offtopic_dir(DEFAULT_DIR)
    missing = [name for name in SOURCES if not (directory / f"{name}.tsv").is_file()]
    if missing:
        raise OfftopicDataMissing(
            f"the off-topic corpora are missing: no {', '.join(f'{m}.tsv' for m in missing)} in {directory}. "
            f"Set {ENV_VAR} to the directory that holds hwu64.tsv and banking77.tsv "
            f"(by default data/offtopic in the project)."
        )
    return directory


def load(directory: Optional[Path] = None) -> List[Query]:
    directory = directory or data_dir()
    queries: List[Query] = []
    for source in SOURCES:
        seen = set()
        lines = (directory / f"{source}.tsv").read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:  # the header: text, intent
            text, _, intent = line.rpartition("\t")
            text = " ".join(text.split())
            if text and intent and text.lower() not in seen:
                seen.add(text.lower())
                queries.append(Query(text, source, intent))
    return queries


def _near_copy(text: str, others: Sequence[str]) -> bool:
    matcher = difflib.SequenceMatcher(None, b=text.lower(), autojunk=False)
    for other in others:
        matcher.set_seq1(other.lower())
        if (
            matcher.real_quick_ratio() >= NEAR_COPY
            and matcher.quick_ratio() >= NEAR_COPY
            and matcher.ratio() >= NEAR_COPY
        ):
            return True
    return False


def split(
    queries: Sequence[Query],
    dev_fraction: float = DEV_FRACTION,
    train_per_intent: int = TRAIN_PER_INTENT,
    seed: str = SEED,
) -> Split:
    """Per source intent: a shuffled DEV_FRACTION for development, then a training sample from the rest."""
    groups: Dict[tuple, List[Query]] = {}
    for query in queries:
        groups.setdefault((query.source, query.intent), []).append(query)
    dev: List[Query] = []
    train: List[Query] = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda q: q.text)
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(group)
        cut = max(1, round(len(group) * dev_fraction))
        dev_part = group[:cut]
        dev.extend(dev_part)
        dev_texts = [q.text for q in dev_part]
        taken = 0
        for query in group[cut:]:
            if taken >= train_per_intent:
                break
            if query.conversational or _near_copy(query.text, dev_texts):
                continue
            train.append(query)
            taken += 1
    return Split(dev, train)


_SPLIT: Dict[tuple, Split] = {}


def default_split(train_per_intent: int = TRAIN_PER_INTENT) -> Split:
    directory = data_dir()
    key = (str(directory.resolve()), train_per_intent)
    if key not in _SPLIT:
        _SPLIT[key] = split(load(directory), train_per_intent=train_per_intent)
    return _SPLIT[key]


def training_examples(train_per_intent: int = TRAIN_PER_INTENT) -> List[str]:
    return [q.text for q in default_split(train_per_intent).train]
