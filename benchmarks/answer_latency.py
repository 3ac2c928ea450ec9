"""Per-question time of the whole answering pipeline, in one process (model loaded first).

Asks the first N questions of an eval set of its (cached, `newsqa eval`) index with
`QuestionAnswerer.ask(question, k)`, one at a time, and prints the mean per question for each
of several rounds; the first round starts with cold caches.

    .venv/bin/python benchmarks/answer_latency.py ../shared/eval/covidqa [--questions 200] [-k 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.retrieval import QuestionAnswerer
from tune_quality import open_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    dataset = open_dataset(app, args.dataset)
    answerer = QuestionAnswerer(dataset.reader, app.encoder)
    questions = [q.question for q in dataset.questions[:args.questions]]
    app.encoder.encode_queries(["warm up"])
    for number in range(args.rounds):
        began = time.perf_counter()
        for question in questions:
            answerer.ask(question, args.k)
        print(f"round {number + 1}: {(time.perf_counter() - began) / len(questions) * 1000:.2f} ms per question")


if __name__ == "__main__":
    main()
