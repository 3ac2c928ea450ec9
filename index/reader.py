"""Reading an index for answering: one consistent snapshot at a time, swapped when it changes.

`IndexReader.refresh()` notices a new generation (an incremental commit or a rebuild that
replaced the manifest), loads it beside the current one and swaps it in with a single
assignment; questions already running keep the snapshot they started with.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt
from .manifest import MANIFEST_NAME, Manifest
from .store import DocumentStore, StoredChunk, StoreStats
from .vectors import FaissVectorStore, VectorHits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexSnapshot:
    """One generation of an index: manifest, document store and the matching vectors."""

    directory: Path
    manifest: Manifest
    store: DocumentStore
    vectors: FaissVectorStore
    generation: int
    manifest_mtime: int

    def vector_search(self, vectors: np.ndarray, k: int) -> list[VectorHits]:
        return self.vectors.search(vectors, k)

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.store.keyword_search(query, k)

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self.store.chunks(chunk_ids)

    def stats(self) -> StoreStats:
        return self.store.stats()


def _manifest_mtime(directory: Path) -> int:
    try:
        return (directory / MANIFEST_NAME).stat().st_mtime_ns
    except OSError:
        return 0


def open_snapshot(directory: Path, previous: IndexSnapshot | None = None) -> IndexSnapshot:
    """Open the current generation of the index at `directory`, reusing loaded segments.

    Raises:
        IndexNotFound: nothing built there yet.
        IndexCorrupt: files are missing or unreadable.
    """
    directory = Path(directory)
    mtime = _manifest_mtime(directory)
    manifest = Manifest.load(directory)
    store = DocumentStore(directory / manifest.store, readonly=True)
    try:
        if previous is not None and previous.manifest == manifest:
            vectors = previous.vectors.fork()  # shares the immutable segments already loaded
        else:
            vectors = FaissVectorStore(directory / manifest.vectors, manifest.dimension)
        generation, vector_generation = store.state()
        vectors.open(vector_generation)
    except Exception:
        store.close()
        raise
    return IndexSnapshot(directory, manifest, store, vectors, generation, mtime)


class IndexReader:
    """Hands out the latest complete snapshot of an index; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._snapshot = open_snapshot(self.directory)
        self._lock = threading.Lock()
        self._checked = time.monotonic()

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._snapshot

    def refresh(self) -> bool:
        """Swap in a newer generation if there is one; True when it did.

        A failure to load the new generation keeps the current one (and is logged).
        """
        with self._lock:
            current = self._snapshot
            self._checked = time.monotonic()
            try:
                if (_manifest_mtime(self.directory) == current.manifest_mtime
                        and current.store.generation == current.generation):
                    return False
                fresh = open_snapshot(self.directory, current)
            except IndexCorrupt as error:
                log.warning("keeping index generation %s: %s", current.generation, error)
                return False
            if fresh.generation == current.generation and fresh.manifest == current.manifest:
                fresh.store.close()
                return False
            self._snapshot = fresh
            log.info("index generation %s -> %s", current.generation, fresh.generation)
            return True
