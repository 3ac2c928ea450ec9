"""The vector store: add, delete, search, and immutable generations.

`FaissVectorStore` keeps vectors in immutable FAISS segment files plus a tombstone list;
each `commit()` writes a small generation file naming the live segments. Nothing becomes
visible to readers until the document store records the new generation name, which makes
the SQLite commit the single switch from one complete index to the next.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path, atomic_write, fsync_directory
from .errors import IndexCorrupt

# Segments up to this many vectors are searched exhaustively (a scan of 20k takes ~0.7 ms);
# larger ones use IVF with 8-bit scalar quantisation (384 bytes a vector, a quarter of
# float32), trained on the segment's own vectors.
APPROXIMATE_ABOVE = 20_000
# The exhaustive segments' codes: float16, as the document store keeps the same vectors
# (768 bytes a vector, half of float32's `IndexFlatIP`). A one-question scan reads every
# vector, so it is bound by memory: half the bytes took a news index's 25,000 vectors from
# 2.8 to 1.9 ms a question, with the same answers (docs/performance.md).
EXHAUSTIVE_KIND = "SQfp16"
# Size-tiered merging: when MERGE_FACTOR segments fall in the same size tier (powers of
# MERGE_FACTOR), they are merged into one of the next tier. Each vector is rewritten
# O(log n) times, and a small commit never rewrites a large segment.
MERGE_FACTOR = 8
# The recall@10 (against exact search) that `nprobe` is tuned for when an IVF segment is
# written; above the 0.95 promised, as real questions can be harder than the tuning queries
# (at 1M vectors, tuning for 0.95 gave 0.94 on benchmarks/scale.py's queries). 8-bit codes
# alone cap recall near 0.98, so tuning also stops where more lists stop helping.
TARGET_RECALL = 0.97
# Queries used to tune nprobe; the noise puts a query at cosine ~0.4 from its vector
# (sigma = sqrt((1/0.4² - 1) / 384)).
_TUNING_QUERIES = 200
_TUNING_NOISE = 0.117
# Up to this many query vectors are searched on one thread: a single query gains nothing from
# more, and waking OpenMP threads on a busy machine cost 10-20 ms a search (measured: p50
# 0.1 ms on one thread vs 16 ms on two under load).
_SINGLE_THREAD_QUERIES = 8


@dataclass
class VectorHits:
    """Search results for one query: ids and inner-product scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


@dataclass
class _Generation:
    name: str
    segments: list[str] = field(default_factory=list)
    deleted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # Per segment: {"count": vectors written, "type": its FAISS factory string}; "Flat"
    # (float32 `IndexFlatIP`) in generations written before EXHAUSTIVE_KIND.
    info: dict[str, dict] = field(default_factory=dict)


def generation_number(name: str) -> int:
    """`gen-000012` -> 12 (names sort by number, also past six digits)."""
    return int(name.rsplit("-", 1)[-1])


def _write_failure(error: RuntimeError, path: Path) -> OSError:
    """faiss reports a failed write (a full disk) as a RuntimeError; the indexer expects OSError."""
    text = str(error)
    code = next((code for code in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS)
                 if os.strerror(code) in text), errno.EIO)
    return OSError(code, os.strerror(code) if code != errno.EIO else f"faiss could not write: {text[-200:]}",
                   str(path))


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
            info = dict(state.get("info") or {})
        except (OSError, ValueError, KeyError) as error:
            raise IndexCorrupt(f"vector generation {generation} is unreadable: {error}") from error
        loaded = {name: self._loaded[name] for name in segments if name in self._loaded}
        if load:
            for name in segments:
                loaded[name] = loaded.get(name) or self._read_segment(name)
        self._loaded = loaded
        self._current = _Generation(
            name=generation, segments=segments,
            deleted=np.zeros(0, np.int64) if deleted is None else deleted.astype(np.int64), info=info,
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

    @property
    def segments(self) -> list[str]:
        """Names of the open generation's segment files (without `.faiss`), oldest first."""
        return list(self._current.segments)

    @property
    def index_type(self) -> str:
        """The FAISS index type of the largest segment: EXHAUSTIVE_KIND, e.g. "IVF4096,SQ8", or
        "Flat" in an index written before float16 codes."""
        info = self._current.info
        if not self._current.segments:
            return EXHAUSTIVE_KIND
        largest = max(self._current.segments, key=lambda s: self._count(s, info))
        return str(info.get(largest, {}).get("type", "Flat"))

    def _count(self, name: str, info: dict[str, dict]) -> int:
        count = info.get(name, {}).get("count")
        return int(count) if count is not None else int(self._segment(name).ntotal)

    def __len__(self) -> int:
        return sum(int(self._segment(s).ntotal) for s in self._current.segments) - len(self._current.deleted)

    def live_ids(self) -> np.ndarray:
        """The ids of every live vector, segment by segment (an id twice would be a bug)."""
        import faiss

        ids = [faiss.vector_to_array(self._segment(name).id_map).astype(np.int64) for name in self._current.segments]
        every = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        return every[~np.isin(every, self._current.deleted)]

    def search(self, vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[VectorHits]:
        """Top-k live ids per query vector, across all segments; only ids in `allowed`
        when it is given."""
        import faiss

        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if not self._current.segments or k <= 0 or (allowed is not None and not len(allowed)):
            return [VectorHits(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in queries]
        selector = None
        if len(self._current.deleted):
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(self._current.deleted))
        parts = [selector]  # an AND selector may not keep its parts alive: hold them here
        if allowed is not None:
            keep = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            parts.append(keep)
            selector = keep if selector is None else faiss.IDSelectorAnd(keep, selector)
        all_ids, all_scores = [], []
        threads = faiss.omp_get_max_threads()
        if len(queries) <= _SINGLE_THREAD_QUERIES:
            faiss.omp_set_num_threads(1)
        try:
            for name in self._current.segments:
                index = self._segment(name)
                params = None
                if selector is not None:
                    ivf = faiss.try_extract_index_ivf(index)
                    params = (faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe) if ivf is not None
                              else faiss.SearchParameters(sel=selector))
                scores, ids = index.search(queries, min(k, max(int(index.ntotal), 1)), params=params)
                all_ids.append(ids)
                all_scores.append(scores)
        finally:
            faiss.omp_set_num_threads(threads)
            del parts
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
        info = dict(self._current.info)
        deleted = np.union1d(self._current.deleted, np.fromiter(self._pending_deleted, np.int64))
        if self._pending_ids:
            ids = np.concatenate(self._pending_ids)
            vectors = np.concatenate(self._pending_vectors)
            segment = f"seg-{number:06d}"
            info[segment] = self._write_segment(segment, ids, vectors)
            segments.append(segment)
        segments, deleted = self._merge_tiers(segments, info, deleted, number)
        info = {s: info[s] for s in segments if s in info}
        state: dict[str, object] = {"generation": number, "segments": segments, "info": info,
                                    "dimension": self.dimension}
        if len(deleted):
            state["deleted"] = f"del-{number:06d}.npy"
            buffer = io.BytesIO()
            np.save(buffer, deleted)
            atomic_write(self.directory / state["deleted"], buffer.getvalue(), sync_directory=False)
        name = f"gen-{number:06d}"
        atomic_write(self.directory / f"{name}.json", json.dumps(state), sync_directory=False)
        fsync_directory(self.directory)
        self._pending_ids, self._pending_vectors, self._pending_deleted = [], [], set()
        self._loaded = {s: self._loaded[s] for s in segments if s in self._loaded}
        self._current = _Generation(name=name, segments=segments, deleted=deleted, info=info)
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

    def _write_segment(self, name: str, ids: np.ndarray, vectors: np.ndarray) -> dict[str, object]:
        """Write one immutable segment, exact or IVF by size; returns its info entry."""
        import faiss

        count = len(ids)
        if count <= APPROXIMATE_ABOVE:
            kind = EXHAUSTIVE_KIND
            inner = faiss.index_factory(self.dimension, kind, faiss.METRIC_INNER_PRODUCT)
        else:
            nlist = _nlist(count)
            kind = f"IVF{nlist},SQ8"
            inner = faiss.index_factory(self.dimension, kind, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            # 40 points a centroid is enough for k-means here and bounds training time.
            sample = vectors[np.sort(rng.choice(count, min(count, 40 * nlist), replace=False))]
            inner.train(sample)
        index = faiss.IndexIDMap(inner)
        index.add_with_ids(vectors, ids)
        ivf = faiss.try_extract_index_ivf(inner)
        if ivf is not None:
            ivf.nprobe = _tune_nprobe(inner, ivf, vectors)
        with atomic_path(self.directory / f"{name}.faiss", sync_directory=False) as tmp:
            try:
                faiss.write_index(index, str(tmp))
            except RuntimeError as error:
                raise _write_failure(error, tmp) from error
            self._check_written(tmp, count)
        self._loaded[name] = index
        return {"count": count, "type": kind} | ({"nprobe": int(ivf.nprobe)} if ivf is not None else {})

    def _check_written(self, path: Path, count: int) -> None:
        """Read a written segment back (memory-mapped) before it is renamed in: a write the
        disk cut short must fail here, not when a reader loads the generation.

        Raises:
            OSError: the file does not read back as `count` vectors of this dimension.
        """
        import faiss

        try:
            written = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as error:
            raise OSError(errno.EIO, f"the vector segment written does not read back: {str(error)[-200:]}",
                          str(path)) from error
        if written.ntotal != count or written.d != self.dimension:
            raise OSError(errno.EIO, f"the vector segment written reads back as {written.ntotal} vectors "
                                     f"of dimension {written.d}, not {count} of {self.dimension}", str(path))

    def _merge_tiers(self, segments: list[str], info: dict[str, dict], deleted: np.ndarray,
                     number: int) -> tuple[list[str], np.ndarray]:
        """Merge MERGE_FACTOR segments of one size tier into one, repeatedly (tiers cascade)."""
        for round_ in range(1, 64):
            tiers: dict[int, list[str]] = {}
            for name in segments:
                tiers.setdefault(_tier(self._count(name, info)), []).append(name)
            full = next((group for _, group in sorted(tiers.items()) if len(group) >= MERGE_FACTOR), None)
            if full is None:
                break
            merged = f"seg-{number:06d}m{round_}"
            info[merged], merged_ids = self._merge(full, deleted, merged)
            segments = [s for s in segments if s not in full] + [merged]
            # Tombstones of merged vectors are applied: they are no longer needed.
            deleted = deleted[~np.isin(deleted, merged_ids)]
        return segments, deleted

    def _merge(self, segments: list[str], deleted: np.ndarray, merged: str) -> tuple[dict[str, object], np.ndarray]:
        """Fold `segments` into one named `merged`, dropping deleted vectors; returns its info
        and every id the old segments held. Vectors of IVF-SQ8 segments come back through
        their 8-bit codes (cosine to the original > 0.999)."""
        import faiss

        all_ids, id_parts, vector_parts = [], [], []
        for name in segments:
            index = self._segment(name)
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            inner = index.index
            ivf = faiss.try_extract_index_ivf(inner)
            if ivf is not None:
                ivf.make_direct_map()
            vectors = inner.reconstruct_n(0, index.ntotal)
            live = ~np.isin(ids, deleted)
            all_ids.append(ids)
            id_parts.append(ids[live])
            vector_parts.append(vectors[live])
        ids = np.concatenate(id_parts)
        vectors = np.concatenate(vector_parts).reshape(-1, self.dimension)
        return self._write_segment(merged, ids, vectors), np.concatenate(all_ids)


def _tier(count: int) -> int:
    """Size tier of a segment: 0 below MERGE_FACTOR vectors, 1 below MERGE_FACTOR², ..."""
    tier = 0
    while count >= MERGE_FACTOR ** (tier + 1):
        tier += 1
    return tier


def _nlist(count: int) -> int:
    """IVF lists for `count` vectors: a power of two near 2·sqrt(n) (2048 for a million: training
    stays within minutes on 2 cores, and a probe of 32 lists still scans only ~3% of them),
    at least 39 points a list."""
    nlist = 2 ** round(math.log2(2 * math.sqrt(count)))
    return max(1, min(nlist, count // 39))


def _tune_nprobe(inner, ivf, vectors: np.ndarray) -> int:
    """The smallest power-of-two nprobe reaching TARGET_RECALL@10 against exact search.

    Tuning queries are half noisy copies of the segment's vectors (cosine ~0.4) and half
    means of four random vectors: these fall between clusters, where IVF misses most, so the
    nprobe found also holds for questions close to no one passage (benchmarks/scale.py).
    """
    import faiss

    rng = np.random.default_rng(1)
    count, dimension = vectors.shape
    half = min(count, _TUNING_QUERIES // 2)
    near = vectors[rng.choice(count, half, replace=False)]
    near = near + rng.normal(scale=_TUNING_NOISE, size=near.shape).astype(np.float32)
    between = sum(vectors[rng.choice(count, half)] for _ in range(4))
    queries = np.ascontiguousarray(np.vstack([near, between]), dtype=np.float32)
    queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    _, exact = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    nprobe, previous = 1, 0.0
    while nprobe < ivf.nlist:
        ivf.nprobe = nprobe
        _, found = inner.search(queries, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)]))
        if recall >= TARGET_RECALL or (recall >= 0.95 and recall - previous < 0.002):
            break
        nprobe, previous = nprobe * 2, recall
    return min(nprobe, ivf.nlist)
