"""The first storage backend: passages and articles in SQLite (documents + FTS5 keyword
index, `store.py`), vectors in FAISS segment files (`vectors.py`).

The SQLite commit is the single switch between generations: it records the name of the
vector generation written (complete and fsynced) just before it, so a reader never sees
documents without their vectors or the other way round.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .articles import Article
from .dates import PublishedWindow
from .errors import IndexCorrupt
from .manifest import Manifest
from .store import DocumentReader, DocumentWriter, NewChunk, SourceRecord, StoredChunk, StoreStats
from .vectors import FaissVectorStore, VectorHits, generation_number


# Stems whose chunk counts a generation remembers (a few MB at most).
TERM_COUNTS_KEPT = 100_000


@dataclass(frozen=True)
class WindowChunks:
    """The ids of the chunks inside one published-date window: an array for FAISS's
    selector and a set for filtering keyword hits (both empty when `everything`)."""

    ids: np.ndarray
    members: frozenset[int]
    everything: bool  # every chunk of the generation is inside (asked as of today): no filter


_WINDOW_LOCK = threading.Lock()
_NO_IDS = np.zeros(0, np.int64)
_NO_IDS.flags.writeable = False


@functools.lru_cache(maxsize=16)
def _window_chunks(documents: DocumentReader, generation: int, window: PublishedWindow) -> WindowChunks:
    if not documents.any_published_outside(window):  # every article inside: no chunk id is read
        return WindowChunks(_NO_IDS, frozenset(), True)
    ids = documents.chunk_ids_in(window)
    ids.flags.writeable = False
    return WindowChunks(ids, frozenset(ids.tolist()), len(ids) == documents.chunk_count())


class FaissSqliteStorage:
    """One committed generation, read-only (an `IndexStorage`)."""

    def __init__(self, documents: DocumentReader, vectors: FaissVectorStore, generation: int) -> None:
        self.documents = documents
        self.vectors = vectors
        self._generation = generation
        # Term statistics of this generation, remembered as questions ask for them (both the
        # keyword search and the question's IDF weights read them); a chunk total and per stem.
        self._chunk_total: int | None = None
        self._term_counts: dict[str, int] = {}

    @property
    def generation(self) -> int:
        return self._generation

    def vector_search(self, vectors: np.ndarray, k: int,
                      window: PublishedWindow | None = None) -> list[VectorHits]:
        inside = self._narrowing(window)
        return self.vectors.search(vectors, k, None if inside is None else inside.ids)

    def keyword_search(self, query: str, k: int, window: PublishedWindow | None = None,
                       title_weight: float = 0.0) -> list[tuple[int, float]]:
        inside = self._narrowing(window)
        return self.documents.keyword_search(query, k, None if inside is None else inside.members, title_weight)

    def _narrowing(self, window: PublishedWindow | None) -> WindowChunks | None:
        """The chunks a search must keep to, or None when `window` leaves every chunk in."""
        if window is None or window.is_open:
            return None
        inside = self.chunks_in(window)
        return None if inside.everything else inside

    def chunks_in(self, window: PublishedWindow) -> WindowChunks:
        """The chunks inside `window`, remembered per generation (questions of one day share them).
        Found once: the keyword search beside a question's dense search waits for them."""
        with _WINDOW_LOCK:
            return _window_chunks(self.documents, self.generation, window)

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self.documents.chunks(chunk_ids)

    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        known = self._term_counts
        if len(known) > TERM_COUNTS_KEPT:
            known.clear()
        wanted = list(dict.fromkeys(stems))
        unseen = [stem for stem in wanted if stem not in known]
        found = {stem: known[stem] for stem in wanted if stem in known}
        if unseen or self._chunk_total is None:
            total, counts = self.documents.term_chunk_counts(unseen)
            self._chunk_total = total
            fresh = dict.fromkeys(unseen, 0) | counts
            known.update(fresh)
            found.update(fresh)
        return self._chunk_total, {stem: n for stem, n in found.items() if n}

    def chunk_ids_after(self, after: int) -> list[int]:
        return self.documents.chunk_ids_after(after)

    def last_chunk_id(self) -> int:
        return self.documents.last_chunk_id()

    def list_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        return self.documents.list_articles(offset, limit)

    def latest_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        return self.documents.latest_articles(offset, limit)

    def stats(self) -> StoreStats:
        return self.documents.stats()

    def latest_generation(self) -> int:
        return self.documents.state()[0]

    def shares_files_with(self, other: object) -> bool:
        return isinstance(other, FaissSqliteStorage) and other.documents is self.documents

    def close(self) -> None:
        self.documents.close()


class FaissSqliteWriter:
    """The builder's read-write access (an `IndexStorageWriter`)."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        self.documents = DocumentWriter(self.directory / manifest.store)
        try:
            self.vectors = FaissVectorStore(self.directory / manifest.vectors, manifest.dimension)
            self.vectors.open(self.documents.vector_generation, load=False)
        except BaseException:
            self.documents.close()
            raise

    @property
    def generation(self) -> int:
        return self.documents.generation

    @property
    def vector_index(self) -> str:
        return self.vectors.index_type

    def sources(self) -> dict[str, SourceRecord]:
        return self.documents.sources()

    def article_ids_by_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        return self.documents.article_ids_by_hash(hashes)

    def reserve_chunk_ids(self, count: int) -> int:
        return self.documents.reserve_chunk_ids(count)

    def begin(self) -> None:
        self.documents.begin()

    def add_article(self, article: Article) -> int:
        return self.documents.insert_article(article.content_hash, article.title, article.text,
                                             article.published, article.author, article.url)

    def add_chunks(self, article_id: int, text: str, first_id: int, chunks: Sequence[NewChunk]) -> None:
        self.documents.insert_chunks(article_id, text, first_id, chunks)
        if chunks:
            self.vectors.add(np.arange(first_id, first_id + len(chunks), dtype=np.int64),
                             np.vstack([c.vector for c in chunks]))

    def upsert_source(self, key: str, source: str, article_id: int, fingerprint: str) -> None:
        self.documents.upsert_source(key, source, article_id, fingerprint)

    def delete_source(self, key: str) -> None:
        self.documents.delete_source(key)

    def delete_orphans(self) -> int:
        dropped = self.documents.delete_orphan_articles()
        self.vectors.delete(dropped)
        return len(dropped)

    def commit(self) -> int:
        # Vectors first, complete on disk; then the one SQLite commit that names them.
        return self.documents.commit(self.vectors.commit())

    def rollback(self) -> None:
        self.documents.rollback()

    def prune(self, keep_generations: int) -> None:
        committed = self.documents.vector_generation
        # Generations written after the last commit were never seen: a killed run's.
        kept = [g for g in self.vectors.generations()
                if committed and generation_number(g) <= generation_number(committed)]
        if (self.directory / self.manifest.vectors).is_dir():  # absent while no article had text
            self.vectors.prune(kept[-keep_generations:])

    def close(self) -> None:
        self.documents.close()


class FaissSqliteBackend:
    """Opens FAISS + SQLite storage (a `StorageBackend`)."""

    name = "faiss-sqlite"

    def open_reader(self, directory: Path, manifest: Manifest,
                    previous: FaissSqliteStorage | None = None) -> FaissSqliteStorage:
        if previous is not None:
            # Same files: share the connection (it sees every commit) and the loaded segments.
            documents, vectors = previous.documents, previous.vectors.fork()
        else:
            documents = DocumentReader(Path(directory) / manifest.store)
            vectors = FaissVectorStore(Path(directory) / manifest.vectors, manifest.dimension)
        try:
            generation, vector_generation = documents.state()
            vectors.open(vector_generation)
        except sqlite3.Error as error:
            if previous is None:
                documents.close()
            raise IndexCorrupt(f"document store {documents.path} is unreadable: {error}") from error
        except Exception:
            if previous is None:
                documents.close()
            raise
        return FaissSqliteStorage(documents, vectors, generation)

    def open_writer(self, directory: Path, manifest: Manifest) -> FaissSqliteWriter:
        return FaissSqliteWriter(directory, manifest)
