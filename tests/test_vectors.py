"""The FAISS vector store: generations, deletes, merging, reopening."""

from __future__ import annotations

import numpy as np
import pytest

from newsqa.index import FaissVectorStore, IndexCorrupt
from newsqa.index import vectors as vectors_module


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_add_commit_search_and_reopen(tmp_path):
    rng = np.random.default_rng(0)
    data = _unit(rng, 50)
    store = FaissVectorStore(tmp_path, 16)
    store.add(np.arange(100, 150), data)
    generation = store.commit()
    reader = FaissVectorStore(tmp_path, 16)
    reader.open(generation)
    hits = reader.search(data[7:8], 3)[0]
    assert hits.ids[0] == 107 and hits.scores[0] == pytest.approx(1.0, abs=1e-3)  # float16 codes
    assert len(reader) == 50


def test_an_exhaustive_segment_keeps_float16_codes_and_ranks_as_float32_does_to_their_rounding(tmp_path):
    rng = np.random.default_rng(5)
    data, queries = _unit(rng, 400, 64), _unit(rng, 20, 64)
    store = FaissVectorStore(tmp_path, 64)
    store.add(np.arange(400), data)
    reader = FaissVectorStore(tmp_path, 64)
    reader.open(store.commit())
    assert reader.index_type == vectors_module.EXHAUSTIVE_KIND
    (segment,) = tmp_path.glob("seg-*.faiss")
    assert segment.stat().st_size < 400 * 64 * 4 * 0.6  # half of float32's bytes, and a header
    exact = queries @ data.T
    for query, scores in zip(queries, exact):
        hits = reader.search(query[None], 10)[0]
        # float32's scores, to float16's rounding: a swap only between near-ties
        assert np.allclose(hits.scores, scores[hits.ids], atol=1e-3)
        assert scores[hits.ids].min() >= np.sort(scores)[-10] - 2e-3


def test_uncommitted_changes_are_invisible_and_old_generation_stays_readable(tmp_path):
    rng = np.random.default_rng(1)
    first, second = _unit(rng, 10), _unit(rng, 10)
    store = FaissVectorStore(tmp_path, 16)
    store.add(np.arange(10), first)
    old = store.commit()
    store.add(np.arange(10, 20), second)
    store.delete([0, 1])
    new = store.commit()
    reader = FaissVectorStore(tmp_path, 16)
    reader.open(old)
    assert set(reader.search(first[:1], 20)[0].ids) == set(range(10))
    reader.open(new)
    ids = set(reader.search(first[:1], 30)[0].ids)
    assert ids == set(range(2, 20))


def test_many_commits_merge_segments_and_drop_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "MERGE_FACTOR", 3)
    rng = np.random.default_rng(2)
    store = FaissVectorStore(tmp_path, 16)
    everything = {}
    for batch in range(5):
        data = _unit(rng, 4)
        ids = np.arange(batch * 4, batch * 4 + 4)
        everything.update(zip(ids.tolist(), data))
        store.add(ids, data)
        store.delete([batch * 4])
        generation = store.commit()
    reader = FaissVectorStore(tmp_path, 16)
    reader.open(generation)
    live = {i for i in everything if i % 4 != 0}
    assert len(reader.segments) <= 3
    found = set(reader.search(everything[5][None, :], 100)[0].ids.tolist())
    assert found == live


def test_prune_keeps_needed_files(tmp_path):
    rng = np.random.default_rng(3)
    store = FaissVectorStore(tmp_path, 16)
    names = []
    for _ in range(4):
        store.add(np.arange(len(names) * 2, len(names) * 2 + 2), _unit(rng, 2))
        names.append(store.commit())
    store.prune(names[-1:])
    reader = FaissVectorStore(tmp_path, 16)
    reader.open(names[-1])
    assert len(reader) == 8
    with pytest.raises(IndexCorrupt):
        reader.open(names[0])


def test_corrupt_segment_is_reported(tmp_path):
    store = FaissVectorStore(tmp_path, 16)
    store.add(np.arange(3), _unit(np.random.default_rng(4), 3))
    generation = store.commit()
    next(tmp_path.glob("seg-*.faiss")).write_bytes(b"garbage")
    with pytest.raises(IndexCorrupt):
        FaissVectorStore(tmp_path, 16).open(generation)


def test_dimension_mismatch_rejected(tmp_path):
    with pytest.raises(ValueError):
        FaissVectorStore(tmp_path, 16).add(np.arange(2), np.zeros((2, 8), np.float32))
