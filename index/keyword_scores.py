"""FTS5's `bm25()` ranking of the passage text, computed from the keyword index's postings.

FTS5's own `bm25()` reads the size and the hits of each matching row one at a time (about
1 us a row: 4.4 ms a question on a news index of 25,000 passages, where a question's words
match 5,000 of them). Here each query word's postings come from an `fts5vocab` view in one
statement, and the rows are scored together in numpy with FTS5's formula, term by term in the
query's order and with its operations in its order, so the scores are FTS5's to the bit and
the ranking is the same (tests compare them). The rows' sizes are read once, and then those
of the rows each commit to the store adds.

Only the passage text is ranked this way, for words FTS5's tokenizer reads as one token each
(`text.fts5_stems`); `DocumentReader.keyword_search` hands any other query (a title weight, a
word such as "covid_19") to FTS5's own `bm25()`.
"""

from __future__ import annotations

import math
import sqlite3
from collections import OrderedDict
from collections.abc import Container, Sequence

import numpy as np

# BM25's constants as FTS5's bm25() has them.
K1 = 1.2
B = 0.75
# Postings kept between questions (cleared when the store changes), counted in rows: 16 bytes
# a row, so 8 MB at most; on a news index of 25,000 passages that is ~900 query words.
POSTINGS_CACHE_ROWS = 500_000

_POSTINGS = "SELECT group_concat(doc) FROM temp.chunk_instances WHERE term = ? AND col = 'text'"


def _varints(data: np.ndarray) -> np.ndarray:
    """The values of a run of SQLite varints (big-endian groups of 7 bits, the high bit set on
    all but a varint's last byte; none here needs the 9-byte form)."""
    ends = np.flatnonzero(data < 0x80)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    values = np.zeros(len(ends), np.int64)
    for offset in range(int(lengths.max(initial=0))):
        more = lengths > offset
        values[more] = (values[more] << 7) | (data[starts[more] + offset] & 0x7F)
    return values


def _row_sizes(blobs: Sequence[bytes]) -> np.ndarray:
    """Tokens per row, all columns together, from FTS5's `docsize` records (a varint a column)."""
    data = np.frombuffer(b"".join(blobs), np.uint8)
    row_of_byte = np.repeat(np.arange(len(blobs)), [len(blob) for blob in blobs])
    return np.bincount(row_of_byte[data < 0x80], weights=_varints(data), minlength=len(blobs))


class PostingsBm25:
    """BM25 over the passage text of the `chunk_text` FTS5 table of one connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunk_instances "
                   "USING fts5vocab(main, chunk_text, instance)")
        self._version: int | None = None
        self._schema: int | None = None
        self._rows = 0
        self._sizes = np.zeros(0)  # tokens per rowid, all columns (rows deleted since keep theirs)
        self._norm = np.zeros(0)  # per rowid: K1 * (1 - B + B * size / average size)
        self._postings: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached_rows = 0

    def search(self, stems: Sequence[str], k: int, allowed: Container[int] | None = None) -> list[tuple[int, float]]:
        """Row ids ranked as `bm25(chunk_text)` ranks a match of the words whose FTS5 tokens are
        `stems` in the text column (higher is better, ties by row id), with their scores; only ids in
        `allowed` when it is given."""
        self.db.execute("BEGIN")  # one snapshot of the store for sizes and postings
        try:
            self._refresh()
            postings = {stem: self._postings_of(stem) for stem in set(stems)}
        finally:
            self.db.execute("COMMIT")
        scores = np.zeros(len(self._norm))
        matched = np.zeros(len(self._norm), bool)
        for stem in stems:  # in the query's order, as FTS5 adds up its phrases
            ids, frequency = postings[stem]
            if not len(ids):
                continue
            # The rows holding the word: FTS5's count of the phrase's matches, for its IDF.
            idf = math.log((self._rows - len(ids) + 0.5) / (len(ids) + 0.5))
            idf = idf if idf > 0.0 else 1e-6
            scores[ids] += idf * ((frequency * (K1 + 1.0)) / (frequency + self._norm[ids]))
            matched[ids] = True
        ids = np.flatnonzero(matched)
        found = scores[ids]
        if allowed is None and len(ids) > k:
            keep = found >= np.partition(found, len(found) - k)[len(found) - k]  # ties at the cut too
            ids, found = ids[keep], found[keep]
        order = np.lexsort((ids, -found))
        ranked = ((int(ids[i]), float(found[i])) for i in order)
        if allowed is not None:
            ranked = (pair for pair in ranked if pair[0] in allowed)
        return [pair for _, pair in zip(range(k), ranked)]

    def _refresh(self) -> None:
        """Follow commits of other connections: the sizes of the rows added since the last read
        (ids only grow: chunk ids are never reused), and the row count and total size as FTS5
        keeps them (its averages record), which account for deleted rows too. A schema change
        (the keyword table rebuilt in place) rereads every row."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version:
            return
        schema = self.db.execute("PRAGMA schema_version").fetchone()[0]
        if schema != self._schema:
            self._sizes = np.zeros(0)
        rows = self.db.execute("SELECT id, sz FROM chunk_text_docsize WHERE id >= ?", (len(self._sizes),)).fetchall()
        if rows:
            ids = np.fromiter((row[0] for row in rows), np.int64, len(rows))
            sizes = np.zeros(max(int(ids.max()) + 1, len(self._sizes)))
            sizes[:len(self._sizes)] = self._sizes
            sizes[ids] = _row_sizes([row[1] for row in rows])
            self._sizes = sizes
        averages = self.db.execute("SELECT block FROM chunk_text_data WHERE id = 1").fetchone()
        counts = _varints(np.frombuffer(averages[0] if averages else b"", np.uint8))
        self._rows = int(counts[0]) if len(counts) else 0
        average = float(counts[1:].sum()) / self._rows if self._rows else 1.0
        self._norm = K1 * (1 - B + B * self._sizes / average)
        self._postings.clear()
        self._cached_rows = 0
        self._version, self._schema = version, schema

    def _postings_of(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        """The row ids holding `stem` in their text, and how often each does."""
        cached = self._postings.get(stem)
        if cached is not None:
            self._postings.move_to_end(stem)
            return cached
        listed = self.db.execute(_POSTINGS, (stem,)).fetchone()[0] or ""
        ids, counts = np.unique(np.fromstring(listed, np.int64, sep=","), return_counts=True)
        found = self._postings[stem] = ids, counts.astype(np.float64)
        self._cached_rows += len(ids)
        while self._cached_rows > POSTINGS_CACHE_ROWS and len(self._postings) > 1:
            self._cached_rows -= len(self._postings.popitem(last=False)[1][0])
        return found
