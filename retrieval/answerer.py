"""Question in, quoted answers out: the one entry point the CLI and the bot call."""

from __future__ import annotations

import math
import re
from datetime import date
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from newsqa.index import IndexReader, IndexSnapshot, iso_date

from .answers import Answer, AnswerSet, quote_context
from .errors import EmptyQuestion
from .hybrid import HybridRetriever
from .places import load_place_names
from .config import (
    NEAR_TOKENS,
    PREFIX_STEM_CHARS,
    MIN_STANDALONE_WORDS,
    SUBSTITUTE_MIN_COSINE,
    COVERAGE_WEIGHT,
    FOCUS_WEIGHT,
    MAX_QUESTION_CHARS,
    MAX_TITLE_WORDS,
    MIN_ANSWERS_EXAMINED,
    MIN_FOLLOWING_RELEVANCE,
    MIN_RELEVANCE,
    PASSAGE_COVERAGE_WEIGHT,
    PASSAGES_PER_ANSWER,
)
from .quotes import Quote, QuotePicker
from .terms import QuestionTerms
from .timeframe import TimeFrame, time_frame

_WORD = re.compile(r"\w", re.UNICODE)


class QueryEncoder(Protocol):
    """The part of an embedding model answering needs."""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def clean_question(question: str) -> str:
    """The question as searched: trimmed, control characters removed, length bounded.

    Raises:
        EmptyQuestion: nothing searchable is left.
    """
    text = "".join(ch if ch.isprintable() else " " for ch in question)
    text = " ".join(text.split())[:MAX_QUESTION_CHARS]
    if not _WORD.search(text):
        raise EmptyQuestion("the question is empty; ask something like “who led the Chinese delegation?”")
    return text


class QuestionAnswerer:
    """Answers questions from the latest generation of an index."""

    def __init__(self, reader: IndexReader, encoder: QueryEncoder,
                 retriever: HybridRetriever | None = None, picker: QuotePicker | None = None,
                 min_relevance: float = MIN_RELEVANCE, coverage_weight: float = COVERAGE_WEIGHT,
                 min_following_relevance: float = MIN_FOLLOWING_RELEVANCE,
                 passage_coverage_weight: float = PASSAGE_COVERAGE_WEIGHT,
                 passages_per_answer: int = PASSAGES_PER_ANSWER, focus_weight: float = FOCUS_WEIGHT,
                 min_answers_examined: int = MIN_ANSWERS_EXAMINED) -> None:
        self.reader = reader
        self.encoder = encoder
        self.retriever = retriever or HybridRetriever()
        self.picker = picker or QuotePicker()
        self.min_relevance = min_relevance
        self.coverage_weight = coverage_weight
        self.min_following_relevance = min(min_following_relevance, min_relevance)
        self.passage_coverage_weight = passage_coverage_weight
        self.passages_per_answer = passages_per_answer
        self.focus_weight = focus_weight
        self.min_answers_examined = min_answers_examined
        # One thread for the keyword searches that run beside the embedding (`candidates`).
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-keyword")

    def warm_up(self) -> None:
        """Load what answering needs before the first question: the model, and the place
        names a question asking for a place needs. For processes that answer many questions
        (the bot, a batch from stdin); a single question loads only what it needs."""
        self.encoder.encode_queries(["warm up"])
        load_place_names()

    def ask(self, question: str, k: int = 3, *, as_of: date | None = None,
            since: date | None = None) -> AnswerSet:
        """The top `k` quoted answers to `question`, as of the day `as_of`: nothing published
        after it is quoted, and "this week" means the week before it (None: no bound).
        `since` keeps only articles published on or after that day.

        Raises:
            EmptyQuestion: the question has no words.
        """
        return self.ask_many([question], k, as_of=[as_of], since=since)[0]

    def ask_many(self, questions: Sequence[str], k: int = 3, *,
                 as_of: Sequence[date | None] | None = None, since: date | None = None) -> list[AnswerSet]:
        """Answers for several questions (each with its own as-of day), embedding them in one batch.

        Raises:
            EmptyQuestion: one of the questions has no words.
        """
        candidates = self.candidates(questions, k, as_of=as_of, since=since)
        return [self.answer_set(question, quotes, k) for question, quotes in zip(questions, candidates)]

    def candidates(self, questions: Sequence[str], k: int = 3, *,
                   as_of: Sequence[date | None] | None = None, since: date | None = None) -> list[list[Quote]]:
        """Each question's candidate quotes, best first, before the not-found rule; the
        questions are embedded in one batch.

        Raises:
            EmptyQuestion: one of the questions has no words.
        """
        cleaned = [clean_question(q) for q in questions]
        days = list(as_of) if as_of is not None else [None] * len(cleaned)
        snapshot = self.reader.snapshot
        frames = [time_frame(text, day, since) for text, day in zip(cleaned, days)]
        # The keyword searches run while the questions are embedded and searched by vector
        # (SQLite, onnxruntime and FAISS let go of the GIL): on a large index they cost as
        # much as both, and a second core does them at no cost to the first.
        keyword = [self._beside.submit(self.retriever.keyword_hits, snapshot, text, frame.window)
                   for text, frame in zip(cleaned, frames)]
        vectors = self.encoder.encode_queries(cleaned)
        return [self.quotes(text, vector, k, snapshot, frame, keyword_search=hits.result)
                for text, vector, frame, hits in zip(cleaned, vectors, frames, keyword)]

    def quotes(self, question: str, vector: np.ndarray, k: int = 3,
               snapshot: IndexSnapshot | None = None, frame: TimeFrame | None = None,
               keyword_search: Callable[[], dict[int, float]] | None = None) -> list[Quote]:
        """The candidate quotes, best first, for an already cleaned question and its vector:
        one per passage of the `passages_examined(k)` retrieved, before the not-found rule.
        `keyword_search`: where to get the question's keyword hits in that frame, when they
        are searched elsewhere (`HybridRetriever.search`)."""
        snapshot = snapshot or self.reader.snapshot
        window = frame.window if frame is not None else None
        # Weighed before the search: the keyword search beside it has read the statistics
        # already, and is often still ranking when the dense search is done.
        terms = self.terms(question, snapshot)
        passages = self.retriever.search(snapshot, question, vector, k=self.passages_examined(k), window=window,
                                         keyword_search=keyword_search)
        return self.picker.pick(question, vector, passages, terms, frame)

    def passages_examined(self, k: int) -> int:
        """How many passages are searched and scored for `k` answers: as many as for
        `min_answers_examined` when fewer are asked, so the best answer does not depend on k."""
        return max(k, self.min_answers_examined, 1) * self.passages_per_answer

    def terms(self, question: str, snapshot: IndexSnapshot) -> QuestionTerms:
        """The question's words, weighted by `snapshot`'s term statistics (or a `PassagePool`'s,
        which answers the same call) and by its focus."""
        return QuestionTerms.of(question, snapshot, self.focus_weight)

    def scoring_config(self) -> dict[str, object]:
        """Every scoring parameter in force (retrieval, picking, not-found rule, the ranker's
        weights): what `newsqa eval --json` prints beside its figures."""
        retriever, picker = self.retriever, self.picker
        ranker = picker.ranker
        return {
            "retrieval": {"rrf_k": retriever.rrf_k, "dense_weight": retriever.dense_weight,
                          "keyword_weight": retriever.keyword_weight, "candidates": retriever.candidates,
                          "title_weight": retriever.title_weight,
                          "common_term_share": retriever.common_term_share,
                          "common_term_min_passages": retriever.common_term_min_passages},
            "passages_per_answer": self.passages_per_answer, "min_answers_examined": self.min_answers_examined,
            "focus_weight": self.focus_weight,
            "max_question_chars": MAX_QUESTION_CHARS, "prefix_stem_chars": PREFIX_STEM_CHARS,
            "not_found": {"min_relevance": self.min_relevance, "coverage_weight": self.coverage_weight,
                          "passage_coverage_weight": self.passage_coverage_weight,
                          "min_following_relevance": self.min_following_relevance},
            "picker": {"extend_margin": picker.extend_margin, "max_quote_chars": picker.max_quote_chars,
                       "w_recent_span": picker.w_recent_span, "w_newest": picker.w_newest,
                       "w_recency_prior": picker.w_recency_prior,
                       "recency_days": picker.recency_days, "near_tokens": NEAR_TOKENS,
                       "max_title_words": MAX_TITLE_WORDS},
            "follow_ups": {"min_standalone_words": MIN_STANDALONE_WORDS,
                           "substitute_min_cosine": SUBSTITUTE_MIN_COSINE},
            "ranker": {name: round(float(w), 4) for name, w in zip(ranker.features, ranker.weights)}
                      | {"bias": round(ranker.bias, 4)},
        }

    def relevance(self, quote: Quote) -> float:
        """How surely `quote` is about the question; compared with `min_relevance`."""
        return (quote.cosine + self.coverage_weight * quote.coverage
                + self.passage_coverage_weight * quote.passage_coverage)

    def answer_set(self, question: str, quotes: list[Quote], k: int, *, threshold: bool = True) -> AnswerSet:
        """The top `k` answers made of `quotes` (best first), or not found when the best is
        not relevant enough. `threshold=False` skips the relevance rules: the ranking alone,
        as `newsqa eval` reports it beside the answers users get."""
        floor = self.min_following_relevance if threshold else -math.inf
        # Whether the corpus is about the question at all is judged on the quote ranked best
        # by what it says, before recency moved a newer one above it.
        if not quotes or (threshold and self.relevance(max(quotes, key=lambda q: q.score - q.recency))
                          < self.min_relevance):
            return AnswerSet(question=question, found=False, answers=[])
        answers: list[Answer] = []
        seen: set[str] = set()
        for quote in quotes:
            key = " ".join(quote.text.split()).casefold()
            if key in seen or self.relevance(quote) < floor:
                continue
            seen.add(key)
            chunk = quote.passage.chunk
            context_start, context_end = quote_context(chunk.sentences, quote.start, quote.end)
            answers.append(Answer(
                quote=quote.text, passage=chunk.text, score=round(quote.score, 4), title=chunk.title,
                source=chunk.source, published=iso_date(chunk.published), url=chunk.url,
                quote_start=quote.start, quote_end=quote.end, chunk_id=chunk.chunk_id, passage_start=chunk.start,
                context_start=context_start, context_end=context_end,
            ))
            if len(answers) == k:
                break
        return AnswerSet(question=question, found=bool(answers), answers=answers)
