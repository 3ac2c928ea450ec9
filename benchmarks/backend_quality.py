"""Retrieval quality per embedding backend (int8 ONNX vs torch float32) on the shared eval sets (../shared/eval).

Builds one index per eval set and backend, asks every question (k=5) and scores with the
definitions of the shared eval sets: passage_hit@1/@5, MRR@5 and quote_hit@1, an
answer "hits" a text when a SQuAD-normalised gold answer is a substring of it. Also prints
the mean and minimum cosine between the two backends' question vectors.

    .venv/bin/python benchmarks/backend_quality.py [--sets xquad_en covidqa] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import string
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from newsqa.index import IndexBuilder, IndexReader, load_encoder
from newsqa.retrieval import QuestionAnswerer

# The shared eval sets: NEWSQA_EVAL_DIR, else `../shared/eval` beside this repository.
EVAL = Path(os.environ.get("NEWSQA_EVAL_DIR") or Path(__file__).resolve().parent.parent.parent / "shared" / "eval")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalise(text: str) -> str:
    """SQuAD answer normalisation: lower case, no punctuation or articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def hits(answers: list[str], text: str) -> bool:
    text = normalise(text)
    return any(normalise(a) and normalise(a) in text for a in answers)


def score(answerer: QuestionAnswerer, questions: list[dict]) -> dict[str, float]:
    results = answerer.ask_many([q["question"] for q in questions], k=5)
    p1 = p5 = rr = q1 = 0.0
    for question, result in zip(questions, results):
        passages = [a.passage for a in result.answers]
        ranks = [i for i, passage in enumerate(passages) if hits(question["answers"], passage)]
        p1 += bool(ranks) and ranks[0] == 0
        p5 += bool(ranks)
        rr += 1 / (ranks[0] + 1) if ranks else 0.0
        q1 += bool(result.answers) and hits(question["answers"], result.answers[0].quote)
    n = len(questions)
    return {"passage_hit@1": p1 / n, "passage_hit@5": p5 / n, "MRR@5": rr / n, "quote_hit@1": q1 / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["xquad_en", "covidqa"])
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx"])
    parser.add_argument("--limit", type=int, default=0, help="questions per set (0: all)")
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    args = parser.parse_args()
    encoders = {b: load_encoder("all-MiniLM-L6-v2", b) for b in args.backends}
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsqa-quality-") as work:
        for name in args.sets:
            folder = args.eval_dir / name
            questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()]
            questions = questions[:args.limit] if args.limit else questions
            vectors = {}
            for backend, encoder in encoders.items():
                index = Path(work) / f"{name}-{backend}"
                started = time.perf_counter()
                IndexBuilder(index, encoder).update(folder / "articles")
                built = time.perf_counter() - started
                figures = score(QuestionAnswerer(IndexReader(index), encoder), questions)
                vectors[backend] = encoder.encode_queries([q["question"] for q in questions[:300]])
                rows.append((name, backend, len(questions), figures, built))
                print(name, backend, figures, f"index {built:.0f}s", file=sys.stderr, flush=True)
            if len(vectors) == 2:
                a, b = vectors.values()
                cosines = np.sum(a * b, axis=1)
                print(f"{name}: question vectors cosine {args.backends[0]} vs {args.backends[1]}: "
                      f"mean {cosines.mean():.4f}, min {cosines.min():.4f}")
    print("| set | backend | questions | passage_hit@1 | passage_hit@5 | MRR@5 | quote_hit@1 |")
    print("|---|---|---|---|---|---|---|")
    for name, backend, n, figures, _ in rows:
        print(f"| {name} | {backend} | {n} | " + " | ".join(f"{v:.3f}" for v in figures.values()) + " |")


if __name__ == "__main__":
    main()
