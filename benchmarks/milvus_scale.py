"""Passages in Milvus Lite beside local FAISS: ingest rate, dense query p50/p95, recall@10
against exact search, peak memory (each backend in its own process).

Milvus goes through the real backend (`index/milvus_storage.py`: the passages collection with
HNSW and the BM25 function, rows as the indexer writes them, `MilvusStorage.vector_search`
with the generation filter); FAISS through the real `FaissVectorStore` (which picks Flat or
IVF by size). Embedding a million real passages takes days on 2 cores, so the vectors are
generated from real ones: `--base` passages of ../shared/eval/news_dev (about 100 words
each) embedded with the shipped model, then each generated passage is a mix of two of them
(weights 1 and 0.2-0.6) plus Gaussian noise, normalised; queries are the set's real
questions embedded as queries. Exact top-10 comes from a brute-force inner product over all
vectors.

    nice -n 10 .venv/bin/python benchmarks/milvus_scale.py [--passages 100000] [--queries 200] \
        [--base 3000] [--workdir /tmp/newsqa-mscale]

news_dev has 122 questions: `--queries` beyond that takes them all.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DIMENSION = 384
SEED = 20261202
BATCH = 2_000
EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "news_dev"
# Noise per generated passage, as a fraction of the mixed vector's length: enough that no two
# generated passages coincide, little enough that neighbours stay topical.
NOISE = 0.35


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def real_embeddings(base: int, queries: int, workdir: Path) -> None:
    """Embed `base` real passages and `queries` real questions once (children load them)."""
    from newsqa.index import load_encoder

    words = []
    for path in sorted((EVAL / "articles").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n---", 1)[-1].split()
        words.extend(" ".join(body[i:i + 100]) for i in range(0, len(body) - 50, 100))
        if len(words) >= base:
            break
    asked = [json.loads(line)["question"] for line in (EVAL / "questions.jsonl").read_text().splitlines()]
    asked = asked[:queries]
    encoder = load_encoder()
    encoder.warm_up()
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / "base.npy", _unit(encoder.encode_queries(words[:base])))
    np.save(workdir / "asked.npy", _unit(encoder.encode_queries(asked)))


def data(passages: int, workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Generated passages (mixes of two real ones, noised) and the real questions."""
    rng = np.random.default_rng(SEED)
    base, asked = np.load(workdir / "base.npy"), np.load(workdir / "asked.npy")
    vectors = np.empty((passages, DIMENSION), np.float32)
    for start in range(0, passages, 100_000):
        n = min(100_000, passages - start)
        first = base[rng.integers(0, len(base), n)]  # draws in the order the recorded runs made them
        mixed = first + rng.uniform(0.2, 0.6, (n, 1)) * base[rng.integers(0, len(base), n)]
        noise = rng.standard_normal((n, DIMENSION)) * (NOISE * np.linalg.norm(mixed, axis=1, keepdims=True)
                                                       / np.sqrt(DIMENSION))
        vectors[start:start + n] = _unit(mixed + noise)
    return vectors, asked


def exact_top10(vectors: np.ndarray, asked: np.ndarray) -> np.ndarray:
    found = []
    for start in range(0, len(asked), 50):
        scores = asked[start:start + 50] @ vectors.T
        found.append(np.argsort(-scores, axis=1)[:, :10] + 1)  # ids start at 1
    return np.vstack(found)


def run_milvus(vectors: np.ndarray, asked: np.ndarray, workdir: Path) -> dict:
    from newsqa.index import ChunkingSettings, Manifest
    from newsqa.index.milvus_storage import MilvusConnection, MilvusStorage, _encode_sentences

    manifest = Manifest(model="synthetic", dimension=DIMENSION, chunking=ChunkingSettings(),
                        store="bench", storage="milvus")
    conn = MilvusConnection(workdir, manifest)
    conn.drop()
    conn.create()
    conn.load()
    no_sentences = _encode_sentences([])
    started = time.perf_counter()
    for start in range(0, len(vectors), BATCH):
        part = vectors[start:start + BATCH]
        conn.client.insert(conn.name("passages"), [
            {"id": start + n + 1, "article_id": (start + n) // 10, "gen": 1, "ordinal": 0, "start": 0, "end": 0,
             "published": "", "terms": "bench", "dense": v.tolist(), "sentences": no_sentences}
            for n, v in enumerate(part)])
    conn.set_meta("state", json.dumps({"generation": 1, "retired": [], "updated_at": time.time()}))
    conn.client.flush(conn.name("passages"))
    while True:  # ingest ends when the HNSW index holds every row
        index = conn.client.describe_index(conn.name("passages"), "dense")
        if index.get("indexed_rows", 0) >= len(vectors) and not index.get("pending_index_rows"):
            break
        time.sleep(0.5)
    storage = MilvusStorage(conn, conn.state())
    storage.vector_search(asked[:1], 10)
    ingest = time.perf_counter() - started
    return {"ingest_seconds": ingest, **_queries(storage.vector_search, asked)}


def run_faiss(vectors: np.ndarray, asked: np.ndarray, workdir: Path) -> dict:
    from newsqa.index import FaissVectorStore

    store = FaissVectorStore(workdir / "vectors", DIMENSION)
    store.open(None, load=False)
    started = time.perf_counter()
    for start in range(0, len(vectors), BATCH):
        part = vectors[start:start + BATCH]
        store.add(np.arange(start + 1, start + 1 + len(part), dtype=np.int64), part)
    generation = store.commit()
    reader = FaissVectorStore(workdir / "vectors", DIMENSION)
    reader.open(generation)
    ingest = time.perf_counter() - started
    return {"ingest_seconds": ingest, "index_type": store.index_type,
            **_queries(lambda q, k: reader.search(q, k), asked)}


def _queries(search, asked: np.ndarray) -> dict:
    times, ids = [], []
    for q in asked:
        t = time.perf_counter()
        hits = search(q[None, :], 10)[0]
        times.append(time.perf_counter() - t)
        ids.append(hits.ids.tolist())
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
            "found": ids}


def child(backend: str, passages: int, workdir: Path) -> None:
    vectors, asked = data(passages, workdir)
    (workdir / backend).mkdir(parents=True, exist_ok=True)
    result = (run_milvus if backend == "milvus" else run_faiss)(vectors, asked, workdir / backend)
    exact = exact_top10(vectors, asked)
    result["recall_at_10"] = float(np.mean([len(set(f) & set(e.tolist())) / 10
                                            for f, e in zip(result.pop("found"), exact)]))
    result["ingest_per_second"] = passages / result["ingest_seconds"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"backend": backend, "passages": passages, "queries": len(asked), **result}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--base", type=int, default=3_000, help="real passages the vectors are made from")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsqa-mscale"))
    parser.add_argument("--child", choices=["milvus", "faiss"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.passages, args.workdir)
        return
    shutil.rmtree(args.workdir, ignore_errors=True)
    real_embeddings(args.base, args.queries, args.workdir)
    for backend in ("faiss", "milvus"):
        subprocess.run([sys.executable, __file__, "--child", backend, "--passages", str(args.passages),
                        "--workdir", str(args.workdir)], check=True)


if __name__ == "__main__":
    main()
