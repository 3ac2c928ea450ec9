"""A feed entry as an article: its text (the page's, else the entry's own) and its Markdown file.

The file is `feeds/<host>/<slug>.md` with front matter `title`, `published`, `url`, `feed`,
`author` (the article reader reads all but `feed`, which is there for people).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..articles import decode_text
from ..dates import iso_date
from ..errors import ArticleError
from ..fetch import ArticleFetcher, FetchError
from ..front_matter import render_front_matter
from ..html import HtmlArticleExtractor, declared_charset
from ..inbox import safe_stem
from .parsing import FeedEntry
from .robots import RobotsRules

# An entry's own text stands in for its page only when it is a story, not a teaser line.
MIN_ENTRY_WORDS = 60
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class EntrySkipped(Exception):
    """The entry gives no article; the message says why."""


@dataclass(frozen=True)
class EntryText:
    """The body of an entry's article, where it came from, and the best date and title known."""

    paragraphs: list[str]
    source: str  # "page" or "feed"
    published: str | None
    title: str | None
    page_note: str | None = None  # why the page was not used, when the feed's text was

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class EntryTextFetcher:
    """Fetches an entry's page (robots.txt permitting) and extracts its main text."""

    def __init__(self, fetcher: ArticleFetcher, robots: RobotsRules | None,
                 extractor: HtmlArticleExtractor | None = None, min_entry_words: int = MIN_ENTRY_WORDS) -> None:
        self.fetcher = fetcher
        self.robots = robots
        self.extractor = extractor or HtmlArticleExtractor()
        self.min_entry_words = min_entry_words

    def text(self, entry: FeedEntry) -> EntryText:
        """The article text of `entry`.

        Raises:
            EntrySkipped: neither the page nor the entry's own text gives an article.
        """
        if not entry.link:
            raise EntrySkipped("the entry has no link")
        try:
            if self.robots is not None and not self.robots.allowed(entry.link):
                problem = "robots.txt disallows fetching the page"
            else:
                return self._from_page(entry)
        except (FetchError, ArticleError) as error:
            problem = str(error)
        words = sum(len(p.split()) for p in entry.paragraphs)
        if words >= self.min_entry_words:
            return EntryText(list(entry.paragraphs), "feed", entry.published, entry.title, page_note=problem)
        raise EntrySkipped(f"{problem}; the entry's own text is too short to stand in "
                           f"({words} words, fewer than {self.min_entry_words})")

    def _from_page(self, entry: FeedEntry) -> EntryText:
        page = self.fetcher.fetch(entry.link)
        charset = page.charset or (declared_charset(page.body) if page.media_type in _HTML_TYPES else None)
        text = decode_text(page.body, charset)
        if page.media_type in _HTML_TYPES:
            extracted = self.extractor.extract(text, url=page.url)
            paragraphs, published, title = extracted.paragraphs, extracted.published, extracted.title
        else:
            paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")) if p.strip()]
            published, title = None, None
            if entry.title and paragraphs and " ".join(paragraphs[0].split()) == entry.title:
                paragraphs.pop(0)
        if not paragraphs:
            raise ArticleError(f"{page.url}: no article text found")
        return EntryText(paragraphs, "page", entry.published or iso_date(published), entry.title or title)


def render_markdown(text: EntryText, *, url: str, feed_url: str, author: str | None) -> str:
    """The article file: front matter, then the body paragraphs as they were found."""
    meta = {"title": text.title, "published": text.published, "url": url, "feed": feed_url, "author": author}
    return render_front_matter(meta) + "\n" + "\n\n".join(p.strip() for p in text.paragraphs) + "\n"


def article_location(link: str, title: str | None) -> tuple[tuple[str, ...], str]:
    """(`("feeds", host)`, slug) for an entry: the slug reads as the headline, and a hash of the
    link keeps two stories with the same headline apart."""
    host = safe_stem(urlsplit(link).hostname or "feed")
    digest = hashlib.sha256(link.encode("utf-8")).hexdigest()[:8]
    words = safe_stem((title or urlsplit(link).path.rsplit("/", 1)[-1] or "entry").lower())[:60].strip(".-_")
    return ("feeds", host), f"{words or 'entry'}-{digest}"
