"""Words as the keyword index sees them (the rules of `index/text.py`), IDF-weighted.

The question's content-word stems, weighted by the index's own term statistics (a rare name
counts for more than a common verb), and each passage's words with their stems (cached: the
same passages come back for many questions).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from newsqa.index import STOPWORDS, IndexSnapshot, SentenceSplitter, keyword_terms, stem_words
from newsqa.index.text import WORD

from .config import FOCUS_WEIGHT, PREFIX_STEM_CHARS

# Passages whose words' stems are kept between questions (~9 KB each with the text they are
# keyed by: at most ~36 MB).
PASSAGE_TERMS_CACHE = 4096
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE_WORD = re.compile(rf"^(1[5-9]\d\d|20\d\d|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
                        rf"saturday|sunday|yesterday|today|century|decade|\d+(st|nd|rd|th|s))$")
_NUMBER_WORD = re.compile(r"^(\d[\d,.]*\w*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                          r"twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
                          r"thousand|million|billion|trillion|dozen|half|third|quarter|percent)$")


@dataclass(frozen=True)
class PassageTerms:
    """The words of a passage's text: offsets, surface forms and stems."""

    offsets: np.ndarray  # int32, read-only
    words: tuple[str, ...]
    stems: tuple[str, ...]
    # Per word, read-only: a content word (not a stop word), capitalised, a number, a date word.
    content: np.ndarray
    capital: np.ndarray
    number: np.ndarray
    date: np.ndarray
    # The distinct stems, first seen first, and per word the index of its stem among them:
    # a question's matches are looked up once per distinct stem, not once per word.
    vocabulary: tuple[str, ...]
    stem_index: np.ndarray  # int32, read-only

    def stem_columns(self, terms: "QuestionTerms") -> np.ndarray:
        """Per word: the question stem its stem matches, or -1 (`QuestionTerms.columns_of`)."""
        return terms.columns_of(self.vocabulary)[self.stem_index]

    def stems_in(self, stems: frozenset[str]) -> np.ndarray:
        """Per word: its stem is one of `stems`."""
        held = np.fromiter((stem in stems for stem in self.vocabulary), bool, len(self.vocabulary))
        return held[self.stem_index]


# Distinct words whose stem and kind are kept between passages (~300 bytes each: ~15 MB at most).
WORD_FACTS_CACHE = 50_000
_CONTENT, _CAPITAL, _NUMBER, _DATE = 1, 2, 4, 8


@lru_cache(maxsize=WORD_FACTS_CACHE)
def _word_facts(word: str) -> tuple[str, int]:
    """One word's stem and kind (bits: a content word, capitalised, a number, a date word);
    cached, as most of a passage's words were seen in earlier passages."""
    folded = word.casefold()
    kind = ((_CONTENT if folded not in STOPWORDS else 0) | (_CAPITAL if word[:1].isupper() else 0)
            | (_NUMBER if _NUMBER_WORD.match(folded) else 0) | (_DATE if _DATE_WORD.match(folded) else 0))
    return sys.intern(stem_words([word])[0]), kind


@lru_cache(maxsize=PASSAGE_TERMS_CACHE)
def passage_terms(text: str) -> PassageTerms:
    """The words of `text` and their stems; cached, as the same passages come back often."""
    matches = list(WORD.finditer(text))
    offsets = np.fromiter((m.start() for m in matches), np.int32, len(matches))
    words = tuple(sys.intern(m.group()) for m in matches)
    n = len(words)
    facts = [_word_facts(word) for word in words]
    stems = tuple(stem for stem, _ in facts)
    kinds = np.fromiter((kind for _, kind in facts), np.uint8, n)
    flags = [(kinds & bit) > 0 for bit in (_CONTENT, _CAPITAL, _NUMBER, _DATE)]
    index_of: dict[str, int] = {}
    stem_index = np.fromiter((index_of.setdefault(stem, len(index_of)) for stem in stems), np.int32, n)
    for array in (offsets, *flags, stem_index):
        array.flags.writeable = False
    return PassageTerms(offsets, words, stems, *flags, tuple(index_of), stem_index)


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
    _columns: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)
    # Long stems by their first PREFIX_STEM_CHARS letters: stems that extend one another share them.
    _heads: dict[str, list[tuple[int, str]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for n, stem in enumerate(self.stems):
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
        """Per stem of `stems`: the question stem it matches, or -1."""
        memo = self._columns
        found = ((memo[s] if s in memo else self.column(s)) for s in stems)
        return np.fromiter((-1 if n is None else n for n in found), np.int64, len(stems))

    def matches(self, stems: Sequence[str]) -> list[tuple[int, int]]:
        """(position in `stems`, column) of each of `stems` that matches a question stem."""
        columns = self.columns_of(stems)
        return [(int(p), int(columns[p])) for p in np.flatnonzero(columns >= 0)]

    def coverage_of(self, text: str) -> float:
        """IDF-weighted share of the question's stems that `text` holds."""
        total = float(self.weights.sum())
        if total <= 0 or not text:
            return 0.0
        columns = self.columns_of(passage_terms(text).stems)
        held = np.zeros(len(self.stems), np.float32)
        held[columns[columns >= 0]] = 1.0
        return float(held @ self.weights / total)

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
