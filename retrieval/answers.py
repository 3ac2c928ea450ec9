"""Result types: what a question gets back. JSON output is `asdict()` of these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Answer:
    """One quoted answer: `quote` is verbatim article text, `passage` the chunk around it."""

    quote: str
    passage: str
    score: float
    title: str
    source: str
    published: str | None = None
    url: str | None = None
    quote_start: int = 0
    quote_end: int = 0
    chunk_id: int = 0
    # Where the passage starts in the article, and the span around the quote of the sentence
    # before and after it in the same paragraph (article offsets; the quote's own edges when
    # there is none): what a reply shows around the quote, without splitting text again.
    passage_start: int | None = None
    context_start: int | None = None
    context_end: int | None = None


@dataclass(frozen=True)
class AnswerSet:
    """All answers to one question, best first; `found` is False when none is relevant."""

    question: str
    found: bool
    answers: list[Answer] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _Sentence(Protocol):
    start: int
    end: int
    paragraph: int


def quote_context(sentences: Sequence[_Sentence], start: int, end: int) -> tuple[int, int]:
    """The start of the sentence before [start, end) and the end of the one after it, both
    in the same paragraph as the quote; the quote's own edges where there is none."""
    inside = [n for n, s in enumerate(sentences) if s.start < end and s.end > start]
    if not inside:
        return start, end
    first, last = sentences[inside[0]], sentences[inside[-1]]
    before, after = start, end
    if inside[0] > 0 and sentences[inside[0] - 1].paragraph == first.paragraph:
        before = sentences[inside[0] - 1].start
    if inside[-1] + 1 < len(sentences) and sentences[inside[-1] + 1].paragraph == last.paragraph:
        after = sentences[inside[-1] + 1].end
    return before, after
