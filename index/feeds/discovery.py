"""Finding the feed behind a URL: the feed itself, or one a page links with
`<link rel="alternate" type="application/rss+xml|atom+xml" href=...>`."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from ..articles import decode_text
from ..errors import ArticleError, NotAFeed
from ..fetch import ArticleFetcher
from ..html import declared_charset
from .parsing import FEED_MEDIA_TYPES, ParsedFeed, parse_feed

# `type` values of `<link rel="alternate">` that point at a feed.
_FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class FoundFeed:
    """A feed located and read: `url` is the feed's own address (not the page that linked it)."""

    url: str
    feed: ParsedFeed

    @property
    def title(self) -> str:
        return self.feed.title or self.url


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"link", "a"}:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        if ("alternate" in rels and values.get("type", "").split(";")[0].strip().lower() in _FEED_LINK_TYPES
                and values.get("href", "").strip()):
            self.hrefs.append(values["href"].strip())


def feed_links(page: str, base_url: str) -> list[str]:
    """Absolute URLs of the feeds an HTML page announces, in page order, without repeats."""
    parser = _FeedLinks()
    parser.feed(page)
    parser.close()
    return list(dict.fromkeys(urljoin(base_url, href) for href in parser.hrefs))


class FeedFinder:
    """Checks that a URL is a feed, or finds the feed its page links."""

    def __init__(self, fetcher: ArticleFetcher) -> None:
        self.fetcher = fetcher

    def find(self, url: str) -> FoundFeed:
        """The feed at `url`, or the first one the page at `url` links that parses.

        Raises:
            NotAFeed: neither a feed nor a page linking one.
            FetchError: the URL (or the linked feed) cannot be fetched.
        """
        page = self.fetcher.fetch(url, media_types=FEED_MEDIA_TYPES)
        try:
            return FoundFeed(page.url, parse_feed(page.body, page.url))
        except NotAFeed as error:
            if page.media_type not in _HTML_TYPES and not page.body.lstrip()[:200].lower().startswith(
                    (b"<!doctype html", b"<html")):
                raise
            problem = error
        try:
            text = decode_text(page.body, page.charset or declared_charset(page.body))
        except ArticleError:
            raise problem from None
        for link in feed_links(text, page.url):
            linked = self.fetcher.fetch(link, media_types=FEED_MEDIA_TYPES)
            try:
                return FoundFeed(linked.url, parse_feed(linked.body, linked.url))
            except NotAFeed:
                continue
        raise NotAFeed(f"{url} is neither an RSS or Atom feed nor a page that links one")
