"""The keyword search leaves out a question's common words on a large index (each costs a
scan of the passages holding it), and the index remembers term counts per generation."""

from __future__ import annotations

import numpy as np
import pytest

from newsqa.index import IndexBuilder, IndexReader
from newsqa.retrieval import HybridRetriever

HARBOUR_NEWS = [f"The harbour ferry number {n} left Port Elms at noon on its usual route." for n in range(5)]
TARIFF_NEWS = "The harbour master said new tariffs on cargo start in May."


@pytest.fixture()
def harbour_index(tmp_path, encoder):
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    for n, text in enumerate(HARBOUR_NEWS):
        (articles / f"ferry-{n}.txt").write_text(text + "\n")
    (articles / "tariffs.txt").write_text(TARIFF_NEWS + "\n")
    IndexBuilder(index, encoder).update(articles)
    return articles, index


QUESTION = "What did the harbour master say about cargo tariffs?"


def test_common_words_are_left_out_of_the_keyword_search_of_a_large_index(harbour_index):
    snapshot = IndexReader(harbour_index[1]).snapshot
    # "harbour" is in all 6 passages; with a floor of 1 passage the index counts as large.
    retriever = HybridRetriever(common_term_share=0.5, common_term_min_passages=1)
    words = retriever.keyword_query(snapshot, QUESTION).split()
    assert "harbour" not in words
    assert {"master", "cargo", "tariffs"} <= set(words)
    # A question of common words alone searches them all.
    assert retriever.keyword_query(snapshot, "Which harbour?") == "Which harbour?"
    # Under the floor (the shipped 1,000 passages) every word is searched.
    assert HybridRetriever().keyword_query(snapshot, QUESTION) == QUESTION


def test_the_answer_is_found_without_the_common_words(harbour_index, encoder):
    snapshot = IndexReader(harbour_index[1]).snapshot
    vector = np.asarray(encoder.encode_queries([QUESTION])[0])
    pruned = HybridRetriever(common_term_share=0.5, common_term_min_passages=1).search(snapshot, QUESTION, vector, k=3)
    assert pruned[0].chunk.text.strip() == TARIFF_NEWS
    assert pruned[0].keyword > 0


def test_term_counts_are_remembered_per_generation(harbour_index, encoder):
    articles, index = harbour_index
    snapshot = IndexReader(index).snapshot
    assert snapshot.term_chunk_counts(["harbour", "tariff"]) == (6, {"harbour": 6, "tariff": 1})
    # Known and unknown stems mixed, asked again: the same answer as asked once.
    assert snapshot.term_chunk_counts(["tariff", "absent", "harbour"]) == (6, {"tariff": 1, "harbour": 6})
    assert snapshot.term_chunk_counts([]) == (6, {})
    (articles / "more-tariffs.txt").write_text("Tariffs rose again this week, the harbour said.\n")
    IndexBuilder(index, encoder).update(articles)
    assert IndexReader(index).snapshot.term_chunk_counts(["tariff", "harbour"]) == (7, {"tariff": 2, "harbour": 7})
