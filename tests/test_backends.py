"""Embedding backends (int8 ONNX vs torch) and the vector index chosen by size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import SEED_FILE, SEEDS
from newsqa.index import (
    FaissVectorStore,
    IndexBuilder,
    IndexReader,
    Manifest,
    ModelNotFound,
    SentenceSplitter,
    load_encoder,
)
from newsqa.index import vectors as vectors_module
from newsqa.index.embedding import resolve_backend
from newsqa.retrieval import QuestionAnswerer


@pytest.fixture(scope="module")
def torch_encoder():
    model = load_encoder("all-MiniLM-L6-v2", "torch")
    model.warm_up()
    return model


def test_bundled_model_defaults_to_onnx_and_others_to_torch(monkeypatch):
    monkeypatch.delenv("NEWSQA_EMBEDDING_BACKEND", raising=False)
    assert resolve_backend("all-MiniLM-L6-v2") == "onnx"
    assert resolve_backend("/models/other") == "torch"
    monkeypatch.setenv("NEWSQA_EMBEDDING_BACKEND", "torch")
    assert resolve_backend("all-MiniLM-L6-v2") == "torch"
    with pytest.raises(ValueError, match="unknown embedding backend"):
        resolve_backend("all-MiniLM-L6-v2", "tensorrt")


def test_onnx_refuses_a_model_it_cannot_reproduce(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFound, match="NEWSQA_EMBEDDING_BACKEND=torch"):
        load_encoder(str(tmp_path), "onnx")


def test_onnx_and_torch_vectors_agree(encoder, torch_encoder):
    assert encoder.backend == "onnx" and torch_encoder.backend == "torch"
    text = SEED_FILE.read_text(encoding="utf-8")[:1500]
    spans = [(s.start, s.end) for s in SentenceSplitter().split(text)]
    onnx, torch = encoder.encode_passages([text], [spans]), torch_encoder.encode_passages([text], [spans])
    assert float(onnx.passages[0] @ torch.passages[0]) > 0.98
    sentence_cosines = np.sum(onnx.sentences[0] * torch.sentences[0], axis=1)
    assert len(sentence_cosines) == len(spans) > 3 and sentence_cosines.min() > 0.95
    questions = ["who led the Chinese delegation?", "when is Victory Day?"]
    cosines = np.sum(encoder.encode_queries(questions) * torch_encoder.encode_queries(questions), axis=1)
    assert cosines.min() > 0.98
    # Sentence vectors are pooled from the passage's own pass, not encoded alone.
    alone = encoder.encode_queries([text[slice(*spans[1])]])[0]
    assert not np.allclose(alone, onnx.sentences[0][1], atol=1e-3)


def test_a_question_gets_the_same_vector_alone_or_with_others(encoder):
    """The int8 model scales activations per batch: questions are embedded one by one, so an
    answer never depends on which other questions were asked at the same moment."""
    questions = ["who led the Chinese delegation?", "How many lanes did the bridge open with in 1932, "
                 "and who cut the ribbon at the ceremony attended by several hundred residents?", "when?"]
    together = encoder.encode_queries(questions)
    for row, question in enumerate(questions):
        assert np.array_equal(together[row], encoder.encode_queries([question])[0])


def test_manifest_records_backend_and_exact_index(seed_index):
    manifest = Manifest.load(seed_index)
    assert (manifest.backend, manifest.vector_index) == ("onnx", "SQfp16")


def test_index_from_torch_stays_usable_with_onnx(tmp_path, encoder, torch_encoder):
    IndexBuilder(tmp_path, torch_encoder).update(SEEDS)
    assert Manifest.load(tmp_path).backend == "torch"
    report = IndexBuilder(tmp_path, encoder).update(SEEDS)  # no IndexMismatch: same model
    assert not report.changed
    result = QuestionAnswerer(IndexReader(tmp_path), encoder).ask("who led the Chinese delegation?")
    assert "Li Hongzhong" in result.answers[0].quote


def test_large_index_is_ivf_and_recorded_in_manifest(tmp_path, encoder, monkeypatch):
    monkeypatch.setattr(vectors_module, "APPROXIMATE_ABOVE", 3)
    IndexBuilder(tmp_path, encoder).update(SEEDS)
    manifest = Manifest.load(tmp_path)
    assert manifest.vector_index.startswith("IVF") and manifest.vector_index.endswith(",SQ8")
    result = QuestionAnswerer(IndexReader(tmp_path), encoder).ask("who led the Chinese delegation?")
    assert "Li Hongzhong" in result.answers[0].quote


def _clustered(rng: np.random.Generator, n: int, d: int = 32) -> np.ndarray:
    centres = rng.normal(size=(40, d))
    x = (centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, d))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ivf_segment_recall_and_small_adds_do_not_rewrite_it(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "APPROXIMATE_ABOVE", 1000)
    rng = np.random.default_rng(7)
    data = _clustered(rng, 4000)
    store = FaissVectorStore(tmp_path, 32)
    store.add(np.arange(4000), data)
    store.commit()
    assert store.index_type.startswith("IVF")
    big = store.segments[0]
    written = (tmp_path / f"{big}.faiss").stat().st_mtime_ns
    queries = data[:100] + 0.05 * rng.normal(size=(100, 32)).astype(np.float32)
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :10]
    found = [hits.ids for hits in store.search(queries, 10)]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact)])
    assert recall >= 0.9
    for batch in range(3):  # small commits land in new exact segments beside the big one
        store.add(np.arange(5000 + batch * 10, 5010 + batch * 10), _clustered(rng, 10))
        generation = store.commit()
    state = json.loads((tmp_path / f"{generation}.json").read_text())
    assert state["segments"][0] == big and len(state["segments"]) == 4
    assert (tmp_path / f"{big}.faiss").stat().st_mtime_ns == written
    assert state["info"][big]["type"].startswith("IVF") and state["info"][big]["nprobe"] >= 1


def test_stats_shows_backend_and_vector_index(cli_env, seed_index, monkeypatch):
    from click.testing import CliRunner

    from newsqa.bot.cli import cli

    monkeypatch.setenv("NEWSQA_INDEX_DIR", str(seed_index))
    result = CliRunner().invoke(cli, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["backend"], info["vector_index"]) == ("onnx", "SQfp16")
