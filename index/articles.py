"""Reading article files into clean `Article`s: title, body paragraphs, metadata.

Body text is kept verbatim paragraph by paragraph, so every sentence quoted later is a
substring of the file the user gave us. Cleaning only drops whole paragraphs: navigation
junk before the title and exact repeats (a photo caption printed twice).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArticleError

# Suffixes read as plain text. HTML joins them in a later format reader.
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})

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
        raw = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
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
            if normal in seen or normal in _NAV_LINES:
                dropped += 1
                continue
            seen.add(normal)
            kept.append(self._without_repeated_lines(paragraph, seen))
        text = "\n\n".join(kept)
        if not text.strip():
            raise ArticleError("no text left after cleaning (empty or only navigation)")
        return Article(
            key=key, source=source, title=(title or fallback_title).strip(), text=text,
            published=published, author=author, url=url, skipped_paragraphs=dropped,
        )

    @staticmethod
    def _title_index(paragraphs: list[str]) -> int | None:
        """Index of the first single-line paragraph that reads like a headline."""
        for index, paragraph in enumerate(paragraphs[:8]):
            line = paragraph.strip()
            if "\n" in line or _is_nav(line):
                continue
            if len(line.split()) >= _MIN_TITLE_WORDS and len(line) <= 300:
                return index
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


def decode_text(data: bytes) -> str:
    """Decode article bytes: UTF-8 first, then a detected legacy encoding.

    Raises:
        ArticleError: for binary data.
    """
    if b"\x00" in data[:8192]:
        raise ArticleError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("binary file (no text encoding fits)")
    return str(best)


class ArticleReader:
    """Reads one article file from disk."""

    def __init__(self, cleaner: ArticleCleaner | None = None, max_bytes: int = 5_000_000) -> None:
        self.cleaner = cleaner or ArticleCleaner()
        self.max_bytes = max_bytes

    def read(self, path: Path, *, key: str, source: str) -> Article:
        """Read and clean the article at `path`.

        Raises:
            ArticleError: unreadable, binary, too large, unsupported or empty.
        """
        suffix = path.suffix.lower()
        if suffix not in TEXT_SUFFIXES:
            raise ArticleError(f"unsupported file type {suffix or '(none)'}")
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ArticleError(f"file too large ({size:,} bytes > {self.max_bytes:,})")
            data = path.read_bytes()
        except OSError as error:
            raise ArticleError(f"cannot read: {error.strerror or error}") from error
        if not data.strip():
            raise ArticleError("empty file")
        return self.cleaner.clean(decode_text(data), key=key, source=source, fallback_title=path.stem)
