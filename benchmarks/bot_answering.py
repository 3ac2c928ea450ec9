"""How the bot answers many users at once: batched (its BatchedAnswerer) versus one at a time.

Thirty questions arrive together, as in the bot's concurrency test. "one at a time" sends them
through the same worker with max_batch=1 (one model pass per question); "batched" lets the worker
take every waiting question into one pass. Both use the real model and a fresh index of the
seeds, in one run. Run:

    .venv/bin/python benchmarks/bot_answering.py [--users 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from newsqa.bot.telegram.batching import BatchedAnswerer
from newsqa.index import IndexBuilder, IndexReader, load_encoder
from newsqa.retrieval import QuestionAnswerer

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
QUESTIONS = ["who led the Chinese delegation?", "when is Victory Day?",
             "who leads the Russian military delegation?"]


async def answer_all(answerer: QuestionAnswerer, users: int, max_batch: int) -> float:
    batched = BatchedAnswerer(answerer, k=5, max_batch=max_batch)
    await batched.start()
    try:
        started = time.perf_counter()
        results = await asyncio.gather(*(batched.ask(QUESTIONS[n % 3]) for n in range(users)))
        elapsed = time.perf_counter() - started
    finally:
        await batched.stop()
    assert all(result.found for result in results)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    encoder = load_encoder()
    encoder.warm_up()
    with tempfile.TemporaryDirectory() as directory:
        IndexBuilder(Path(directory), encoder).update(SEEDS)
        answerer = QuestionAnswerer(IndexReader(Path(directory)), encoder)
        answerer.ask(QUESTIONS[0])  # warm up
        single, batched = [], []
        for _ in range(args.rounds):
            single.append(asyncio.run(answer_all(answerer, args.users, max_batch=1)))
            batched.append(asyncio.run(answer_all(answerer, args.users, max_batch=32)))
    one, many = statistics.median(single), statistics.median(batched)
    print(f"{args.users} questions at once, median of {args.rounds} rounds:")
    print(f"  one at a time: {one:.2f} s ({one / args.users * 1000:.0f} ms per question)")
    print(f"  batched:       {many:.2f} s ({many / args.users * 1000:.0f} ms per question)")
    print(f"  batched / one at a time: {many / one:.2f}")


if __name__ == "__main__":
    main()
