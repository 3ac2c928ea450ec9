"""Answer quality: the reference pipelines of issue 5 and newsqa, side by side in one run.

Reference pipelines (same model, all-MiniLM-L6-v2, as newsqa):
1. LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) + FAISS (langchain-community),
   quote = the top chunk;
2. BM25 (bm25s, English stop words, Snowball stemmer) over the same chunks, quote = chunk;
3. RRF (k=60) of both, quote = chunk;
4. RRF, quote = the best sentence of the top 3 chunks by cosine (sentences embedded at
   query time, cached per chunk so the run stays short; its latency is not reported).

newsqa: an index of the same articles built with the project's defaults, answered through
`QuestionAnswerer.ask_many`. The reference rows embed with newsqa's encoder (int8 ONNX by
default), so quality differences come from the pipelines alone. Latency is per question, one
question at a time: newsqa's whole pipeline against the dense-only reference (embed the
question + FAISS `similarity_search`), timed both with the reference's own float32
sentence-transformers model (what the LangChain tutorial runs) and with newsqa's encoder.

Needs the `bench` extra: `.venv/bin/pip install -e '.[test,bench]'`.

    .venv/bin/python benchmarks/quality.py ../shared/eval/xquad_en ../shared/eval/covidqa
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from newsqa.index import DEFAULT_MODEL, IndexBuilder, IndexReader, SentenceSplitter, load_encoder
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.evaluation import (
    EvalQuestion,
    QualityReport,
    QuestionOutcome,
    evaluate,
    load_questions,
    score_texts,
)

REFERENCE_K = 20  # candidates from each ranking before RRF
RRF_K = 60


class _LangchainEmbeddings:
    """The project's encoder behind LangChain's Embeddings interface (same model, normalised)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encoder.encode_queries(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encoder.encode_queries([text])[0].tolist()


def _rrf(*rankings: list[int]) -> list[int]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(scores, key=lambda i: -scores[i])


def reference_reports(dataset: Path, questions: list[EvalQuestion], encoder,
                      reference_encoder) -> dict[str, QualityReport]:
    """The four reference pipelines' figures on one dataset, plus `dense_own_model`: the
    dense-only reference timed with its own float32 sentence-transformers model
    (`reference_encoder`), as the LangChain tutorial runs it."""
    import bm25s
    import Stemmer
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class Wrapped(_LangchainEmbeddings, Embeddings):
        pass

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = []
    for path in sorted((dataset / "articles").glob("*")):
        documents.extend(splitter.create_documents([path.read_text(encoding="utf-8")],
                                                   metadatas=[{"source": path.name}]))
    texts = [d.page_content for d in documents]
    for n, document in enumerate(documents):
        document.metadata["n"] = n
    print(f"  {dataset.name}: {len(texts)} reference chunks; embedding them", file=sys.stderr)
    store = FAISS.from_documents(documents, Wrapped(encoder))
    stemmer = Stemmer.Stemmer("english")
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    splitter_sentences = SentenceSplitter()
    sentence_cache: dict[int, tuple[list[str], np.ndarray]] = {}

    def sentences_of(n: int) -> tuple[list[str], np.ndarray]:
        if n not in sentence_cache:
            spans = splitter_sentences.split(texts[n])
            found = [texts[n][s.start:s.end] for s in spans] or [texts[n]]
            sentence_cache[n] = (found, encoder.encode_queries(found))
        return sentence_cache[n]

    outcomes: dict[str, list[QuestionOutcome]] = {name: [] for name in [*REFERENCE_ROWS, "dense_own_model"]}
    # The reference's own model in a pass of its own: torch's and onnxruntime's thread pools
    # spin for a while after each call and would slow each other down if interleaved.
    for question in questions:
        began = time.perf_counter()
        own_vector = reference_encoder.encode_queries([question.question])[0].tolist()
        own = [d.metadata["n"] for d in store.similarity_search_by_vector(own_vector, k=REFERENCE_K)]
        own_seconds = time.perf_counter() - began
        outcomes["dense_own_model"].append(
            score_texts(question, texts[own[0]], [texts[i] for i in own[:5]], own_seconds))
    time.sleep(1)
    for question in questions:
        began = time.perf_counter()
        dense = [d.metadata["n"] for d in store.similarity_search(question.question, k=REFERENCE_K)]
        dense_seconds = time.perf_counter() - began
        tokens = bm25s.tokenize([question.question], stopwords="en", stemmer=stemmer, show_progress=False)
        ids, _ = bm25.retrieve(tokens, k=min(REFERENCE_K, len(texts)), show_progress=False)
        keyword = [int(i) for i in ids[0]]
        fused = _rrf(dense, keyword)
        for name, ranking in (("dense", dense), ("bm25", keyword), ("rrf", fused)):
            passages = [texts[i] for i in ranking[:5]]
            seconds = dense_seconds if name == "dense" else 0.0
            outcomes[name].append(score_texts(question, passages[0], passages, seconds))
        query = encoder.encode_queries([question.question])[0]
        best, best_score = "", -2.0
        for n in fused[:3]:
            found, vectors = sentences_of(n)
            scores = vectors @ query
            if float(scores.max()) > best_score:
                best, best_score = found[int(scores.argmax())], float(scores.max())
        outcomes["rrf_sentence"].append(score_texts(question, best, [texts[i] for i in fused[:5]], 0.0))
    return {name: QualityReport.from_outcomes(dataset.name, rows) for name, rows in outcomes.items()}


REFERENCE_ROWS = {
    "dense": "LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) + FAISS, quote = chunk",
    "bm25": "BM25 (bm25s) over the same chunks, quote = chunk",
    "rrf": "RRF fusion of both, quote = chunk",
    "rrf_sentence": "RRF fusion, quote = best sentence of top 3 chunks by cosine",
    "newsqa": "**newsqa** (hybrid FTS5 + FAISS, quote picker)",
}


def newsqa_report(dataset: Path, questions: list[EvalQuestion], encoder, work: Path) -> QualityReport:
    """newsqa's figures: a fresh index of the dataset's articles, then every question."""
    index_dir = work / dataset.name
    print(f"  {dataset.name}: building the newsqa index", file=sys.stderr)
    IndexBuilder(index_dir, encoder).update(dataset / "articles")
    answerer = QuestionAnswerer(IndexReader(index_dir), encoder)
    return evaluate(answerer, questions, dataset.name)


def _table(results: dict[str, dict[str, QualityReport]]) -> str:
    names = list(results)
    head = "| pipeline | " + " | ".join(
        f"{n} quote_hit@1 | quote chars | passage_hit@1 | passage_hit@5 | MRR@5" for n in names) + " |"
    lines = [head, "|---|" + "---|" * (5 * len(names))]
    for key, label in REFERENCE_ROWS.items():
        cells = []
        for name in names:
            r = results[name].get(key)
            if r is None:
                cells.extend(["-"] * 5)
                continue
            cells.extend([f"{r.quote_hit_at_1:.3f}", f"{r.quote_chars:.0f}", f"{r.passage_hit_at_1:.3f}",
                          f"{r.passage_hit_at_5:.3f}", f"{r.mrr_at_5:.3f}"])
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    ranking = [cell for name in names for cell in (
        "-", "-", f"{results[name]['newsqa'].ranking_passage_hit_at_1:.3f}",
        f"{results[name]['newsqa'].ranking_passage_hit_at_5:.3f}", f"{results[name]['newsqa'].ranking_mrr_at_5:.3f}")]
    lines.append("| newsqa, ranking alone (not-found rule off, as the reference rows are scored) | "
                 + " | ".join(ranking) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path, help="folders in the shared/eval layout")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each")
    args = parser.parse_args(argv)
    encoder = load_encoder()
    encoder.warm_up()
    reference_encoder = load_encoder(DEFAULT_MODEL, "torch")  # what the LangChain tutorial runs
    reference_encoder.warm_up()
    results: dict[str, dict[str, QualityReport]] = {}
    with tempfile.TemporaryDirectory(prefix="newsqa-quality-") as work:
        for dataset in args.datasets:
            questions = load_questions(dataset, args.limit)
            reports = reference_reports(dataset, questions, encoder, reference_encoder)
            reports["newsqa"] = newsqa_report(dataset, questions, encoder, Path(work))
            results[dataset.name] = reports
            dense, own, ours = reports["dense"], reports["dense_own_model"], reports["newsqa"]
            print(f"  {dataset.name}: latency per question (mean / p95 ms): dense-only reference with its own "
                  f"float32 model {own.latency_mean_ms:.1f} / {own.latency_p95_ms:.1f}, with newsqa's int8 "
                  f"encoder {dense.latency_mean_ms:.1f} / {dense.latency_p95_ms:.1f}; newsqa's whole pipeline "
                  f"{ours.latency_mean_ms:.1f} / {ours.latency_p95_ms:.1f} (reference / newsqa: "
                  f"{own.latency_mean_ms / max(ours.latency_mean_ms, 1e-9):.2f} and "
                  f"{dense.latency_mean_ms / max(ours.latency_mean_ms, 1e-9):.2f}); "
                  f"newsqa not found {ours.not_found:.1%}", file=sys.stderr)
    print(_table(results))


if __name__ == "__main__":
    main()
