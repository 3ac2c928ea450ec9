"""Does a not-found rule fitted on two corpora carry to a third?

The rule must hold on any index, so it is fitted as it would be shipped: on the questions of two
sets asked of those two sets' indexes (own questions answerable, the other set's foreign), with
its cut set where it rejects >= 80% of the foreign questions on both; then it is applied,
unchanged, to the third set's index, with the third set's own questions and the other two's
asked of it. Rules: the shipped relevance alone, and a logistic regression over the signals of
`notfound_tradeoff.py` (a learned rule). Prints, per held-out index, the share of its own
answerable questions lost with the answer in the top 5 and the share of each foreign set rejected.

    .venv/bin/python benchmarks/notfound_transfer.py ../shared/eval/news_dev ../shared/eval/xquad_en \
        ../shared/eval/covidqa
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.retrieval.answerer import clean_question
from notfound_tradeoff import FEATURES, signals
from tune_quality import CachedEncoder, Dataset, open_dataset

RULES = {"shipped relevance": ("relevance",), "logistic regression": FEATURES}
FOREIGN_REJECTED = 0.80


def open_sets(description: str) -> tuple[NewsqaApp, dict[str, Dataset], CachedEncoder]:
    """The three eval sets named on the command line (their indexes built when missing), and
    every question of theirs embedded once."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("sets", type=Path, nargs=3)
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    datasets = {d.name: d for d in (open_dataset(app, path) for path in args.sets)}
    encoder = CachedEncoder(app.encoder, [clean_question(q.question) for d in datasets.values() for q in d.questions])
    return app, datasets, encoder


def transfer(rows: dict[str, dict[str, list[dict]]], features: Sequence[str]) -> None:
    """Per index held out: a rule over `features` (one: the value itself; more: a logistic
    regression) fitted on the other two indexes, its cut where it rejects FOREIGN_REJECTED of
    their foreign questions, applied to the held-out one; prints what it loses and rejects
    there. `rows[index][question set]`: each question's signals and whether the top 5 hold its
    answer (`hit`)."""
    for held_out in rows:
        fitted = [name for name in rows if name != held_out]

        def matrix(index: str, name: str) -> np.ndarray:
            return np.asarray([[r[f] for f in features] for r in rows[index][name]], float)

        pairs = [(index, name) for index in fitted for name in fitted]
        x = np.concatenate([matrix(i, n) for i, n in pairs])
        y = np.concatenate([np.full(len(rows[i][n]), i == n) for i, n in pairs])
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
        if len(features) == 1:
            score = lambda m: m[:, 0]  # noqa: E731 - the rule as shipped
        else:
            model = LogisticRegression(max_iter=5000, class_weight="balanced").fit((x - mean) / std, y)
            score = lambda m: model.decision_function((m - mean) / std)  # noqa: E731
        cut = max(float(np.quantile(score(matrix(i, n)), FOREIGN_REJECTED)) for i, n in pairs if i != n)
        own = score(matrix(held_out, held_out))
        hits = np.asarray([r["hit"] for r in rows[held_out][held_out]])
        rejected = ", ".join(f"{name}'s {np.mean(score(matrix(held_out, name)) < cut):.1%}" for name in fitted)
        print(f"fitted on {' + '.join(fitted)}, applied to the {held_out} index: own answerable lost with the "
              f"answer in the top 5 {np.mean((own < cut) & hits):.1%}; foreign rejected: {rejected}")


def main() -> None:
    _, datasets, encoder = open_sets(__doc__.splitlines()[0])
    # rows[index][question set]: the top answer's signals for each question of the set asked of the index
    rows = {index: {name: signals(datasets[index], d.questions, encoder) for name, d in datasets.items()}
            for index in datasets}
    for rule, features in RULES.items():
        print(f"== {rule}")
        transfer(rows, features)


if __name__ == "__main__":
    main()
