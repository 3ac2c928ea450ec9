"""Does the first answer depend on how many answers are asked for?

Each question of each eval set named is asked (as of its `as_of`) for 1, 3 and 5 answers,
by the shipped answerer and by one that examines only the passages of the answers asked for
(`min_answers_examined=1`, as newsqa did before `MIN_ANSWERS_EXAMINED`). Printed per set and k:
quote_hit@1 and the share answered "not found". The eval sets' indexes are built (or reused)
where `newsqa eval` keeps them.

    .venv/bin/python benchmarks/answers_by_k.py ../shared/eval/news_dev ../shared/eval/xquad_en \
        ../shared/eval/covidqa
"""

from __future__ import annotations

import argparse
from pathlib import Path

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.evaluation import answer_in
from tune_quality import CachedEncoder, open_dataset

ANSWERS_ASKED = (1, 3, 5)
BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    print("| set | passages examined | k | quote_hit@1 | not found |\n|---|---|---|---|---|")
    for directory in args.datasets:
        dataset = open_dataset(app, directory)
        questions = dataset.questions
        texts = [clean_question(q.question) for q in questions]
        encoder = CachedEncoder(app.encoder, texts)
        for floor, label in ((1, "for the k asked"), (None, "shipped")):
            options = {} if floor is None else {"min_answers_examined": floor}
            answerer = QuestionAnswerer(dataset.reader, encoder, **options)
            for k in ANSWERS_ASKED:
                results = [result for start in range(0, len(texts), BATCH)
                           for result in answerer.ask_many(texts[start:start + BATCH], k,
                                                           as_of=[q.as_of for q in questions[start:start + BATCH]])]
                hits = sum(bool(r.answers) and answer_in(q.answers, r.answers[0].quote)
                           for q, r in zip(questions, results))
                missing = sum(not r.found for r in results)
                print(f"| {dataset.name} | {label} | {k} | {hits / len(questions):.3f} ({hits}) "
                      f"| {100 * missing / len(questions):.1f}% |", flush=True)


if __name__ == "__main__":
    main()
