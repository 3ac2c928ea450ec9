"""Following news feeds, the application layer's part both faces call: add, remove, list,
OPML, and poll-then-index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsqa.index import ArticleFetcher, ArticleReader, FeedError, IndexReport
from newsqa.index.feeds import (
    FeedFinder,
    FeedPoller,
    FeedRecord,
    FeedRegistry,
    OpmlFeed,
    PollReport,
    read_opml,
    write_opml,
)

from .app import NewsqaApp
from .settings import Settings


@dataclass(frozen=True)
class FollowResult:
    """A feed now followed; `new` is False when it was followed already."""

    feed: FeedRecord
    new: bool


@dataclass(frozen=True)
class FeedsPolled:
    """One poll of every feed and, when it brought or removed articles, the reindex after it."""

    poll: PollReport
    index: IndexReport | None


class FeedService:
    """The followed feeds of one newsqa installation (settings: where, how politely)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = FeedRegistry(settings.feeds_path)

    def follow(self, url: str, *, from_chat: bool = False) -> FollowResult:
        """Check that `url` is a feed (or a page linking one) and follow the feed.

        A chat user's URL follows the chat fetch rules, now and at every later poll.

        Raises:
            NotAFeed: neither a feed nor a page that links one.
            FetchError: the URL cannot be fetched (ForbiddenAddress for a private one from a chat).
        """
        fetcher = ArticleFetcher(max_bytes=self.settings.max_article_bytes, timeout=self.settings.fetch_timeout,
                                 allow_private=not from_chat or self.settings.fetch_allow_private)
        found = FeedFinder(fetcher).find(url.strip())
        record, new = self.registry.add(found.url, found.title, from_chat=from_chat)
        return FollowResult(record, new)

    def unfollow(self, url: str) -> FeedRecord:
        """Raises: FeedNotFound."""
        return self.registry.remove(url.strip())

    def feeds(self) -> list[FeedRecord]:
        return self.registry.feeds()

    def import_opml(self, path: Path) -> list[FollowResult]:
        """Follow every feed an OPML file lists (checked at the next poll, not now: a reader's
        export can hold hundreds).

        Raises:
            FeedError: the file cannot be read or is not OPML.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise FeedError(f"{path}: cannot read: {error.strerror or error}") from None
        results = []
        for feed in read_opml(data):
            record, new = self.registry.add(feed.url, feed.title)
            results.append(FollowResult(record, new))
        return results

    def export_opml(self) -> str:
        return write_opml([OpmlFeed(feed.url, feed.title) for feed in self.feeds()])

    def poller(self) -> FeedPoller:
        settings = self.settings
        return FeedPoller(self.registry, settings.articles_dir,
                          reader=ArticleReader(max_bytes=settings.max_article_bytes),
                          max_bytes=settings.max_article_bytes, timeout=settings.fetch_timeout,
                          respect_robots=settings.respect_robots, chat_allow_private=settings.fetch_allow_private,
                          retention_days=settings.feed_retention_days)

    def poll(self) -> PollReport:
        """Poll every feed once and save the new entries (not indexed yet)."""
        return self.poller().poll()


def poll_and_index(app: NewsqaApp,
                   index: Callable[[], IndexReport] | None = None) -> FeedsPolled:
    """Poll every feed, then bring the index up to date when articles came or went.

    `index` replaces the plain `app.build_index()` (the CLI passes its progress bar).
    """
    report = FeedService(app.settings).poll()
    changed = report.added or report.removed
    return FeedsPolled(report, (index or app.build_index)() if changed else None)
