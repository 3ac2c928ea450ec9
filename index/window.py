"""The published-date window a search can be limited to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedWindow:
    """Articles published from `since` to `until` (ISO dates, inclusive; None is open).
    Undated articles always pass: a missing date is no evidence of being outside."""

    since: str | None = None
    until: str | None = None

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None
