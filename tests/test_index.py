"""Incremental indexing with the real model: add, change, delete, duplicates, skips."""

from __future__ import annotations

import json
import os
from datetime import date
from dataclasses import replace

import pytest

from newsqa.index import IndexBuilder, IndexCorrupt, IndexMismatch, IndexReader, Manifest
from newsqa.index.articles import ArticleReader
from newsqa.index.chunking import ChunkingSettings
from newsqa.retrieval import QuestionAnswerer

STORY = """Harbour bridge reopens after repairs

The Harbour Bridge in Port Elms reopened on Monday after eight months of repairs costing 40 million dollars.

Mayor Ingrid Vasquez cut the ribbon at the ceremony, which was attended by several hundred residents.
"""


def _build(index_dir, articles, encoder, storage=None):
    return IndexBuilder(index_dir, encoder, storage=storage).update(articles)


def _ask(index_dir, encoder, question):
    return QuestionAnswerer(IndexReader(index_dir), encoder).ask(question)


def test_manifest_records_model_dimension_chunking(tmp_path, articles, encoder):
    _build(tmp_path / "index", articles, encoder)
    data = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert data["model"] == "all-MiniLM-L6-v2"
    assert data["dimension"] == 384
    assert data["chunking"]["chunk_size"] == ChunkingSettings().chunk_size
    assert data["format_version"] == 1
    assert Manifest.load(tmp_path / "index").to_dict() == data


def test_add_change_delete_duplicate(tmp_path, articles, encoder, storage):
    index_dir = tmp_path / "index"
    first = _build(index_dir, articles, encoder, storage)
    assert len(first.added) == 1 and first.chunks_added > 0

    noop = _build(index_dir, articles, encoder, storage)
    assert not noop.changed and noop.unchanged == 1 and noop.chunks_added == 0

    (articles / "bridge.txt").write_text(STORY)
    added = _build(index_dir, articles, encoder, storage)
    assert [s.rsplit("/", 1)[-1] for s in added.added] == ["bridge.txt"]
    assert "Ingrid Vasquez" in _ask(index_dir, encoder, "Who cut the ribbon at the bridge?").answers[0].quote

    (articles / "copy-of-bridge.md").write_text(STORY)
    dup = _build(index_dir, articles, encoder, storage)
    assert len(dup.duplicates) == 1 and dup.chunks_added == 0
    answers = _ask(index_dir, encoder, "Who cut the ribbon at the bridge?").answers
    assert sum("Ingrid Vasquez" in a.quote for a in answers) == 1

    (articles / "bridge.txt").write_text(STORY.replace("Ingrid Vasquez", "Tomas Okafor"))
    changed = _build(index_dir, articles, encoder, storage)
    assert len(changed.updated) == 1
    quotes = [a.quote for a in _ask(index_dir, encoder, "Who cut the ribbon at the bridge?").answers]
    assert any("Tomas Okafor" in q for q in quotes) and any("Ingrid Vasquez" in q for q in quotes)

    (articles / "copy-of-bridge.md").unlink()
    (articles / "bridge.txt").unlink()
    removed = _build(index_dir, articles, encoder, storage)
    assert len(removed.removed) == 2
    result = _ask(index_dir, encoder, "Who cut the ribbon at the bridge?")
    assert all("Vasquez" not in a.quote and "Okafor" not in a.quote for a in result.answers)
    assert Manifest.load(index_dir).storage == storage.name


def test_an_index_read_by_another_article_reader_is_read_again(tmp_path, articles, encoder):
    """After an upgrade that reads files otherwise, the next update re-reads even the files
    whose size and mtime did not change; text that reads the same keeps its vectors."""
    index_dir = tmp_path / "index"
    bridge = articles / "bridge.txt"
    bridge.write_text(STORY)
    first = _build(index_dir, articles, encoder)
    assert Manifest.load(index_dir).reader_version == ArticleReader.version
    # Other text behind the same size and mtime: how a new reading of an unchanged file looks.
    stat = bridge.stat()
    bridge.write_text(STORY.replace("Ingrid Vasquez", "Ingrid Velasco"))
    os.utime(bridge, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not _build(index_dir, articles, encoder).changed  # same reader: an unchanged file is not read

    manifest = Manifest.load(index_dir)
    replace(manifest, reader_version=manifest.reader_version - 1).save(index_dir)
    report = _build(index_dir, articles, encoder)
    assert report.reread and "read again" in report.summary()
    assert [s.rsplit("/", 1)[-1] for s in report.updated] == ["bridge.txt"]
    assert report.unchanged == 1 and 0 < report.chunks_added < first.chunks_added  # the seed kept its vectors
    assert Manifest.load(index_dir).reader_version == ArticleReader.version
    assert "Ingrid Velasco" in _ask(index_dir, encoder, "Who cut the ribbon at the bridge?").answers[0].quote
    assert not _build(index_dir, articles, encoder).reread


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(tmp_path, articles, encoder, storage):
    (articles / "empty.txt").write_bytes(b"")
    (articles / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    (articles / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 50)
    (articles / "bridge.txt").write_text(STORY)
    report = _build(tmp_path / "index", articles, encoder, storage)
    reasons = {s.source.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "photo.jpg", "binary.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"]
    assert "unsupported" in reasons["photo.jpg"]
    assert len(report.added) == 2


def test_a_date_that_is_no_day_is_reported_and_the_article_indexed_undated(tmp_path, articles, encoder):
    front = "---\ntitle: Harbour bridge reopens\npublished: 2024-13-45\n---\n"
    (articles / "bridge.md").write_text(front + STORY.split("\n", 2)[2])
    (articles / "dated.md").write_text("---\npublished: 2024-03-04\n---\nThe ferry to Port Elms runs hourly.\n")
    report = _build(tmp_path / "index", articles, encoder)
    assert [(p.source.rsplit("/", 1)[-1], p.reason.split(" is ")[0]) for p in report.problems] == [
        ("bridge.md", "front matter 'published: 2024-13-45'")]
    assert "undated" in report.problems[0].reason and "1 with a problem" in report.summary()
    assert len(report.added) == 3 and not report.skipped
    # Undated, it is quoted as of any day (a date nobody can read never hides an article).
    answer = QuestionAnswerer(IndexReader(tmp_path / "index"), encoder).ask(
        "Who cut the ribbon at the bridge?", as_of=date(2000, 1, 1)).answers[0]
    assert "Ingrid Vasquez" in answer.quote and answer.published is None
    assert not _build(tmp_path / "index", articles, encoder).problems  # reported when read, not on every run


def test_changed_chunking_requires_rebuild(tmp_path, articles, encoder):
    index_dir = tmp_path / "index"
    _build(index_dir, articles, encoder)
    other = IndexBuilder(index_dir, encoder, chunking=ChunkingSettings(chunk_size=300, chunk_overlap=50))
    with pytest.raises(IndexMismatch, match="--rebuild"):
        other.update(articles)
    report = other.update(articles, rebuild=True)
    assert len(report.added) == 1
    assert Manifest.load(index_dir).chunking.chunk_size == 300
    assert "Li Hongzhong" in _ask(index_dir, encoder, "who led the Chinese delegation?").answers[0].quote
    assert len(list(index_dir.glob("*.sqlite"))) == 1


def test_corrupt_store_is_reported(tmp_path, articles, encoder):
    index_dir = tmp_path / "index"
    _build(index_dir, articles, encoder)
    for path in index_dir.glob("store.sqlite*"):
        path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorrupt):
        IndexReader(index_dir)
