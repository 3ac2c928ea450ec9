"""Reading article files into clean `Article`s: title, body paragraphs, metadata.

Body text is kept verbatim paragraph by paragraph, so every sentence quoted later is a
substring of the file the user gave us (for HTML: of the text extracted from the page).
Cleaning only drops whole paragraphs: navigation junk before the title and exact repeats
(a photo caption printed twice).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .dates import iso_date
from .errors import ArticleError
from .front_matter import read_front_matter
from .html import HtmlArticleExtractor, declared_charset
from .origin import ArticleOrigin

# Suffixes read as plain text (Markdown included, as written).
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
# Suffixes read as web pages: the article is extracted from the markup.
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
# Which reading of a file this module gives. Raise it whenever a change gives other text or
# metadata for the same file (a reading bug fixed, a new cleaning rule): an index records the
# version it was read with, and its next update re-reads every file, so nobody has to know to
# `--rebuild` after an upgrade; text that reads the same keeps its vectors.
# 2: short articles and ledes, list lines, front matter as YAML (2026-12-05).
# 3: front matter as static site generators write it (lists, folded values, `publishDate`).
# 4: front matter lists give their scalar items only (`published: [2023-03-04]` is read).
# 5: a page that is mostly a sign-up or consent wall is read as its headline.
READER_VERSION = 5

# Lines that page scrapes carry before the headline; never a title, never indexed.
_NAV_LINES = frozenset(
    line.casefold()
    for line in (
        "Accessibility links", "Skip to content", "Skip to main content", "Breaking News",
        "Menu", "Search", "Home", "Share", "Share this article", "Advertisement",
        "Sign in", "Log in", "Subscribe", "Newsletter", "Cookies", "Close",
        "Main menu", "Navigation", "Top stories", "Latest", "Live", "Watch live",
    )
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
# A title needs some substance: one or two words are more likely a menu label.
_MIN_TITLE_WORDS = 3
# A paragraph met again is dropped when it is this long: a caption or a promo printed twice.
# Shorter ones repeat as the facts of a list ("• Party affiliation: Republican" under each
# member of Congress, "Our rating: False" under each claim checked) and are kept.
_MIN_REPEAT_WORDS = 8
# A paragraph of a registration or consent wall, which a scrape can catch in place of the story
# (a newsletter sign-up, "managed as described in our Privacy Policy", "please tick here").
_WALL = re.compile(
    r"\b(privacy policy|newsletters?|registration|subscriptions?|your (details|data|personal "
    r"information|email address)|tick (here|this box)|opt[ -]out|unsubscribe|cookies)\b", re.IGNORECASE)
# A site's name after the headline: "French minister sparks anger with Playboy cover | The Week UK".
_SITE_SUFFIX = re.compile(r"\s+\|\s+[^|]+$")
# A line that ends as a sentence does (one full stop, closing quotes after it; not "..."):
# headlines seldom do, a story's first paragraph nearly always.
_ENDS_SENTENCE = re.compile(r"(?<!\.)\.[\"'”’)]*$")
# In Western text few words are spelt without an ASCII letter ("à", "ô"); in Cyrillic or
# Greek bytes misread as Windows-1252 nearly all are. Below this share, Windows-1252 it is.
_MAX_NON_ASCII_WORDS = 0.3
_WORD = re.compile(r"[^\W\d_]+")
# Code points that cannot be stored as UTF-8 (a decoder such as UTF-7 can produce them alone).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# WHATWG encodings not used for a declaration here: "replacement" (ISO-2022-KR, HZ...) only
# ever yields U+FFFD, and UTF-16 text without a byte-order mark holds NUL bytes, which are
# refused as binary before a declaration is looked at (browsers read a `<meta>` UTF-16 as UTF-8).
_IGNORED_ENCODINGS = frozenset({"replacement", "utf-16le", "utf-16be"})


@dataclass(frozen=True)
class Article:
    """One article ready to index: `text` holds the body paragraphs joined by blank lines."""

    key: str
    source: str
    title: str
    text: str
    published: str | None = None
    author: str | None = None
    url: str | None = None
    skipped_paragraphs: int = field(default=0, compare=False)
    # What was read but not understood (a date that is no day): indexed anyway, and reported.
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def content_hash(self) -> str:
        """Identity of the content, whatever the file is called."""
        digest = hashlib.sha256()
        for part in (self.title, "\x00", self.text):
            digest.update(part.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


def _normalise(paragraph: str) -> str:
    return " ".join(paragraph.split()).casefold()


def _is_nav(paragraph: str) -> bool:
    return _normalise(paragraph) in _NAV_LINES


class ArticleCleaner:
    """Turns raw text into a title and verbatim body paragraphs."""

    def clean(self, raw: str, *, key: str, source: str, fallback_title: str,
              title: str | None = None, published: str | None = None,
              author: str | None = None, url: str | None = None) -> Article:
        """Split `raw` into paragraphs, find the title, drop junk and repeats.

        Raises:
            ArticleError: when no text is left after cleaning.
        """
        raw = without_lone_surrogates(raw).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        title = without_lone_surrogates(title) if title is not None else None
        paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(raw)]
        paragraphs = [p for p in paragraphs if p.strip()]
        dropped = 0
        while paragraphs and _is_nav(paragraphs[0]):
            paragraphs.pop(0)
            dropped += 1
        if title is None:
            title_index = self._title_index(paragraphs)
            if title_index is not None:
                dropped += title_index
                title = _MARKDOWN_HEADING.sub("", paragraphs[title_index].strip())
                paragraphs = paragraphs[title_index + 1:]
        kept: list[str] = []
        seen: set[str] = set()
        for paragraph in paragraphs:
            normal = _normalise(paragraph)
            if normal in _NAV_LINES or (normal in seen and len(normal.split()) >= _MIN_REPEAT_WORDS):
                dropped += 1
                continue
            seen.add(normal)
            kept.append(self._without_repeated_lines(paragraph, seen))
        walled = [_WALL.search(paragraph) is not None for paragraph in kept]
        if sum(walled) * 2 > len(kept) and (title or "").strip() and not _WALL.search(title):  # a headline of its own
            kept, dropped = self._headline_for_wall(kept, walled, title), dropped + sum(walled)
        text = "\n\n".join(kept)
        if not any(char.isalnum() for char in text):  # control characters or punctuation only
            raise ArticleError("no text left after cleaning (empty, only navigation or no words)")
        return Article(
            key=key, source=source, title=(title or fallback_title).strip(), text=text,
            published=published, author=author, url=url, skipped_paragraphs=dropped,
        )

    @staticmethod
    def _headline_for_wall(paragraphs: list[str], walled: list[bool], title: str) -> list[str]:
        """A page that is mostly a sign-up or consent wall holds no story but its headline:
        the headline (without the site's name) stands first, the paragraphs `walled` are dropped."""
        title = title.strip()
        headline = _SITE_SUFFIX.sub("", title)
        if len(headline.split()) < _MIN_TITLE_WORDS:
            headline = title
        return [headline, *(paragraph for paragraph, wall in zip(paragraphs, walled) if not wall)]

    @staticmethod
    def _title_index(paragraphs: list[str]) -> int | None:
        """Index of the first single-line paragraph that reads like a headline and leaves a
        body after it (a short story's one paragraph is its body, not its title)."""
        for index, paragraph in enumerate(paragraphs[:min(8, len(paragraphs) - 1)]):
            line = paragraph.strip()
            if "\n" in line or _is_nav(line):
                continue
            if len(line) > 300:  # the body has begun: no headline comes after it
                break
            if index > 0 and _ENDS_SENTENCE.search(line):
                break  # a sentence after a short first line is the story's lede, not its headline
            if len(line.split()) >= _MIN_TITLE_WORDS:
                return index
        # No longer headline before the body: a short first line is the title after all
        # ("Martin Luther"), rather than a body paragraph further down.
        first = paragraphs[0].strip() if paragraphs else ""
        if len(paragraphs) > 1 and first and "\n" not in first and len(first) <= 300 and not _is_nav(first):
            return 0
        return None

    @staticmethod
    def _without_repeated_lines(paragraph: str, seen: set[str]) -> str:
        """Drop lines inside a paragraph that repeat a line just before them (caption twice)."""
        lines = paragraph.split("\n")
        if len(lines) < 2:
            return paragraph
        kept = [lines[0]]
        for line in lines[1:]:
            if line.strip() and _normalise(line) == _normalise(kept[-1]):
                continue
            kept.append(line)
        for line in kept:
            seen.add(_normalise(line))
        return "\n".join(kept)


def without_lone_surrogates(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so it can be stored as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _decode_declared(data: bytes, charset: str | None) -> str | None:
    """`data` decoded with a declared charset, or None when the label is not a WHATWG encoding
    label or the bytes do not fit it.

    Only labels of the WHATWG encoding standard (what browsers honour) are looked up, through
    `webencodings`: a page cannot name an arbitrary Python codec (`utf-7`, `punycode`, `rot13`,
    `hex`...), and `latin1`/`ascii` read as Windows-1252 the way browsers read them.
    """
    import webencodings

    if not charset:
        return None
    encoding = webencodings.lookup(charset.strip())
    if encoding is None or encoding.name in _IGNORED_ENCODINGS:
        return None
    try:
        return encoding.codec_info.decode(data)[0]  # x-user-defined is webencodings' own codec
    except UnicodeDecodeError:
        pass
    if encoding.name == "windows-1252":  # bytes cp1252 leaves undefined (0x81, 0x8d...): as browsers
        return data.decode("latin-1")
    return None


def _looks_western(text: str) -> bool:
    words = _WORD.findall(text)
    foreign = sum(1 for word in words if not any(c.isascii() for c in word))
    return bool(words) and foreign / len(words) <= _MAX_NON_ASCII_WORDS


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode article bytes: a byte-order mark, the declared charset, UTF-8, then legacy guesses.

    Without a declaration, non-UTF-8 text that reads as Western Windows-1252 (a superset of
    Latin-1 for printable text) is taken as such; anything else goes to charset detection,
    which on short Latin-1 text tends to pick a Central European code page instead.

    Raises:
        ArticleError: for binary data.
    """
    return without_lone_surrogates(_decode(data, declared))


def _decode(data: bytes, declared: str | None) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    if b"\x00" in data[:8192]:
        raise ArticleError("binary file (contains NUL bytes)")
    text = _decode_declared(data, declared)
    if text is not None:
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        if _looks_western(text):
            return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("binary file (no text encoding fits)")
    return str(best)


class ArticleReader:
    """Reads one article file from disk: plain text, Markdown or an HTML page."""

    version = READER_VERSION

    def __init__(self, cleaner: ArticleCleaner | None = None, max_bytes: int = 5_000_000,
                 html: HtmlArticleExtractor | None = None) -> None:
        self.cleaner = cleaner or ArticleCleaner()
        self.max_bytes = max_bytes
        self.html = html or HtmlArticleExtractor()

    def read(self, path: Path, *, key: str, source: str) -> Article:
        """Read and clean the article at `path`; a URL it was fetched from becomes its source.

        Raises:
            ArticleError: unreadable, binary, too large, unsupported or empty.
        """
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise ArticleError(f"unsupported file type {suffix or '(none)'}")
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ArticleError(f"file too large ({size:,} bytes > {self.max_bytes:,})")
            data = path.read_bytes()
        except OSError as error:
            raise ArticleError(f"cannot read: {error.strerror or error}") from error
        if len(data) > self.max_bytes:  # grew between stat and read
            raise ArticleError(f"file too large ({len(data):,} bytes > {self.max_bytes:,})")
        if not data.strip():
            raise ArticleError("empty file")
        origin = ArticleOrigin.load(path)
        if origin is not None:
            source = origin.url
        if suffix in HTML_SUFFIXES:
            return self._read_html(data, path, key, source, origin)
        front = read_front_matter(decode_text(data, origin.charset if origin else None))
        meta = front.fields
        article = self.cleaner.clean(
            front.body, key=key, source=source, fallback_title=path.stem, title=meta.get("title"),
            published=meta.get("published"), author=meta.get("author"),
            url=origin.url if origin else meta.get("url"),
        )
        return replace(article, problems=front.problems) if front.problems else article

    def _read_html(self, data: bytes, path: Path, key: str, source: str,
                   origin: ArticleOrigin | None) -> Article:
        charset = (origin.charset if origin else None) or declared_charset(data)
        page = self.html.extract(decode_text(data, charset), url=origin.url if origin else None)
        return self.cleaner.clean(
            "\n\n".join(page.paragraphs), key=key, source=source, fallback_title=path.stem,
            title=page.title, published=iso_date(page.published), author=page.author,
            url=origin.url if origin else page.url,
        )
