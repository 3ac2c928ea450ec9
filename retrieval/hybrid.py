"""Hybrid retrieval: dense (FAISS) and keyword (FTS5 BM25) rankings fused with RRF."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from newsqa.index import IndexSnapshot, PublishedWindow, StoredChunk, keyword_terms, stem_words

from .config import (CANDIDATES, COMMON_TERM_MIN_PASSAGES, COMMON_TERM_SHARE, DENSE_WEIGHT, KEYWORD_WEIGHT,
                     RRF_K, TITLE_WEIGHT)

def rrf_fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of id rankings; returns (id, fused score) best first."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank + 1)
    return sorted(scores.items(), key=lambda pair: -pair[1])


@dataclass(frozen=True)
class RetrievedPassage:
    """A chunk found for a question, with the evidence of each ranking."""

    chunk: StoredChunk
    rank: int
    fused: float
    dense: float
    keyword: float


class HybridRetriever:
    """Finds the passages most likely to answer a question."""

    def __init__(self, dense_weight: float = DENSE_WEIGHT, keyword_weight: float = KEYWORD_WEIGHT,
                 candidates: int = CANDIDATES, rrf_k: int = RRF_K, title_weight: float = TITLE_WEIGHT,
                 common_term_share: float = COMMON_TERM_SHARE,
                 common_term_min_passages: int = COMMON_TERM_MIN_PASSAGES) -> None:
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.title_weight = title_weight
        self.common_term_share = common_term_share
        self.common_term_min_passages = common_term_min_passages

    def keyword_query(self, snapshot: IndexSnapshot, question: str) -> str:
        """The words of `question` the keyword search looks for: all but the common ones (held
        by more than `common_term_share` of the passages, and more than `common_term_min_passages`),
        unless all are common."""
        words = keyword_terms(question)
        stems = stem_words(words)
        total, counts = snapshot.term_chunk_counts(stems)
        most = max(self.common_term_share * total, self.common_term_min_passages)
        rare = [word for word, stem in zip(words, stems) if counts.get(stem, 0) <= most]
        return " ".join(rare) if rare and len(rare) < len(words) else question

    def keyword_hits(self, snapshot: IndexSnapshot, question: str,
                     window: PublishedWindow | None = None) -> dict[int, float]:
        """The keyword ranking for `question`: chunk id -> BM25 score, best first. It needs
        no query vector, so it can run while the question is embedded."""
        query = self.keyword_query(snapshot, question)
        return dict(snapshot.keyword_search(query, self.candidates, window, self.title_weight))

    def search(self, snapshot: IndexSnapshot, question: str, query_vector: np.ndarray,
               k: int = 8, window: PublishedWindow | None = None,
               keyword_search: Callable[[], dict[int, float]] | None = None) -> list[RetrievedPassage]:
        """Top-k passages for `question` from `snapshot`, best first; only of articles
        published inside `window` when one is given. `keyword_search`: where to get the
        `keyword_hits` of the same question and window, when they are searched elsewhere
        (called after the dense search, so the two can overlap)."""
        hits = snapshot.vector_search(query_vector.reshape(1, -1), self.candidates, window)[0]
        dense = {int(i): float(s) for i, s in zip(hits.ids, hits.scores)}
        keyword = keyword_search() if keyword_search else self.keyword_hits(snapshot, question, window)
        fused = rrf_fuse([list(dense), list(keyword)], [self.dense_weight, self.keyword_weight], self.rrf_k)
        found: list[RetrievedPassage] = []
        # Fetch only the k needed; chunks deleted since the vectors were loaded are
        # replaced from further down the fused list.
        position = 0
        while len(found) < k and position < len(fused):
            batch = fused[position:position + k - len(found)]
            position += len(batch)
            chunks = snapshot.chunks([chunk_id for chunk_id, _ in batch])
            for chunk_id, score in batch:
                chunk = chunks.get(chunk_id)
                if chunk is None:
                    continue
                dense_score = dense.get(chunk_id)
                if dense_score is None:  # a keyword-only hit: score it against its stored vector
                    dense_score = float(np.dot(query_vector, chunk.vector))
                found.append(RetrievedPassage(chunk, len(found), score, dense_score, keyword.get(chunk_id, 0.0)))
        return found
