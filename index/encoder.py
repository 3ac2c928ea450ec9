"""What an embedding model gives the index: the `TextEncoder` interface and its shared base.

One forward pass per passage gives the passage vector and its sentence vectors: sentence
vectors are mean-pooled from the passage's own token embeddings over each sentence's
character span, so quote selection needs no extra model pass, neither when indexing nor
when answering. `PooledEncoder` does that pooling once for every runtime; a runtime
(torch in `embedding.py`, int8 ONNX in `onnx_encoder.py`) only supplies the forward pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Passages per forward pass; sorted by length first, so padding stays small.
BATCH_SIZE = 32


@dataclass(frozen=True)
class EncodedPassages:
    """Unit-length vectors: one per passage, and one per sentence of each passage."""

    passages: np.ndarray
    sentences: list[np.ndarray]


@dataclass(frozen=True)
class ForwardPass:
    """One batch through the model: a vector per text, and its token embeddings with each
    token's character span (start == end for padding and special tokens)."""

    vectors: np.ndarray
    tokens: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


class TextEncoder(Protocol):
    """What the index and retrieval need from an embedding model."""

    name: str
    backend: str

    @property
    def dimension(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
    ) -> EncodedPassages: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class PooledEncoder(ABC):
    """A `TextEncoder` whose runtime supplies `warm_up`, `dimension`, `encode_queries` and one
    batch's `_forward`; the passage and sentence pooling is written here once."""

    name: str
    backend: str

    @abstractmethod
    def warm_up(self) -> None: ...

    @property
    @abstractmethod
    def dimension(self) -> int: ...

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def _forward(self, texts: Sequence[str]) -> ForwardPass:
        """One batch of passages through the model (loaded already)."""

    def encode_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
    ) -> EncodedPassages:
        """Passage vectors plus sentence vectors pooled from the same forward pass.

        Sentences beyond the model's window (truncated tokens) are encoded on their own.
        """
        self.warm_up()
        dimension = self.dimension
        passages = np.zeros((len(texts), dimension), dtype=np.float32)
        sentences = [np.zeros((len(s), dimension), np.float32) for s in sentence_spans]
        missing: list[tuple[int, int]] = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            forward = self._forward([texts[i] for i in batch])
            passages[batch] = forward.vectors
            for row, index in enumerate(batch):
                starts, ends = forward.starts[row], forward.ends[row]
                real = ends > starts
                for s, (begin, end) in enumerate(sentence_spans[index]):
                    inside = real & (starts >= begin) & (ends <= end)
                    if inside.any():
                        sentences[index][s] = forward.tokens[row][inside].mean(axis=0)
                    else:
                        missing.append((index, s))
        if missing:
            vectors = self.encode_queries([texts[i][slice(*sentence_spans[i][s])] for i, s in missing])
            for (index, s), vector in zip(missing, vectors):
                sentences[index][s] = vector
        return EncodedPassages(normalise(passages), [normalise(v) for v in sentences])
