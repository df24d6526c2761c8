"""Similar waiting messages grouped, so that the owner decides once for all of them.

The messages' sentence vectors (bot/vectors.py: WordLlama's and MiniLM's, as the in-domain gate
compares them) are grouped greedily, oldest message first (bot.vectors.greedy_groups): the same
messages give the same groups on every run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

from bot.vectors import greedy_groups, sentence_vectors

if TYPE_CHECKING:
    from bot.ops.review.inbox import Message

# A message joins a group when its cosine to the group's first message is at least this. Measured with
# `python -m bot.devtools.review_groups` on tests/nlu/dev_set_2.yml (never the test set): one label applies
# to a whole group, so the threshold is the lowest at which fewer than a third of the pairs put in one group
# have different intents. The static vectors tell one career's close topics apart poorly (at 0.8 most pairs
# put together differ); at this value a group gathers rephrasings and repeats of one question.
GROUP_SIMILARITY = 0.9
EXAMPLES = 3


@dataclass
class Group:
    id: str  # "g" + the id of its earliest message: stable while that message waits
    messages: List["Message"]  # earliest first

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def examples(self) -> List[str]:
        """Up to EXAMPLES distinct texts, earliest first."""
        seen: List[str] = []
        for message in self.messages:
            if message.text not in seen:
                seen.append(message.text)
            if len(seen) == EXAMPLES:
                break
        return seen

    @property
    def reasons(self) -> Counter:
        return Counter(m.reason for m in self.messages)

    @property
    def intents(self) -> Counter:
        return Counter(m.intent for m in self.messages if m.intent)


def group(messages: List["Message"], threshold: Optional[float] = None) -> List[Group]:
    """The messages in groups, largest first (then earliest first)."""
    ordered = sorted(messages, key=lambda m: (m.at, m.id))
    if not ordered:
        return []
    vectors = sentence_vectors(m.text for m in ordered)
    limit = GROUP_SIMILARITY if threshold is None else threshold
    groups = [[ordered[i] for i in members] for members in greedy_groups(vectors, limit)]
    found = [Group("g" + members[0].id, members) for members in groups]
    return sorted(found, key=lambda g: (-g.count, g.messages[0].at, g.id))
