"""One million chunks on one machine: dense search latency and recall, and a small add.

Builds (once, into --workdir) a real index directory of 100,000 synthetic article files of
10 one-sentence chunks each: the document store is the real SQLite store (article text,
chunks, FTS5 keyword index on disk), the vectors go through the real `FaissVectorStore`
(which picks the index type by size and tunes nprobe) and the manifest records it. Vectors
are synthetic: noisy copies (cosine ~0.75) of 2,000 real all-MiniLM-L6-v2 sentence vectors
from the eval articles, so they cluster like real embeddings do.

Then, in a fresh process (for its peak RSS): dense search p50/p95 for single queries and
recall@10 against exact search (queries: noisy copies of other real sentence vectors, at
cosine ~0.6, as questions are to their passages); hybrid search p50; then 100 real articles
are copied into the folder and `IndexBuilder.update` adds them: the big segment must not be
rewritten.

    .venv/bin/python benchmarks/scale.py [--chunks 1000000] [--workdir /tmp/newsqa-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from newsqa.index import ChunkingSettings, DocumentWriter, FaissVectorStore, IndexBuilder, Manifest, load_encoder
from newsqa.index.articles import READER_VERSION
from newsqa.index.store import NewChunk

# The shared eval sets: NEWSQA_EVAL_DIR, else `../shared/eval` beside this repository.
EVAL = Path(os.environ.get("NEWSQA_EVAL_DIR") or Path(__file__).resolve().parent.parent.parent / "shared" / "eval")
CHUNKS_PER_ARTICLE = 10
DIMENSION = 384
SEED = 20261128


def _vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """Words of the eval articles and their frequencies: synthetic text with a real Zipf curve,
    so keyword search meets realistic posting-list lengths."""
    import re
    from collections import Counter

    counts = Counter()
    for folder in ("xquad_en", "covidqa"):
        for path in (EVAL / folder / "articles").glob("*.txt"):
            counts.update(re.findall(r"[a-z]{2,}", path.read_text().lower()))
    words, freq = zip(*counts.most_common(30_000))
    p = np.array(freq, dtype=np.float64)
    return np.array(words), p / p.sum()


def _centres() -> np.ndarray:
    """Real sentence vectors: 2,000 for the data, 200 more for queries."""
    sentences = []
    for folder in ("xquad_en", "covidqa"):
        for path in sorted((EVAL / folder / "articles").glob("*.txt")):
            sentences.extend(s.strip() for s in path.read_text().replace("\n", " ").split(". ") if len(s) > 40)
    rng = np.random.default_rng(SEED)
    picked = [sentences[i] for i in rng.choice(len(sentences), 2200, replace=False)]
    return load_encoder("all-MiniLM-L6-v2", "onnx").encode_queries(picked)


def _noisy(rng: np.random.Generator, base: np.ndarray, cosine: float) -> np.ndarray:
    sigma = np.sqrt((1 / cosine**2 - 1) / base.shape[1])
    x = base + rng.normal(scale=sigma, size=base.shape).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic_vectors(total: int, centres: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(SEED + 1)
    out = np.empty((total, DIMENSION), np.float32)
    for start in range(0, total, 100_000):
        n = min(100_000, total - start)
        out[start:start + n] = _noisy(rng, centres[rng.integers(0, 2000, n)], 0.75)
    return out


def build(workdir: Path, total: int) -> None:
    articles_dir, index_dir = workdir / "articles", workdir / "index"
    shutil.rmtree(workdir, ignore_errors=True)
    articles_dir.mkdir(parents=True)
    started = time.perf_counter()
    centres = _centres()
    np.save(workdir / "centres.npy", centres)
    vectors = synthetic_vectors(total, centres)
    print(f"vectors: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    manifest = Manifest(model="all-MiniLM-L6-v2", dimension=DIMENSION, chunking=ChunkingSettings(), backend="onnx",
                        reader_version=READER_VERSION)
    manifest.save(index_dir)
    store = DocumentWriter(index_dir / manifest.store)
    store.db.execute("PRAGMA synchronous=NORMAL")  # bulk load; the builder's own commits stay FULL
    rng = np.random.default_rng(SEED + 2)
    words, weights = _vocabulary()
    first = store.reserve_chunk_ids(total)
    store.begin()
    for article in range(total // CHUNKS_PER_ARTICLE):
        drawn = rng.choice(words, (CHUNKS_PER_ARTICLE, 16), p=weights)
        sentences = [" ".join(row).capitalize() + f" {article}-{n}." for n, row in enumerate(drawn)]
        body = "\n\n".join(sentences)
        key = f"{article // 1000:03d}/{article:06d}.txt"
        path = articles_dir / key
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"Synthetic article {article}\n\n{body}\n")
        stat = path.stat()
        article_id = store.insert_article(f"synthetic-{article}", f"Synthetic article {article}", body,
                                          None, None, None)
        chunks, offset = [], 0
        for n, sentence in enumerate(sentences):
            vector = vectors[article * CHUNKS_PER_ARTICLE + n]
            chunks.append(NewChunk(n, offset, offset + len(sentence), vector,
                                   [(offset, offset + len(sentence), n, vector)]))
            offset += len(sentence) + 2
        store.insert_chunks(article_id, body, first + article * CHUNKS_PER_ARTICLE, chunks)
        store.upsert_source(key, str(path), article_id, f"{stat.st_size}:{stat.st_mtime_ns}")
        if article % 10_000 == 9_999:
            store.commit("")
            store.begin()
            print(f"store: {article + 1} articles, {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    store.db.execute("COMMIT")
    faiss_started = time.perf_counter()
    faiss_store = FaissVectorStore(index_dir / manifest.vectors, DIMENSION)
    faiss_store.add(np.arange(first, first + total, dtype=np.int64), vectors)
    store.begin()
    store.commit(faiss_store.commit())
    store.close()
    replace(manifest, vector_index=faiss_store.index_type).save(index_dir)
    (workdir / "first_id").write_text(str(first))
    print(f"faiss: {faiss_store.index_type} {faiss_store._current.info} in "
          f"{time.perf_counter() - faiss_started:.0f}s; total {time.perf_counter() - started:.0f}s",
          file=sys.stderr, flush=True)


def _status_mib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process in MiB; unlike getrusage's maxrss, VmHWM
    starts afresh at exec, so the parent's memory does not count."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def rebuild_vectors(workdir: Path, total: int) -> None:
    """Rewrite only the vector index of an existing scale index (after a FAISS change)."""
    index_dir = workdir / "index"
    manifest = Manifest.load(index_dir)
    shutil.rmtree(index_dir / manifest.vectors, ignore_errors=True)
    vectors = synthetic_vectors(total, np.load(workdir / "centres.npy"))
    first = int((workdir / "first_id").read_text())
    started = time.perf_counter()
    faiss_store = FaissVectorStore(index_dir / manifest.vectors, DIMENSION)
    faiss_store.add(np.arange(first, first + total, dtype=np.int64), vectors)
    store = DocumentWriter(index_dir / manifest.store)
    store.begin()
    store.commit(faiss_store.commit())
    store.close()
    replace(manifest, vector_index=faiss_store.index_type).save(index_dir)
    print(f"faiss: {faiss_store.index_type} {faiss_store._current.info} in "
          f"{time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)


def measure(workdir: Path, total: int) -> dict[str, object]:
    """Run in a fresh process: search latency, recall, and the 100-article add."""
    import faiss

    from newsqa.index import IndexReader
    from newsqa.retrieval import HybridRetriever

    index_dir = workdir / "index"
    started = time.perf_counter()
    reader = IndexReader(index_dir)
    snapshot = reader.snapshot
    opened = time.perf_counter() - started
    rss_open = _status_mib("VmRSS")
    centres = np.load(workdir / "centres.npy")
    rng = np.random.default_rng(SEED + 3)
    queries = _noisy(rng, centres[2000:2200], 0.6)
    latencies, found = [], []
    snapshot.vector_search(queries[:1], 10)  # first touch
    for query in queries:
        t = time.perf_counter()
        found.append(snapshot.vector_search(query[None, :], 10)[0].ids)
        latencies.append((time.perf_counter() - t) * 1000)
    vectors = synthetic_vectors(total, centres)
    first_id = int((workdir / "first_id").read_text())
    _, exact = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    del vectors
    recall = float(np.mean([len(set(f.tolist()) & set((e + first_id).tolist())) / 10 for f, e in zip(found, exact)]))
    retriever = HybridRetriever()
    hybrid = []
    words, weights = _vocabulary()
    for query in queries[:50]:
        text = " ".join(rng.choice(words, 6, p=weights))
        t = time.perf_counter()
        retriever.search(snapshot, text, query, k=6)
        hybrid.append((time.perf_counter() - t) * 1000)
    manifest = Manifest.load(index_dir)
    vector_dir = index_dir / manifest.vectors
    before = {p.name: p.stat().st_mtime_ns for p in vector_dir.glob("seg-*.faiss")}
    # 100 real articles arrive: the 48 XQuAD articles and 52 COVID-QA papers cut to news length.
    new = sorted((EVAL / "xquad_en" / "articles").glob("*.txt")) + sorted((EVAL / "covidqa" / "articles").glob("*.txt"))
    new = new[:100]
    for path in new:
        (workdir / "articles" / f"new-{path.name}").write_text(path.read_text()[:4000])
    t = time.perf_counter()
    report = IndexBuilder(index_dir, load_encoder("all-MiniLM-L6-v2", "onnx")).update(workdir / "articles")
    added = time.perf_counter() - t
    after = {p.name: p.stat().st_mtime_ns for p in vector_dir.glob("seg-*.faiss")}
    reader.refresh()
    latencies_after = []
    for query in queries:
        t = time.perf_counter()
        reader.snapshot.vector_search(query[None, :], 10)
        latencies_after.append((time.perf_counter() - t) * 1000)
    for path in new:
        (workdir / "articles" / f"new-{path.name}").unlink()
    IndexBuilder(index_dir, load_encoder("all-MiniLM-L6-v2", "onnx")).update(workdir / "articles")  # as before
    return {
        "chunks": total, "vector_index": manifest.vector_index,
        "open_s": round(opened, 2), "rss_after_open_mib": round(rss_open),
        "dense_p50_ms": round(statistics.median(latencies), 3),
        "dense_p95_ms": round(float(np.percentile(latencies, 95)), 3),
        "recall_at_10": round(recall, 4),
        "hybrid_p50_ms": round(statistics.median(hybrid), 2),
        "add_100_articles_s": round(added, 1), "added": len(report.added), "chunks_added": report.chunks_added,
        "big_segments_untouched": all(after.get(name) == mtime for name, mtime in before.items()),
        "segments_after_add": sorted(after),
        "dense_p50_after_add_ms": round(statistics.median(latencies_after), 3),
        "peak_rss_mib": _status_mib("VmHWM"),
        "store_mib": round(sum(p.stat().st_size for p in index_dir.glob("store*")) / 2**20),
        "faiss_mib": round(sum(p.stat().st_size for p in vector_dir.glob("*.faiss")) / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsqa-scale"))
    parser.add_argument("--reuse", action="store_true", help="measure an index built by an earlier run")
    parser.add_argument("--rebuild-vectors", action="store_true",
                        help="with --reuse: rewrite only the FAISS index, keep the document store")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.workdir, args.chunks)))
        return
    if not (args.reuse and (args.workdir / "index" / "manifest.json").exists()):
        build(args.workdir, args.chunks)
    elif args.rebuild_vectors:
        rebuild_vectors(args.workdir, args.chunks)
    out = subprocess.run([sys.executable, __file__, "--measure-only", "--chunks", str(args.chunks),
                          "--workdir", str(args.workdir)], check=True, capture_output=True, text=True,
                         env=dict(os.environ, TOKENIZERS_PARALLELISM="false"))
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print("| figure | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
