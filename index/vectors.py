"""The vector store: add, delete, search, and immutable generations.

`FaissVectorStore` keeps vectors in immutable FAISS segment files plus a tombstone list;
each `commit()` writes a small generation file naming the live segments. Nothing becomes
visible to readers until the document store records the new generation name, which makes
the SQLite commit the single switch from one complete index to the next. Another engine
(a distributed vector database) can stand in by implementing `VectorStore`.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import IndexCorrupt

# Below this many vectors a segment is searched exactly; above it, approximately (HNSW).
EXACT_SEARCH_LIMIT = 200_000
# More segments than this are merged into one at the next commit.
MAX_SEGMENTS = 8


@dataclass
class VectorHits:
    """Search results for one query: ids and inner-product scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


class VectorStore(Protocol):
    """The small interface every vector engine implements."""

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def delete(self, ids: Iterable[int]) -> None: ...
    def commit(self) -> str: ...
    def open(self, generation: str | None, *, load: bool = True) -> None: ...
    def search(self, vectors: np.ndarray, k: int) -> list[VectorHits]: ...
    def generations(self) -> list[str]: ...
    def prune(self, keep: Iterable[str]) -> None: ...


@dataclass
class _Generation:
    name: str
    segments: list[str] = field(default_factory=list)
    deleted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def generation_number(name: str) -> int:
    """`gen-000012` -> 12 (names sort by number, also past six digits)."""
    return int(name.rsplit("-", 1)[-1])


def _fsync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_directory(directory: Path) -> None:
    """Make renames inside `directory` durable (a file's own fsync does not cover its name)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FaissVectorStore:
    """Vectors in FAISS segment files under one directory; cosine via inner product."""

    def __init__(self, directory: Path, dimension: int) -> None:
        self.directory = Path(directory)
        self.dimension = dimension
        self._current = _Generation(name="")
        self._loaded: dict[str, object] = {}
        self._pending_ids: list[np.ndarray] = []
        self._pending_vectors: list[np.ndarray] = []
        self._pending_deleted: set[int] = set()

    # -- reading -------------------------------------------------------------------
    @property
    def generation(self) -> str:
        return self._current.name

    def fork(self) -> "FaissVectorStore":
        """A new store over the same directory that reuses this one's loaded segments."""
        other = FaissVectorStore(self.directory, self.dimension)
        other._loaded = dict(self._loaded)
        return other

    def generations(self) -> list[str]:
        """Generation names present on disk, oldest first."""
        names = [p.stem for p in self.directory.glob("gen-*.json") if p.stem[4:].isdigit()]
        return sorted(names, key=generation_number)

    def open(self, generation: str | None, *, load: bool = True) -> None:
        """Switch to `generation` (None: an empty store); `load=False` defers reading segments.

        Raises:
            IndexCorrupt: a file of the generation is missing or unreadable.
        """
        if not generation:
            self._current = _Generation(name="")
            self._loaded = {}
            return
        path = self.directory / f"{generation}.json"
        try:
            state = json.loads(path.read_text())
            deleted = np.load(self.directory / state["deleted"]) if state.get("deleted") else None
            segments = list(state["segments"])
        except (OSError, ValueError, KeyError) as error:
            raise IndexCorrupt(f"vector generation {generation} is unreadable: {error}") from error
        loaded = {name: self._loaded[name] for name in segments if name in self._loaded}
        if load:
            for name in segments:
                loaded[name] = loaded.get(name) or self._read_segment(name)
        self._loaded = loaded
        self._current = _Generation(
            name=generation, segments=segments,
            deleted=np.zeros(0, np.int64) if deleted is None else deleted.astype(np.int64),
        )

    def _read_segment(self, name: str):
        import faiss

        try:
            return faiss.read_index(str(self.directory / f"{name}.faiss"))
        except RuntimeError as error:
            raise IndexCorrupt(f"vector segment {name} is unreadable: {error}") from error

    def _segment(self, name: str):
        if name not in self._loaded:
            self._loaded[name] = self._read_segment(name)
        return self._loaded[name]

    def __len__(self) -> int:
        return sum(int(self._segment(s).ntotal) for s in self._current.segments) - len(self._current.deleted)

    def search(self, vectors: np.ndarray, k: int) -> list[VectorHits]:
        """Top-k live ids per query vector, across all segments."""
        import faiss

        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if not self._current.segments or k <= 0:
            return [VectorHits(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in queries]
        params = None
        if len(self._current.deleted):
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(self._current.deleted))
            params = faiss.SearchParameters(sel=selector)
        all_ids, all_scores = [], []
        for name in self._current.segments:
            index = self._segment(name)
            scores, ids = index.search(queries, min(k, max(int(index.ntotal), 1)), params=params)
            all_ids.append(ids)
            all_scores.append(scores)
        ids = np.concatenate(all_ids, axis=1)
        scores = np.concatenate(all_scores, axis=1)
        results = []
        for row_ids, row_scores in zip(ids, scores):
            keep = row_ids >= 0
            row_ids, row_scores = row_ids[keep], row_scores[keep]
            order = np.argsort(-row_scores, kind="stable")[:k]
            results.append(VectorHits(row_ids[order], row_scores[order]))
        return results

    # -- writing -------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Stage vectors under int64 ids; visible after `commit` and a reader's `open`."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got {vectors.shape}")
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(ids):
            self._pending_ids.append(np.asarray(ids, dtype=np.int64))
            self._pending_vectors.append(vectors)

    def delete(self, ids: Iterable[int]) -> None:
        """Stage removal of ids from every segment."""
        self._pending_deleted.update(int(i) for i in ids)

    def commit(self) -> str:
        """Write staged changes as a new generation file and return its name.

        Every file is written beside, fsynced and renamed into place, then the directory is
        fsynced, all before the name is returned: the caller records the name (the switch
        readers follow) only once the generation is complete on disk. A crash before that
        leaves files no committed generation names; `prune` removes them.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        number = self._next_number()
        segments = list(self._current.segments)
        deleted = np.union1d(self._current.deleted, np.fromiter(self._pending_deleted, np.int64))
        if self._pending_ids:
            ids = np.concatenate(self._pending_ids)
            vectors = np.concatenate(self._pending_vectors)
            segment = f"seg-{number:06d}"
            self._write_segment(segment, ids, vectors)
            segments.append(segment)
        if len(segments) > MAX_SEGMENTS:
            segments, deleted = self._merge(segments, deleted, number)
        state: dict[str, object] = {"generation": number, "segments": segments, "dimension": self.dimension}
        if len(deleted):
            state["deleted"] = f"del-{number:06d}.npy"
            buffer = io.BytesIO()
            np.save(buffer, deleted)
            _fsync_write(self.directory / state["deleted"], buffer.getvalue())
        name = f"gen-{number:06d}"
        _fsync_write(self.directory / f"{name}.json", json.dumps(state).encode())
        fsync_directory(self.directory)
        self._pending_ids, self._pending_vectors, self._pending_deleted = [], [], set()
        self._loaded = {s: self._loaded[s] for s in segments if s in self._loaded}
        self._current = _Generation(name=name, segments=segments, deleted=deleted)
        return name

    def prune(self, keep: Iterable[str]) -> None:
        """Remove generation and segment files that none of `keep` needs (and leftovers of a
        killed commit: temporary files, segments no generation names)."""
        keep = set(keep)
        needed: set[str] = set()
        for name in keep:
            try:
                state = json.loads((self.directory / f"{name}.json").read_text())
            except (OSError, ValueError):
                continue
            needed.update(f"{s}.faiss" for s in state["segments"])
            if state.get("deleted"):
                needed.add(state["deleted"])
            needed.add(f"{name}.json")
        for path in self.directory.iterdir():
            if path.name not in needed:
                path.unlink(missing_ok=True)

    def _next_number(self) -> int:
        numbers = [int(p.stem.split("-")[1]) for p in self.directory.glob("*-*.*")
                   if p.stem.split("-")[-1].isdigit()]
        return max(numbers, default=0) + 1

    def _write_segment(self, name: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        import faiss

        if len(ids) < EXACT_SEARCH_LIMIT:
            inner = faiss.IndexFlatIP(self.dimension)
        else:
            inner = faiss.IndexHNSWFlat(self.dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexIDMap2(inner)
        index.add_with_ids(vectors, ids)
        path = self.directory / f"{name}.faiss"
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(index, str(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        self._loaded[name] = index

    def _merge(self, segments: list[str], deleted: np.ndarray, number: int) -> tuple[list[str], np.ndarray]:
        """Fold all segments into one, dropping deleted vectors."""
        import faiss

        id_parts, vector_parts = [], []
        for name in segments:
            index = self._segment(name)
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            vectors = index.index.reconstruct_n(0, index.ntotal)
            live = ~np.isin(ids, deleted)
            id_parts.append(ids[live])
            vector_parts.append(vectors[live])
        merged = f"seg-{number:06d}m"
        self._write_segment(merged, np.concatenate(id_parts), np.concatenate(vector_parts))
        return [merged], np.zeros(0, np.int64)
