"""Reindexing with the real model and FAISS: formats and skips, crashes, concurrent
indexers, a no-op that loads no model, and readers that keep answering while it all happens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import (
    LATIN1_STORY,
    MARKERS,
    ROOT,
    STORY,
    assert_consistent,
    generated_article,
    html_page,
    vector_files_are_all_needed,
    write_articles,
)
from newsqa.index import DocumentReader, IndexBuilder, IndexLocked, IndexReader, Manifest, writer_lock
from newsqa.index import builder as builder_module
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.hybrid import HybridRetriever

def ask(index_dir: Path, encoder, question: str):
    return QuestionAnswerer(IndexReader(index_dir), encoder).ask(question)


# -- formats and skips ---------------------------------------------------------------
def test_mixed_folder_latin1_html_and_bad_files(tmp_path, articles, encoder):
    (articles / "bridge.txt").write_text(STORY)
    (articles / "cafes.txt").write_bytes(LATIN1_STORY.encode("latin-1"))
    (articles / "gazette.html").write_bytes(html_page("windows-1252"))
    (articles / "photo.txt").write_bytes(bytes(range(256)) * 8)
    (articles / "huge.txt").write_text("A very long article title\n\n" + "Words go on and on. " * 2000)
    (articles / "gone.md").symlink_to(tmp_path / "nowhere.md")
    (articles / "blank.md").write_text("\n\n   \n")
    index_dir = tmp_path / "index"
    report = IndexBuilder(index_dir, encoder, reader=builder_module.ArticleReader(max_bytes=20_000)).update(articles)
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert set(reasons) == {"photo.txt", "huge.txt", "gone.md", "blank.md"}
    assert "binary" in reasons["photo.txt"] and "too large" in reasons["huge.txt"]
    assert "cannot read" in reasons["gone.md"] and "empty" in reasons["blank.md"]
    assert len(report.added) == 4  # the seed, bridge, cafes, gazette

    cafes = ask(index_dir, encoder, "Who called the terrace decision a blow to the façade of the old town?")
    assert any("Françoise Dupré-Müller" in a.quote for a in cafes.answers)
    assert cafes.answers[0].title == "Café owners protest new terrace rules in Zürich"
    gazette = ask(index_dir, encoder, "How long will the new deck of the Harbour Bridge last?").answers[0]
    assert "fifty years" in gazette.quote
    assert gazette.title == "Harbour bridge reopens after repairs" and gazette.published == "2024-03-04"
    assert gazette.url == "https://gazette.example/news/bridge-reopens"
    assert gazette.source.endswith("gazette.html")

    store = DocumentReader(index_dir / "store.sqlite")
    texts = " ".join(row[0] for row in store.db.execute("SELECT text FROM chunk_text"))
    assert not any(marker in texts for marker in MARKERS)
    assert not any(store.keyword_search(marker, 5) for marker in MARKERS)
    store.close()


# -- crashes and concurrency ---------------------------------------------------------
KILLABLE_INDEXER = """
import sys
from pathlib import Path
from newsqa.index import IndexBuilder, builder, load_encoder
builder.BATCH_ARTICLES = 8  # many small generations, so the kill lands in the middle
builder.EMBED_GROUP = 4
IndexBuilder(Path(sys.argv[1]), load_encoder()).update(Path(sys.argv[2]))
"""


def found_by_keyword(index_dir: Path, word: str) -> list[str]:
    """The stored sentences holding `word`, found through the keyword index."""
    snapshot = IndexReader(index_dir).snapshot
    chunks = snapshot.chunks([i for i, _ in snapshot.keyword_search(word, 10)]).values()
    return [c.text[c.text.index("Councillor"):c.text.index(" said")] for c in chunks]


def _generation(index_dir: Path) -> int:
    try:
        store = DocumentReader(index_dir / Manifest.load(index_dir).store)
    except Exception:  # not created yet
        return 0
    try:
        return store.state()[0]
    finally:
        store.close()


def test_sigkill_mid_run_keeps_the_last_generation_and_the_next_run_finishes(tmp_path, encoder):
    articles, index_dir, total = tmp_path / "articles", tmp_path / "index", 64
    write_articles(articles, total)
    process = subprocess.Popen([sys.executable, "-c", KILLABLE_INDEXER, str(index_dir), str(articles)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _generation(index_dir) < 1:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    indexed, _ = assert_consistent(index_dir)
    assert 0 < indexed < total and indexed % 8 == 0
    assert ask(index_dir, encoder, "When did Councillor Person0 Smithson say the work would start?").found
    assert found_by_keyword(index_dir, "Person0") == ["Councillor Person0 Smithson"]

    report = IndexBuilder(index_dir, encoder).update(articles)
    assert len(report.added) == total - indexed and not report.updated and not report.removed
    assert assert_consistent(index_dir)[0] == total
    vector_files_are_all_needed(index_dir)
    last = total - 1
    assert found_by_keyword(index_dir, f"Person{last}") == [f"Councillor Person{last} Smithson"]
    again = IndexBuilder(index_dir, encoder).update(articles)
    assert not again.changed and again.unchanged == total


def _newsqa(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsqa.bot", *args], cwd=ROOT, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def test_two_indexers_started_at_once_index_everything_once(cli_env, encoder):
    write_articles(cli_env["articles"], 12)
    processes = [_newsqa("index", "--json") for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    assert sorted(len(r["added"]) for r in reports) == [0, 13]
    assert sorted(r["unchanged"] for r in reports) == [0, 13]
    assert assert_consistent(cli_env["index"])[0] == 13


def test_second_indexer_says_it_waits_then_finishes(cli_env, encoder):
    IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])
    with writer_lock(cli_env["index"], 0):
        with pytest.raises(IndexLocked, match="another indexer"):
            IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])
        process = _newsqa("index", "--json")
        line = process.stderr.readline()
        assert "Waiting for another indexer" in line
        assert process.poll() is None
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert json.loads(out)["unchanged"] == 1


NOOP_INDEX = """
import json, sys
from newsqa.bot.cli import cli
cli(["index", "--json"], standalone_mode=False)
heavy = ("torch", "sentence_transformers", "transformers", "onnxruntime")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def test_noop_reindex_loads_no_model(cli_env, encoder):
    IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])
    result = subprocess.run([sys.executable, "-c", NOOP_INDEX], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unchanged"] == 1 and not report["added"] and report["chunks_added"] == 0
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []


# -- live readers --------------------------------------------------------------------
def test_readers_keep_answering_while_generations_change_and_old_files_go(tmp_path, articles, encoder, monkeypatch):
    monkeypatch.setattr(builder_module, "KEEP_GENERATIONS", 1)  # prune as hard as possible
    index_dir = tmp_path / "index"
    IndexBuilder(index_dir, encoder).update(articles)
    reader = IndexReader(index_dir)
    answerer = QuestionAnswerer(reader, encoder)
    before = reader.snapshot
    errors: list[BaseException] = []
    answered = [0]
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                reader.refresh()
                result = answerer.ask("who led the Chinese delegation?")
                assert "Li Hongzhong" in result.answers[0].quote
                answered[0] += 1
            except BaseException as error:  # noqa: BLE001 - any failure fails the test
                errors.append(error)
                return

    threads = [threading.Thread(target=keep_asking) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for n in range(3):
            (articles / f"story-{n}.txt").write_text(generated_article(n))
            IndexBuilder(index_dir, encoder).update(articles)
        IndexBuilder(index_dir, encoder).update(articles, rebuild=True)  # new files; old ones deleted
        (articles / "bridge.txt").write_text(STORY)
        IndexBuilder(index_dir, encoder).update(articles)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors
    assert answered[0] > 0
    # A question that started on the first generation still completes on it.
    query = encoder.encode_queries(["who led the Chinese delegation?"])
    hits = before.vector_search(query, 3)[0]
    assert any("Li Hongzhong" in c.text for c in before.chunks(hits.ids.tolist()).values())
    reader.refresh()
    assert reader.snapshot.manifest != before.manifest
    assert "Ingrid Vasquez" in answerer.ask("Who cut the ribbon at the bridge?").answers[0].quote


def test_next_run_clears_what_killed_runs_left_and_nothing_else(tmp_path, articles, encoder):
    index_dir = tmp_path / "index"
    IndexBuilder(index_dir, encoder).update(articles)
    vectors = index_dir / "vectors"
    committed = sorted(p.name for p in vectors.iterdir())
    # An interrupted commit (files of a generation SQLite never recorded) and rebuild.
    for name in ("gen-000099.json", "seg-000099.faiss", "seg-000098.faiss.tmp", "del-000099.npy"):
        (vectors / name).write_bytes(b"half written")
    (index_dir / "store-0123abcd.sqlite").write_bytes(b"half a rebuild")
    (index_dir / "vectors-0123abcd").mkdir()
    (index_dir / "notes.txt").write_text("not ours")
    report = IndexBuilder(index_dir, encoder).update(articles)
    assert not report.changed
    assert sorted(p.name for p in vectors.iterdir()) == committed
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith("store.sqlite")) == [
        ".lock", "manifest.json", "notes.txt", "vectors"]
    assert "Li Hongzhong" in ask(index_dir, encoder, "who led the Chinese delegation?").answers[0].quote


def test_a_question_on_an_older_snapshot_still_gets_k_passages_after_many_deletions(tmp_path, encoder):
    # The old snapshot's vectors still point at the long bridge article's chunks; the shared
    # document store no longer has them. Its best dense hits are all gone, so the retriever
    # must look further down the fused list rather than come back short.
    articles = tmp_path / "articles"
    write_articles(articles, 12)
    paragraphs = [f"Part {n} of the Harbour Bridge reopening: the bridge deck, cables and ribbon ceremony "
                  f"in Port Elms were inspected again, and engineers praised the bridge repairs. " * 4
                  for n in range(8)]
    (articles / "bridge.txt").write_text("Harbour bridge reopens\n\n" + "\n\n".join(paragraphs))
    index_dir = tmp_path / "index"
    IndexBuilder(index_dir, encoder).update(articles)
    reader = IndexReader(index_dir)
    before = reader.snapshot
    question = "Harbour Bridge ribbon ceremony inspection"
    vector = encoder.encode_queries([question])[0]
    bridge_hits = [p for p in HybridRetriever().search(before, question, vector, k=3) if "Harbour" in p.chunk.text]
    assert len(bridge_hits) == 3
    (articles / "bridge.txt").unlink()
    IndexBuilder(index_dir, encoder).update(articles)
    dense_ids = before.vector_search(vector.reshape(1, -1), 6)[0].ids.tolist()
    assert len(before.chunks(dense_ids)) < 3  # the top of the old ranking is mostly deleted
    passages = HybridRetriever().search(before, question, vector, k=3)
    assert len(passages) == 3
    assert [p.rank for p in passages] == [0, 1, 2]
    assert all("council" in p.chunk.text for p in passages)
