"""The storage backend interface (index/backend.py) with FAISS + SQLite behind it: a search
limited to a published-date window, the storage named by the manifest, a reader that
swaps generations through the interface alone."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from helpers import write_articles
from newsqa.index import (
    BACKENDS,
    IndexBuilder,
    IndexCorrupt,
    IndexReader,
    Manifest,
    PublishedWindow,
    storage_backend,
)

STORIES = {
    "march.md": ("2024-03-04", "Harbour bridge reopens", "The harbour bridge in Port Elms reopened after repairs."),
    "may.md": ("2024-05-20", "Harbour bridge closes again", "The harbour bridge in Port Elms closed for new repairs."),
    "july.md": ("2024-07-01", "Harbour bridge toll", "The harbour bridge in Port Elms will charge a toll."),
    "undated.md": (None, "Harbour bridge history", "The harbour bridge in Port Elms was built in 1921."),
}


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory, encoder, storage):
    articles, index = tmp_path_factory.mktemp("dated"), tmp_path_factory.mktemp(f"dated-index-{storage.name}")
    for name, (date, title, body) in STORIES.items():
        front = f"date: {date}\n" if date else ""
        (articles / name).write_text(f"---\ntitle: {title}\n{front}---\n{body}\n\nIt was news in Port Elms.\n")
    IndexBuilder(index, encoder, storage=storage).update(articles)
    return index


def _titles(snapshot, ids) -> set[str]:
    return {chunk.title for chunk in snapshot.chunks(list(ids)).values()}


@pytest.mark.parametrize(("window", "expected"), [
    (None, {"march", "may", "july", "undated"}),
    (PublishedWindow(), {"march", "may", "july", "undated"}),
    (PublishedWindow(since="2024-05-01"), {"may", "july", "undated"}),
    (PublishedWindow(until="2024-05-20"), {"march", "may", "undated"}),
    (PublishedWindow(since="2024-05-20", until="2024-05-20"), {"may", "undated"}),
    (PublishedWindow(since="2025-01-01"), {"undated"}),
    # bounds that leave every article inside (as of today), and one day short of that
    (PublishedWindow(since="2024-03-04", until="2024-07-01"), {"march", "may", "july", "undated"}),
    (PublishedWindow(until="2026-12-31"), {"march", "may", "july", "undated"}),
    (PublishedWindow(until="2024-06-30"), {"march", "may", "undated"}),
])
def test_dense_and_keyword_search_keep_to_the_published_window(dated_index, encoder, window, expected):
    snapshot = IndexReader(dated_index).snapshot
    names = {title: name.removesuffix(".md") for name, (_, title, _) in STORIES.items()}
    query = "harbour bridge Port Elms"
    dense = snapshot.vector_search(encoder.encode_queries([query]), 10, window)[0].ids.tolist()
    keyword = [chunk_id for chunk_id, _ in snapshot.keyword_search(query, 10, window)]
    assert {names[t] for t in _titles(snapshot, dense)} == expected
    assert {names[t] for t in _titles(snapshot, keyword)} == expected


def test_the_manifest_names_the_storage_and_an_unknown_one_is_refused(dated_index, storage):
    manifest = Manifest.load(dated_index)
    assert json.loads((dated_index / "manifest.json").read_text())["storage"] == storage.name
    assert storage_backend(manifest) is BACKENDS[storage.name]
    with pytest.raises(IndexCorrupt, match="unknown index storage 'elastic'"):
        storage_backend(replace(manifest, storage="elastic"))


def test_a_reader_follows_new_generations_through_the_interface(tmp_path, encoder, storage):
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_articles(articles, 1)
    builder = IndexBuilder(index, encoder, storage=storage)
    builder.update(articles)
    reader = IndexReader(index)
    first = reader.snapshot
    write_articles(articles, 2)
    builder.update(articles)
    assert reader.refresh()
    second = reader.snapshot
    assert second.generation == first.generation + 1
    assert second.storage.shares_files_with(first.storage)
    assert second.stats().articles == 2
    assert _titles(second, [i for i, _ in second.keyword_search("Person1", 5)]) == {"Brackwell council story number 1"}


def test_pages_of_articles_and_the_last_passage_read_alike_on_every_backend(tmp_path, encoder, storage):
    articles, index = tmp_path / "articles", tmp_path / "index"
    articles.mkdir()
    for name, (date, title, body) in STORIES.items():
        front = f"date: {date}\n" if date else ""
        (articles / name).write_text(f"---\ntitle: {title}\n{front}---\n{body}\n\nIt was news in Port Elms.\n")
    (articles / "a-copy.md").write_text((articles / "may.md").read_text())  # one article, two sources
    builder = IndexBuilder(index, encoder, storage=storage)
    builder.update(articles)
    snapshot = IndexReader(index).snapshot
    latest = snapshot.latest_articles(0, 10)
    assert [title for title, _, _ in latest] == ["Harbour bridge toll", "Harbour bridge closes again",
                                                 "Harbour bridge reopens", "Harbour bridge history"]
    assert latest[1][1].endswith("a-copy.md") and latest[3][2] is None  # the first source; undated last
    assert snapshot.latest_articles(1, 2) == latest[1:3] and snapshot.latest_articles(4, 5) == []
    listed = snapshot.list_articles(0, 10)
    assert sorted(listed) == sorted(latest)
    assert snapshot.list_articles(2, 1) == listed[2:3] and snapshot.list_articles(3, 5) == listed[3:]
    last = snapshot.last_chunk_id()
    assert last == max(snapshot.chunk_ids_after(0))
    stats = snapshot.stats()
    assert (stats.articles, stats.sources, stats.chunks) == (4, 5, len(snapshot.chunk_ids_after(0)))
    assert snapshot.term_chunk_counts(["harbour"]) == (stats.chunks, {"harbour": 4})

    newest = snapshot.chunks([last])[last].source
    (articles / newest.rsplit("/", 1)[-1]).unlink()  # the article with the highest passage ids goes
    if newest.endswith(("may.md", "a-copy.md")):
        (articles / "may.md").unlink(missing_ok=True)
        (articles / "a-copy.md").unlink(missing_ok=True)
    builder.update(articles)
    after = IndexReader(index).snapshot
    assert after.last_chunk_id() == max(after.chunk_ids_after(0)) < last
    assert len(after.latest_articles(0, 10)) == 3 and after.list_articles(3, 1) == []
    stats = after.stats()
    assert (stats.articles, stats.chunks) == (3, len(after.chunk_ids_after(0)))
    assert stats.sources == len(list(articles.iterdir()))
