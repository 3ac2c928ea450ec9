"""Result types: what a question gets back. JSON output is `asdict()` of these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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


@dataclass(frozen=True)
class AnswerSet:
    """All answers to one question, best first; `found` is False when none is relevant."""

    question: str
    found: bool
    answers: list[Answer] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
