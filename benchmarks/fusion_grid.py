"""The fusion of the dense and keyword rankings (RRF's k, the keyword weight, candidates per
ranking) around the shipped setting, scored on every set given, a dated set also per half of
its weeks (as-of days alternate between the halves).

The fusion was set on xquad_en and covidqa; a dated news set was not used for it, so its two
halves tell whether the setting carries to news: each half picks its best setting, and it is
scored on the other.

    .venv/bin/python benchmarks/fusion_grid.py ../shared/eval/xquad_en ../shared/eval/covidqa \
        ../shared/eval/news_dev
"""

from __future__ import annotations

import argparse
from pathlib import Path

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.config import CANDIDATES, KEYWORD_WEIGHT, RRF_K
from newsqa.retrieval.evaluation import EvalQuestion, QualityReport, evaluate
from newsqa.retrieval.hybrid import HybridRetriever
from tune_quality import open_dataset

SHIPPED = (RRF_K, KEYWORD_WEIGHT, CANDIDATES)
GRID = [SHIPPED] + [(k, w, CANDIDATES) for k in (5, 10, 20, 60) for w in (1.0, 1.5, 2.0, 3.0)
                    if (k, w) != SHIPPED[:2]] + [(RRF_K, KEYWORD_WEIGHT, 50)]


def week_halves(questions: list[EvalQuestion]) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """The questions of alternate as-of days: no week's news in both halves."""
    days = sorted({q.as_of for q in questions})
    first = set(days[0::2])
    return [q for q in questions if q.as_of in first], [q for q in questions if q.as_of not in first]


def counts(report: QualityReport) -> str:
    """quote_hit@1 / passage_hit@1 / passage_hit@5 as counts of questions."""
    n = report.questions
    return (f"{round(report.quote_hit_at_1 * n)} / {round(report.passage_hit_at_1 * n)} / "
            f"{round(report.passage_hit_at_5 * n)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", type=Path, nargs="+")
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    datasets = [open_dataset(app, path) for path in args.sets]
    print("| RRF k, keyword weight, candidates | " + " | ".join(
        f"{d.name} q@1 / p@1 / p@5" + (" (halves)" if d.questions[0].as_of else "") for d in datasets) + " |")
    best: dict[str, tuple[tuple[int, ...], tuple]] = {}
    for setting in GRID:
        k, weight, candidates = setting
        cells = []
        for dataset in datasets:
            answerer = QuestionAnswerer(dataset.reader, app.encoder, retriever=HybridRetriever(
                keyword_weight=weight, rrf_k=k, candidates=candidates))
            if dataset.questions[0].as_of is None:
                cells.append(counts(evaluate(answerer, dataset.questions, dataset.name)))
                continue
            parts = [evaluate(answerer, half, dataset.name) for half in week_halves(dataset.questions)]
            cells.append(" and ".join(counts(part) for part in parts))
            for n, part in enumerate(parts):
                n_questions = part.questions
                key = (round(part.quote_hit_at_1 * n_questions) + round(part.passage_hit_at_1 * n_questions),
                       round(part.passage_hit_at_5 * n_questions))
                name = f"{dataset.name} half {n + 1}"
                if name not in best or key > best[name][1]:
                    best[name] = (setting, key)
        print(f"| {k}, {weight:g}, {candidates}{' (shipped)' if setting == SHIPPED else ''} | " + " | ".join(cells) + " |",
              flush=True)
    for name, (setting, _) in best.items():
        print(f"{name} picks {setting} (first of the best by quote_hit@1 + passage_hit@1, then passage_hit@5)")


if __name__ == "__main__":
    main()
