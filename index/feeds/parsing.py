"""Reading RSS 2.0, RSS 1.0 and Atom documents with feedparser into plain dataclasses."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

from ..dates import iso_date
from ..errors import NotAFeed

# Media types a feed may be served as (servers are careless: text/html and text/plain too).
FEED_MEDIA_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "application/feed+json", "text/html", "application/xhtml+xml", "text/plain",
)
# Tags that end a paragraph when an entry's own HTML content is turned into text.
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                         "tr", "section", "article", "pre", "figcaption", "ul", "ol", "table"})
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: its link, headline and date, and whatever text the feed carries."""

    link: str | None
    title: str | None
    published: str | None  # YYYY-MM-DD
    author: str | None
    entry_id: str | None
    paragraphs: list[str] = field(default_factory=list)  # full content, else the summary


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document: its kind (`rss20`, `rss10`, `atom10`...), title and entries in feed order."""

    kind: str
    title: str | None
    link: str | None
    entries: list[FeedEntry]


class _TextCollector(HTMLParser):
    """Paragraph text of an HTML fragment (an entry's `content:encoded` or summary)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._current)).strip()
        self._current = []
        for line in text.split("\n"):
            if line.strip():
                self.paragraphs.append(" ".join(line.split()))

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(fragment: str) -> list[str]:
    """The paragraphs of text in an HTML (or plain text) fragment, tags dropped."""
    collector = _TextCollector()
    collector.feed(fragment if "<" in fragment else html.escape(fragment, quote=False).replace("\n\n", "<p>"))
    collector.close()
    return collector.paragraphs


def _entry_date(entry: dict) -> str | None:
    """The entry's day as its publisher wrote it (feedparser's parsed form is turned to UTC,
    which moves a late-evening story to the next day), else feedparser's reading."""
    for key in ("published", "updated", "created"):
        day = iso_date(entry.get(key))
        if day:
            return day
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
            except ValueError:
                continue
    return None


def _entry_text(entry: dict) -> list[str]:
    """The longest text the entry carries: full content beats the summary."""
    candidates = [part.get("value", "") for part in entry.get("content", []) or []]
    candidates.append(entry.get("summary", "") or "")
    best: list[str] = []
    for candidate in candidates:
        paragraphs = html_paragraphs(candidate)
        if sum(len(p) for p in paragraphs) > sum(len(p) for p in best):
            best = paragraphs
    return best


def _clean(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


def parse_feed(data: bytes, url: str | None = None) -> ParsedFeed:
    """Parse a feed document (any version feedparser knows).

    Raises:
        NotAFeed: the bytes are not a feed, or so malformed that no entry can be read.
    """
    import feedparser

    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    parsed = feedparser.parse(data, response_headers={"content-location": url} if url else None)
    if not parsed.get("version"):
        problem = parsed.get("bozo_exception")
        detail = f" ({type(problem).__name__}: {problem})" if problem else ""
        raise NotAFeed(f"{url or 'the document'} is not an RSS or Atom feed{detail}")
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, benign):
        # feedparser's loose parser would guess at the rest: half an item, a truncated title.
        where = str(problem).replace("<unknown>:", "line ")
        raise NotAFeed(f"{url or 'the feed'} is malformed XML ({where})")
    entries = [
        FeedEntry(
            link=_clean(entry.get("link")), title=_clean(html.unescape(entry.get("title", "") or "")),
            published=_entry_date(entry), author=_clean(entry.get("author")),
            entry_id=_clean(entry.get("id")), paragraphs=_entry_text(entry),
        )
        for entry in parsed.entries
    ]
    return ParsedFeed(kind=parsed.version, title=_clean(parsed.feed.get("title")),
                      link=_clean(parsed.feed.get("link")), entries=entries)
