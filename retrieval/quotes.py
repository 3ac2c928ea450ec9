"""Picking the sentence to quote from the retrieved passages.

Each sentence of the top passages is scored from signals prepared at indexing time and
cheap text features, never by running the model again:

- its vector (mean-pooled from the passage's forward pass) against the question's;
- coverage: the IDF-weighted share of the question's content words (porter stems) that
  the sentence holds, the IDF coming from the keyword index's own term statistics, so a
  rare name counts for more than a common verb;
- whether it holds the kind of thing the question asks for (a person, a date, a number);
- the rank of its passage in the fused retrieval.

A neighbouring sentence of the same paragraph joins the quote when it scores nearly as
well, so an answer spanning two sentences is quoted whole. The quotes (one per passage) are
ranked by that score plus how much of the question their whole passage covers.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from newsqa.index import IndexSnapshot, keyword_terms, stem_words
from newsqa.index.text import WORD

from .hybrid import RetrievedPassage

# Weights of a sentence's score: embedding similarity, IDF-weighted coverage of the
# question's terms, answer-type cue, and the retrieval rank of its passage (1/(rank+1)).
# Tuned on xquad_en and covidqa (docs/quality.md): raising the cosine weight from 0.5 to
# 3.0 took xquad_en quote_hit@1 from 0.81 to 0.86 and keeps the seed example (torch or ONNX
# vectors) on the Li Hongzhong sentence; a passage prior above 0.2 hurt covidqa.
W_COSINE, W_COVERAGE, W_CUE, W_RANK = 3.0, 1.0, 0.1, 0.2
# Weight of the passage's own coverage of the question in the order of the answers: a
# passage holding all the question's words, if spread over several sentences, ranks above
# one whose best sentence merely resembles the question. 1.5 took covidqa passage_hit@5
# from 0.789 to 0.809 and quote_hit@1 from 0.447 to 0.484; xquad_en stays within 0.003
# (docs/quality.md).
W_PASSAGE_COVERAGE = 1.5
# A neighbour scoring at least this share of the best sentence joins the quote.
EXTEND_RATIO = 0.7
MAX_QUOTE_CHARS = 400
# Stems at least this long also match when one extends the other: porter leaves
# "russia"/"russian" apart.
PREFIX_STEM_CHARS = 5
# Passages whose words' stems are kept between questions (~6 KB each with the text they are
# keyed by: at most ~26 MB).
PASSAGE_TERMS_CACHE = 4096

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b(1[5-9]\d\d|20\d\d|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
                   rf"saturday|sunday|yesterday|today|century|decade)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"hundred|thousand|million|billion|dozen)\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z'-]+)+\b")

@lru_cache(maxsize=PASSAGE_TERMS_CACHE)
def _text_terms(text: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Offsets and porter stems of the words of a passage's text; cached, as the same
    passages come back for many questions."""
    matches = list(WORD.finditer(text))
    offsets = np.fromiter((m.start() for m in matches), np.int32, len(matches))
    offsets.flags.writeable = False
    return offsets, tuple(sys.intern(stem) for stem in stem_words([m.group() for m in matches]))


def _question_cue(question: str) -> re.Pattern[str] | None:
    """The pattern an answer to this kind of question usually contains."""
    lowered = question.casefold()
    if re.search(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (number|percentage|percent)\b", lowered):
        return _NUMBER
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich year\b|\bwhat century\b", lowered):
        return _DATE
    if re.search(r"\bwho(m|se)?\b", lowered):
        return _NAME
    return None


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content-word stems and their IDF weights in one index."""

    stems: tuple[str, ...]
    weights: np.ndarray  # one IDF per stem; rare words weigh more
    _columns: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)
    # Long stems by their first PREFIX_STEM_CHARS letters: stems that extend one another share them.
    _heads: dict[str, list[tuple[int, str]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for n, stem in enumerate(self.stems):
            if len(stem) >= PREFIX_STEM_CHARS:
                self._heads.setdefault(stem[:PREFIX_STEM_CHARS], []).append((n, stem))

    @classmethod
    def of(cls, question: str, snapshot: IndexSnapshot | None = None) -> "QuestionTerms":
        """Stems of `question`, weighted by `snapshot`'s term statistics (equal weights without)."""
        # One-letter leftovers ("s" of "Russia's" stems to "") carry no meaning.
        stems = tuple(dict.fromkeys(s for s in stem_words(keyword_terms(question)) if len(s) >= 2))
        if not stems:
            return cls((), np.zeros(0, np.float32))
        if snapshot is None:
            return cls(stems, np.ones(len(stems), np.float32))
        total, counts = snapshot.term_chunk_counts(stems)
        # BM25's IDF; a word no chunk holds gets the highest weight (it is what the corpus lacks).
        weights = [math.log(1 + (total - counts.get(s, 0) + 0.5) / (counts.get(s, 0) + 0.5)) for s in stems]
        return cls(stems, np.asarray(weights, np.float32))

    def matches(self, stems: Sequence[str]) -> list[tuple[int, int]]:
        """(position in `stems`, column) of each of `stems` that matches a question stem."""
        memo, found = self._columns, []
        for position, stem in enumerate(stems):
            n = memo[stem] if stem in memo else self.column(stem)
            if n is not None:
                found.append((position, n))
        return found

    def column(self, stem: str) -> int | None:
        """Which of the question's stems `stem` matches: the same stem, or for stems of
        PREFIX_STEM_CHARS or more, one that extends the other ("russia" ~ "russian")."""
        memo = self._columns
        if stem not in memo:
            n = self.stems.index(stem) if stem in self.stems else None
            if n is None and len(stem) >= PREFIX_STEM_CHARS:
                n = next((i for i, q in self._heads.get(stem[:PREFIX_STEM_CHARS], ())
                          if stem.startswith(q) or q.startswith(stem)), None)
            memo[stem] = n
        return memo[stem]


@dataclass(frozen=True)
class Quote:
    """The chosen span of one passage and how well it answers."""

    passage: RetrievedPassage
    start: int
    end: int
    score: float
    cosine: float  # best of the sentence's and the passage's similarity to the question
    coverage: float  # IDF-weighted share of the question's terms in the quote
    passage_coverage: float  # the same share over the whole passage

    @property
    def text(self) -> str:
        return self.passage.chunk.article_text[self.start:self.end]


class QuotePicker:
    """Chooses the best sentence (or two) of each passage for a question."""

    def __init__(self, w_cosine: float = W_COSINE, w_coverage: float = W_COVERAGE, w_cue: float = W_CUE,
                 w_rank: float = W_RANK, extend_ratio: float = EXTEND_RATIO,
                 max_quote_chars: int = MAX_QUOTE_CHARS, w_passage_coverage: float = W_PASSAGE_COVERAGE) -> None:
        self.w_cosine = w_cosine
        self.w_passage_coverage = w_passage_coverage
        self.w_coverage = w_coverage
        self.w_cue = w_cue
        self.w_rank = w_rank
        self.extend_ratio = extend_ratio
        self.max_quote_chars = max_quote_chars

    def pick(self, question: str, query_vector: np.ndarray, passages: list[RetrievedPassage],
             terms: QuestionTerms | None = None) -> list[Quote]:
        """One quote per passage, best first."""
        terms = terms if terms is not None else QuestionTerms.of(question)
        cue = _question_cue(question)
        quotes = [self._pick_one(passage, query_vector, terms, cue) for passage in passages]
        return sorted((q for q in quotes if q is not None), key=lambda q: -q.score)

    def _presence(self, passage: RetrievedPassage, terms: QuestionTerms) -> np.ndarray:
        """sentences x question stems: 1 where the sentence holds the stem."""
        chunk = passage.chunk
        presence = np.zeros((len(chunk.sentences), len(terms.stems)), np.float32)
        if not terms.stems:
            return presence
        offsets, stems = _text_terms(chunk.text)
        found = terms.matches(stems)
        if not found:
            return presence
        tokens, columns = (np.asarray(values, np.int64) for values in zip(*found))
        starts = np.fromiter((s.start for s in chunk.sentences), np.int64, len(chunk.sentences))
        rows = np.searchsorted(starts, chunk.start + offsets[tokens], side="right") - 1
        inside = rows >= 0
        presence[rows[inside], columns[inside]] = 1.0
        return presence

    def _pick_one(self, passage: RetrievedPassage, query_vector: np.ndarray, terms: QuestionTerms,
                  cue: re.Pattern[str] | None) -> Quote | None:
        chunk = passage.chunk
        if not chunk.sentences:
            return None
        presence = self._presence(passage, terms)
        total = float(terms.weights.sum())
        coverage = presence @ terms.weights / total if total > 0 else np.zeros(len(chunk.sentences), np.float32)
        cosine = np.stack([s.vector for s in chunk.sentences]) @ query_vector
        hint = np.zeros(len(chunk.sentences), np.float32)
        if cue is not None:
            hint = np.asarray([1.0 if cue.search(chunk.article_text[s.start:s.end]) else 0.0
                               for s in chunk.sentences], np.float32)
        scores = self.w_cosine * cosine + self.w_coverage * coverage + self.w_cue * hint
        best = int(np.argmax(scores))
        sentence = chunk.sentences[best]
        start, end = sentence.start, sentence.end
        used = presence[best]
        order = sorted((best - 1, best + 1), key=lambda i: -scores[i] if 0 <= i < len(scores) else 0.0)
        for neighbour in order:
            if not 0 <= neighbour < len(scores):
                continue
            other = chunk.sentences[neighbour]
            joined = (min(start, other.start), max(end, other.end))
            if (other.paragraph == sentence.paragraph and scores[neighbour] >= self.extend_ratio * scores[best]
                    and joined[1] - joined[0] <= self.max_quote_chars):
                start, end = joined
                used = np.maximum(used, presence[neighbour])
                break
        quote_coverage = float(used @ terms.weights / total) if total > 0 else 0.0
        passage_coverage = float(presence.max(axis=0) @ terms.weights / total) if total > 0 else 0.0
        score = (float(scores[best]) + self.w_rank / (passage.rank + 1)
                 + self.w_passage_coverage * passage_coverage)
        return Quote(passage, start, end, score, max(float(cosine[best]), passage.dense), quote_coverage,
                     passage_coverage)
