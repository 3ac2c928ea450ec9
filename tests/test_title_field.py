"""The article title as a second keyword field (FTS5 column `title`): searched only when
its weight is above 0, and an index written before it existed is upgraded in place."""

from __future__ import annotations

import sqlite3

import pytest

from newsqa.index import IndexBuilder, IndexReader
from newsqa.index.store import DocumentReader, DocumentWriter
from newsqa.index.text import FTS5_TOKENIZER

from helpers import write_titled_articles

ARTICLES = {
    # The headline names the bridge; the passage quoting the engineer does not.
    "bridge.md": ("Harbour Bridge reopens after repairs",
                  "Engineer Tomas Varga said the cables were replaced over the winter."),
    "ferry.md": ("Ferry timetable changes", "The ferry to Port Elms will leave at noon from the harbour."),
}


@pytest.fixture()
def titled_index(tmp_path, encoder):
    index = tmp_path / "index"
    IndexBuilder(index, encoder).update(write_titled_articles(tmp_path / "articles", ARTICLES))
    return index


def _titles(snapshot, hits) -> list[str]:
    chunks = snapshot.chunks([chunk_id for chunk_id, _ in hits])
    return [chunks[chunk_id].title for chunk_id, _ in hits]


def test_the_title_is_searched_only_with_a_weight(titled_index):
    snapshot = IndexReader(titled_index).snapshot
    assert _titles(snapshot, snapshot.keyword_search("bridge", 5)) == []
    assert _titles(snapshot, snapshot.keyword_search("bridge", 5, title_weight=1.0)) == [
        "Harbour Bridge reopens after repairs"]
    # "harbour" is in one passage's text and the other's title: the text match ranks first
    # at a low title weight, the title match at a high one.
    low = _titles(snapshot, snapshot.keyword_search("harbour", 5, title_weight=0.1))
    high = _titles(snapshot, snapshot.keyword_search("harbour", 5, title_weight=20.0))
    assert low == ["Ferry timetable changes", "Harbour Bridge reopens after repairs"]
    assert high == ["Harbour Bridge reopens after repairs", "Ferry timetable changes"]


def test_title_words_do_not_count_as_passage_words_for_idf(titled_index):
    snapshot = IndexReader(titled_index).snapshot
    total, counts = snapshot.term_chunk_counts(["bridg", "harbour", "cabl"])
    assert (total, counts) == (2, {"harbour": 1, "cabl": 1})


def test_an_index_without_the_title_field_is_upgraded_in_place(titled_index):
    store = titled_index / "store.sqlite"
    db = sqlite3.connect(store)
    rows = db.execute("SELECT rowid, text FROM chunk_text ORDER BY rowid").fetchall()
    db.executescript("DROP TABLE chunk_text; CREATE VIRTUAL TABLE chunk_text USING fts5("
                     f"text, tokenize = '{FTS5_TOKENIZER}');")
    db.executemany("INSERT INTO chunk_text(rowid, text) VALUES (?, ?)", rows)
    db.commit()
    db.close()
    old = DocumentReader(store)  # a reader of the old layout searches the text alone
    assert [i for i, _ in old.keyword_search("harbour", 5, title_weight=1.0)] == \
        [i for i, _ in old.keyword_search("harbour", 5)]
    assert len(old.keyword_search("harbour", 5, title_weight=1.0)) == 1
    DocumentWriter(store).close()  # opening it for writing adds the field
    upgraded = DocumentReader(store)
    assert len(upgraded.keyword_search("harbour", 5, title_weight=1.0)) == 2
    assert sorted(upgraded.db.execute("SELECT rowid, text FROM chunk_text").fetchall()) == rows
