"""Sustained load on the Telegram bot: many users, a steady stream of questions, then a soak.

The real `newsqa bot` runs as its own process (real model, real FAISS, real HTTP) against the
fake Bot API server from tests/fake_telegram.py on 127.0.0.1, with the per-user question limit
off (NEWSQA_QUESTIONS_PER_MINUTE=0). Phase 1: `--users` users send `--questions` questions spread
evenly over `--seconds` seconds; every one must be answered; reply latency (question sent to the
answer arriving at the server) is reported as p50/p95/max. Phase 2: more questions, each from a
new user, up to `--soak` in all, `--window` at a time, as fast as the bot answers; the bot's RSS
is sampled every 1,000 questions to show whether memory grows beyond the stated cache bounds.
Run:

    .venv/bin/python benchmarks/bot_load.py [--users 100] [--questions 1000] [--seconds 60] [--soak 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_telegram import TOKEN, FakeTelegram  # noqa: E402

QUESTIONS = ["who led the Chinese delegation?", "when is Victory Day?",
             "who leads the Russian military delegation?", "which countries are sending officials to North Korea?",
             "what anniversary is being marked?", "who is Li Hongzhong?", "what did China confirm on Tuesday?",
             "when will the delegation arrive?", "is this the first visit since the pandemic?",
             "what is the recipe for banana bread?"]


class TimedTelegram(FakeTelegram):
    """The fake server, noting when each message reaches each chat."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.cards = 0
        self.failed_replies = 0

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        result = await super()._api_sendmessage(params)
        self.arrivals[result["chat"]["id"]].append(time.monotonic())
        markup = result.get("reply_markup") or {}
        if any(b.get("text") == "Context" for row in markup.get("inline_keyboard", []) for b in row):
            self.cards += 1
        if "went wrong" in result["text"]:
            self.failed_replies += 1
        return result


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="newsqa-load-"))
    async with TimedTelegram() as server:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url,
               "NEWSQA_ARTICLES_DIR": str(ROOT / "seeds"), "NEWSQA_INDEX_DIR": str(work / "index"),
               "NEWSQA_BOT_STATE_FILE": str(work / "state.sqlite"), "NEWSQA_QUESTIONS_PER_MINUTE": "0"}
        log = open(work / "bot.log", "wb")
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "newsqa.bot", "bot", cwd=work, env=env,
                                                   stdout=log, stderr=log)
        try:
            await server.wait_for(lambda: server.called("getUpdates"), timeout=600)
            warm = server.user(1)
            server.say(warm, QUESTIONS[0])
            await server.wait_for(lambda: server.arrivals[1], timeout=120)
            rss = [(0, rss_mb(bot.pid))]

            # Phase 1: a steady stream from a fixed set of users.
            users = [server.user(100_000 + n, f"U{n}") for n in range(args.users)]
            sent: dict[int, list[float]] = defaultdict(list)
            start = time.monotonic()
            base = len(server.sent)
            for i in range(args.questions):
                delay = start + i * args.seconds / args.questions - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                user = users[i % args.users]
                sent[user["id"]].append(time.monotonic())
                server.say(user, QUESTIONS[(i // args.users + i) % len(QUESTIONS)])
            await server.wait_for(lambda: len(server.sent) - base >= args.questions, timeout=600)
            phase1 = time.monotonic() - start
            latencies = [arrived - asked for user_id, asked_times in sent.items()
                         for asked, arrived in zip(asked_times, server.arrivals[user_id])]
            answered = sum(len(server.arrivals[u["id"]]) for u in users)
            rss.append((args.questions, rss_mb(bot.pid)))

            # Phase 2: soak, each question from a new user (new chat, new limiter entry).
            done = args.questions
            soak_start = time.monotonic()
            while done < args.soak:
                batch = min(args.window, args.soak - done)
                base = len(server.sent)
                for n in range(batch):
                    server.say(server.user(10_000_000 + done + n, "S"), QUESTIONS[(done + n) % len(QUESTIONS)])
                await server.wait_for(lambda: len(server.sent) - base >= batch, timeout=600)
                done += batch
                if done % 1000 == 0 or done == args.soak:
                    rss.append((done, rss_mb(bot.pid)))
            soak = time.monotonic() - soak_start
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(bot.wait(), 60)
                except asyncio.TimeoutError:
                    bot.kill()
            log.close()

    quantiles = statistics.quantiles(latencies, n=100)
    print(f"phase 1: {args.users} users, {args.questions} questions over {args.seconds:g} s "
          f"(took {phase1:.1f} s): {answered}/{args.questions} answered")
    print(f"  reply latency p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")
    print(f"phase 2: {args.soak - args.questions} more questions from new users, {args.window} at a time: "
          f"{soak:.1f} s ({(args.soak - args.questions) / soak:.1f} questions/s)")
    print(f"answer cards {server.cards}, 'something went wrong' replies {server.failed_replies}, "
          f"bot errors logged {(work / 'bot.log').read_text(errors='replace').count(' ERROR ')}")
    print("bot RSS (MB) after N questions: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in rss))
    state = work / "state.sqlite"
    print(f"question store: {state.stat().st_size / 1e6:.1f} MB on disk (bounded at 100,000 rows)")
    print(f"logs and state in {work}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--soak", type=int, default=10_000, help="questions in all, phase 1 included")
    parser.add_argument("--window", type=int, default=100, help="soak questions in flight at once")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
