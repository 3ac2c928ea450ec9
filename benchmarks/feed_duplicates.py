"""Measure the near-duplicate threshold of the feed poller (index/feeds/duplicates.py).

Positives: each article of a news set against a lightly edited copy, as the same wire story
runs on two sites: "said Tuesday" -> "said on Tuesday", a few words changed, a boilerplate
line added, the last paragraph dropped. Negatives: every pair of different articles of the
set, screened with LSH at a low threshold and then scored exactly. Prints the Jaccard
similarity of word 3-gram sets (what MinHash estimates) for both, and how each threshold
separates them. Docs: docs/feeds.md.

    .venv/bin/python benchmarks/feed_duplicates.py [--set ../shared/eval/news_dev] [--limit 600]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from datasketch import MinHashLSH

from newsqa.index.front_matter import split_front_matter
from newsqa.index.feeds.duplicates import NUM_PERM, shingles, signature

_WEEKDAY = re.compile(r"\b(said|announced|reported) (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_SWAPS = [("said", "told reporters"), ("about", "around"), ("more than", "over"), ("percent", "per cent"),
          ("according to", "per"), ("also", "as well"), ("but", "however,")]
BOILERPLATE = ["This story has been updated with additional information.",
               "Reporting by staff; editing by the news desk.", "Sign up for our daily newsletter."]


def light_edit(text: str, rng: random.Random) -> str:
    """A copy as another outlet runs the same wire story."""
    edited = _WEEKDAY.sub(r"\1 on \2", text)
    for old, new in rng.sample(_SWAPS, 3):
        edited = edited.replace(f" {old} ", f" {new} ", 1)
    paragraphs = [p for p in edited.split("\n\n") if p.strip()]
    if len(paragraphs) > 3:
        paragraphs = paragraphs[:-1]  # the tail cut to fit
    paragraphs.insert(rng.randrange(len(paragraphs) + 1), rng.choice(BOILERPLATE))
    return "\n\n".join(paragraphs)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/eval/news_dev")
    parser.add_argument("--limit", type=int, default=600, help="articles used (sorted by name)")
    args = parser.parse_args()
    rng = random.Random(16)
    bodies: dict[str, tuple[str, str]] = {}
    for path in sorted((args.set / "articles").glob("*.*"))[:args.limit]:
        meta, text = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
        if len(text.split()) >= 80:
            bodies[path.name] = (meta.get("title", path.stem), text)
    sets = {name: shingles(text) for name, (_, text) in bodies.items()}
    positives = sorted(jaccard(sets[name], shingles(light_edit(text, rng))) for name, (_, text) in bodies.items())
    lsh = MinHashLSH(threshold=0.2, num_perm=NUM_PERM)
    hashes = {name: signature(text) for name, (_, text) in bodies.items()}
    for name, minhash in hashes.items():
        lsh.insert(name, minhash)
    negatives: list[tuple[float, str, str]] = []
    for name, minhash in hashes.items():
        for other in lsh.query(minhash):
            if other > name:
                negatives.append((jaccard(sets[name], sets[other]), name, other))
    negatives.sort(reverse=True)
    pairs = len(bodies) * (len(bodies) - 1) // 2
    print(f"{len(bodies)} articles of {args.set.name} (>= 80 words), {pairs:,} pairs of different files")
    print(f"lightly edited copies: Jaccard min {positives[0]:.3f}, 5th pct {positives[len(positives) // 20]:.3f}, "
          f"median {positives[len(positives) // 2]:.3f}")
    identical = [pair for pair in negatives if pair[0] >= 0.99]
    negatives = [pair for pair in negatives if pair[0] < 0.99]
    # Identical bodies under two names (the same page scraped twice, or one scrape error page
    # for several URLs) are duplicates whatever the title says: left out of the negatives.
    print(f"different files, LSH candidates at 0.2: {len(identical)} pairs with identical bodies (left out), "
          f"{len(negatives)} others; top 10 of those by Jaccard:")
    for score, name, other in negatives[:10]:
        print(f"  {score:.3f}  {bodies[name][0][:50]!r} / {bodies[other][0][:50]!r}")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        missed = sum(1 for score in positives if score < threshold)
        merged = sum(1 for score, *_ in negatives if score >= threshold)
        print(f"threshold {threshold:.1f}: edited copies missed {missed}/{len(positives)}, "
              f"pairs of different files merged {merged}")


if __name__ == "__main__":
    main()
