"""The owner's decisions on waiting messages: the ledger, and the NLU files they write (docs/review.md).

- label INTENT: the messages become training examples of INTENT (data/nlu/reviewed.yml);
- out_of_scope: negative examples (data/nlu/reviewed_out_of_scope.yml, intent out_of_scope);
- ignore: nothing is learnt; needs_content: the topic was right, the career's knowledge lacks the fact
  (the content team's list, per career: `needs_content`).

Every decided message gets one entry in the ledger (review/decisions.yml, next to data/, which Rasa
reads): that is how it leaves the inbox and why it is never decided twice, by its id and by its
redacted text. The page and the CLI may decide at the same moment: a decision holds a file lock
while it reads and writes, and each file is replaced whole (a temporary file, then os.replace), so
a reader never sees half a file and no writer loses another's entry.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import yaml

from bot import PROJECT_DIR
from bot.clarify import FALLBACK_INTENT, is_topic
from bot.similarity import near_held_out, nlu_examples

if TYPE_CHECKING:
    from bot.ops.review.inbox import Message

DATA_DIR = PROJECT_DIR / "data"
REVIEW_DIR = PROJECT_DIR / "review"
LEDGER = "decisions.yml"
REVIEWED = Path("nlu") / "reviewed.yml"
REVIEWED_OUT_OF_SCOPE = Path("nlu") / "reviewed_out_of_scope.yml"
OUT_OF_SCOPE = "out_of_scope"
DECISIONS = ("label", "out_of_scope", "ignore", "needs_content")
_LOCK = ".decisions.lock"
LEDGER_HEADER = (
    "# The review inbox's decisions, one per message (docs/review.md). Written by python -m bot.ops.review\n"
    "# and make review; a message listed here has left the inbox.\n"
)

_NLU_HEADER = (
    "# Written by the review inbox (python -m bot.ops.review, make review; docs/review.md): visitors'\n"
    "# messages, redacted, that the site owner {what}. Each example's metadata names the\n"
    "# message it came from (review/decisions.yml). Edit with care: a decision is never made twice.\n"
)


class ReviewError(Exception):
    """A decision the owner cannot make as asked: one line (unknown id or intent, a near-copy of a test line)."""


def same_text(text: str) -> str:
    """How two redacted texts are compared: case and spacing aside."""
    return " ".join(text.lower().split())


def intents(domain: Path = PROJECT_DIR / "domain.yml") -> List[str]:
    """The intents a message may be labelled with: the domain's, but out_of_scope (a decision of its own)."""
    data = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    names = [next(iter(i)) if isinstance(i, dict) else str(i) for i in data.get("intents") or []]
    return [name for name in names if name not in (OUT_OF_SCOPE, FALLBACK_INTENT)]


def read_ledger(review_dir: Path = REVIEW_DIR) -> List[Dict[str, Any]]:
    path = review_dir / LEDGER
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, yaml.YAMLError) as error:
        raise ReviewError(f"cannot read the decisions in {path}: {str(error).splitlines()[0]}") from None
    entries = (data or {}).get("decisions") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def decided(review_dir: Path = REVIEW_DIR) -> Tuple[Set[str], Set[str]]:
    """The ids and the (compared) texts of every message decided so far."""
    entries = read_ledger(review_dir)
    return {str(e.get("id")) for e in entries}, {same_text(str(e.get("text") or "")) for e in entries}


def needs_content(review_dir: Path = REVIEW_DIR) -> Dict[str, List[Dict[str, Any]]]:
    """The messages decided `needs_content`, per career (careers in name order, messages oldest first)."""
    found: Dict[str, List[Dict[str, Any]]] = {}
    for entry in read_ledger(review_dir):
        if entry.get("decision") == "needs_content":
            found.setdefault(str(entry.get("career")), []).append(entry)
    return {career: found[career] for career in sorted(found)}


def reviewed_lines(data_dir: Path = DATA_DIR) -> List[Tuple[str, str]]:
    """(text, intent) of every example of both reviewed files."""
    return [
        pair
        for name in (REVIEWED, REVIEWED_OUT_OF_SCOPE)
        if (data_dir / name).exists()
        for pair in nlu_examples(data_dir / name)
    ]


def empty_nlu(out_of_scope: bool) -> str:
    what = "decided are off-topic (negative examples)" if out_of_scope else "labelled with a topic"
    return _NLU_HEADER.format(what=what) + 'version: "3.1"\nnlu: []\n'


@contextmanager
def _locked(review_dir: Path) -> Iterator[None]:
    review_dir.mkdir(parents=True, exist_ok=True)
    with open(review_dir / _LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(path: Path, text: str) -> None:
    """Writes the whole file beside it and renames it over: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _add_examples(path: Path, intent: str, examples: Sequence[Tuple[str, str]], out_of_scope: bool) -> None:
    """Appends (text, message id) examples to INTENT's entry of an NLU file, in Rasa's list form with metadata."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    items = list((data or {}).get("nlu") or []) if isinstance(data, dict) else []
    entry = next((i for i in items if isinstance(i, dict) and i.get("intent") == intent), None)
    if entry is None:
        entry = {"intent": intent, "examples": []}
        items.append(entry)
    present = {str((e.get("metadata") or {}).get("review")) for e in entry["examples"] if isinstance(e, dict)}
    entry["examples"] = list(entry["examples"]) + [
        {"text": text, "metadata": {"review": ident}} for text, ident in examples if ident not in present
    ]
    body = yaml.safe_dump({"version": "3.1", "nlu": items}, sort_keys=False, allow_unicode=True, width=1000)
    what = "decided are off-topic (negative examples)" if out_of_scope else "labelled with a topic"
    _replace(path, _NLU_HEADER.format(what=what) + body)


def _blind(texts: Iterable[str]) -> None:
    """Refuses a line that is a near-copy of a held-out test line: the test sets stay blind."""
    near = near_held_out(texts)
    if near:
        text, line, path, ratio = max(near, key=lambda found: found[3])
        where = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
        raise ReviewError(
            f"{text!r} is {ratio:.2f} similar to the held-out line {line!r} of {where}: written into the training "
            "data it would make that test set a memory test. Nothing written; decide it 'ignore' or 'needs content'"
        )


def _new_examples(examples: List[Tuple[str, str]], label: str, data_dir: Path) -> List[Tuple[str, str]]:
    """The examples the training data does not hold yet. The same words under another intent are refused:
    Rasa would learn both (and `rasa data validate --fail-on-warnings`, part of `make test`, fails)."""
    known: Dict[str, Tuple[str, Path]] = {}
    for path in sorted((data_dir / "nlu").glob("*.yml")):
        for text, intent in nlu_examples(path):
            known.setdefault(same_text(text), (intent, path))
    for text, _ in examples:
        intent, path = known.get(same_text(text), (label, data_dir))
        if intent != label:
            raise ReviewError(
                f"{text!r} is already a training example of {intent} in {path.relative_to(data_dir.parent)}: "
                "nothing written; label it with that intent, or change that file"
            )
    return [(text, ident) for text, ident in examples if same_text(text) not in known]


def topic_of(intent: Optional[str]) -> Optional[str]:
    """ask_pay -> pay: the topic as the report names it; other intents as they are."""
    return intent[len("ask_") :] if intent and is_topic(intent) else intent


def decide(
    messages: Sequence["Message"],
    decision: str,
    intent: Optional[str] = None,
    data_dir: Path = DATA_DIR,
    review_dir: Path = REVIEW_DIR,
    domain: Path = PROJECT_DIR / "domain.yml",
) -> int:
    """Records `decision` for the messages not decided yet (by id or by text), and writes the examples of a
    label or out-of-scope decision; how many messages it decided. `intent`: the topic of a label (required)
    or of a needs-content decision (else each message's predicted intent)."""
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
    if decision == "label":
        known = intents(domain)
        if intent not in known:
            raise ReviewError(
                f"{intent!r} is not an intent a message can be labelled with; one of: {', '.join(known)} "
                "(off-topic messages: the out-of-scope decision)"
            )
    elif decision == "needs_content" and intent is not None and intent not in intents(domain):
        raise ReviewError(f"{intent!r} is not an intent of domain.yml")
    elif decision in ("out_of_scope", "ignore") and intent is not None:
        raise ReviewError(f"the {decision} decision takes no intent")
    with _locked(review_dir):
        ledger = read_ledger(review_dir)
        ids = {str(e.get("id")) for e in ledger}
        texts = {same_text(str(e.get("text") or "")) for e in ledger}
        fresh: List["Message"] = []
        examples: List[Tuple[str, str]] = []  # each text once, however many messages said it
        written: Set[str] = set()
        for message in messages:
            key = same_text(message.text)
            if message.id in ids or key in texts:
                continue  # decided meanwhile (the page and the CLI), or the same words already were
            ids.add(message.id)
            fresh.append(message)
            if key and key not in written:
                written.add(key)
                examples.append((message.text, message.id))
        if not fresh:
            return 0
        if decision in ("label", "out_of_scope") and examples:
            out_of_scope = decision == "out_of_scope"
            label = OUT_OF_SCOPE if out_of_scope else str(intent)
            examples = _new_examples(examples, label, data_dir)
            _blind(text for text, _ in examples)  # what the training data holds already is no new leak
            target = data_dir / (REVIEWED_OUT_OF_SCOPE if out_of_scope else REVIEWED)
            if examples:
                _add_examples(target, label, examples, out_of_scope)
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for m in fresh:
            topic_intent = (
                intent if decision == "label" else (intent or m.intent) if decision == "needs_content" else None
            )
            ledger.append(
                {
                    "id": m.id,
                    "decision": decision,
                    "intent": OUT_OF_SCOPE if decision == "out_of_scope" else topic_intent,
                    "career": m.career,
                    "topic": topic_of(topic_intent),
                    "text": m.text,
                    "reason": m.reason,
                    "decided_at": at,
                }
            )
        _replace(
            review_dir / LEDGER,
            LEDGER_HEADER + yaml.safe_dump({"decisions": ledger}, sort_keys=False, allow_unicode=True, width=1000),
        )
        return len(fresh)
