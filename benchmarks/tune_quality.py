"""Tune the answering weights on the eval sets: one row of figures per setting.

Each dataset's index is built (or reused) as `newsqa eval` does; question vectors and the
fused candidate passages are computed once and cached in memory, then every setting below
re-runs the quote picker and the answerer's ranking and not-found rule on them. Each row
gives the figures of `newsqa eval` (own questions, k = 5) and the honesty check (the other
set's questions, k = 1, should be `found: false`).

    .venv/bin/python benchmarks/tune_quality.py ../shared/eval/xquad_en ../shared/eval/covidqa
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.index import IndexBuilder, IndexReader, IndexSnapshot, PublishedWindow
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.evaluation import TOP_K, EvalQuestion, QualityReport, load_questions, score_answer_set
from newsqa.retrieval.hybrid import HybridRetriever, RetrievedPassage
from newsqa.retrieval.features import FEATURES
from newsqa.retrieval.quotes import Quote, QuotePicker
from newsqa.retrieval.ranker import LinearRanker

MAX_PASSAGES = 25


class CachedRetriever(HybridRetriever):
    """The default hybrid retriever, remembering its deepest answer per question."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[tuple[str, PublishedWindow | None], list[RetrievedPassage]] = {}

    def search(self, snapshot: IndexSnapshot, question: str, query_vector: np.ndarray,
               k: int = 8, window: PublishedWindow | None = None,
               keyword_search: Callable[[], dict[int, float]] | None = None) -> list[RetrievedPassage]:
        key = (question, window)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = super().search(snapshot, question, query_vector, MAX_PASSAGES, window,
                                                     keyword_search=keyword_search)
        return found[:k]


class CachedEncoder:
    """Question vectors computed once by the real encoder."""

    def __init__(self, encoder, texts: Sequence[str]) -> None:
        unique = list(dict.fromkeys(texts))
        self.vectors = dict(zip(unique, encoder.encode_queries(unique)))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


@dataclass
class Dataset:
    name: str
    questions: list[EvalQuestion]
    reader: IndexReader
    retriever: CachedRetriever = field(default_factory=CachedRetriever)


def open_dataset(app: NewsqaApp, directory: Path) -> Dataset:
    index_dir = app.dataset_index_dir(directory)
    IndexBuilder(index_dir, app.encoder).update(directory / "articles")
    return Dataset(directory.name, load_questions(directory), IndexReader(index_dir))


def quotes_for(dataset: Dataset, questions: Sequence[EvalQuestion], encoder: CachedEncoder, k: int,
               passages_per_answer: int, picker: QuotePicker) -> list[list[Quote]]:
    """The quotes `QuestionAnswerer` would rank for each question, before its not-found rule."""
    answerer = QuestionAnswerer(dataset.reader, encoder, retriever=dataset.retriever, picker=picker,
                                passages_per_answer=passages_per_answer)
    texts = [clean_question(q.question) for q in questions]
    return [answerer.quotes(text, encoder.vectors[text], k) for text in texts]


def open_pair(first: Path, second: Path) -> tuple[Dataset, Dataset, CachedEncoder]:
    """Two eval sets with their (cached) indexes, and every question of both embedded once."""
    app = NewsqaApp(load_settings())
    datasets = open_dataset(app, first), open_dataset(app, second)
    texts = [clean_question(q.question) for d in datasets for q in d.questions]
    return *datasets, CachedEncoder(app.encoder, texts)


def pair_from_command_line(description: str) -> tuple[Dataset, Dataset, CachedEncoder]:
    """The two eval sets named on the command line (`first second`), opened by `open_pair`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    return open_pair(args.first, args.second)


def picker_with(passage_coverage: float) -> QuotePicker:
    """The shipped picker with another weight for the passage's coverage of the question."""
    ranker = LinearRanker.load()
    weights = ranker.weights.copy()
    weights[FEATURES.index("passage_coverage")] = passage_coverage / ranker.scale[FEATURES.index("passage_coverage")]
    return QuotePicker(replace(ranker, weights=weights))


def settings_grid() -> list[tuple[int, dict, list[dict]]]:
    """(passages per answer, picker args, answerer relevance settings to try on its quotes)."""
    relevance = [{"passage_coverage_weight": pcw, "min_relevance": cut}
                 for pcw, cut in ((0.0, 0.0), (0.0, 0.55), (0.25, 0.6), (0.25, 0.65), (0.25, 0.7), (0.5, 0.7))]
    grid = []
    for ppa, wpc in itertools.product((2, 3, 4), (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)):
        grid.append((ppa, {"passage_coverage": wpc}, relevance))
    return grid


def main() -> None:
    first, second, encoder = pair_from_command_line(__doc__.splitlines()[0])
    print("| ppa | picker | relevance | xq q@1 | chars | p@1 | p@5 | lost | cv q@1 | chars | p@1 | p@5 | lost | "
          "xq→cv nf | cv→xq nf |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for ppa, picker_args, relevances in settings_grid():
        began = time.perf_counter()
        picker = picker_with(picker_args["passage_coverage"])
        own = {d.name: quotes_for(d, d.questions, encoder, TOP_K, ppa, picker) for d in (first, second)}
        # Honesty: the other set's questions, asked as the set's own are (TOP_K answers), as
        # `measure_honesty` asks them.
        foreign = {first.name: quotes_for(first, second.questions, encoder, TOP_K, ppa, picker),
                   second.name: quotes_for(second, first.questions, encoder, TOP_K, ppa, picker)}
        for relevance in relevances:
            row = []
            for dataset in (first, second):
                answerer = QuestionAnswerer(dataset.reader, encoder, **relevance)
                report = QualityReport.from_outcomes(dataset.name, [
                    score_answer_set(q, answerer.answer_set(q.question, quotes, TOP_K), 0.0)
                    for q, quotes in zip(dataset.questions, own[dataset.name])])
                row += [f"{report.quote_hit_at_1:.3f}", f"{report.quote_chars:.0f}", f"{report.passage_hit_at_1:.3f}",
                        f"{report.passage_hit_at_5:.3f}", f"{report.not_found:.3f}"]
            for dataset in (second, first):
                answerer = QuestionAnswerer(dataset.reader, encoder, **relevance)
                answered = [answerer.answer_set("", quotes, TOP_K).found for quotes in foreign[dataset.name]]
                row.append(f"{1 - sum(answered) / len(answered):.3f}")
            print(f"| {ppa} | {picker_args} | {relevance} | " + " | ".join(row) + " |", flush=True)
        print(f"  ({time.perf_counter() - began:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
