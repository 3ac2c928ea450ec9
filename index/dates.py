"""Publication dates: one form (ISO `YYYY-MM-DD`) everywhere, and the window a search keeps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as date_parser

_ISO_DAY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
# Dates outside this range are typos or placeholders ("0001-01-01"), not publication days.
_FIRST_YEAR, _LAST_YEAR = 1800, 2200


def iso_date(value: object) -> str | None:
    """`value` (a date, datetime, ISO or RFC 2822 string, "March 4, 2024", ...) as
    `YYYY-MM-DD`, or None when it is not a recognisable calendar day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = str(value).strip().strip("'\"").strip()
        if not text:
            return None
        if _ISO_DAY.match(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                return None
        else:
            day = _parse_text(text)
            if day is None:
                return None
    return day.isoformat() if _FIRST_YEAR <= day.year <= _LAST_YEAR else None


def _parse_text(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()  # RFC 2822, as feeds and HTTP write dates
    except (TypeError, ValueError, IndexError):
        pass
    if not re.search(r"\d{4}", text):  # "March 4" alone would take this year: not a date we know
        return None
    try:
        return date_parser.parse(text, fuzzy=False, default=datetime(1900, 1, 1)).date()
    except (ValueError, OverflowError, TypeError):
        return None


def is_date_or_time(text: str) -> bool:
    """Whether `text` is only a day and/or a time of day ("April 8", "11:39 p.m. ET",
    "3:45 PM EST, Tue March 7, 2023"), time zones aside."""
    try:
        date_parser.parse(text, fuzzy=False, ignoretz=True, default=datetime(1900, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class PublishedWindow:
    """Articles published from `since` to `until` (ISO days, both inclusive; None: open).

    Undated articles are always inside: a date nobody knows never hides an article.
    """

    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        for day in (self.since, self.until):
            if day is not None and not _ISO_DAY.match(day):
                raise ValueError(f"not an ISO day (YYYY-MM-DD): {day!r}")

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None

    def holds(self, published: str | None) -> bool:
        """True when an article published on `published` is inside the window."""
        day = iso_date(published)
        if day is None:
            return True
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)
