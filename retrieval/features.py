"""What says a sentence answers a question, as numbers: the learned ranker's input.

Every signal is computed from what the index stored (sentence vectors pooled at indexing
time, offsets) and the text itself; the model never runs again. Signals, per sentence of a
retrieved passage:

- similarity: the sentence's and the passage's cosine to the question, and the sentence's
  relative to the best candidate of the question;
- overlap: the IDF-weighted share of the question's words the sentence (and its passage,
  and the article's title) holds, and the share of the question's word pairs it holds in order;
- retrieval: the passage's fused rank and keyword score;
- answer-bearing: what the sentence holds beyond the question's words (novelty: an echo of
  the question holds nothing new), and whether that includes the kind of thing the question
  asks for (a name for *who* and *which*, a country's, state's or city's name for "which
  country", a number for *how many*, a date for *when*), near
  the question's own words;
- shape: a question mark, its length, whether it opens the article.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from newsqa.index import keyword_terms, stem_words

from .config import NEAR_TOKENS
from .hybrid import RetrievedPassage
from .places import place_kind, place_words
from .terms import QuestionTerms, passage_terms


FEATURES: tuple[str, ...] = (
    "cos_sentence", "cos_passage", "cos_gap", "coverage", "coverage_gap", "passage_coverage",
    "title_coverage", "bigrams", "rank_prior", "keyword", "novel_share", "novel_words",
    "type_match", "type_match_near", "novel_name", "novel_number", "question_mark",
    "log_chars", "article_opening", "echo",
)

# What a question asks for, by its wording.
_ASKS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|large|big|often|high|tall|fast)\b|"
                          r"\bwhat (number|percentage|percent|share|amount|rate|price|age)\b", re.I)
_ASKS_DATE = re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month|time|decade|century)\b", re.I)
# "what" alone asks for anything (a thing, an act, a reason), rarely a name: no kind.
_ASKS_NAME = re.compile(r"\bwho(m|se)?\b|\bwhich\b|\bwhere\b|\bname\b", re.I)


def answer_kind(question: str) -> str | None:
    """"number", "date", "name" or None: the kind of thing the question asks for ("who",
    "which", "where" or a name: a name; "what" alone: none)."""
    if _ASKS_NUMBER.search(question):
        return "number"
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_NAME.search(question):
        return "name"
    return None


@dataclass(frozen=True)
class QuestionProfile:
    """Everything about a question the features need, computed once per question."""

    terms: QuestionTerms
    kind: str | None
    bigrams: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    # Every stem of the question's content words, the one-letter ones too ("4" of "Channel 4",
    # "s" of "UK’s") that `terms` leaves out: a word the question says is never news.
    said: frozenset[str] = field(default_factory=frozenset)
    # For a name question that asks for a place ("which state"): its kind, whose names answer.
    place: str | None = None

    @classmethod
    def of(cls, question: str, terms: QuestionTerms) -> "QuestionProfile":
        columns = [terms.column(stem) for stem in terms.question_order]
        pairs = frozenset((a, b) for a, b in zip(columns, columns[1:]) if a is not None and b is not None and a != b)
        kind = answer_kind(question)
        return cls(terms, kind, pairs, frozenset(stem_words(keyword_terms(question))),
                   place_kind(question) if kind == "name" else None)


@dataclass
class SentenceFeatures:
    """Features of the sentences of several passages: one row per sentence."""

    matrix: np.ndarray  # sentences x len(FEATURES), float32
    passage_of: np.ndarray  # row -> index of its passage in the list given
    sentence_of: np.ndarray  # row -> index of the sentence in its passage
    presence: list[np.ndarray]  # per passage: sentences x question stems, 1 where held


class SentenceFeaturizer:
    """Turns retrieved passages into the feature rows of their sentences."""

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        rows: list[np.ndarray] = []
        passage_of: list[np.ndarray] = []
        sentence_of: list[np.ndarray] = []
        presence_all: list[np.ndarray] = []
        top_keyword = max((p.keyword for p in passages), default=0.0) or 1.0
        for index, passage in enumerate(passages):
            block, presence = self._passage_rows(profile, query_vector, passage, top_keyword)
            presence_all.append(presence)
            if not len(block):
                continue
            rows.append(block)
            passage_of.append(np.full(len(block), index, np.int32))
            sentence_of.append(np.arange(len(block), dtype=np.int32))
        if not rows:
            empty = np.zeros((0, len(FEATURES)), np.float32)
            return SentenceFeatures(empty, np.zeros(0, np.int32), np.zeros(0, np.int32), presence_all)
        matrix = np.vstack(rows)
        # Relative to the question's best candidate: scales differ from question to question.
        cosine = matrix[:, FEATURES.index("cos_sentence")]
        matrix[:, FEATURES.index("cos_gap")] = cosine - cosine.max()
        column = FEATURES.index("coverage")
        matrix[:, FEATURES.index("coverage_gap")] = matrix[:, column] - matrix[:, column].max()
        return SentenceFeatures(matrix, np.concatenate(passage_of), np.concatenate(sentence_of), presence_all)

    def _passage_rows(self, profile: QuestionProfile, query_vector: np.ndarray, passage: RetrievedPassage,
                      top_keyword: float) -> tuple[np.ndarray, np.ndarray]:
        chunk = passage.chunk
        sentences = chunk.sentences
        count = len(sentences)
        terms = profile.terms
        presence = np.zeros((count, len(terms.stems)), np.float32)
        if not count:
            return np.zeros((0, len(FEATURES)), np.float32), presence
        text = passage_terms(chunk.text)
        starts = np.fromiter((s.start for s in sentences), np.int64, count)
        rows_of = np.searchsorted(starts, chunk.start + text.offsets, side="right") - 1
        inside = rows_of >= 0
        columns = terms.columns_of(text.stems)  # -1 where the word is not a question word
        matched = columns >= 0
        hit = matched & inside
        presence[rows_of[hit], columns[hit]] = 1.0
        content, capital, number, date = text.content, text.capital, text.number, text.date
        # The first word of a sentence is capitalised whatever it is: not a name by itself.
        first_word = np.zeros(len(text.words), bool)
        if len(text.words):
            first_word[np.r_[0, np.flatnonzero(np.diff(rows_of)) + 1]] = True
        said = np.fromiter((stem in profile.said for stem in text.stems), bool, len(text.stems))
        novel = content & ~matched & ~said & inside
        novel_name = novel & capital & ~first_word & ~date  # "Monday" is not a name
        novel_number = novel & number & ~date  # "2021" is a year, not a count
        novel_date = novel & date
        near = self._near(matched, NEAR_TOKENS)
        kind = profile.kind
        answer = (novel_name if kind == "name" else novel_number if kind == "number"
                  else novel_date if kind == "date" else np.zeros(len(text.words), bool))
        if profile.place is not None:  # "which state": a state's name, not any name
            answer = answer & place_words(text.words, profile.place)

        def per_sentence(flags: np.ndarray) -> np.ndarray:
            return np.bincount(rows_of[flags & inside], minlength=count).astype(np.float32)

        content_count = per_sentence(content)
        novel_count = per_sentence(novel)
        weights = terms.weights
        total = float(weights.sum())
        coverage = presence @ weights / total if total > 0 else np.zeros(count, np.float32)
        passage_coverage = float(presence.max(axis=0) @ weights / total) if total > 0 else 0.0
        bigrams = self._bigrams(profile, columns, content, rows_of, count)
        cosine = np.stack([s.vector for s in sentences]) @ query_vector
        chars = np.fromiter((s.end - s.start for s in sentences), np.float32, count)
        question_mark = np.fromiter(("?" in chunk.article_text[s.start:s.end] for s in sentences), np.float32, count)
        novel_share = novel_count / np.maximum(content_count, 1.0)
        block = np.zeros((count, len(FEATURES)), np.float32)
        block[:, FEATURES.index("cos_sentence")] = cosine
        block[:, FEATURES.index("cos_passage")] = passage.dense
        block[:, FEATURES.index("coverage")] = coverage
        block[:, FEATURES.index("passage_coverage")] = passage_coverage
        block[:, FEATURES.index("title_coverage")] = terms.coverage_of(chunk.title)
        block[:, FEATURES.index("bigrams")] = bigrams
        block[:, FEATURES.index("rank_prior")] = 1.0 / (passage.rank + 1)
        block[:, FEATURES.index("keyword")] = passage.keyword / top_keyword
        block[:, FEATURES.index("novel_share")] = novel_share
        block[:, FEATURES.index("novel_words")] = np.log1p(novel_count)
        block[:, FEATURES.index("type_match")] = per_sentence(answer) > 0
        block[:, FEATURES.index("type_match_near")] = per_sentence(answer & near) > 0
        block[:, FEATURES.index("novel_name")] = per_sentence(novel_name) > 0
        block[:, FEATURES.index("novel_number")] = per_sentence(novel_number) > 0
        block[:, FEATURES.index("question_mark")] = question_mark
        block[:, FEATURES.index("log_chars")] = np.log(np.maximum(chars, 1.0)) / math.log(400)
        block[:, FEATURES.index("article_opening")] = [chunk.ordinal == 0 and n == 0 for n in range(count)]
        block[:, FEATURES.index("echo")] = coverage * (1.0 - novel_share)
        return block, presence

    @staticmethod
    def _near(matched: np.ndarray, reach: int) -> np.ndarray:
        """Per word: a question word lies within `reach` words of it."""
        if not len(matched):
            return matched
        sums = np.concatenate(([0], np.cumsum(matched)))
        index = np.arange(len(matched))
        low = np.clip(index - reach, 0, len(matched))
        high = np.clip(index + reach + 1, 0, len(matched))
        return (sums[high] - sums[low]) > 0

    @staticmethod
    def _bigrams(profile: QuestionProfile, columns: np.ndarray, content: np.ndarray, rows_of: np.ndarray,
                 count: int) -> np.ndarray:
        """Per sentence: the share of the question's word pairs found in order, side by side
        (stop words between them skipped)."""
        found = np.zeros(count, np.float32)
        positions = np.flatnonzero(content & (columns >= 0))
        if not profile.bigrams or len(positions) < 2:
            return found
        # Consecutive content words, both question words: is the pair one of the question's?
        every = np.flatnonzero(content)
        rank = np.full(len(content), -1)
        rank[every] = np.arange(len(every))
        a, b = positions[:-1], positions[1:]
        side_by_side = (rank[b] - rank[a] == 1) & (rows_of[a] == rows_of[b]) & (rows_of[a] >= 0)
        width = int(columns.max()) + 1
        wanted = np.fromiter((x * width + y for x, y in profile.bigrams if x < width and y < width), np.int64)
        pairs = columns[a] * width + columns[b]
        keep = side_by_side & np.isin(pairs, wanted)
        np.add.at(found, rows_of[a][keep], 1.0)
        return np.minimum(found / len(profile.bigrams), 1.0)
