"""The project's own sentence vectors, without Rasa: WordLlama's and MiniLM's static token tables.

`WordLlamaVectors` reads one such table (WordLlama's static token embeddings, the
`wordllama` wheel, MIT licence; or MiniLM's distilled table, bot/devtools/minilm.py), both
fetched or built by `make embeddings`, with `safetensors` and the table's own sub-word
tokenizer file (`tokenizers`). A word's vector is the mean of its sub-words' vectors, a
sentence's the mean over all its sub-words. The NLU featurizers
(bot/rasa/components/wordllama_featurizer.py, minilm_featurizer.py) use it inside Rasa;
`sentence_vectors` gives the two sentence vectors together, as the in-domain gate compares
them, to code that never loads Rasa (the review inbox groups messages with it).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import numpy as np

from bot import PROJECT_DIR

WORDLLAMA_DIR = PROJECT_DIR / "build" / "wordllama"
WORDLLAMA_WEIGHTS = WORDLLAMA_DIR / "l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = WORDLLAMA_DIR / "l2_supercat_tokenizer_config.json"
MINILM_DIR = PROJECT_DIR / "build" / "minilm"
MINILM_WEIGHTS = MINILM_DIR / "minilm_static_384.safetensors"
MINILM_TOKENIZER = MINILM_DIR / "tokenizer.json"

# Words as a tokenizer would split them for the tables: runs of letters or digits (with inner
# apostrophes), or single other characters. The model's spaCy tokens differ at the edges
# ("don't"); the sentence vector, a mean over every sub-word, hardly moves.
_WORDS = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


class VectorsMissing(Exception):
    """An embedding file is not there: one line that says how to make it."""


class WordLlamaVectors:
    """Token vectors from a static embedding table (WordLlama's, MiniLM's); one instance per file pair and process."""

    _loaded: Dict[tuple, "WordLlamaVectors"] = {}
    _lock = threading.Lock()

    def __init__(self, weights: Path, tokenizer: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer as SubwordTokenizer

        tensors = load_file(str(weights))
        if len(tensors) != 1:
            raise VectorsMissing(f"{weights}: expected one embedding table, found {sorted(tensors)}")
        # Kept in half precision (16 MB); rows are widened when looked up.
        self.table = next(iter(tensors.values()))
        self.tokenizer = SubwordTokenizer.from_file(str(tokenizer))
        # A tokenizer file may pad or truncate (MiniLM's pads to a fixed length): one word, no more.
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.dim = int(self.table.shape[1])
        self._cache: Dict[str, "tuple[np.ndarray, int]"] = {}

    @classmethod
    def load(cls, weights: Path, tokenizer: Path) -> "WordLlamaVectors":
        key = (str(weights), str(tokenizer))
        with cls._lock:
            if key not in cls._loaded:
                missing = [str(p) for p in (weights, tokenizer) if not Path(p).is_file()]
                if missing:
                    raise VectorsMissing(f"embedding files missing: {', '.join(missing)}. Run `make embeddings`.")
                cls._loaded[key] = cls(Path(weights), Path(tokenizer))
            return cls._loaded[key]

    def word(self, text: str) -> "tuple[np.ndarray, int]":
        """The sum of a word's sub-word vectors and how many there are."""
        key = text.lower()
        found = self._cache.get(key)
        if found is None:
            ids = self.tokenizer.encode(key, add_special_tokens=False).ids
            ids = [i for i in ids if 0 <= i < self.table.shape[0]]
            total = self.table[ids].astype(np.float32).sum(axis=0) if ids else np.zeros(self.dim, np.float32)
            found = (total, len(ids))
            if len(self._cache) < 200_000:  # bounded: visitors can type any string
                self._cache[key] = found
        return found

    def features(self, words: List[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(one vector per word [words, dim], the sentence's unit vector [dim], zeros for no sub-word)."""
        sums = [self.word(w) for w in words]
        sequence = (
            np.stack([total / count if count else total for total, count in sums])
            if sums
            else np.zeros((0, self.dim), np.float32)
        )
        count = sum(c for _, c in sums)
        sentence = np.asarray(sum(t for t, _ in sums) / count) if count else np.zeros(self.dim, np.float32)
        norm = float(np.linalg.norm(sentence))
        if norm > 0:
            sentence = sentence / norm
        return sequence.astype(np.float32), sentence.astype(np.float32)


def words(text: str) -> List[str]:
    return _WORDS.findall(text)


def sentence_vectors(texts: Iterable[str]) -> np.ndarray:
    """One row per text: its WordLlama and MiniLM sentence vectors, each of unit length, side by side, and
    the row scaled to unit length, so that a dot product is the cosine the in-domain gate compares
    (the featurizers give both the same scale). Raises VectorsMissing without `make embeddings`."""
    tables = [
        WordLlamaVectors.load(WORDLLAMA_WEIGHTS, WORDLLAMA_TOKENIZER),
        WordLlamaVectors.load(MINILM_WEIGHTS, MINILM_TOKENIZER),
    ]
    rows = []
    for text in texts:
        split = words(text)
        row = np.concatenate([table.features(split)[1] for table in tables])
        norm = float(np.linalg.norm(row))
        rows.append(row / norm if norm > 0 else row)
    return np.stack(rows) if rows else np.zeros((0, sum(t.dim for t in tables)), np.float32)


def greedy_groups(vectors: np.ndarray, threshold: float) -> List[List[int]]:
    """Row indices in groups, in the rows' order: each row joins the group whose first row it is most similar
    to, when at least `threshold` (cosine of unit rows), else starts one. Comparing with a group's first row
    only keeps a group from drifting, one near neighbour at a time, away from where it began."""
    groups: List[List[int]] = []
    firsts: List[np.ndarray] = []
    for index, vector in enumerate(vectors):
        if firsts:
            similarity = np.stack(firsts) @ vector
            best = int(np.argmax(similarity))
            if float(similarity[best]) >= threshold:
                groups[best].append(index)
                continue
        groups.append([index])
        firsts.append(vector)
    return groups
