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

import numpy as np

from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.config import MIN_RELEVANCE
from newsqa.retrieval.evaluation import TOP_K, answer_in
from notfound_transfer import open_sets, transfer
from tune_quality import CachedEncoder, Dataset

TITLE_SIGNALS = ("title_cos", "title_cos_max")
GATES = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3)


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
    app, datasets, encoder = open_sets(__doc__.splitlines()[0])
    titles = TitleVectors(app.encoder)
    rows = {index: {name: signals(datasets[index], datasets[name], encoder, titles) for name in datasets}
            for index in datasets}
    print("| index | questions | relevance | title_cos | title_cos_max |\n|---|---|---|---|---|")
    for index in rows:
        for name, part in rows[index].items():
            means = [np.mean([r[k] for r in part]) for k in ("relevance", *TITLE_SIGNALS)]
            print(f"| {index} | {name} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    for signal in TITLE_SIGNALS:
        print(f"\nrelevance >= {MIN_RELEVANCE} and {signal} >= c: per index, own answerable lost (answer in the "
              "top 5) / each foreign set rejected")
        for gate in GATES:
            cells = []
            for index in rows:
                def fails(r: dict) -> bool:
                    return r["relevance"] < MIN_RELEVANCE or r[signal] < gate
                lost = np.mean([fails(r) and r["hit"] for r in rows[index][index]])
                rejected = [np.mean([fails(r) for r in rows[index][name]]) for name in rows if name != index]
                cells.append(f"{index} {lost:.1%} / " + " / ".join(f"{v:.1%}" for v in rejected))
            print(f"  c = {gate}: " + "; ".join(cells))
    print("\nlogistic regression over relevance and title_cos, as notfound_transfer.py fits its rules:")
    transfer(rows, ("relevance", "title_cos"))


if __name__ == "__main__":
    main()
