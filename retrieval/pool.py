"""Asking questions of a small set of passages only (the articles a new generation added),
with the same retrieval, quote picking and not-found rule as any question.

The passages are read once with their stored vectors (nothing is embedded again); each
question is scored against just them: dense by the dot product with their vectors, keyword by
BM25 over their words (with the whole index's IDF, as FTS5 ranks), fused by RRF as
`HybridRetriever` fuses the index-wide rankings. So the cost grows with the new passages and
the questions, not with the size of the index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from newsqa.index import IndexSnapshot, StoredChunk

from .answerer import QuestionAnswerer, clean_question
from .answers import AnswerSet
from .hybrid import RetrievedPassage, rrf_fuse
from .config import PREFIX_STEM_CHARS
from .terms import QuestionTerms, chunk_terms, content_stems
from .timeframe import time_frame

# BM25's usual constants, as FTS5's bm25() uses them.
BM25_K1, BM25_B = 1.2, 0.75
# Questions scored against the pool's sentence vectors at a time (bounds the score matrix).
QUESTION_BLOCK = 256


@dataclass
class PassagePool:
    """A fixed set of passages of one snapshot, with what scoring them needs, read once."""

    snapshot: IndexSnapshot
    chunks: list[StoredChunk]
    vectors: np.ndarray  # one unit vector per chunk (float32)
    sentence_vectors: np.ndarray  # every sentence's vector, all chunks together (float32)
    _postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)  # stem -> (row, tf)
    _lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32), repr=False)
    _term_counts: dict[str, int] = field(default_factory=dict, repr=False)
    _total: int = 0
    _heads: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def of(cls, snapshot: IndexSnapshot, chunk_ids: Sequence[int]) -> "PassagePool":
        """The passages `chunk_ids` of `snapshot` (ids no longer there are left out)."""
        found = snapshot.chunks(list(chunk_ids))
        chunks = [found[i] for i in chunk_ids if i in found]
        dim = snapshot.manifest.dimension
        vectors = (np.stack([c.vector for c in chunks]).astype(np.float32) if chunks
                   else np.zeros((0, dim), np.float32))
        sentences = [s.vector for c in chunks for s in c.sentences]
        sentence_vectors = np.stack(sentences).astype(np.float32) if sentences else np.zeros((0, dim), np.float32)
        pool = cls(snapshot, chunks, vectors, sentence_vectors)
        lengths = []
        for row, chunk in enumerate(chunks):
            stems = chunk_terms(chunk).stems
            lengths.append(len(stems))
            for stem, tf in Counter(stems).items():
                pool._postings.setdefault(stem, []).append((row, tf))
        pool._lengths = np.asarray(lengths, np.float32)
        pool._heads = {stem[:PREFIX_STEM_CHARS] for stem in pool._postings if len(stem) >= PREFIX_STEM_CHARS}
        return pool

    def __len__(self) -> int:
        return len(self.chunks)

    def weigh(self, questions: Sequence[str]) -> None:
        """Read the index's term statistics for every stem of `questions` in one go."""
        self.term_chunk_counts(sorted({s for q in questions for s in content_stems(q)}))

    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        """The index's term statistics (as `IndexSnapshot.term_chunk_counts`, so `QuestionTerms.of`
        takes the pool in its place), read once per stem for all questions."""
        missing = sorted({s for s in stems if s not in self._term_counts})
        if missing or not self._total:
            self._total, counts = self.snapshot.term_chunk_counts(missing)
            self._term_counts.update({s: counts.get(s, 0) for s in missing})
        return self._total, {s: self._term_counts[s] for s in stems if self._term_counts.get(s)}

    def may_hold(self, terms: QuestionTerms) -> bool:
        """False when no passage holds a word matching one of the question's stems (the same
        stem, or one sharing its first PREFIX_STEM_CHARS letters, as `QuestionTerms.column` matches)."""
        return any(stem in self._postings or (len(stem) >= PREFIX_STEM_CHARS and stem[:PREFIX_STEM_CHARS] in self._heads)
                   for stem in terms.stems)

    def keyword_scores(self, terms: QuestionTerms) -> dict[int, float]:
        """BM25 of each pool row holding one of the question's stems (rows without none)."""
        if not len(self.chunks):
            return {}
        average = float(self._lengths.mean()) or 1.0
        scores: dict[int, float] = {}
        for stem, idf in zip(terms.stems, terms.bm25_weights):
            for row, tf in self._postings.get(stem, ()):
                norm = tf + BM25_K1 * (1 - BM25_B + BM25_B * self._lengths[row] / average)
                scores[row] = scores.get(row, 0.0) + float(idf) * tf * (BM25_K1 + 1) / norm
        return scores


class PoolAnswerer:
    """Answers questions from a `PassagePool` only, with an answerer's retrieval weights, quote
    picker and not-found rule."""

    def __init__(self, answerer: QuestionAnswerer) -> None:
        self.answerer = answerer

    def ask_many(self, questions: Sequence[str], pool: PassagePool, k: int = 1,
                 vectors: np.ndarray | None = None) -> list[AnswerSet]:
        """The top `k` answers to each question from `pool`'s passages (not found when none
        is relevant enough); questions are embedded in one batch unless their `vectors` (of
        the cleaned questions, as `clean_question` gives them) are passed.

        Raises:
            EmptyQuestion: one of the questions has no words.
        """
        cleaned = [clean_question(q) for q in questions]
        if not len(pool):
            return [AnswerSet(question=q, found=False, answers=[]) for q in cleaned]
        if vectors is None:
            vectors = self.answerer.encoder.encode_queries(cleaned)
        vectors = np.asarray(vectors, np.float32)
        pool.weigh(cleaned)
        answers: list[AnswerSet] = []
        for start in range(0, len(cleaned), QUESTION_BLOCK):
            block = vectors[start:start + QUESTION_BLOCK]
            dense_all = block @ pool.vectors.T  # questions x passages
            # The best cosine any sentence or passage reaches: a quote's relevance is at most that
            # plus its coverage terms, which are zero when no passage holds a question word.
            best = dense_all.max(axis=1)
            if len(pool.sentence_vectors):
                best = np.maximum(best, (block @ pool.sentence_vectors.T).max(axis=1))
            answers.extend(self._answer(text, vector, dense, float(top), pool, k)
                           for text, vector, dense, top in zip(cleaned[start:start + QUESTION_BLOCK], block,
                                                               dense_all, best))
        return answers

    def _answer(self, question: str, vector: np.ndarray, dense: np.ndarray, best: float,
                pool: PassagePool, k: int) -> AnswerSet:
        answerer = self.answerer
        retriever = answerer.retriever
        terms = answerer.terms(question, pool)  # the pool answers term statistics from its cache
        if best < answerer.min_relevance and not pool.may_hold(terms):
            return AnswerSet(question=question, found=False, answers=[])  # cannot pass the not-found rule
        top = np.argsort(-dense)[:retriever.candidates]
        keyword = pool.keyword_scores(terms)
        keyword_rank = sorted(keyword, key=lambda row: -keyword[row])[:retriever.candidates]
        fused = rrf_fuse([[int(r) for r in top], keyword_rank], [retriever.dense_weight, retriever.keyword_weight],
                         retriever.rrf_k)
        wanted = max(k, 1) * answerer.passages_per_answer
        passages = [RetrievedPassage(pool.chunks[row], rank, score, float(dense[row]), keyword.get(row, 0.0))
                    for rank, (row, score) in enumerate(fused[:wanted])]
        quotes = answerer.picker.pick(question, vector, passages, terms, time_frame(question, None, None))
        return answerer.answer_set(question, quotes, k)

