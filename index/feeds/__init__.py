"""Following news feeds: RSS 2.0, RSS 1.0 and Atom entries saved as dated Markdown articles."""

from .discovery import FeedFinder, FoundFeed, feed_links
from .duplicates import NearDuplicateFinder, shingles
from .entry_article import EntrySkipped, EntryText, EntryTextFetcher, render_markdown
from .opml import OpmlFeed, read_opml, write_opml
from .parsing import FEED_MEDIA_TYPES, FeedEntry, ParsedFeed, parse_feed
from .poller import (
    AddedEntry,
    DuplicateEntry,
    FeedPoller,
    FeedPollResult,
    PollReport,
    SkippedEntry,
    backoff_seconds,
)
from .registry import FeedRecord, FeedRegistry, SavedEntry
from .robots import RobotsRules

__all__ = [
    "FEED_MEDIA_TYPES", "AddedEntry", "DuplicateEntry", "EntrySkipped", "EntryText", "EntryTextFetcher",
    "FeedEntry", "FeedFinder", "FeedPollResult", "FeedPoller", "FeedRecord", "FeedRegistry", "FoundFeed",
    "NearDuplicateFinder", "OpmlFeed", "ParsedFeed", "PollReport", "RobotsRules", "SavedEntry",
    "SkippedEntry", "backoff_seconds", "feed_links", "parse_feed", "read_opml", "render_markdown",
    "shingles", "write_opml",
]
