"""The keyword rules, in one place: how text becomes search terms.

Keyword search (FTS5 in the document store) and the quote picker's word overlap
(retrieval/quotes.py) must cut, fold and stem words the same way, or a question word found
by one is missed by the other. tests/test_text.py checks these rules against what FTS5's
tokenizer itself stores. They agree on Latin-script text but for a few words FTS5's porter
stems as Porter's own C code does ("technology", "assembly", "trekked": 87 of news_dev's
61,858 words), whose index counts `stem_words` misses; elsewhere FTS5 keeps Greek accents and
writes a final sigma as σ, and porter-stems words holding "ß" differently. `fts5_stems` gives
FTS5's own tokens, for the keyword ranking; stemming every word that way was measured and not
kept (docs/quality-log.md, "Sixteenth session").
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence

import Stemmer

# The FTS5 tokenizer of the keyword index: porter stems of unicode61 tokens, lower case and
# without diacritics ("remove_diacritics 2" also folds letters with several marks).
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"
# A word, for keyword queries and word overlap.
WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to help keyword search; question words included on purpose.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom whose why will with would you your yours yourself
yourselves many much
""".split())

_local = threading.local()


def keyword_terms(text: str) -> list[str]:
    """Distinct lower-case content words of `text`, in order."""
    seen: dict[str, None] = {}
    for term in WORD.findall(text.lower()):
        if term not in STOPWORDS and term not in seen:
            seen[term] = None
    return list(seen)


def fold(word: str) -> str:
    """Lower case without diacritics, like FTS5's `unicode61 remove_diacritics 2`: letters are
    lowered, not case-folded ("ß" stays), and only combining marks go ("ĳ" stays)."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


def _stemmer() -> Stemmer.Stemmer:
    """A porter stemmer per thread (PyStemmer's are not thread-safe): the original Porter
    algorithm, as FTS5's `porter` tokenizer uses but for the departures of Porter's C code
    (`fts5_stems`)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("porter")
    return stemmer


# FTS5's porter tokenizer leaves tokens shorter than 3 or longer than 64 bytes as they are.
_STEM_BYTES = (3, 64)


class _Fts5Tokenizer:
    """FTS5's own tokenizer (`FTS5_TOKENIZER`), run on words in a private in-memory table (one
    row a word, rolled back): the tokens a keyword query for each word matches, by construction.
    About 30 us for one word, 3 us a word in batches of a hundred."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute(f"CREATE VIRTUAL TABLE word USING fts5(text, tokenize = '{FTS5_TOKENIZER}')")
        self._db.execute("CREATE VIRTUAL TABLE word_tokens USING fts5vocab(word, instance)")

    def tokens(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        found: list[list[str]] = [[] for _ in words]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO word(rowid, text) VALUES (?, ?)", enumerate(words))
                for term, row in self._db.execute("SELECT term, doc FROM word_tokens ORDER BY doc, offset"):
                    found[row].append(term)
            finally:
                self._db.execute("ROLLBACK")
        return [tuple(tokens) for tokens in found]


@functools.cache
def _fts5_tokenizer() -> _Fts5Tokenizer:
    """The one tokenizer table, made at the first keyword search rather than at import."""
    return _Fts5Tokenizer()


# Each word's FTS5 token, "" for a word FTS5 reads as none or several; emptied when full.
_TOKEN_OF: dict[str, str] = {}
TOKEN_CACHE = 50_000


def fts5_stems(words: Sequence[str]) -> list[str | None]:
    """The one token FTS5's tokenizer makes of each of `words` (its porter stem, folded), or
    None where it makes none or several ("covid_19"): the terms a keyword query for them
    matches. `stem_words` agrees but for words where FTS5's porter follows Porter's own C code
    ("technology" -> "technolog", "assembly" -> "assembl"; "technologi", "assembli" there).
    Words not seen before are tokenized together, in one batch."""
    known = [_TOKEN_OF.get(word) for word in words]
    if None in known:
        unknown = list(dict.fromkeys(word for word, token in zip(words, known) if token is None))
        learned = {word: tokens[0] if len(tokens) == 1 else ""
                   for word, tokens in zip(unknown, _fts5_tokenizer().tokens(unknown))}
        if len(_TOKEN_OF) + len(learned) > TOKEN_CACHE:
            _TOKEN_OF.clear()
        _TOKEN_OF.update(learned)
        known = [learned[word] if token is None else token for word, token in zip(words, known)]
    return [token or None for token in known]


def stem_words(words: Sequence[str]) -> list[str]:
    """Porter stems of `words`, folded and stemmed as the keyword index does it."""
    folded = [fold(w) for w in words]
    stems = _stemmer().stemWords(folded)
    low, high = _STEM_BYTES
    return [stem if low <= len(word.encode()) <= high else word for word, stem in zip(folded, stems)]
