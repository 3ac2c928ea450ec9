"""When a question is asked: the as-of day, and how recent the news it asks about must be.

"this week", "today", "yesterday", "this month" name a span that ends on the as-of day;
"latest", "most recently", "currently", "recently", "now" ask for the newest news without a
span. Nothing published after the as-of day is ever searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from newsqa.index import PublishedWindow, iso_date

# Phrases that bound the news a question asks about, with the days they span back from
# the as-of day. A day of slack on each: a quiz published on Friday asks about Monday's news
# as "this week", and stories are often dated the day after the event.
_SPANS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(today|tonight|this morning|this afternoon|this evening)\b", re.I), 2),
    (re.compile(r"\byesterday\b", re.I), 3),
    (re.compile(r"\b(this|past|last) (week|weekend)\b|\bthis past (week|weekend)\b|\bthese days\b", re.I), 9),
    (re.compile(r"\b(this|past|last) month\b", re.I), 35),
)
# Phrases that ask for the newest news, with no span of their own.
_NEWEST = re.compile(r"\b(latest|most recent(ly)?|currently|current|recent(ly)?|now|newest|new)\b", re.I)


@dataclass(frozen=True)
class TimeFrame:
    """The as-of day of a question and, when it names one, the span of news it asks about."""

    as_of: date | None  # None: no bound (evaluation of undated sets)
    recent_days: int | None = None  # "this week": the last 9 days count as this week's news
    wants_newest: bool = False  # "latest", "currently": newer is likelier the answer
    since: date | None = None  # only articles published on or after this day

    @property
    def window(self) -> PublishedWindow | None:
        """What may be searched: nothing published after the as-of day (nor before `since`)."""
        if self.as_of is None and self.since is None:
            return None
        return PublishedWindow(since=self.since.isoformat() if self.since else None,
                               until=self.as_of.isoformat() if self.as_of else None)

    def recent(self, published: str | None) -> bool | None:
        """Whether an article of that day is inside the named span (None: undated or no span)."""
        day = iso_date(published)
        if day is None or self.recent_days is None or self.as_of is None:
            return None
        return date.fromisoformat(day) >= self.as_of - timedelta(days=self.recent_days)

    def age_days(self, published: str | None) -> int | None:
        """Days from publication to the as-of day (None: undated or no as-of)."""
        day = iso_date(published)
        if day is None or self.as_of is None:
            return None
        return max((self.as_of - date.fromisoformat(day)).days, 0)


def time_frame(question: str, as_of: date | None, since: date | None = None) -> TimeFrame:
    """The time frame `question` sets, asked as of `as_of` (about news since `since`)."""
    days = next((span for pattern, span in _SPANS if pattern.search(question)), None)
    return TimeFrame(as_of, days, days is not None or bool(_NEWEST.search(question)), since)
