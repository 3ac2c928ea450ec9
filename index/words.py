"""A passage's words as the quote picker reads them: where each starts, its stem and its kind.

Computed once per chunk at indexing time and stored with it (`WordTable.to_blob`), since
reading the words of the ~20 passages a question examines was the largest part of answering
on a large index. Any other text (a title, a chunk stored before the table existed) gets its
table computed on the spot by `WordTable.of`, by the same rules: the keyword rules of
`text.py`, and the kinds below.
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .text import STOPWORDS, WORD, stem_words

# The stored table's format. Bump it when these rules or `text.py`'s change: a stored table of
# another format is ignored (recomputed when read) and rewritten by the next indexing run.
WORDS_FORMAT = 1

# Kind bits, one byte per word.
CONTENT, CAPITAL, NUMBER, DATE = 1, 2, 4, 8
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE_WORD = re.compile(rf"^(1[5-9]\d\d|20\d\d|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
                        rf"saturday|sunday|yesterday|today|century|decade|\d+(st|nd|rd|th|s))$")
_NUMBER_WORD = re.compile(r"^(\d[\d,.]*\w*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                          r"twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
                          r"thousand|million|billion|trillion|dozen|half|third|quarter|percent)$")

# Distinct words whose stem and kind are kept between passages (~300 bytes each: ~15 MB at most).
WORD_FACTS_CACHE = 50_000
# Texts (titles) whose distinct stems are kept between questions (~1 KB each: ~4 MB at most).
DISTINCT_STEMS_CACHE = 4096
# Format, word count, distinct stem count; then offsets (int32), stem indexes (int32), kinds
# (uint8), and the distinct stems joined by spaces (a stem is a run of word characters).
_HEADER = struct.Struct("<BII")


@lru_cache(maxsize=WORD_FACTS_CACHE)
def _word_facts(word: str) -> tuple[str, int]:
    """One word's stem and kind bits; cached, as most of a passage's words were seen before."""
    folded = word.casefold()
    kind = ((CONTENT if folded not in STOPWORDS else 0) | (CAPITAL if word[:1].isupper() else 0)
            | (NUMBER if _NUMBER_WORD.match(folded) else 0) | (DATE if _DATE_WORD.match(folded) else 0))
    return sys.intern(stem_words([word])[0]), kind


@lru_cache(maxsize=DISTINCT_STEMS_CACHE)
def distinct_stems(text: str) -> tuple[str, ...]:
    """The distinct stems of `text`'s words, first seen first: a `WordTable`'s vocabulary,
    without the table (all a title's coverage of a question needs). Cached, as titles recur."""
    return tuple(dict.fromkeys(_word_facts(word)[0] for word in WORD.findall(text)))


@dataclass(frozen=True)
class WordTable:
    """The words of one text: per word its start, its stem (as an index into the distinct
    stems, first seen first) and its kind bits."""

    offsets: np.ndarray  # int32
    stem_index: np.ndarray  # int32
    kinds: np.ndarray  # uint8: CONTENT (not a stop word), CAPITAL, NUMBER, DATE
    vocabulary: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> "WordTable":
        """Read the words of `text`."""
        matches = list(WORD.finditer(text))
        n = len(matches)
        offsets = np.fromiter((m.start() for m in matches), np.int32, n)
        facts = [_word_facts(m.group()) for m in matches]
        kinds = np.fromiter((kind for _, kind in facts), np.uint8, n)
        index_of: dict[str, int] = {}
        stem_index = np.fromiter((index_of.setdefault(stem, len(index_of)) for stem, _ in facts), np.int32, n)
        return cls(offsets, stem_index, kinds, tuple(index_of))

    def to_blob(self) -> bytes:
        """The table as stored with its chunk."""
        n = len(self.offsets)
        return b"".join((_HEADER.pack(WORDS_FORMAT, n, len(self.vocabulary)),
                         self.offsets.astype("<i4").tobytes(), self.stem_index.astype("<i4").tobytes(),
                         self.kinds.astype(np.uint8).tobytes(), " ".join(self.vocabulary).encode()))

    @classmethod
    def from_blob(cls, blob: bytes | None) -> "WordTable | None":
        """The stored table; None when there is none, it has another format or is cut short."""
        if not blob or len(blob) < _HEADER.size or blob[0] != WORDS_FORMAT:
            return None
        _, n, distinct = _HEADER.unpack_from(blob)
        start = _HEADER.size
        if len(blob) < start + 9 * n:  # cut short
            return None
        offsets = np.frombuffer(blob, "<i4", n, start)
        stem_index = np.frombuffer(blob, "<i4", n, start + 4 * n)
        kinds = np.frombuffer(blob, np.uint8, n, start + 8 * n)
        vocabulary = tuple(blob[start + 9 * n:].decode().split(" ")) if distinct else ()
        if len(vocabulary) != distinct:
            return None
        return cls(offsets, stem_index, kinds, vocabulary)
