"""The keyword ranking computed from FTS5's postings (index/keyword_scores.py) is FTS5's own
`bm25()` ranking, ids and scores to the bit, on a real store: for every question of the xquad
slice, inside windows, after the store changes under an open reader, and for words that the
Python stemmer and FTS5's porter stem differently."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from newsqa.index import IndexBuilder, keyword_scores, keyword_terms
from newsqa.index.store import DocumentReader, DocumentWriter
from newsqa.index.text import FTS5_TOKENIZER, fts5_stems, stem_words

SLICE = Path(__file__).resolve().parent / "fixtures" / "xquad_en_slice"
QUESTIONS = [json.loads(line)["question"] for line in (SLICE / "questions.jsonl").read_text().splitlines()]
# Words FTS5's porter stems otherwise than PyStemmer's ("technolog" against "technologi").
DEPARTURES = ("The technology assembly met incredibly often: the technology of assembly lines "
              "and the biology of the assembly hall were discussed.")


def fts5_ranking(store: Path, query: str, k: int) -> list[tuple[int, float]]:
    """What FTS5's own bm25() ranks first for `query`'s words in the passage text."""
    match = "text : (" + " OR ".join('"' + term + '"' for term in keyword_terms(query)[:64]) + ")"
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT rowid, bm25(chunk_text) FROM chunk_text WHERE chunk_text MATCH ? "
                          "ORDER BY bm25(chunk_text) LIMIT ?", (match, k)).fetchall()
    return [(rowid, -score) for rowid, score in rows]


@pytest.fixture()
def slice_store(tmp_path, encoder) -> tuple[Path, Path]:
    articles, index = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(SLICE / "articles", articles)
    (articles / "departures.txt").write_text(DEPARTURES + "\n")
    IndexBuilder(index, encoder).update(articles)
    return articles, index


def test_every_question_is_ranked_as_fts5_ranks_it(slice_store):
    store = slice_store[1] / "store.sqlite"
    reader = DocumentReader(store)
    questions = [*QUESTIONS, "What did the technology assembly discuss?", "incredibly technological biology"]
    for question in questions:
        assert reader.keyword_search(question, 30) == fts5_ranking(store, question, 30), question
    # Inside a window: the best allowed ids, in FTS5's order.
    ids = [row[0] for row in reader.db.execute("SELECT id FROM chunks")]
    allowed = frozenset(random.Random(7).sample(ids, len(ids) * 2 // 3))
    for question in questions:
        expected = [pair for pair in fts5_ranking(store, question, len(ids)) if pair[0] in allowed][:10]
        assert reader.keyword_search(question, 10, allowed) == expected, question


def test_the_open_reader_follows_the_store_as_it_changes(slice_store, encoder):
    articles, index = slice_store
    store = index / "store.sqlite"
    reader = DocumentReader(store)
    question = "When did the technology assembly meet?"
    before = reader.keyword_search(question, 30)
    assert before == fts5_ranking(store, question, 30)
    # Articles added and one removed: other rows, other sizes and term counts.
    (articles / "more.txt").write_text("The assembly of technology met again. " * 3 + "\n")
    (articles / "departures.txt").unlink()
    IndexBuilder(index, encoder).update(articles)
    after = reader.keyword_search(question, 30)
    assert after == fts5_ranking(store, question, 30)
    assert after != before


def test_a_word_fts5_reads_as_several_tokens_is_searched_by_fts5(tmp_path, encoder):
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    (articles / "covid.txt").write_text("Covid 19 cases rose in the harbour town.\n")
    (articles / "ferry.txt").write_text("The harbour ferry left at noon.\n")
    IndexBuilder(index, encoder).update(articles)
    store = index / "store.sqlite"
    ranking = DocumentReader(store).keyword_search("covid_19 harbour", 5)
    assert ranking == fts5_ranking(store, "covid_19 harbour", 5)
    assert len(ranking) == 2


def test_fts5_stems_are_the_tokens_the_keyword_index_stores(slice_store):
    with sqlite3.connect(f"file:{slice_store[1] / 'store.sqlite'}?mode=ro", uri=True) as db:
        db.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, chunk_text, row)")
        stored = {term for term, in db.execute("SELECT term FROM temp.terms")}
    words = keyword_terms(DEPARTURES)
    assert set(fts5_stems(words)) <= stored
    # PyStemmer's porter stems these otherwise (what the quote picker matches words by).
    assert fts5_stems(["technology"]) == ["technolog"] and stem_words(["technology"]) == ["technologi"]
    # A batch of known and new words, one FTS5 splits and one repeated: each its own token.
    assert fts5_stems(["Éclair", "covid_19", "technology", "Éclair", "x"]) == ["eclair", None, "technolog", "eclair", "x"]


def test_a_small_postings_cache_ranks_the_same(slice_store, monkeypatch):
    monkeypatch.setattr(keyword_scores, "POSTINGS_CACHE_ROWS", 20)  # most words' postings evicted
    store = slice_store[1] / "store.sqlite"
    reader = DocumentReader(store)
    for question in QUESTIONS[:60] * 2:
        assert reader.keyword_search(question, 30) == fts5_ranking(store, question, 30), question


def test_a_reader_open_while_the_keyword_table_is_rebuilt_reads_every_size_again(slice_store):
    store = slice_store[1] / "store.sqlite"
    with sqlite3.connect(store) as db:  # the layout before titles were a keyword field
        rows = db.execute("SELECT rowid, text FROM chunk_text").fetchall()
        db.executescript(f"DROP TABLE chunk_text; CREATE VIRTUAL TABLE chunk_text USING fts5(text, tokenize = '{FTS5_TOKENIZER}');")
        db.executemany("INSERT INTO chunk_text(rowid, text) VALUES (?, ?)", rows)
    reader = DocumentReader(store)
    question = QUESTIONS[0]
    assert reader.keyword_search(question, 30) == fts5_ranking(store, question, 30)
    DocumentWriter(store).close()  # the upgrade: the same rows, each now longer by its title
    assert reader.keyword_search(question, 30) == fts5_ranking(store, question, 30)
