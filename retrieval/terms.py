"""Words as the keyword index sees them (the rules of `index/text.py`), IDF-weighted.

The question's content-word stems, weighted by the index's own term statistics (a rare name
counts for more than a common verb), and each passage's words with their stems (cached: the
same passages come back for many questions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import repeat
from operator import itemgetter

import numpy as np

from newsqa.index import IndexSnapshot, SentenceSplitter, StoredChunk, keyword_terms, stem_words
from newsqa.index.text import WORD
from newsqa.index.words import CAPITAL, CONTENT, DATE, NUMBER, WordTable, distinct_stems

from .config import FOCUS_WEIGHT, PREFIX_STEM_CHARS

# Texts whose words are kept between questions when read on the spot (titles, chunks stored
# without their word table): ~9 KB each with the text they are keyed by, at most ~36 MB.
PASSAGE_TERMS_CACHE = 4096


@dataclass(frozen=True)
class PassageTerms:
    """The words of a passage's text: offsets, stems and kinds (`WordTable`), as flag arrays."""

    text: str
    table: WordTable
    # Per word, read-only: a content word (not a stop word), capitalised, a number, a date word.
    content: np.ndarray
    capital: np.ndarray
    number: np.ndarray
    date: np.ndarray

    @classmethod
    def of(cls, text: str, table: WordTable) -> "PassageTerms":
        flags = [(table.kinds & bit) > 0 for bit in (CONTENT, CAPITAL, NUMBER, DATE)]
        for array in flags:
            array.flags.writeable = False
        return cls(text, table, *flags)

    @property
    def offsets(self) -> np.ndarray:
        return self.table.offsets

    @property
    def size(self) -> int:
        return len(self.table.offsets)

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The words themselves, as written."""
        return tuple(WORD.findall(self.text))  # the table's words: it was read by the same pattern

    @cached_property
    def stems(self) -> tuple[str, ...]:
        """Per word, its stem."""
        vocabulary = self.table.vocabulary
        return tuple(vocabulary[i] for i in self.table.stem_index)

    def stem_columns(self, terms: "QuestionTerms") -> np.ndarray:
        """Per word: the question stem its stem matches, or -1 (`QuestionTerms.columns_of`)."""
        return terms.columns_of(self.table.vocabulary)[self.table.stem_index]

    def stems_in(self, stems: frozenset[str]) -> np.ndarray:
        """Per word: its stem is one of `stems`."""
        vocabulary = self.table.vocabulary
        return np.fromiter(map(stems.__contains__, vocabulary), bool, len(vocabulary))[self.table.stem_index]


@lru_cache(maxsize=PASSAGE_TERMS_CACHE)
def passage_terms(text: str) -> PassageTerms:
    """The words of `text`, read on the spot; cached, as the same texts come back often."""
    return PassageTerms.of(text, WordTable.of(text))


def chunk_terms(chunk: StoredChunk) -> PassageTerms:
    """The words of a stored chunk: its word table as stored at indexing time, else read now."""
    table = WordTable.from_blob(chunk.words)
    return passage_terms(chunk.text) if table is None else PassageTerms.of(chunk.text, table)


def asking_sentence(question: str) -> str | None:
    """The sentence of a question of several that asks (the last holding a "?", else the
    last): "NASA named the crew this week. How many astronauts were selected?" asks the
    second. None for a question of one sentence."""
    sentences = [question[span.start:span.end] for span in SentenceSplitter().split(question)]
    if len(sentences) < 2:
        return None
    return next((s for s in reversed(sentences) if "?" in s), sentences[-1])


def content_stems(text: str) -> tuple[str, ...]:
    """The stems of `text`'s content words, in order (one-letter leftovers, the "s" of
    "Russia's", carry no meaning and are left out)."""
    return tuple(s for s in stem_words(keyword_terms(text)) if len(s) >= 2)


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content-word stems and their weights in one index: each stem's IDF,
    times `focus_weight` for the words of the sentence that asks when the question has
    scene-setting sentences before it."""

    stems: tuple[str, ...]
    weights: np.ndarray  # per stem: how much holding it counts (IDF, rare words weigh more; focus)
    question_order: tuple[str, ...] = ()  # the stems as they follow one another in the question
    idf: np.ndarray | None = None  # per stem: the IDF alone, as BM25 weighs it (None: `weights`)
    # Each stem's column, and the long stems by their first PREFIX_STEM_CHARS letters (stems
    # that extend one another share them).
    _exact: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    _heads: dict[str, list[tuple[int, str]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for n, stem in enumerate(self.stems):
            self._exact.setdefault(stem, n)
            if len(stem) >= PREFIX_STEM_CHARS:
                self._heads.setdefault(stem[:PREFIX_STEM_CHARS], []).append((n, stem))

    @classmethod
    def of(cls, question: str, snapshot: IndexSnapshot | None = None,
           focus_weight: float = FOCUS_WEIGHT) -> "QuestionTerms":
        """Stems of `question`, weighted by `snapshot`'s term statistics (equal weights
        without), the asking sentence's `focus_weight` times."""
        order = content_stems(question)
        stems = tuple(dict.fromkeys(order))
        if not stems:
            return cls((), np.zeros(0, np.float32))
        if snapshot is None:
            idf = np.ones(len(stems), np.float32)
        else:
            total, counts = snapshot.term_chunk_counts(stems)
            # BM25's IDF; a word no chunk holds gets the highest weight (it is what the corpus lacks).
            idf = np.asarray([math.log(1 + (total - counts.get(s, 0) + 0.5) / (counts.get(s, 0) + 0.5))
                              for s in stems], np.float32)
        asking = asking_sentence(question) if focus_weight != 1.0 else None
        if asking is None:
            return cls(stems, idf, order)
        focus = set(content_stems(asking))
        weights = idf * np.asarray([focus_weight if s in focus else 1.0 for s in stems], np.float32)
        return cls(stems, weights, order, idf)

    @property
    def bm25_weights(self) -> np.ndarray:
        """Per stem: the IDF that BM25 weighs it by (the focus left out, as FTS5 ranks)."""
        return self.weights if self.idf is None else self.idf

    def columns_of(self, stems: Sequence[str]) -> np.ndarray:
        """Per stem of `stems`: the question stem it matches, or -1 (`column`). Most stems of a
        passage match none: they are looked up in C, and only those sharing a long question
        stem's first letters are compared one by one."""
        columns = np.fromiter(map(self._exact.get, stems, repeat(-1)), np.int64, len(stems))
        if self._heads:
            heads = map(itemgetter(slice(PREFIX_STEM_CHARS)), stems)
            shared = np.fromiter(map(self._heads.__contains__, heads), bool, len(stems))
            for n in np.flatnonzero(shared & (columns < 0)):
                columns[n] = self._find_column(stems[n])
        return columns

    def matches(self, stems: Sequence[str]) -> list[tuple[int, int]]:
        """(position in `stems`, column) of each of `stems` that matches a question stem."""
        columns = self.columns_of(stems)
        return [(int(p), int(columns[p])) for p in np.flatnonzero(columns >= 0)]

    def coverage_of(self, text: str) -> float:
        """IDF-weighted share of the question's stems that `text` holds."""
        total = float(self.weights.sum())
        if total <= 0 or not text:
            return 0.0
        columns = self.columns_of(distinct_stems(text))
        held = np.zeros(len(self.stems), np.float32)
        held[columns[columns >= 0]] = 1.0
        return float(held @ self.weights / total)

    def column(self, stem: str) -> int | None:
        """Which of the question's stems `stem` matches: the same stem, or for stems of
        PREFIX_STEM_CHARS or more, one that extends the other ("russia" ~ "russian")."""
        n = self._find_column(stem)
        return None if n < 0 else n

    def _find_column(self, stem: str) -> int:
        """`column`, uncached, -1 for none."""
        if stem in self._exact:
            return self._exact[stem]
        if len(stem) >= PREFIX_STEM_CHARS:
            return next((i for i, q in self._heads.get(stem[:PREFIX_STEM_CHARS], ())
                         if stem.startswith(q) or q.startswith(stem)), -1)
        return -1

