"""Per-question time of the whole answering pipeline, in one process (model loaded first).

Asks the first N questions of an eval set of its (cached, `newsqa eval`) index with
`QuestionAnswerer.ask(question, k)`, one at a time, and prints the mean per question for each
of several rounds, and the first question's time; the first round starts with cold caches.
`--as-of today` asks as the bot does (as of the day the message comes), `--as-of own` as of each
question's own day where the set has one (as `newsqa eval` does); the default, none, sets no bound.

    .venv/bin/python benchmarks/answer_latency.py ../shared/eval/covidqa [--questions 200] [-k 5] [--rounds 3]
        [--as-of none|today|own]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
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
    parser.add_argument("--as-of", choices=("none", "today", "own"), default="none")
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    dataset = open_dataset(app, args.dataset)
    answerer = QuestionAnswerer(dataset.reader, app.encoder)
    questions = dataset.questions[:args.questions]
    days = {"none": lambda q: None, "today": lambda q: date.today(), "own": lambda q: q.as_of}[args.as_of]
    app.encoder.encode_queries(["warm up"])
    for number in range(args.rounds):
        times = []
        for question in questions:
            began = time.perf_counter()
            answerer.ask(question.question, args.k, as_of=days(question))
            times.append(time.perf_counter() - began)
        print(f"round {number + 1}: {sum(times) / len(times) * 1000:.2f} ms per question, "
              f"the first {times[0] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
