"""Each chunk's word table (index/words.py) is stored at indexing time and read back as the
picker would have computed it; an index stored without tables, or with tables of another
format, still answers the same and gets current tables when next opened for writing."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from newsqa.index import IndexBuilder, IndexReader
from newsqa.index.store import DocumentWriter
from newsqa.index.text import WORD
from newsqa.index.words import CAPITAL, CONTENT, DATE, NUMBER, WORDS_FORMAT, WordTable, distinct_stems
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.terms import chunk_terms, passage_terms

from helpers import write_titled_articles

TEXT = ("Bridge engineer Tomas Varga said on Monday that 1,200 cables were replaced; Zürich's "
        "façade crews finished in 2023, three weeks early.")

ARTICLES = {
    "bridge.md": ("Harbour Bridge reopens", "The Harbour Bridge reopened on Monday after repairs to its deck. "
                  "Bridge engineer Tomas Varga said that 1,200 cables were replaced."),
    "ferry.md": ("Ferry timetable changes", "The ferry to Port Elms will leave at noon from the harbour on "
                 "Tuesday. Captain Ines Moreau said twelve crossings a day are planned."),
}


def _same(a: WordTable, b: WordTable) -> bool:
    return (a.vocabulary == b.vocabulary and np.array_equal(a.offsets, b.offsets)
            and np.array_equal(a.stem_index, b.stem_index) and np.array_equal(a.kinds, b.kinds))


def test_a_word_table_round_trips_through_its_blob():
    table = WordTable.of(TEXT)
    assert _same(WordTable.from_blob(table.to_blob()), table)
    words = [WORD.match(TEXT, offset).group() for offset in table.offsets]
    kinds = dict(zip(words, table.kinds.tolist()))
    assert kinds["Bridge"] == CONTENT | CAPITAL
    assert kinds["1"] & NUMBER and kinds["200"] & NUMBER  # "1,200": two words to the keyword rules
    assert kinds["2023"] & DATE and kinds["Monday"] & DATE
    assert not kinds["that"] & CONTENT
    assert table.vocabulary[table.stem_index[words.index("cables")]] == "cabl"  # the keyword index's stem


@pytest.mark.parametrize("text", [TEXT, "Harbour Bridge reopens", "The the THE: a title, a Title", "  ... "])
def test_a_texts_distinct_stems_are_its_tables_vocabulary(text):
    """A title's coverage reads `distinct_stems`, passages read their tables: the same stems."""
    assert distinct_stems(text) == WordTable.of(text).vocabulary


def test_an_empty_text_has_an_empty_table():
    table = WordTable.of("  ... ")
    assert len(table.offsets) == 0 and table.vocabulary == ()
    assert _same(WordTable.from_blob(table.to_blob()), table)


@pytest.mark.parametrize("blob", [None, b"", b"\x01", bytes([WORDS_FORMAT + 1]) + WordTable.of(TEXT).to_blob()[1:],
                                  WordTable.of(TEXT).to_blob()[:40]],
                         ids=["none", "empty", "header cut", "other format", "arrays cut"])
def test_a_missing_foreign_or_cut_blob_is_no_table(blob):
    assert WordTable.from_blob(blob) is None


@pytest.fixture()
def news_index(tmp_path, encoder):
    index = tmp_path / "index"
    IndexBuilder(index, encoder).update(write_titled_articles(tmp_path / "articles", ARTICLES))
    return index


def _answers(index, encoder) -> list[tuple[str | None, float]]:
    answerer = QuestionAnswerer(IndexReader(index), encoder)
    results = [answerer.ask(q, 3) for q in ("Who is the bridge engineer?", "How many crossings a day?",
                                             "Who is the captain of the ferry?")]
    return [(a.quote, round(a.score, 6)) for r in results for a in r.answers]


def test_stored_tables_are_the_tables_the_picker_computes(news_index):
    snapshot = IndexReader(news_index).snapshot
    chunks = snapshot.chunks(snapshot.chunk_ids_after(0))
    assert len(chunks) == len(ARTICLES)
    for chunk in chunks.values():
        assert chunk.words is not None
        stored, computed = chunk_terms(chunk), passage_terms(chunk.text)
        assert _same(stored.table, computed.table)
        assert stored.words == computed.words and stored.stems == computed.stems


@pytest.mark.parametrize("old", ["no column", "other format"])
def test_an_index_stored_without_current_tables_answers_the_same_and_is_upgraded(news_index, encoder, old):
    before = _answers(news_index, encoder)
    store = news_index / "store.sqlite"
    db = sqlite3.connect(store)
    if old == "no column":
        db.execute("ALTER TABLE chunks DROP COLUMN words")
    else:
        db.execute("UPDATE chunks SET words = ?", (bytes([WORDS_FORMAT + 1]) + b"stale",))
        db.execute("UPDATE meta SET value = ? WHERE key = 'words_format'", (str(WORDS_FORMAT + 1),))
    db.commit()
    db.close()
    assert _answers(news_index, encoder) == before
    DocumentWriter(store).close()  # opening it for writing stores the current tables
    db = sqlite3.connect(store)
    blobs = [blob for (blob,) in db.execute("SELECT words FROM chunks")]
    db.close()
    assert blobs and all(WordTable.from_blob(blob) is not None for blob in blobs)
    assert _answers(news_index, encoder) == before
