"""Telegram message text: styled spans, rendered as escaped HTML or plain text, kept in limits.

Building messages from spans (never by pasting strings into HTML) means every piece of
article text is escaped exactly once, and a message can be trimmed or split between any two
characters without cutting a tag in half.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from newsqa.retrieval import Answer

# Telegram's limit for one message, counted in UTF-16 code units of the text as shown.
MAX_MESSAGE_UNITS = 4096
# Text of an answer card beside the quote: at most this much of the sentence before and after.
MAX_NEIGHBOUR_CHARS = 240
MAX_TITLE_CHARS = 200
ELLIPSIS = "…"
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, units: int) -> int:
    """The largest prefix length (in characters) of `text` that fits in `units` UTF-16 units."""
    if utf16_len(text) <= units:
        return len(text)
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def _clean_cut(text: str, limit: int) -> int:
    """Where to cut `text` at or before character `limit`: a paragraph, sentence or word end."""
    if limit >= len(text) or limit <= 0:
        return max(0, min(limit, len(text)))
    for mark in _BREAKS:
        at = text.rfind(mark, 0, limit)
        if at > limit // 2:
            return at + len(mark)
    return limit


@dataclass(frozen=True)
class Span:
    """A run of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None
    quoted: bool = False

    def html(self) -> str:
        out = html.escape(self.text, quote=False)
        if self.link:
            out = f'<a href="{html.escape(self.link, quote=True)}">{out}</a>'
        if self.italic:
            out = f"<i>{out}</i>"
        if self.bold:
            out = f"<b>{out}</b>"
        return out


@dataclass(frozen=True)
class RichText:
    """A message as styled spans; `html()` for parse mode HTML, `plain()` for the fallback."""

    spans: tuple[Span, ...]

    @classmethod
    def of(cls, *parts: Span | str) -> "RichText":
        return cls(tuple(Span(part) if isinstance(part, str) else part for part in parts if part))

    def __add__(self, other: "RichText") -> "RichText":
        return RichText(self.spans + other.spans)

    def plain(self) -> str:
        return "".join(span.text for span in self.spans)

    def units(self) -> int:
        return utf16_len(self.plain())

    def html(self) -> str:
        out: list[str] = []
        in_quote = False
        for span in self.spans:
            if span.quoted != in_quote:
                out.append("<blockquote>" if span.quoted else "</blockquote>")
                in_quote = span.quoted
            out.append(span.html())
        if in_quote:
            out.append("</blockquote>")
        return "".join(out)

    def trim(self, limit: int = MAX_MESSAGE_UNITS) -> "RichText":
        """At most `limit` units: cut at a word boundary and marked with an ellipsis."""
        if self.units() <= limit:
            return self
        room = limit - utf16_len(ELLIPSIS)
        kept: list[Span] = []
        for span in self.spans:
            size = utf16_len(span.text)
            if size <= room:
                kept.append(span)
                room -= size
                continue
            cut = _clean_cut(span.text, _fit(span.text, room))
            kept.append(replace(span, text=span.text[:cut].rstrip() + ELLIPSIS))
            break
        return RichText(tuple(kept))

    def split(self, limit: int = MAX_MESSAGE_UNITS) -> list["RichText"]:
        """Consecutive messages of at most `limit` units each, cut at clean boundaries."""
        pieces: list[RichText] = []
        current: list[Span] = []
        room = limit

        def flush() -> None:
            nonlocal current, room
            piece = RichText(tuple(current))
            if piece.plain().strip():
                pieces.append(piece)
            current, room = [], limit

        for span in self.spans:
            rest = span.text
            while rest:
                size = utf16_len(rest)
                if size <= room:
                    current.append(replace(span, text=rest))
                    room -= size
                    break
                fits = _fit(rest, room)
                cut = _clean_cut(rest, fits)
                if cut == fits and current and fits < len(rest) // 2:
                    flush()  # no clean place to cut here: start the span on a new message
                    continue
                current.append(replace(span, text=rest[:cut].rstrip()))
                flush()
                rest = rest[cut:].lstrip()
        flush()
        return pieces


# -- answers --------------------------------------------------------------------------

def answer_link(answer: Answer) -> str | None:
    """The article's web address, when it has one."""
    for candidate in (answer.url, answer.source):
        if candidate and re.match(r"https?://", candidate, re.IGNORECASE):
            return candidate
    return None


def _shorten(text: str, limit: int, *, keep_end: bool = False) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if keep_end:
        start = text.find(" ", len(text) - limit)
        return ELLIPSIS + text[start + 1 if start >= 0 else len(text) - limit:]
    return text[:_clean_cut(text, limit)].rstrip() + ELLIPSIS


def _layout(answer: Answer) -> tuple[int, int, int, int] | None:
    """Passage offsets of the context start, the quote and the context end, from the offsets
    the answer carries; None when it carries none (answers saved by an older version) or
    they do not fit its passage."""
    if answer.passage_start is None or answer.context_start is None or answer.context_end is None:
        return None
    at = answer.quote_start - answer.passage_start
    layout = (answer.context_start - answer.passage_start, at, at + len(answer.quote),
              answer.context_end - answer.passage_start)
    if not 0 <= layout[0] <= layout[1] <= layout[2] <= layout[3] <= len(answer.passage) \
            or answer.passage[layout[1]:layout[2]] != answer.quote:
        return None
    return layout


def _neighbours(answer: Answer) -> tuple[str, str]:
    """The sentence before and after the quote in its passage, same paragraph only."""
    layout = _layout(answer)
    if layout is None:
        return "", ""
    before, start, end, after = layout
    return (_shorten(answer.passage[before:start], MAX_NEIGHBOUR_CHARS, keep_end=True),
            _shorten(answer.passage[end:after], MAX_NEIGHBOUR_CHARS))


def _byline(answer: Answer) -> list[Span]:
    spans = [Span(_shorten(answer.title or "Untitled", MAX_TITLE_CHARS), bold=True, link=answer_link(answer))]
    if answer.published:
        spans.append(Span(f" · {answer.published}"))
    if answer_link(answer) is None and answer.source:
        spans.append(Span("\n" + PurePath(answer.source).name, italic=True))
    return spans


def answer_card(answer: Answer, number: int, total: int) -> RichText:
    """One answer: the quote (bold) inside its sentence neighbours, then title, date, source."""
    before, after = _neighbours(answer)
    spans = []
    if before:
        spans.append(Span(before + " ", quoted=True))
    spans.append(Span(answer.quote, bold=True, quoted=True))
    if after:
        spans.append(Span(" " + after, quoted=True))
    spans.append(Span("\n"))
    spans.extend(_byline(answer))
    if total > 1:
        spans.append(Span(f"\nAnswer {number} of {total}", italic=True))
    return RichText(tuple(spans)).trim()


def context_view(answer: Answer) -> list[RichText]:
    """The whole passage around a quote, the quote in bold; split when long."""
    layout = _layout(answer)
    if layout is None:
        body = [Span(answer.passage, quoted=True)]
    else:
        _, start, end, _ = layout
        body = [Span(answer.passage[:start], quoted=True), Span(answer.quote, bold=True, quoted=True),
                Span(answer.passage[end:], quoted=True)]
    head = [Span("Context from ", italic=True),
            Span(_shorten(answer.title or "Untitled", MAX_TITLE_CHARS), bold=True, link=answer_link(answer))]
    if answer.published:
        head.append(Span(f" · {answer.published}"))
    head.append(Span("\n"))
    return RichText(tuple(head + [span for span in body if span.text])).split()


def alert_message(matches: Sequence[tuple[str, Answer]]) -> RichText:
    """New articles answering followed topics, one message: per article the topic, the quoted
    sentence, and the title (linked when it has a URL) with the date."""
    heading = "New article on a topic you follow" if len(matches) == 1 else \
        f"{len(matches)} new articles on topics you follow"
    spans: list[Span] = [Span(heading, bold=True)]
    for topic, answer in matches:
        spans.append(Span("\n\n"))
        spans.append(Span(f"{_shorten(topic, MAX_TITLE_CHARS)}\n", italic=True))
        spans.append(Span(answer.quote, quoted=True))
        spans.append(Span("\n"))
        spans.extend(_byline(answer))
    return RichText(tuple(spans)).trim()


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def not_found(articles: int) -> RichText:
    return RichText.of(
        "I could not find an answer to that in the ",
        Span(plural(articles, "indexed article"), bold=True),
        ". Try other words, or see /sources for what I have read.",
    )


# -- lists ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceLine:
    """One indexed article, for /sources."""

    title: str
    source: str
    published: str | None


def sources_page(lines: Sequence[SourceLine], first_number: int, page: int, pages: int, total: int,
                 heading: str = "Indexed articles") -> RichText:
    """A numbered page of indexed articles; titles link to the article when it has a URL."""
    spans: list[Span] = [Span(f"{heading} ({total}), page {page + 1} of {max(pages, 1)}", bold=True)]
    if not lines:
        spans.append(Span("\nNothing is indexed yet."))
    for number, line in enumerate(lines, first_number):
        link = line.source if re.match(r"https?://", line.source or "", re.IGNORECASE) else None
        spans.append(Span(f"\n{number}. "))
        spans.append(Span(_shorten(line.title or "Untitled", MAX_TITLE_CHARS), link=link))
        if line.published:
            spans.append(Span(f" · {line.published}", italic=True))
        if link is None and line.source:
            spans.append(Span(f" ({PurePath(line.source).name})", italic=True))
    return RichText(tuple(spans)).trim()


def bullet_list(title: str, items: Iterable[str], limit: int = 20) -> RichText:
    """A bold heading and up to `limit` escaped lines."""
    items = list(items)
    spans = [Span(title, bold=True)] + [Span(f"\n• {item}") for item in items[:limit]]
    if len(items) > limit:
        spans.append(Span(f"\n… and {len(items) - limit} more", italic=True))
    return RichText(tuple(spans)).trim()
