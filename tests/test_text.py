"""The keyword rules (index/text.py) agree with what FTS5's tokenizer stores, so a word the
quote picker counts is the word keyword search finds, and its IDF is looked up right."""

from __future__ import annotations

import numpy as np

from newsqa.index import FTS5_TOKENIZER, DocumentWriter, keyword_terms, stem_words
from newsqa.index.store import NewChunk
from newsqa.index.text import WORD

NEWS = ("Mayor Ingrid Vasquez cut the ribbon on Monday; Russia's delegation, led by Li Hongzhong, "
        "arrived in Pyongyang. Françoise Dupré-Müller called it “a blow to the façade” of Zürich's old "
        "town, and the Øresund ferries' naïve timetable a fiasco. Costs rose 40% to 1,200 million: "
        "running, runners, generously-funded relaxation, an AI hub, U.S. ties, OK'd plans "
        + "x" * 70 + ".")


def _fts5_terms(tmp_path, text: str) -> set[str]:
    """The terms the document store's FTS5 index holds for `text`, read from fts5vocab."""
    store = DocumentWriter(tmp_path / "store.sqlite")
    try:
        store.begin()
        article = store.insert_article("hash", "title", text, None, None, None)
        store.insert_chunks(article, text, 1, [NewChunk(0, 0, len(text), np.zeros(4, np.float32), [])])
        store.commit("")
        store.db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, chunk_text, col)")
        return {row[0] for row in store.db.execute("SELECT term FROM temp.vocab WHERE col = 'text'")}
    finally:
        store.close()


def test_stems_of_a_news_text_are_the_terms_fts5_stores(tmp_path):
    assert "porter" in FTS5_TOKENIZER and "remove_diacritics" in FTS5_TOKENIZER
    assert set(stem_words(WORD.findall(NEWS))) == _fts5_terms(tmp_path, NEWS)


def test_keyword_terms_drop_stop_words_and_keep_order():
    assert keyword_terms("Who led the Chinese delegation, and who led the Russian one?") == [
        "led", "chinese", "delegation", "russian", "one"]
