"""An undated copy of a dated eval set: how much of its quality comes from the dates?

Writes OUT/articles/<doc_id>.txt (the title on the first line, a blank line, the body: the
layout of xquad_en and covidqa, so nothing is published on any day) and OUT/questions.jsonl
without `as_of` (each asked as of today). Then `newsqa eval OUT` scores it as the original.

    .venv/bin/python benchmarks/undated_copy.py ../shared/eval/news_dev /tmp/news_undated
    .venv/bin/newsqa eval /tmp/news_undated
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from newsqa.index.front_matter import split_front_matter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    articles = args.out / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for path in sorted((args.dataset / "articles").glob("*.md")):
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        title = str(meta.get("title") or path.stem)
        (articles / f"{path.stem}.txt").write_text(f"{title}\n\n{body.lstrip()}", encoding="utf-8")
    with (args.dataset / "questions.jsonl").open(encoding="utf-8") as source, \
            (args.out / "questions.jsonl").open("w", encoding="utf-8") as target:
        for line in source:
            if line.strip():
                question = json.loads(line)
                question.pop("as_of", None)
                target.write(json.dumps(question) + "\n")


if __name__ == "__main__":
    main()
