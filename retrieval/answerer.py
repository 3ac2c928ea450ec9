"""Question in, quoted answers out: the one entry point the CLI and the bot call."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from newsqa.index import IndexReader

from .answers import Answer, AnswerSet
from .errors import EmptyQuestion
from .hybrid import HybridRetriever
from .quotes import QuestionTerms, Quote, QuotePicker

# Relevance of a quote: its similarity to the question (the best of the sentence's and the
# passage's cosine) plus COVERAGE_WEIGHT times the IDF-weighted share of the question's words
# it holds. Below MIN_RELEVANCE nothing in the corpus is about the question, and we say so
# rather than quote noise. Tuned on xquad_en/covidqa questions asked of the other set's
# index (docs/quality.md).
MIN_RELEVANCE = 0.55
COVERAGE_WEIGHT = 0.5
# Once the top answer passes MIN_RELEVANCE, the ones after it need only this much: a
# second-best passage often holds the answer in other words (docs/quality.md).
MIN_FOLLOWING_RELEVANCE = 0.4
# Questions are cut to this many characters before searching; longer text is not a question.
MAX_QUESTION_CHARS = 1000
# Passages examined per answer asked for.
PASSAGES_PER_ANSWER = 2
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
                 min_following_relevance: float = MIN_FOLLOWING_RELEVANCE) -> None:
        self.reader = reader
        self.encoder = encoder
        self.retriever = retriever or HybridRetriever()
        self.picker = picker or QuotePicker()
        self.min_relevance = min_relevance
        self.coverage_weight = coverage_weight
        self.min_following_relevance = min(min_following_relevance, min_relevance)

    def ask(self, question: str, k: int = 3) -> AnswerSet:
        """The top `k` quoted answers to `question`.

        Raises:
            EmptyQuestion: the question has no words.
        """
        return self.ask_many([question], k)[0]

    def ask_many(self, questions: Sequence[str], k: int = 3) -> list[AnswerSet]:
        """Answers for several questions, embedding them in one batch.

        Raises:
            EmptyQuestion: one of the questions has no words.
        """
        cleaned = [clean_question(q) for q in questions]
        vectors = self.encoder.encode_queries(cleaned)
        snapshot = self.reader.snapshot
        results = []
        for original, text, vector in zip(questions, cleaned, vectors):
            passages = self.retriever.search(snapshot, text, vector, k=max(k, 1) * PASSAGES_PER_ANSWER)
            terms = QuestionTerms.of(text, snapshot)
            quotes = self.picker.pick(text, vector, passages, terms)
            results.append(self._answer_set(original, quotes, k))
        return results

    def relevance(self, quote: Quote) -> float:
        """How surely `quote` is about the question; compared with `min_relevance`."""
        return quote.cosine + self.coverage_weight * quote.coverage

    def _answer_set(self, question: str, quotes: list[Quote], k: int) -> AnswerSet:
        if not quotes or self.relevance(quotes[0]) < self.min_relevance:
            return AnswerSet(question=question, found=False, answers=[])
        answers: list[Answer] = []
        seen: set[str] = set()
        for quote in quotes:
            key = " ".join(quote.text.split()).casefold()
            if key in seen or self.relevance(quote) < self.min_following_relevance:
                continue
            seen.add(key)
            chunk = quote.passage.chunk
            answers.append(Answer(
                quote=quote.text, passage=chunk.text, score=round(quote.score, 4), title=chunk.title,
                source=chunk.source, published=chunk.published, url=chunk.url,
                quote_start=quote.start, quote_end=quote.end, chunk_id=chunk.chunk_id,
            ))
            if len(answers) == k:
                break
        return AnswerSet(question=question, found=bool(answers), answers=answers)
