"""What matching new articles against followed topics costs (issue 18).

Builds an index of `--base` news_dev articles, registers `--follows` follows spread over
`--users` users (topics drawn from the shared eval sets' questions, so many users share
some topics, as people do), then adds a batch of `--new` articles and times:

  match (cold)   the first batch after a start: every distinct topic embedded, then asked of
                 the new passages only (`TopicMatcher.match_new`)
  match (warm)   the next batch: the topics' vectors are kept, only asking remains
  push prep      per chat: allowlist, grouping, the once-only claim in SQLite and the HTML
                 message (what the bot does before each sendMessage; the network is not timed)

and the peak memory of Python allocations during matching (tracemalloc) and the process's
peak RSS. Usage:

    .venv/bin/python benchmarks/alerts.py [--base 300] [--new 100] [--follows 10000] [--users 100]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


def topics() -> list[str]:
    found: list[str] = []
    for path in sorted(EVAL.glob("*/questions.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    return list(dict.fromkeys(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=300, help="articles indexed before the batch")
    parser.add_argument("--new", type=int, default=100, help="articles in the new batch")
    parser.add_argument("--follows", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    args = parser.parse_args()

    from newsqa.bot.follows import FollowStore, TopicMatcher, group_alerts
    from newsqa.bot.telegram.formatting import alert_message
    from newsqa.index import IndexBuilder, IndexReader, load_encoder
    from newsqa.retrieval import QuestionAnswerer

    sources = sorted((EVAL / "news_dev" / "articles").glob("*.md"))
    if len(sources) < args.base + 2 * args.new:
        sys.exit(f"news_dev has {len(sources)} articles; need {args.base + 2 * args.new}")
    random.seed(18)
    random.shuffle(sources)
    questions = topics()
    encoder = load_encoder()
    encoder.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        articles, index = Path(tmp) / "articles", Path(tmp) / "index"
        articles.mkdir()
        for path in sources[:args.base]:
            shutil.copy(path, articles)
        builder = IndexBuilder(index, encoder)
        builder.update(articles)
        reader = IndexReader(index)
        store = FollowStore(Path(tmp) / "bot-state.sqlite")
        per_user = -(-args.follows // args.users)
        follows = 0
        for user in range(args.users):
            for topic in random.sample(questions, min(per_user, len(questions))):
                if follows < args.follows:
                    store.follow(user + 1, user + 1, topic[:200], max_topics=per_user, max_chars=200)
                    follows += 1
        distinct = len({f.topic.casefold() for f in store.all_follows()})
        matcher = TopicMatcher(QuestionAnswerer(reader, encoder), store)
        store.set_last_matched(reader.snapshot.last_chunk_id())
        rows = []
        for label, batch in (("cold", sources[args.base:args.base + args.new]),
                             ("warm", sources[args.base + args.new:args.base + 2 * args.new])):
            for path in batch:
                shutil.copy(path, articles)
            builder.update(articles)
            reader.refresh()
            tracemalloc.start()
            started = time.perf_counter()
            found = matcher.match_new(reader.snapshot)
            matched = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            started = time.perf_counter()
            messages = 0
            for chat_id, alerts in found.alerts.items():
                grouped = group_alerts(alerts)
                fresh = store.claim(chat_id, [a.article for a in grouped])
                grouped = [a for a in grouped if a.article in fresh]
                if grouped:
                    alert_message([(a.follow.topic, a.answer) for a in grouped]).html()
                    store.record_push(chat_id)
                    messages += 1
            prepared = time.perf_counter() - started
            store.set_last_matched(found.last_chunk_id)
            rows.append({"batch": label, "new_passages": found.passages, "distinct_topics": found.topics,
                         "match_seconds": round(matched, 2), "push_prep_seconds": round(prepared, 3),
                         "chats_alerted": messages,
                         "matches": sum(len(a) for a in found.alerts.values()),
                         "peak_traced_mb": round(peak / 2**20, 1)})
        stats = reader.snapshot.stats()
    print(json.dumps({"index_articles_before": args.base, "index_chunks_after": stats.chunks,
                      "follows": follows, "users": args.users, "distinct_topics": distinct,
                      "batches": rows,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}, indent=2))


if __name__ == "__main__":
    main()
