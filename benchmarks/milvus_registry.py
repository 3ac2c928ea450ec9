"""Registry and listing calls of the Milvus backend on a generated index: what an update, a
page of `/latest` and the bot's new-passage check cost as the index grows.

`--build` writes the index through the real `MilvusWriter` (articles of `--passages-per`
passages with small random vectors: these calls never search vectors), one commit per 500
articles; without it, the calls are timed on the index built before (so two versions of the
code can be compared on the same data):

    nice -n 10 .venv/bin/python benchmarks/milvus_registry.py --build --articles 5000 --passages-per 20
    nice -n 10 .venv/bin/python benchmarks/milvus_registry.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from newsqa.index import Article, ChunkingSettings, Manifest
from newsqa.index.milvus_storage import MilvusBackend, MilvusWriter
from newsqa.index.store import NewChunk

DIMENSION = 16
PER_COMMIT = 500


def build(index: Path, articles: int, per: int) -> None:
    manifest = Manifest(model="synthetic", dimension=DIMENSION, chunking=ChunkingSettings(), store="registry",
                        storage="milvus")
    index.mkdir(parents=True, exist_ok=True)
    manifest.save(index)
    rng = np.random.default_rng(7)
    writer = MilvusWriter(index, manifest)
    try:
        for first in range(0, articles, PER_COMMIT):
            count = min(PER_COMMIT, articles - first)
            start_id = writer.reserve_chunk_ids(count * per)
            writer.begin()
            for n in range(first, first + count):
                text = " ".join(f"word{n} sentence {i} of article {n}." for i in range(per))
                article = Article(key=f"a{n:07d}.txt", source=f"/news/a{n:07d}.txt", title=f"Article {n}",
                                  text=text, published=f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}")
                aid = writer.add_article(article)
                step = len(text) // per
                vectors = rng.standard_normal((per, DIMENSION)).astype(np.float32)
                chunks = [NewChunk(i, i * step, (i + 1) * step, vectors[i] / np.linalg.norm(vectors[i]), [])
                          for i in range(per)]
                writer.add_chunks(aid, text, start_id + (n - first) * per, chunks)
                writer.upsert_source(article.key, article.source, aid, f"fp{n}")
            writer.commit()
    finally:
        writer.close()


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return 1000 * (time.perf_counter() - started), value


def measure(index: Path) -> dict:
    manifest = Manifest.load(index)
    figures: dict[str, float] = {}
    figures["writer_open_ms"], writer = timed(lambda: MilvusWriter(index, manifest))
    sources = writer.sources()

    def one_article_update() -> None:  # what `newsqa add` of one new article writes
        first = writer.reserve_chunk_ids(1)
        writer.begin()
        article = Article(key="extra.txt", source="/news/extra.txt", title="Extra", text="One more article.")
        aid = writer.add_article(article)
        writer.add_chunks(aid, article.text, first, [NewChunk(0, 0, len(article.text),
                                                              np.ones(DIMENSION, np.float32) / 4, [])])
        writer.upsert_source(article.key, article.source, aid, "fp-extra")
        writer.delete_orphans()
        writer.commit()

    figures["one_article_commit_ms"], _ = timed(one_article_update)
    writer.close()
    storage = MilvusBackend().open_reader(index, manifest)
    figures["last_chunk_id_ms"], last = timed(storage.last_chunk_id)
    figures["chunk_ids_after_ms"], _ = timed(lambda: storage.chunk_ids_after(last - 10))
    figures["list_articles_ms"], page = timed(lambda: storage.list_articles(0, 20))
    figures["latest_articles_ms"], latest = timed(lambda: storage.latest_articles(0, 20))
    figures["stats_ms"], stats = timed(storage.stats)
    storage.close()
    return {"articles": stats.articles, "chunks": stats.chunks, "sources": len(sources), "last_chunk_id": last,
            "first_listed": page[0], "first_latest": latest[0], **{k: round(v, 1) for k, v in figures.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/newsqa-mregistry"))
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--passages-per", type=int, default=20)
    args = parser.parse_args()
    if args.build:
        build(args.index, args.articles, args.passages_per)
    print(json.dumps(measure(args.index)))


if __name__ == "__main__":
    main()
