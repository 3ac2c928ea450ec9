"""Picking the sentence to quote from the retrieved passages.

Each sentence is scored from signals prepared at indexing time (its vector, pooled from
the passage's forward pass) and cheap text features: overlap with the question's content
words, and whether it holds the kind of thing the question asks for (a person, a date, a
number). A neighbouring sentence of the same paragraph joins the quote when it scores
nearly as well, so an answer spanning two sentences is quoted whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from newsqa.index import StoredChunk, StoredSentence, keyword_terms

from .hybrid import RetrievedPassage

# Weights of the sentence score: embedding similarity, word overlap, answer-type cue.
W_COSINE, W_OVERLAP, W_CUE = 0.55, 0.35, 0.10
# Weight of the passage's own similarity in the answer score (ranks answers across passages).
W_PASSAGE = 0.3
# A neighbour scoring at least this share of the best sentence joins the quote.
EXTEND_RATIO = 0.85
MAX_QUOTE_CHARS = 400
# Prefix length treated as a word's stem in overlap ("delegation" ~ "delegations").
STEM_CHARS = 6

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b(1[5-9]\d\d|20\d\d|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
                   rf"saturday|sunday|yesterday|today|century|decade)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"hundred|thousand|million|billion|dozen)\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z'-]+)+\b")


def _stems(terms: list[str]) -> set[str]:
    return {term[:STEM_CHARS] for term in terms}


def _question_cue(question: str) -> re.Pattern[str] | None:
    """The pattern an answer to this kind of question usually contains."""
    lowered = question.casefold()
    if re.search(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (number|percentage|percent)\b", lowered):
        return _NUMBER
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich year\b", lowered):
        return _DATE
    if re.search(r"\bwho(m|se)?\b", lowered):
        return _NAME
    return None


@dataclass(frozen=True)
class Quote:
    """The chosen span of one passage and how well it answers."""

    passage: RetrievedPassage
    start: int
    end: int
    score: float
    relevance: float

    @property
    def text(self) -> str:
        return self.passage.chunk.article_text[self.start:self.end]


class QuotePicker:
    """Chooses the best sentence (or two) of each passage for a question."""

    def pick(self, question: str, query_vector: np.ndarray, passages: list[RetrievedPassage]) -> list[Quote]:
        """One quote per passage, best first."""
        terms = _stems(keyword_terms(question))
        cue = _question_cue(question)
        quotes = [self._pick_one(passage, query_vector, terms, cue) for passage in passages]
        return sorted((q for q in quotes if q is not None), key=lambda q: -q.score)

    def _sentence_score(self, chunk: StoredChunk, sentence: StoredSentence, query_vector: np.ndarray,
                        terms: set[str], cue: re.Pattern[str] | None) -> tuple[float, float]:
        text = chunk.article_text[sentence.start:sentence.end]
        cosine = float(np.dot(query_vector, sentence.vector))
        overlap = len(terms & _stems(keyword_terms(text))) / len(terms) if terms else 0.0
        hint = 1.0 if cue is not None and cue.search(text) else 0.0
        return W_COSINE * cosine + W_OVERLAP * overlap + W_CUE * hint, cosine

    def _pick_one(self, passage: RetrievedPassage, query_vector: np.ndarray, terms: set[str],
                  cue: re.Pattern[str] | None) -> Quote | None:
        chunk = passage.chunk
        if not chunk.sentences:
            return None
        scored = [self._sentence_score(chunk, s, query_vector, terms, cue) for s in chunk.sentences]
        best = max(range(len(scored)), key=lambda i: scored[i][0])
        sentence = chunk.sentences[best]
        start, end = sentence.start, sentence.end
        best_score, cosine = scored[best]
        for neighbour in (best - 1, best + 1):
            if not 0 <= neighbour < len(scored):
                continue
            other = chunk.sentences[neighbour]
            joined = (min(start, other.start), max(end, other.end))
            if (other.paragraph == sentence.paragraph and scored[neighbour][0] >= EXTEND_RATIO * best_score
                    and joined[1] - joined[0] <= MAX_QUOTE_CHARS):
                start, end = joined
                break
        relevance = max(cosine, passage.dense)
        score = best_score + W_PASSAGE * passage.dense
        return Quote(passage, start, end, score, relevance)
