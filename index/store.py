"""The document store: articles, their sources, chunks, sentences and the keyword index.

One SQLite file in WAL mode. Chunk text lives in an FTS5 table (rowid = chunk id), whose
built-in `bm25()` ranking is the keyword half of hybrid search; it updates in place and
inside the same transaction as everything else, so keyword search and documents never
disagree. Each `commit` is one transaction and bumps the generation readers watch.

Two roles: `DocumentReader` opens the file read-only (index readers); `DocumentWriter` creates
the schema and writes (the indexer, through the storage backend).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dates import PublishedWindow
from .errors import IndexCorrupt, IndexWriteFailed
from .keyword_scores import PostingsBm25
from .text import FTS5_TOKENIZER, fts5_stems, keyword_terms
from .words import WORDS_FORMAT, WordTable

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles(
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published TEXT,
    author TEXT,
    url TEXT,
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sources(
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    fingerprint TEXT NOT NULL,
    indexed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_article ON sources(article_id);
-- A published-date window is checked on this index alone (it covers the condition), not on
-- the articles' rows, which hold their text.
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    vector BLOB NOT NULL,
    words BLOB
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id, ordinal);
CREATE TABLE IF NOT EXISTS sentences(
    chunk_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    paragraph INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY(chunk_id, ordinal)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_text USING fts5(
    text, title, tokenize = '""" + FTS5_TOKENIZER + """'
);
"""
# An index written before the title was a keyword field: its chunk_text has `text` alone.
_ADD_TITLE_FIELD = """
CREATE VIRTUAL TABLE chunk_text_titled USING fts5(
    text, title, tokenize = '""" + FTS5_TOKENIZER + """'
);
INSERT INTO chunk_text_titled(rowid, text, title)
    SELECT c.id, substr(a.text, c.start + 1, c.end - c.start), a.title
    FROM chunks c JOIN articles a ON a.id = c.article_id;
DROP TABLE chunk_text;
ALTER TABLE chunk_text_titled RENAME TO chunk_text;
"""

# Vectors are stored as float16: half the bytes, and cosine scores move by < 1e-3.
_VECTOR_DTYPE = np.float16


def _is_disk_error(error: sqlite3.OperationalError) -> bool:
    """SQLite's "disk I/O error" and "database or disk is full": the disk, not the file."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR") or \
        str(error) in {"disk I/O error", "database or disk is full"}


# Keyword rows read per allowed row wanted, before reading them all, in a windowed search.
WINDOW_OVERFETCH = 4
# `published` holds ISO days; anything else (an index written before dates were normalised)
# counts as undated, and undated articles are inside every window.
_DATED = "coalesce(a.published, '') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"


def _window_clause(window: PublishedWindow) -> tuple[str, tuple[str, ...]]:
    """SQL condition on articles `a` for `window`, with its parameters."""
    bounds, values = [], []
    if window.since is not None:
        bounds.append("substr(a.published, 1, 10) >= ?")
        values.append(window.since)
    if window.until is not None:
        bounds.append("substr(a.published, 1, 10) <= ?")
        values.append(window.until)
    if not bounds:
        return "1", ()
    return f"(NOT {_DATED} OR ({' AND '.join(bounds)}))", tuple(values)


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether `table` has `column` (an index written by an earlier version may lack it)."""
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))


def _word_blob(text: str) -> bytes:
    return WordTable.of(text).to_blob()


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=_VECTOR_DTYPE).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_VECTOR_DTYPE).astype(np.float32)


def _vectors_of(blobs: Sequence[bytes]) -> Sequence[np.ndarray]:
    """The vectors of many blobs, decoded in one go when all have one size (as they do)."""
    joined = b"".join(blobs)
    if not blobs or not blobs[0] or len(joined) != len(blobs) * len(blobs[0]):
        return [from_blob(blob) for blob in blobs]
    return np.frombuffer(joined, dtype=_VECTOR_DTYPE).astype(np.float32).reshape(len(blobs), -1)


def _locked(method: Callable) -> Callable:
    """Serialise use of the one connection between the threads that answer questions."""

    @functools.wraps(method)
    def wrapper(self: "DocumentReader", *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class StoredSentence:
    """A sentence of a stored chunk, with its vector pooled at indexing time."""

    start: int
    end: int
    paragraph: int
    vector: np.ndarray


@dataclass(frozen=True)
class StoredChunk:
    """A chunk joined with its article: what retrieval needs to quote it."""

    chunk_id: int
    article_id: int
    ordinal: int
    start: int
    end: int
    text: str
    article_text: str
    title: str
    source: str
    published: str | None
    author: str | None
    url: str | None
    vector: np.ndarray
    sentences: tuple[StoredSentence, ...]
    words: bytes | None = None  # the chunk's `WordTable`, stored at indexing time (None: not stored)


@dataclass(frozen=True)
class NewChunk:
    """A chunk to insert: offsets, its vector and its sentences' vectors."""

    ordinal: int
    start: int
    end: int
    vector: np.ndarray
    sentences: Sequence[tuple[int, int, int, np.ndarray]]


@dataclass(frozen=True)
class SourceRecord:
    """What the store remembers of one article file or URL."""

    key: str
    source: str
    article_id: int
    content_hash: str
    fingerprint: str


@dataclass(frozen=True)
class StoreStats:
    """Counts and age of the index, for `stats` and `/stats`."""

    articles: int
    sources: int
    chunks: int
    generation: int
    updated_at: float | None


class DocumentReader:
    """Read-only SQLite access to the document store, for index readers (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.db = self._connect()
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.execute("SELECT count(*) FROM meta").fetchone()
            self._titled = _has_column(self.db, "chunk_text", "title")
            self._worded = _has_column(self.db, "chunks", "words")
            # FTS5's ranking of the passage text, computed from its postings (keyword_scores.py).
            self._postings_bm25 = PostingsBm25(self.db)
        except sqlite3.OperationalError as error:
            if _is_disk_error(error):  # a full or failing disk, not a broken file
                self._disk_failed(error)
            raise IndexCorrupt(f"document store {self.path} is unreadable: {error}") from error
        except sqlite3.DatabaseError as error:
            raise IndexCorrupt(f"document store {self.path} is unreadable: {error}") from error

    def _disk_failed(self, error: sqlite3.OperationalError) -> None:
        """A reader that cannot open the store for a full or failing disk says so."""
        raise IndexWriteFailed(
            f"could not open the index at {self.path.parent}: {error}. Nothing was lost: "
            f"free some space and try again.") from error

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise IndexCorrupt(f"document store {self.path} is missing")
        # A URI built by the standard library: `#`, `?` and `%` in the path are escaped.
        uri = self.path.absolute().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    def close(self) -> None:
        self.db.close()

    # -- meta ----------------------------------------------------------------------
    @_locked
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    @_locked
    def state(self) -> tuple[int, str | None]:
        """Generation and vector generation, read together in one statement (one snapshot)."""
        rows = dict(self.db.execute(
            "SELECT key, value FROM meta WHERE key IN ('generation', 'vector_generation')"
        ).fetchall())
        return int(rows.get("generation", "0")), rows.get("vector_generation")

    @property
    def generation(self) -> int:
        return int(self.meta("generation", "0"))

    @property
    def vector_generation(self) -> str | None:
        return self.meta("vector_generation")

    # -- reading -------------------------------------------------------------------
    @_locked
    def sources(self) -> dict[str, SourceRecord]:
        rows = self.db.execute(
            "SELECT s.key, s.source, s.article_id, a.content_hash, s.fingerprint "
            "FROM sources s JOIN articles a ON a.id = s.article_id"
        )
        return {row[0]: SourceRecord(*row) for row in rows}

    @_locked
    def article_ids_by_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        hashes = list(hashes)
        found: dict[str, int] = {}
        for start in range(0, len(hashes), 500):
            part = hashes[start:start + 500]
            marks = ",".join("?" * len(part))
            for content_hash, article_id in self.db.execute(
                f"SELECT content_hash, id FROM articles WHERE content_hash IN ({marks})", part
            ):
                found[content_hash] = article_id
        return found

    @_locked
    def keyword_search(self, query: str, k: int, allowed: Container[int] | None = None,
                       title_weight: float = 0.0) -> list[tuple[int, float]]:
        """Chunk ids ranked by BM25 for the content words of `query` (higher is better);
        only ids in `allowed` when it is given. With `title_weight` > 0 the article's title is
        a second field, its BM25 counting that much against the passage text's 1.0."""
        terms = keyword_terms(query)[:64]
        if not terms or k <= 0:
            return []
        if title_weight <= 0:
            stems = fts5_stems(terms)
            if None not in stems:  # each word one token, as the query below would match it
                return self._postings_bm25.search(stems, k, allowed)
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        if title_weight > 0 and self._titled:
            rank = f"bm25(chunk_text, 1.0, {float(title_weight)!r})"
        else:  # the passage text alone (a column filter that holds for either layout)
            rank, match = "bm25(chunk_text)", f"text : ({match})"
        sql = f"SELECT rowid, {rank} FROM chunk_text WHERE chunk_text MATCH ? ORDER BY {rank} LIMIT ?"
        if allowed is None:
            rows = self.db.execute(sql, (match, k)).fetchall()
        else:
            # A window usually keeps most chunks: the top WINDOW_OVERFETCH * k ranked rows
            # (a cheap top-k sort in FTS5) nearly always hold k allowed ones; only when they do
            # not is every match ranked and read (a join in SQL costs far more than either).
            rows = []
            for limit in (WINDOW_OVERFETCH * k, -1):
                fetched = self.db.execute(sql, (match, limit)).fetchall()
                rows = [(rowid, score) for rowid, score in fetched if rowid in allowed][:k]
                if len(rows) == k or len(fetched) < WINDOW_OVERFETCH * k:
                    break
        return [(int(rowid), -float(score)) for rowid, score in rows]

    @_locked
    def chunk_ids_in(self, window: PublishedWindow) -> np.ndarray:
        """Ids of every chunk whose article was published inside `window` (undated included)."""
        where, values = _window_clause(window)
        rows = self.db.execute(
            f"SELECT c.id FROM chunks c WHERE c.article_id IN (SELECT a.id FROM articles a WHERE {where})", values)
        return np.fromiter((row[0] for row in rows), np.int64)

    @_locked
    def any_published_outside(self, window: PublishedWindow) -> bool:
        """Whether an article was published outside `window` (undated ones are inside). Reads
        the articles alone: as of today, the usual answer is no, and no chunk need be read."""
        where, values = _window_clause(window)
        return bool(self.db.execute(f"SELECT EXISTS(SELECT 1 FROM articles a WHERE NOT {where})", values).fetchone()[0])

    @_locked
    def chunk_count(self) -> int:
        """How many chunks the index holds."""
        return self._count_chunks()

    def _count_chunks(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    @_locked
    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many chunks there are, and how many hold each of `stems` (terms as the keyword
        index's porter tokenizer stems them) in its text (titles not counted); for IDF weights.
        Unknown stems are left out.

        Reads FTS5's own term statistics (an `fts5vocab` view, kept up to date at indexing
        time), so nothing is counted at query time.
        """
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunk_vocab "
                        "USING fts5vocab(main, chunk_text, col)")
        total = self._count_chunks()
        wanted = sorted({s for s in stems if s})
        counts: dict[str, int] = {}
        for start in range(0, len(wanted), 200):
            part = wanted[start:start + 200]
            marks = ",".join("?" * len(part))
            counts.update(self.db.execute(
                f"SELECT term, doc FROM temp.chunk_vocab WHERE col = 'text' AND term IN ({marks})", part).fetchall())
        return int(total), counts

    @_locked
    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunks by id, with article metadata and sentences; unknown ids are left out."""
        if not chunk_ids:
            return {}
        ids = [int(i) for i in chunk_ids]
        marks = ",".join("?" * len(ids))
        sentences: dict[int, list[StoredSentence]] = {i: [] for i in ids}
        rows = self.db.execute(f"SELECT chunk_id, start, end, paragraph, vector FROM sentences "
                               f"WHERE chunk_id IN ({marks}) ORDER BY chunk_id, ordinal", ids).fetchall()
        for (chunk_id, start, end, paragraph, _), vector in zip(rows, _vectors_of([row[4] for row in rows])):
            sentences[chunk_id].append(StoredSentence(start, end, paragraph, vector))
        found: dict[int, StoredChunk] = {}
        for row in self.db.execute(
            f"SELECT c.id, c.article_id, c.ordinal, c.start, c.end, a.text, a.title, "
            f"(SELECT min(s.source) FROM sources s WHERE s.article_id = a.id), "
            f"a.published, a.author, a.url, c.vector, {'c.words' if self._worded else 'NULL'} "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})", ids,
        ):
            chunk_id, article_id, ordinal, start, end, text, title, source, published, author, url, blob, words = row
            found[chunk_id] = StoredChunk(
                chunk_id, article_id, ordinal, start, end, text[start:end], text, title,
                source or "", published, author, url, from_blob(blob), tuple(sentences[chunk_id]), words,
            )
        return found

    @_locked
    def list_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        """(title, source, published) of indexed articles, newest first."""
        return self.db.execute(
            "SELECT a.title, min(s.source), a.published FROM articles a "
            "JOIN sources s ON s.article_id = a.id GROUP BY a.id "
            "ORDER BY a.added_at DESC, a.id DESC LIMIT ? OFFSET ?", (limit, offset),
        ).fetchall()

    @_locked
    def latest_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        """(title, source, published) of indexed articles, newest publication date first;
        undated ones after the dated, newest added first."""
        return self.db.execute(
            "SELECT a.title, min(s.source), a.published FROM articles a "
            "JOIN sources s ON s.article_id = a.id GROUP BY a.id "
            "ORDER BY a.published IS NULL, a.published DESC, a.added_at DESC, a.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()

    @_locked
    def stats(self) -> StoreStats:
        count = lambda table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
        updated = self.meta("updated_at")
        return StoreStats(
            articles=count("articles"), sources=count("sources"), chunks=count("chunks"),
            generation=self.generation, updated_at=float(updated) if updated else None,
        )

    @_locked
    def chunk_ids_after(self, after: int) -> list[int]:
        """Ids of the chunks added after chunk `after`, ascending (ids are never reused, so
        these are the passages committed since a reader last saw `after`)."""
        return [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE id > ? ORDER BY id", (after,))]

    @_locked
    def last_chunk_id(self) -> int:
        """The highest chunk id stored (0 when empty)."""
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])

    @_locked
    def chunk_ids(self) -> set[int]:
        """Every stored chunk id (for consistency checks)."""
        return {row[0] for row in self.db.execute("SELECT id FROM chunks")}


class DocumentWriter(DocumentReader):
    """The indexer's read-write access: creates the schema; one transaction per `begin`/`commit`."""

    def _disk_failed(self, error: sqlite3.OperationalError) -> None:
        """The indexer's own full disk: raised as it is, the builder reports it as a failed write."""
        raise error

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        if not _has_column(db, "chunk_text", "title"):  # upgrade in place: the keyword index alone is rebuilt
            db.executescript("BEGIN IMMEDIATE;" + _ADD_TITLE_FIELD + "COMMIT;")
        if not _has_column(db, "chunks", "words"):
            db.execute("ALTER TABLE chunks ADD COLUMN words BLOB")
            db.execute("DELETE FROM meta WHERE key = 'words_format'")
        self._store_word_tables(db)
        return db

    @staticmethod
    def _store_word_tables(db: sqlite3.Connection) -> None:
        """Give every chunk stored without its word table, or with one of another format
        (an index written by an earlier version), the table of the current rules. Once per
        format: the store records the format its tables are in."""
        if db.execute("SELECT value FROM meta WHERE key = 'words_format'").fetchone() == (str(WORDS_FORMAT),):
            return
        with db:
            db.execute("BEGIN IMMEDIATE")
            stale = db.execute(
                "SELECT c.id, substr(a.text, c.start + 1, c.end - c.start) FROM chunks c JOIN articles a "
                "ON a.id = c.article_id WHERE c.words IS NULL OR substr(c.words, 1, 1) != ?",
                (bytes([WORDS_FORMAT]),)).fetchall()
            db.executemany("UPDATE chunks SET words = ? WHERE id = ?",
                           [(_word_blob(text), chunk_id) for chunk_id, text in stale])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('words_format', ?)", (str(WORDS_FORMAT),))

    def reserve_chunk_ids(self, count: int) -> int:
        """First of `count` fresh chunk ids; ids are never reused, even after a crash."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            first = int(self.meta("next_chunk_id", "1"))
            low = max(first, (self.db.execute("SELECT max(id) FROM chunks").fetchone()[0] or 0) + 1)
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_chunk_id', ?)", (str(low + count),)
            )
        return low

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def insert_article(self, content_hash: str, title: str, text: str, published: str | None,
                       author: str | None, url: str | None) -> int:
        cursor = self.db.execute(
            "INSERT INTO articles(content_hash, title, text, published, author, url, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (content_hash, title, text, published, author, url, time.time()),
        )
        return int(cursor.lastrowid)

    def insert_chunks(self, article_id: int, text: str, first_id: int, chunks: Sequence[NewChunk]) -> None:
        title = self.db.execute("SELECT title FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
        for offset, chunk in enumerate(chunks):
            chunk_id, passage = first_id + offset, text[chunk.start:chunk.end]
            self.db.execute(
                "INSERT INTO chunks(id, article_id, ordinal, start, end, vector, words) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chunk_id, article_id, chunk.ordinal, chunk.start, chunk.end, to_blob(chunk.vector),
                 _word_blob(passage)),
            )
            self.db.execute("INSERT INTO chunk_text(rowid, text, title) VALUES (?, ?, ?)", (chunk_id, passage, title))
            self.db.executemany(
                "INSERT INTO sentences(chunk_id, ordinal, start, end, paragraph, vector) VALUES (?, ?, ?, ?, ?, ?)",
                [(chunk_id, n, s, e, p, to_blob(v)) for n, (s, e, p, v) in enumerate(chunk.sentences)],
            )

    def upsert_source(self, key: str, source: str, article_id: int, fingerprint: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO sources(key, source, article_id, fingerprint, indexed_at) "
            "VALUES (?, ?, ?, ?, ?)", (key, source, article_id, fingerprint, time.time()),
        )

    def delete_source(self, key: str) -> None:
        self.db.execute("DELETE FROM sources WHERE key = ?", (key,))

    def delete_orphan_articles(self) -> list[int]:
        """Remove articles no source points at; returns the ids of their chunks."""
        orphans = [row[0] for row in self.db.execute(
            "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM sources)"
        )]
        chunk_ids: list[int] = []
        for article_id in orphans:
            ids = [row[0] for row in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
            chunk_ids.extend(ids)
            self.db.executemany("DELETE FROM chunk_text WHERE rowid = ?", [(i,) for i in ids])
            self.db.executemany("DELETE FROM sentences WHERE chunk_id = ?", [(i,) for i in ids])
            self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return chunk_ids

    def commit(self, vector_generation: str) -> int:
        """End the open transaction, recording the vector generation it matches."""
        generation = self.generation + 1
        self.db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("generation", str(generation)), ("vector_generation", vector_generation),
             ("updated_at", repr(time.time()))],
        )
        self.db.execute("COMMIT")
        return generation

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
