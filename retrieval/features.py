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

from newsqa.index import StoredChunk, StoredSentence, keyword_terms, stem_words

from .config import NEAR_TOKENS
from .hybrid import RetrievedPassage
from .places import place_kind, place_words
from .terms import PassageTerms, QuestionTerms, chunk_terms
from .titles import asks_title, title_words


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
# "what" alone asks for anything (a thing, an act, a reason), rarely a name: no kind. "what"
# before a word for a named body or place asks what "which" would ("what company", "what
# political party", "what U.S. state"), unless that word is a verb's object ("what makes a city").
_NAMED_THINGS = ("team", "company", "firm", "brand", "party", "country", "nation", "state", "city", "town", "county",
                 "province", "island", "river", "university", "college", "club", "airline", "agency", "organization",
                 "organisation", "newspaper", "league", "band", "network")
_NAMED_THING = "|".join(word[:-1] + "(?:y|ies)" if word.endswith("y") else word + "s?" for word in _NAMED_THINGS)
_ASKS_NAME = re.compile(r"\bwho(m|se)?\b|\bwhich\b|\bwhere\b|\bname\b|"
                        r"\bwhat\s+(?:(?!(?:is|was|are|were|do|does|did|can|could|will|would|has|have|had|makes?|made)\b)"
                        rf"[\w.-]+\s+)?(?:{_NAMED_THING})\b", re.I)


def answer_kind(question: str) -> str | None:
    """"number", "date", "name" or None: the kind of thing the question asks for ("who",
    "which", "where", "what company" or a name: a name; "what" alone: none)."""
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
    # For a name question that asks for a work's title ("which movie", "what song").
    title: bool = False

    @classmethod
    def of(cls, question: str, terms: QuestionTerms) -> "QuestionProfile":
        columns = [terms.column(stem) for stem in terms.question_order]
        pairs = frozenset((a, b) for a, b in zip(columns, columns[1:]) if a is not None and b is not None and a != b)
        title = asks_title(question)  # "what song": a name, a title's
        kind = "name" if title else answer_kind(question)
        return cls(terms, kind, pairs, frozenset(stem_words(keyword_terms(question))),
                   place_kind(question) if kind == "name" else None, title)


@dataclass
class SentenceFeatures:
    """Features of the sentences of several passages: one row per sentence."""

    matrix: np.ndarray  # sentences x len(FEATURES), float32
    passage_of: np.ndarray  # row -> index of its passage in the list given
    sentence_of: np.ndarray  # row -> index of the sentence in its passage
    presence: list[np.ndarray]  # per passage: sentences x question stems, 1 where held


class SentenceFeaturizer:
    """Turns retrieved passages into the feature rows of their sentences.

    All passages' words are handled as one run of arrays (a passage's bounds kept where a
    signal must not cross them): a few array operations per question, not per passage."""

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        terms = profile.terms
        chunks = [p.chunk for p in passages]
        texts = [chunk_terms(chunk) for chunk in chunks]
        counts = np.fromiter((len(chunk.sentences) for chunk in chunks), np.int64, len(chunks))
        total_rows = int(counts.sum())
        if not total_rows:
            empty = np.zeros((0, len(FEATURES)), np.float32)
            presence = [np.zeros((0, len(terms.stems)), np.float32) for _ in passages]
            return SentenceFeatures(empty, np.zeros(0, np.int32), np.zeros(0, np.int32), presence)
        sentences = [s for chunk in chunks for s in chunk.sentences]
        passage_of = np.repeat(np.arange(len(passages), dtype=np.int32), counts)
        row_base = np.concatenate(([0], np.cumsum(counts)))
        sentence_of = (np.arange(total_rows) - row_base[passage_of]).astype(np.int32)
        words = _PassageWords.of(texts, chunks, sentences, passage_of, profile)
        rows_of, inside, matched = words.rows_of, words.inside, words.columns >= 0
        presence = np.zeros((total_rows, len(terms.stems)), np.float32)
        hit = matched & inside
        presence[rows_of[hit], words.columns[hit]] = 1.0
        novel = words.novel(profile, texts, chunks)
        near = self._near(matched, NEAR_TOKENS, words.low, words.high)

        def per_sentence(flags: np.ndarray) -> np.ndarray:
            return np.bincount(rows_of[flags & inside], minlength=total_rows).astype(np.float32)

        content_count = per_sentence(words.content)
        novel_count = per_sentence(novel.unsaid)
        weights = terms.weights
        total = float(weights.sum())
        # Products per passage, as the scores were measured (a product over all rows at once
        # rounds differently in the last bit, which can swap near-ties).
        blocks = np.split(presence, row_base[1:-1])
        coverage = np.zeros(total_rows, np.float32)
        passage_coverage = np.zeros(len(passages), np.float32)
        if total > 0:
            # 0/1 presence times finite IDF weights is finite, but OpenBLAS's small float32
            # products now and then leave the "invalid" flag set (inputs clean when repeated;
            # docs/quality-log.md, "Twentieth session"), which numpy reports as a RuntimeWarning.
            with np.errstate(invalid="ignore"):
                coverage = np.concatenate([block @ weights for block in blocks]) / total
            for index in np.flatnonzero(counts):
                passage_coverage[index] = float(blocks[index].max(axis=0) @ weights / total)
        title_of = {title: terms.coverage_of(title) for title in {chunk.title for chunk in chunks}}
        title_coverage = np.fromiter((title_of[chunk.title] for chunk in chunks), np.float32, len(chunks))
        top_keyword = max((p.keyword for p in passages), default=0.0) or 1.0
        per_passage = np.asarray([(p.dense, 1.0 / (p.rank + 1), p.keyword / top_keyword) for p in passages])
        cosine = np.concatenate([np.stack([s.vector for s in chunk.sentences]) @ query_vector
                                 for chunk in chunks if chunk.sentences])
        chars = np.fromiter((s.end - s.start for s in sentences), np.float32, total_rows)
        question_mark = np.fromiter(("?" in chunk.article_text[s.start:s.end]
                                     for chunk in chunks for s in chunk.sentences), np.float32, total_rows)
        opens_article = np.fromiter((chunk.ordinal == 0 for chunk in chunks), bool, len(chunks))
        opening = opens_article[passage_of] & (sentence_of == 0)
        novel_share = novel_count / np.maximum(content_count, 1.0)
        matrix = np.zeros((total_rows, len(FEATURES)), np.float32)
        columns = {
            "cos_sentence": cosine, "cos_passage": per_passage[passage_of, 0],
            "coverage": coverage, "passage_coverage": passage_coverage[passage_of],
            "title_coverage": title_coverage[passage_of],
            "bigrams": self._bigrams(profile, words.columns, words.content, rows_of, inside, total_rows),
            "rank_prior": per_passage[passage_of, 1], "keyword": per_passage[passage_of, 2],
            "novel_share": novel_share, "novel_words": np.log1p(novel_count),
            "type_match": per_sentence(novel.answer) > 0, "type_match_near": per_sentence(novel.answer & near) > 0,
            "novel_name": per_sentence(novel.name) > 0, "novel_number": per_sentence(novel.number) > 0,
            "question_mark": question_mark, "log_chars": np.log(np.maximum(chars, 1.0)) / math.log(400),
            "article_opening": opening, "echo": coverage * (1.0 - novel_share),
        }
        for name, values in columns.items():
            matrix[:, FEATURES.index(name)] = values
        # Relative to the question's best candidate: scales differ from question to question.
        column = FEATURES.index("cos_sentence")
        matrix[:, FEATURES.index("cos_gap")] = matrix[:, column] - matrix[:, column].max()
        column = FEATURES.index("coverage")
        matrix[:, FEATURES.index("coverage_gap")] = matrix[:, column] - matrix[:, column].max()
        return SentenceFeatures(matrix, passage_of, sentence_of, blocks)

    @staticmethod
    def _near(matched: np.ndarray, reach: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Per word: a question word lies within `reach` words of it, inside the word's
        passage (its words run from `low` to `high`, exclusive)."""
        if not len(matched):
            return matched
        sums = np.concatenate(([0], np.cumsum(matched)))
        index = np.arange(len(matched))
        return (sums[np.minimum(index + reach + 1, high)] - sums[np.maximum(index - reach, low)]) > 0

    @staticmethod
    def _bigrams(profile: QuestionProfile, columns: np.ndarray, content: np.ndarray, rows_of: np.ndarray,
                 inside: np.ndarray, count: int) -> np.ndarray:
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
        side_by_side = (rank[b] - rank[a] == 1) & (rows_of[a] == rows_of[b]) & inside[a] & inside[b]
        width = len(profile.terms.stems)
        wanted = np.fromiter((x * width + y for x, y in profile.bigrams), np.int64)
        keep = side_by_side & np.isin(columns[a] * width + columns[b], wanted)
        np.add.at(found, rows_of[a][keep], 1.0)
        return np.minimum(found / len(profile.bigrams), 1.0)


@dataclass(frozen=True)
class NovelWords:
    """Per word of the passages: what it holds beyond the question's words."""

    unsaid: np.ndarray  # a content word the question does not say
    name: np.ndarray  # ... capitalised, not opening its sentence, not a day ("Monday" is no name)
    number: np.ndarray  # ... a number that is not a year ("2021" is no count)
    answer: np.ndarray  # ... of the kind the question asks for: a candidate answer


@dataclass(frozen=True)
class _PassageWords:
    """The words of several passages end to end, each with its sentence's row (rows run on
    from passage to passage) and what the question makes of it."""

    rows_of: np.ndarray  # per word: its sentence's row (meaningless where not `inside`)
    inside: np.ndarray  # per word: within a sentence (not before a passage's first one)
    columns: np.ndarray  # per word: the question stem it matches, or -1
    said: np.ndarray  # per word: a stem the question says, however short
    content: np.ndarray
    capital: np.ndarray
    number: np.ndarray
    date: np.ndarray
    first: np.ndarray  # per word: the first of its sentence (capitalised whatever it is)
    low: np.ndarray  # per word: where its passage's words start
    high: np.ndarray  # per word: where they end (exclusive)

    @classmethod
    def of(cls, texts: Sequence[PassageTerms], chunks: Sequence[StoredChunk], sentences: Sequence[StoredSentence],
           passage_of_row: np.ndarray, profile: QuestionProfile) -> "_PassageWords":
        sizes = np.fromiter((text.size for text in texts), np.int64, len(texts))
        passage_of_word = np.repeat(np.arange(len(texts)), sizes)
        word_base = np.concatenate(([0], np.cumsum(sizes)))
        # A word's sentence: the last one starting at or before it, in the same passage. Each
        # passage's offsets are shifted past the one before's, so one search serves them all.
        span = max((len(chunk.article_text) for chunk in chunks), default=0) + 1
        shift = np.arange(len(chunks), dtype=np.int64) * span
        starts = np.fromiter((s.start for s in sentences), np.int64, len(sentences)) + shift[passage_of_row]
        offsets = np.concatenate([chunk.start + text.offsets.astype(np.int64) for chunk, text in zip(chunks, texts)]
                                 ) + shift[passage_of_word]
        rows_of = np.searchsorted(starts, offsets, side="right") - 1
        inside = (rows_of >= 0) & (passage_of_row[np.maximum(rows_of, 0)] == passage_of_word)
        first = np.zeros(len(offsets), bool)
        first[1:] = np.diff(rows_of) != 0
        first[word_base[:-1][sizes > 0]] = True
        return cls(rows_of, inside,
                   np.concatenate([text.stem_columns(profile.terms) for text in texts]),
                   np.concatenate([text.stems_in(profile.said) for text in texts]),
                   *(np.concatenate([getattr(text, flag) for text in texts])
                     for flag in ("content", "capital", "number", "date")),
                   first, word_base[passage_of_word], word_base[passage_of_word + 1])

    def novel(self, profile: QuestionProfile, texts: Sequence[PassageTerms],
              chunks: Sequence[StoredChunk]) -> NovelWords:
        """The words new to the question, and among them the candidate answers: a name for a
        name question (a place of the kind asked for "which state"; a quoted title, where any is
        quoted, for "which movie"), a number for "how many", a date for "when"."""
        novel = self.content & (self.columns < 0) & ~self.said & self.inside
        name = novel & self.capital & ~self.first & ~self.date
        number = novel & self.number & ~self.date
        kind = profile.kind
        answer = (name if kind == "name" else number if kind == "number"
                  else novel & self.date if kind == "date" else np.zeros(len(novel), bool))
        if profile.place is not None:  # "which state": a state's name, not any name
            answer = answer & np.concatenate([place_words(text.words, profile.place) for text in texts])
        elif profile.title:  # "which movie": a quoted title, where the candidates quote any
            titles = answer & np.concatenate([title_words(chunk.text, text.offsets) for chunk, text in zip(chunks, texts)])
            answer = titles if titles.any() else answer
        return NovelWords(novel, name, number, answer)
