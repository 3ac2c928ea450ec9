"""Could an undated news article be dated from its own text? (nineteenth session: no)

For each article of a dated set (front matter `published`), the latest full date its body
writes out ("March 2, 2023", "Feb. 28, 2023") is compared with its publication date: how many
articles write one out at all, and for how many it falls within a week before publication
(what a recency prior or an as-of cut would need). docs/quality-log.md, "Nineteenth session".

    .venv/bin/python benchmarks/body_dates.py ../shared/eval/news_dev
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from dateutil import parser as date_parser

from newsqa.index import iso_date
from newsqa.index.front_matter import split_front_matter

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
# A day written out in full, year included: "March 2, 2023".
_FULL_DATE = re.compile(_MONTH + r"\s+\d{1,2},\s+(?:19|20)\d\d")


def latest_written_date(body: str) -> date | None:
    """The latest full date written out in `body` (None: it writes none)."""
    days = []
    for match in _FULL_DATE.finditer(body):
        try:
            days.append(date_parser.parse(match.group().replace("Sept", "Sep")).date())
        except (ValueError, OverflowError):
            continue
    return max(days, default=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    args = parser.parse_args()
    dated = written = week = month = later = 0
    for path in sorted((args.dataset / "articles").glob("*.md")):
        fields, body = split_front_matter(path.read_text(encoding="utf-8"))
        published = iso_date(fields.get("published"))
        if published is None:
            continue
        dated += 1
        latest = latest_written_date(body)
        if latest is None:
            continue
        written += 1
        gap = (date.fromisoformat(published) - latest).days
        week += 0 <= gap <= 7
        month += abs(gap) <= 30
        later += gap < 0
    print(f"{dated} dated articles; {written} write out a full date; the latest of those is within the week "
          f"before publication for {week}, within 30 days either way for {month}, after publication for {later}")


if __name__ == "__main__":
    main()
