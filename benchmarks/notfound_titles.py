"""Do the answers' headlines tell a corpus's own questions from foreign ones? (nineteenth session)

A question about the news is about what some article is about, so its answers' headlines
should be close to it; a foreign question that finds a sentence on its topic in a broad news
index should not. For each set's questions asked of each set's index (as the not-found rule is
fitted: no as-of), the top answer's signals: the shipped relevance, and the cosine between the
question and its top answer's title (`title_cos`) or the closest title of the top 5 answers
(`title_cos_max`), with the bundled encoder. Prints the means per index and question set, then
per gate "relevance >= MIN_RELEVANCE and TITLE >= c" on every index: the share of its own
answerable questions lost with the answer in the top 5, and of each foreign set rejected; then
a logistic regression over relevance and the title cosine fitted on two indexes, applied to the
third, as `notfound_transfer.py` does (docs/quality-log.md, "Nineteenth session").

    .venv/bin/python benchmarks/notfound_titles.py ../shared/eval/news_dev ../shared/eval/xquad_en \
        ../shared/eval/covidqa
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.config import MIN_RELEVANCE
from newsqa.retrieval.evaluation import TOP_K, answer_in
from tune_quality import CachedEncoder, Dataset, open_dataset

TITLE_SIGNALS = ("title_cos", "title_cos_max")
GATES = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3)
FOREIGN_REJECTED = 0.80


class TitleVectors:
    """Titles embedded once each, by the encoder questions go through."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}

    def of(self, titles: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(titles) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.encoder.encode_queries(missing)))
        return np.stack([self.vectors[t] for t in titles])


def signals(index: Dataset, asked: Dataset, encoder: CachedEncoder, titles: TitleVectors) -> list[dict]:
    """Per question of `asked` put to `index`: relevance, title cosines, whether the top 5 hold the answer."""
    answerer = QuestionAnswerer(index.reader, encoder, retriever=index.retriever)
    snapshot = index.reader.snapshot
    rows = []
    for question in asked.questions:
        text = clean_question(question.question)
        vector = encoder.vectors[text]
        quotes = answerer.quotes(text, vector, TOP_K, snapshot)[:TOP_K]
        if not quotes:
            rows.append({"relevance": 0.0, "title_cos": -1.0, "title_cos_max": -1.0, "hit": False})
            continue
        cosines = titles.of([q.passage.chunk.title or "" for q in quotes]) @ vector
        rows.append({"relevance": answerer.relevance(quotes[0]), "title_cos": float(cosines[0]),
                     "title_cos_max": float(cosines.max()),
                     "hit": any(answer_in(question.answers, q.passage.chunk.text) for q in quotes)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", type=Path, nargs=3)
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    datasets = {d.name: d for d in (open_dataset(app, path) for path in args.sets)}
    encoder = CachedEncoder(app.encoder, [clean_question(q.question) for d in datasets.values() for q in d.questions])
    titles = TitleVectors(app.encoder)
    rows = {(i, n): signals(datasets[i], datasets[n], encoder, titles) for i in datasets for n in datasets}
    print("| index | questions | relevance | title_cos | title_cos_max |\n|---|---|---|---|---|")
    for (index, name), part in rows.items():
        means = [np.mean([r[k] for r in part]) for k in ("relevance", *TITLE_SIGNALS)]
        print(f"| {index} | {name} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    for signal in TITLE_SIGNALS:
        print(f"\nrelevance >= {MIN_RELEVANCE} and {signal} >= c: per index, own answerable lost (answer in the "
              "top 5) / each foreign set rejected")
        for gate in GATES:
            cells = []
            for index in datasets:
                def fails(r: dict) -> bool:
                    return r["relevance"] < MIN_RELEVANCE or r[signal] < gate
                lost = np.mean([fails(r) and r["hit"] for r in rows[(index, index)]])
                rejected = [np.mean([fails(r) for r in rows[(index, name)]]) for name in datasets if name != index]
                cells.append(f"{index} {lost:.1%} / " + " / ".join(f"{v:.1%}" for v in rejected))
            print(f"  c = {gate}: " + "; ".join(cells))
    print(f"\nlogistic regression over relevance and title_cos, fitted on two indexes (cut: {FOREIGN_REJECTED:.0%} "
          "of their foreign questions rejected), applied to the third:")
    features = ("relevance", "title_cos")
    for held in datasets:
        fitted = [name for name in datasets if name != held]
        pairs = [(i, n) for i in fitted for n in fitted]

        def matrix(index: str, name: str) -> np.ndarray:
            return np.asarray([[r[f] for f in features] for r in rows[(index, name)]], float)

        x = np.concatenate([matrix(i, n) for i, n in pairs])
        y = np.concatenate([np.full(len(rows[(i, n)]), i == n) for i, n in pairs])
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
        model = LogisticRegression(max_iter=5000, class_weight="balanced").fit((x - mean) / std, y)
        score = lambda m: model.decision_function((m - mean) / std)  # noqa: E731
        cut = max(float(np.quantile(score(matrix(i, n)), FOREIGN_REJECTED)) for i, n in pairs if i != n)
        own = score(matrix(held, held))
        lost = np.mean([s < cut and r["hit"] for s, r in zip(own, rows[(held, held)])])
        rejected = {n: float(np.mean(score(matrix(held, n)) < cut)) for n in datasets if n != held}
        print(f"  index {held}: own lost {lost:.1%}; foreign rejected "
              + ", ".join(f"{k} {v:.1%}" for k, v in rejected.items()))


if __name__ == "__main__":
    main()
