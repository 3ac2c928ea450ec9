"""The storage backend interface: how an index's articles, passages and vectors are kept.

The builder writes through an `IndexStorageWriter`, the reader (and so retrieval, through
`IndexSnapshot`) reads through an `IndexStorage`; neither knows which engine is behind them.
FAISS + SQLite (`faiss_sqlite.py`) is the first backend; another (a vector database) is one
new module implementing these two protocols, registered in `BACKENDS` under the name a
manifest's `storage` key holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .articles import Article
from .dates import PublishedWindow
from .errors import IndexCorrupt
from .faiss_sqlite import FaissSqliteBackend
from .manifest import Manifest
from .store import NewChunk, SourceRecord, StoredChunk, StoreStats
from .vectors import VectorHits


class IndexStorage(Protocol):
    """One committed generation of an index, read-only: what answering needs."""

    @property
    def generation(self) -> int: ...

    def vector_search(self, vectors: np.ndarray, k: int,
                      window: PublishedWindow | None = None) -> list[VectorHits]:
        """Top-k passage ids per query vector (inner product of unit vectors), best first."""

    def keyword_search(self, query: str, k: int, window: PublishedWindow | None = None,
                       title_weight: float = 0.0) -> list[tuple[int, float]]:
        """Top-k passage ids for the content words of `query`, BM25 (higher is better); with
        `title_weight` > 0 the article's title is a second field weighing that much."""

    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Passages by id, with their article and sentences; unknown ids left out."""

    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        """All passages, and how many hold each stem (`text.stem_words`), for IDF weights."""

    def chunk_ids_after(self, after: int) -> list[int]:
        """Ids of the passages added after passage id `after`, ascending (ids only grow and are
        never reused): what a generation added since a reader last saw `after`."""

    def last_chunk_id(self) -> int:
        """The highest passage id (0 when empty)."""

    def list_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        """(title, source, published) of indexed articles, newest first."""

    def latest_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        """(title, source, published) of indexed articles, newest publication date first."""

    def stats(self) -> StoreStats: ...

    def latest_generation(self) -> int:
        """The newest committed generation on disk (cheap: readers poll it)."""

    def shares_files_with(self, other: "IndexStorage") -> bool:
        """True when `other` reads the same files (a newer generation of the same index)."""

    def close(self) -> None: ...


class IndexStorageWriter(Protocol):
    """The builder's side: reads what is indexed, then writes one transaction per batch."""

    @property
    def generation(self) -> int: ...

    @property
    def vector_index(self) -> str:
        """The vector index type in use (recorded in the manifest, e.g. "SQfp16")."""

    def sources(self) -> dict[str, SourceRecord]: ...

    def article_ids_by_hash(self, hashes: Iterable[str]) -> dict[str, int]: ...

    def reserve_chunk_ids(self, count: int) -> int:
        """First of `count` fresh passage ids; ids are never reused."""

    def begin(self) -> None: ...

    def add_article(self, article: Article) -> int: ...

    def add_chunks(self, article_id: int, text: str, first_id: int, chunks: Sequence[NewChunk]) -> None:
        """Passages of one article: documents, keyword index and vectors."""

    def upsert_source(self, key: str, source: str, article_id: int, fingerprint: str) -> None: ...

    def delete_source(self, key: str) -> None: ...

    def delete_orphans(self) -> int:
        """Drop articles no source points at, with their passages; returns how many passages."""

    def commit(self) -> int:
        """Make the batch visible to readers, all at once; returns the new generation."""

    def rollback(self) -> None: ...

    def prune(self, keep_generations: int) -> None:
        """Remove files of generations older than the last `keep_generations`."""

    def close(self) -> None: ...


class StorageBackend(Protocol):
    """Opens an index directory's storage for reading or writing."""

    def open_reader(self, directory: Path, manifest: Manifest,
                    previous: IndexStorage | None = None) -> IndexStorage:
        """The newest committed generation; reuses what `previous` (same files) loaded.

        Raises:
            IndexCorrupt: files are missing or unreadable.
        """

    def open_writer(self, directory: Path, manifest: Manifest) -> IndexStorageWriter: ...


def storage_backend(manifest: Manifest) -> StorageBackend:
    """The backend that wrote (and reads) the index `manifest` describes.

    Raises:
        IndexCorrupt: an unknown storage name.
    """
    if manifest.storage == "milvus" and "milvus" not in BACKENDS:
        from .milvus_storage import MilvusBackend  # pymilvus is an optional extra

        BACKENDS["milvus"] = MilvusBackend()
    try:
        return BACKENDS[manifest.storage]
    except KeyError:
        raise IndexCorrupt(f"unknown index storage {manifest.storage!r}") from None


# Storage backends by the name a manifest's `storage` key holds.
BACKENDS: dict[str, StorageBackend] = {FaissSqliteBackend.name: FaissSqliteBackend()}
