"""How much a reindex costs when nothing (or little) changed, next to the first build.

Runs `newsqa index` as a user does (a fresh process each time, model loading included) on a
generated corpus, in one run:

  first build       every article embedded (the reference)
  no-op             nothing changed: no file is read, no model is loaded
  touched           every file's mtime changed, content the same: all read and hashed, none embedded
  one new article   one article added: the model loads and embeds one article

and prints wall times and their ratio to the first build. Usage:

    .venv/bin/python benchmarks/reindex_noop.py [--articles 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_corpus(folder: Path, count: int) -> None:
    """`count` distinct articles made from the seed's paragraphs, rotated and retitled."""
    seed = next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")
    paragraphs = [p for p in seed.split("\n\n") if p.strip()]
    folder.mkdir(parents=True)
    for n in range(count):
        k = n % len(paragraphs)
        body = paragraphs[k:] + paragraphs[:k]
        (folder / f"article-{n:04d}.txt").write_text(
            f"Benchmark edition {n} of the regional news digest\n\n" + "\n\n".join(body), encoding="utf-8")


def run_index(env: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "newsqa.bot", "index", "--json"], env=env,
                            capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each cheap case (median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        articles, index = Path(tmp) / "articles", Path(tmp) / "index"
        make_corpus(articles, args.articles)
        env = {**os.environ, "NEWSQA_ARTICLES_DIR": str(articles), "NEWSQA_INDEX_DIR": str(index)}
        first, report = run_index(env)
        rows = [("first build", first, report)]

        def median_of(prepare=None) -> tuple[float, dict]:
            runs = []
            for _ in range(args.repeat):
                if prepare:
                    prepare()
                runs.append(run_index(env))
            return statistics.median(t for t, _ in runs), runs[-1][1]

        rows.append(("no-op", *median_of()))

        def touch_all() -> None:
            now = time.time()
            for path in articles.iterdir():
                os.utime(path, (now, now + 1))
            time.sleep(0.01)

        rows.append(("touched (same content)", *median_of(touch_all)))
        (articles / "zz-new.txt").write_text(
            "A brand new article arrives\n\nThe harbour authority announced a new ferry timetable today.")
        rows.append(("one new article", *run_index(env)))

    print(f"{args.articles} articles, {rows[0][2]['chunks_added']} chunks; `newsqa index` wall time, "
          f"fresh process each run")
    print(f"{'case':<24}{'seconds':>9}{'vs first':>10}  report")
    for name, seconds, report in rows:
        print(f"{name:<24}{seconds:>9.2f}{seconds / first:>10.3f}  added {len(report['added'])}, "
              f"unchanged {report['unchanged']}, chunks {report['chunks_added']}")


if __name__ == "__main__":
    main()
