"""Reading an index for answering: one consistent snapshot at a time, swapped when it changes.

`IndexReader.refresh()` notices a new generation (an incremental commit or a rebuild that
replaced the manifest), loads it beside the current one and swaps it in with a single
assignment; questions already running keep the snapshot they started with.

An indexer may prune the files of old generations (or, after a rebuild, the whole old
index) while a reader is switching: FAISS segments are read into memory when a snapshot
opens, open SQLite handles outlive the file's name, and a refresh that finds files gone
under it simply reads the state again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .backend import IndexStorage, storage_backend
from .dates import PublishedWindow
from .errors import IndexCorrupt, IndexLayerError
from .manifest import MANIFEST_NAME, Manifest
from .store import StoredChunk, StoreStats
from .vectors import VectorHits

log = logging.getLogger(__name__)

# Attempts at opening the newest generation when the indexer prunes files under us.
OPEN_ATTEMPTS = 3
# A document store replaced by a rebuild is closed this long after the swap, so that
# questions still running on the old snapshot can finish.
RETIRE_SECONDS = 60.0


@dataclass(frozen=True)
class IndexSnapshot:
    """One generation of an index: its manifest and its storage, read through the storage
    backend interface (`backend.IndexStorage`); what retrieval searches."""

    directory: Path
    manifest: Manifest
    storage: IndexStorage
    generation: int
    manifest_mtime: int

    def vector_search(self, vectors: np.ndarray, k: int,
                      window: PublishedWindow | None = None) -> list[VectorHits]:
        """Nearest chunks by cosine; only of articles published inside `window` when given."""
        return self.storage.vector_search(vectors, k, window)

    def keyword_search(self, query: str, k: int, window: PublishedWindow | None = None,
                       title_weight: float = 0.0) -> list[tuple[int, float]]:
        """Chunks by BM25 (the title a field of `title_weight`); only of articles published
        inside `window` when given."""
        return self.storage.keyword_search(query, k, window, title_weight)

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self.storage.chunks(chunk_ids)

    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        return self.storage.term_chunk_counts(stems)

    def chunk_ids_after(self, after: int) -> list[int]:
        """Passages added after passage id `after` (what new generations brought), ascending."""
        return self.storage.chunk_ids_after(after)

    def last_chunk_id(self) -> int:
        return self.storage.last_chunk_id()

    def list_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        return self.storage.list_articles(offset, limit)

    def latest_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        return self.storage.latest_articles(offset, limit)

    def stats(self) -> StoreStats:
        return self.storage.stats()


def _manifest_mtime(directory: Path) -> int:
    try:
        return (directory / MANIFEST_NAME).stat().st_mtime_ns
    except OSError:
        return 0


def _open_once(directory: Path, previous: IndexSnapshot | None) -> IndexSnapshot:
    mtime = _manifest_mtime(directory)
    manifest = Manifest.load(directory)
    same_index = previous is not None and previous.manifest == manifest
    storage = storage_backend(manifest).open_reader(directory, manifest, previous.storage if same_index else None)
    return IndexSnapshot(directory, manifest, storage, storage.generation, mtime)


def open_snapshot(directory: Path, previous: IndexSnapshot | None = None) -> IndexSnapshot:
    """Open the current generation of the index at `directory`, reusing what `previous` loaded.

    When files vanish while opening (the indexer pruned an old generation or switched in a
    rebuild between our reads), it reads the state again, a few times.

    Raises:
        IndexNotFound: nothing built there yet.
        IndexCorrupt: files are missing or unreadable.
    """
    directory = Path(directory)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return _open_once(directory, previous)
        except IndexCorrupt:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class IndexReader:
    """Hands out the latest complete snapshot of an index; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._snapshot = open_snapshot(self.directory)
        self._lock = threading.Lock()
        self._retired: list[tuple[float, IndexStorage]] = []

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._snapshot

    def refresh(self) -> bool:
        """Swap in a newer generation if there is one; True when it did.

        A failure to load the new generation keeps the current one (and is logged).
        """
        with self._lock:
            current = self._snapshot
            self._close_retired()
            try:
                if (_manifest_mtime(self.directory) == current.manifest_mtime
                        and current.storage.latest_generation() == current.generation):
                    return False
                fresh = open_snapshot(self.directory, current)
            except (IndexLayerError, sqlite3.Error, OSError) as error:
                log.warning("keeping index generation %s: %s", current.generation, error)
                return False
            if not fresh.storage.shares_files_with(current.storage):
                self._retired.append((time.monotonic(), current.storage))
            elif fresh.generation == current.generation:
                self._snapshot = fresh  # same data; remembers the manifest's new mtime
                return False
            self._snapshot = fresh
            log.info("index generation %s -> %s", current.generation, fresh.generation)
            return True

    def _close_retired(self) -> None:
        """Close storage replaced long enough ago that no question still uses it."""
        now = time.monotonic()
        keep = []
        for retired_at, storage in self._retired:
            if now - retired_at >= RETIRE_SECONDS:
                storage.close()
            else:
                keep.append((retired_at, storage))
        self._retired = keep
