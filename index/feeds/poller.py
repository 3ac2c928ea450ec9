"""Polling the followed feeds once: new entries in, each story once, bad feeds reported.

Politeness: a conditional GET per feed (an unchanged feed costs one 304), links already
handled are never fetched again, a failing feed backs off exponentially, requests go one
at a time (so never two at once to a host), robots.txt is honoured for article pages and
every request names newsqa in its User-Agent (the fetcher's).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..articles import ArticleReader
from ..errors import ArticleError, FeedError, NotAFeed
from ..fetch import ArticleFetcher, FetchError
from ..inbox import ArticleInbox
from ..origin import ArticleOrigin
from .duplicates import DEFAULT_THRESHOLD, NearDuplicateFinder, signature, signature_bytes
from .entry_article import EntrySkipped, EntryTextFetcher, article_location, render_markdown
from .parsing import FEED_MEDIA_TYPES, parse_feed
from .registry import FeedRecord, FeedRegistry
from .robots import RobotsRules

log = logging.getLogger(__name__)

# New entries handled per feed and poll; the rest wait for the next poll (a huge feed cannot
# hold the others up).
MAX_ENTRIES_PER_POLL = 30
# Back-off after the n-th failure in a row: BASE * 2**(n-1), at most MAX.
BACKOFF_BASE_SECONDS = 300.0
BACKOFF_MAX_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class AddedEntry:
    title: str
    url: str
    path: str
    published: str | None
    text_from: str  # "page", or "feed" when the entry's own text stood in for the page
    note: str | None = None


@dataclass(frozen=True)
class SkippedEntry:
    title: str | None
    url: str | None
    reason: str


@dataclass(frozen=True)
class DuplicateEntry:
    title: str | None
    url: str
    duplicate_of: str


@dataclass
class FeedPollResult:
    """What one feed gave in one poll. `status`: ok, not-modified, failed, backoff."""

    url: str
    title: str | None
    status: str
    error: str | None = None
    added: list[AddedEntry] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)
    duplicates: list[DuplicateEntry] = field(default_factory=list)
    backoff_until: float | None = None

    @property
    def failed(self) -> bool:
        return self.status in {"failed", "backoff"}


@dataclass
class PollReport:
    """Every feed's result, and the feed articles retention removed."""

    feeds: list[FeedPollResult] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(len(feed.added) for feed in self.feeds)

    @property
    def failed(self) -> list[FeedPollResult]:
        return [feed for feed in self.feeds if feed.failed]

    def summary(self) -> str:
        skipped = sum(len(f.skipped) for f in self.feeds)
        duplicates = sum(len(f.duplicates) for f in self.feeds)
        text = (f"{_count(len(self.feeds), 'feed')} polled: {_count(self.added, 'new article')}, "
                f"{_count(duplicates, 'duplicate')}, {skipped} skipped, {_count(len(self.failed), 'feed')} failed")
        return text + (f", {_count(len(self.removed), 'old article')} removed" if self.removed else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def backoff_seconds(failures: int) -> float:
    """How long to leave a feed alone after its `failures`-th failure in a row."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(0, failures - 1), BACKOFF_MAX_SECONDS)


class FeedPoller:
    """Polls the feeds of a registry into an articles folder (indexing is the caller's next step).

    Feeds added from a chat are fetched (feed, robots.txt, every entry's page) with private
    addresses refused unless `chat_allow_private`; the operator's own feeds may use any address.
    """

    def __init__(self, registry: FeedRegistry, articles_dir: Path, *, reader: ArticleReader | None = None,
                 max_bytes: int = 5_000_000, timeout: float = 20.0, respect_robots: bool = True,
                 chat_allow_private: bool = False, retention_days: int | None = None,
                 max_entries: int = MAX_ENTRIES_PER_POLL, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.registry = registry
        self.articles_dir = Path(articles_dir)
        self.inbox = ArticleInbox(self.articles_dir, reader or ArticleReader(max_bytes=max_bytes))
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.respect_robots = respect_robots
        self.chat_allow_private = chat_allow_private
        self.retention_days = retention_days
        self.max_entries = max_entries
        self.threshold = threshold

    def fetcher_for(self, from_chat: bool) -> ArticleFetcher:
        """The guarded fetcher for a feed: chat-originated ones follow the chat fetch rules."""
        return ArticleFetcher(max_bytes=self.max_bytes, timeout=self.timeout,
                              allow_private=not from_chat or self.chat_allow_private)

    def poll(self, now: float | None = None) -> PollReport:
        """Poll every feed once (those backing off are reported, not fetched), then apply retention.

        Raises:
            FeedError: the feed list itself cannot be read, or another poll is running.
        """
        with self.registry.polling():
            return self._poll_all(time.time() if now is None else now)

    def _poll_all(self, now: float) -> PollReport:
        duplicates = NearDuplicateFinder(self.threshold)
        duplicates.load((entry.link, entry.signature) for entry in self.registry.saved_entries()
                        if entry.signature)
        robots: dict[bool, RobotsRules] = {}
        report = PollReport()
        for feed in self.registry.feeds():
            if feed.backoff_until and feed.backoff_until > now:
                report.feeds.append(FeedPollResult(
                    feed.url, feed.title, "backoff", error=f"backing off after {feed.failures} failures "
                    f"(last: {feed.error})", backoff_until=feed.backoff_until))
                continue
            if self.respect_robots and feed.from_chat not in robots:
                robots[feed.from_chat] = RobotsRules(self.fetcher_for(feed.from_chat))
            try:
                report.feeds.append(self._poll_feed(feed, duplicates, robots.get(feed.from_chat)))
            except FeedError:
                raise  # the feed list itself: no other feed can be polled either
            except Exception as error:  # noqa: BLE001 - a parser's bug on one feed must not stop the rest
                log.exception("polling %s failed", feed.url)
                message = f"{feed.url}: unexpected {type(error).__name__}: {error}"
                self.registry.record_poll(feed.url, status="failed", error=message,
                                          backoff_seconds=backoff_seconds(feed.failures + 1))
                report.feeds.append(FeedPollResult(feed.url, feed.title, "failed", error=message))
        report.removed = self.apply_retention(now)
        return report

    def _poll_feed(self, feed: FeedRecord, duplicates: NearDuplicateFinder,
                   robots: RobotsRules | None) -> FeedPollResult:
        fetcher = self.fetcher_for(feed.from_chat)
        headers = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        try:
            page = fetcher.fetch(feed.url, media_types=FEED_MEDIA_TYPES, headers=headers)
            if page.not_modified:
                self.registry.record_poll(feed.url, status="not-modified", keep_validators=True)
                return FeedPollResult(feed.url, feed.title, "not-modified")
            parsed = parse_feed(page.body, feed.url)
        except (FetchError, NotAFeed) as error:
            wait = backoff_seconds(feed.failures + 1)
            self.registry.record_poll(feed.url, status="failed", error=str(error), backoff_seconds=wait)
            return FeedPollResult(feed.url, feed.title, "failed", error=str(error), backoff_until=time.time() + wait)
        result = FeedPollResult(feed.url, parsed.title or feed.title, "ok")
        texts = EntryTextFetcher(fetcher, robots)
        linked = [entry for entry in parsed.entries if entry.link]
        for entry in parsed.entries:
            if not entry.link:
                result.skipped.append(SkippedEntry(entry.title, None, "the entry has no link"))
        known = self.registry.known_links([entry.link for entry in linked])
        fresh = [entry for entry in dict((e.link, e) for e in linked).values() if entry.link not in known]
        for entry in fresh[self.max_entries:]:
            result.skipped.append(SkippedEntry(entry.title, entry.link, f"over the cap of {self.max_entries} "
                                                                        f"new entries per poll; left for the next"))
        for entry in fresh[:self.max_entries]:
            try:
                text = texts.text(entry)
            except EntrySkipped as skipped:
                result.skipped.append(SkippedEntry(entry.title, entry.link, str(skipped)))
                self.registry.record_entry(entry.link, feed.url, "skipped", title=entry.title, note=str(skipped))
                continue
            minhash = signature(text.text)
            first = duplicates.match(minhash)
            if first is not None:
                result.duplicates.append(DuplicateEntry(text.title, entry.link, first))
                self.registry.record_entry(entry.link, feed.url, "duplicate", title=text.title, note=first)
                continue
            folder, stem = article_location(entry.link, text.title)
            markdown = render_markdown(text, url=entry.link, feed_url=feed.url, author=entry.author)
            try:
                saved = self.inbox.save_markdown(folder, stem, markdown, entry.link)
            except ArticleError as error:
                result.skipped.append(SkippedEntry(entry.title, entry.link, str(error)))
                self.registry.record_entry(entry.link, feed.url, "skipped", title=entry.title, note=str(error))
                continue
            path = saved.path.relative_to(self.articles_dir.resolve()).as_posix()
            duplicates.add(entry.link, minhash)
            self.registry.record_entry(entry.link, feed.url, "saved", path=path, title=saved.title,
                                       published=text.published, signature=signature_bytes(minhash))
            result.added.append(AddedEntry(saved.title, entry.link, path, text.published, text.source,
                                           text.page_note))
        # Validators only now, and only when every new entry was handled: a poll cut short (or
        # capped) must not turn the next one into a 304 that hides the entries left over.
        complete = len(fresh) <= self.max_entries
        self.registry.record_poll(feed.url, status="ok", title=parsed.title,
                                  etag=page.etag if complete else None,
                                  last_modified=page.last_modified if complete else None)
        return result

    def apply_retention(self, now: float | None = None) -> list[str]:
        """Remove feed articles published (or, undated, saved) more than `retention_days` ago;
        their links stay known, so they are not fetched again. Returns the removed paths."""
        if self.retention_days is None:
            return []
        now = time.time() if now is None else now
        cutoff = date.fromtimestamp(now) - timedelta(days=self.retention_days)
        removed: list[str] = []
        root = self.articles_dir.resolve()
        for entry in self.registry.saved_entries():
            day = _parse_day(entry.published) or date.fromtimestamp(entry.saved_at)
            if day >= cutoff:
                continue
            path = (root / entry.path).resolve()
            if path.is_relative_to(root / "feeds"):  # never anything outside the feeds' folder
                path.unlink(missing_ok=True)  # the article before its sidecar, the reverse of saving
                ArticleOrigin.sidecar(path).unlink(missing_ok=True)
            self.registry.mark_removed(entry.link)
            removed.append(entry.path)
        return removed


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None

