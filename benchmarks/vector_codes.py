"""Float32 against float16 codes for an exhaustive vector search, side by side on one index's
vectors: one query at a time on one thread, as a question is searched.

Every vector of the index's segments (whatever their codes) is read back and searched as one
float32 `IndexFlatIP` (what exhaustive segments were) and as one `SQfp16` (what they are now).
The queries are noisy copies of stored vectors (cosine ~0.9), unit length.

    .venv/bin/python benchmarks/vector_codes.py INDEX_DIR [--queries 200] [--rounds 3]

INDEX_DIR: a FAISS + SQLite index folder, e.g. the one `newsqa eval ../shared/eval/news_dev`
builds (its path is in `newsqa eval --json`'s `index_dir`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import faiss
import numpy as np


def stored_vectors(index_dir: Path) -> np.ndarray:
    """Every vector of every segment file under `index_dir/vectors`, as float32."""
    parts = []
    for path in sorted((index_dir / "vectors").glob("seg-*.faiss")):
        segment = faiss.read_index(str(path))
        inner = segment.index
        ivf = faiss.try_extract_index_ivf(inner)
        if ivf is not None:
            ivf.make_direct_map()
        parts.append(inner.reconstruct_n(0, segment.ntotal))
    if not parts:
        raise SystemExit(f"no vector segments under {index_dir / 'vectors'}")
    return np.concatenate(parts).astype(np.float32)


def ms_per_query(index: faiss.Index, queries: np.ndarray, k: int) -> float:
    """Mean time of one single-query search."""
    began = time.perf_counter()
    for query in queries:
        index.search(query[None], k)
    return (time.perf_counter() - began) / len(queries) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-k", type=int, default=30, help="hits per query (the hybrid search's candidates)")
    args = parser.parse_args()

    faiss.omp_set_num_threads(1)
    vectors = stored_vectors(args.index_dir)
    count, dimension = vectors.shape
    rng = np.random.default_rng(0)
    queries = vectors[rng.choice(count, args.queries)] + rng.normal(0, 0.025, (args.queries, dimension)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    float32 = faiss.IndexFlatIP(dimension)
    float16 = faiss.index_factory(dimension, "SQfp16", faiss.METRIC_INNER_PRODUCT)
    for index in (float32, float16):
        index.add(vectors)
    times: dict[str, list[float]] = {"float32": [], "float16": []}
    for _ in range(args.rounds):  # alternating, so a slow spell of the machine hits both
        times["float32"].append(ms_per_query(float32, queries, args.k))
        times["float16"].append(ms_per_query(float16, queries, args.k))
    exact_scores, exact_ids = float32.search(queries, args.k)
    scores, ids = float16.search(queries, args.k)
    same = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(exact_ids, ids)])
    drift = float(np.max(np.abs(np.sort(scores, axis=1) - np.sort(exact_scores, axis=1))))

    f32, f16 = statistics.median(times["float32"]), statistics.median(times["float16"])
    print(f"{count} vectors of {dimension} dimensions, {args.queries} queries, k = {args.k}, "
          f"median of {args.rounds} rounds, one thread")
    print("| codes | ms a query | bytes a vector |")
    print("|---|---|---|")
    print(f"| float32 IndexFlatIP | {f32:.3f} | {float32.code_size} |")
    print(f"| float16 SQfp16 | {f16:.3f} | {float16.code_size} |")
    print(f"float16 is {f32 / f16:.2f}× as fast; top-{args.k} sets shared: {same:.4f}; "
          f"largest score difference: {drift:.2e}")


if __name__ == "__main__":
    main()
