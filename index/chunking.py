"""Sentence segmentation and sentence-aligned chunking of article text.

Chunks come from langchain's RecursiveCharacterTextSplitter and are then snapped to whole
sentences, so a passage never starts or ends mid-sentence and every quote candidate lies
entirely inside its passage. Offsets are character offsets into `Article.text`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sentencex import segment

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as offsets into the article text, with the paragraph it belongs to."""

    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class ChunkSpan:
    """A passage: offsets into the article text and the sentences it is made of."""

    start: int
    end: int
    sentences: tuple[SentenceSpan, ...]


@dataclass(frozen=True)
class ChunkingSettings:
    """How articles are cut; stored in the manifest so an index is rebuilt when they change."""

    chunk_size: int = 1000
    chunk_overlap: int = 200
    max_sentence_chars: int = 500
    language: str = "en"

    def to_dict(self) -> dict[str, int | str]:
        return asdict(self)


class SentenceSplitter:
    """Splits text into sentences paragraph by paragraph (sentencex), keeping offsets."""

    def __init__(self, language: str = "en", max_sentence_chars: int = 500) -> None:
        self.language = language
        self.max_sentence_chars = max_sentence_chars

    def split(self, text: str) -> list[SentenceSpan]:
        """Sentences of `text`; none crosses a paragraph break; long ones are cut at spaces."""
        spans: list[SentenceSpan] = []
        for paragraph, (p_start, p_end) in enumerate(_paragraph_ranges(text)):
            for start, end in self._sentences(text, p_start, p_end):
                for piece in self._bounded(text, start, end):
                    spans.append(SentenceSpan(piece[0], piece[1], paragraph))
        return spans

    def _sentences(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        block = text[start:end]
        found: list[tuple[int, int]] = []
        cursor = 0
        for piece in segment(self.language, block):
            stripped = piece.strip()
            if not stripped:
                continue
            at = block.find(stripped, cursor)
            if at < 0:  # sentencex altered the text; fall back to the whole block
                return [_strip_range(text, start, end)]
            cursor = at + len(stripped)
            if _WORD.search(stripped):
                found.append((start + at, start + cursor))
            elif found:  # lone punctuation (a stray quote mark) joins its sentence
                found[-1] = (found[-1][0], start + cursor)
        return found

    def _bounded(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut an over-long sentence at line breaks, then at spaces, keeping offsets."""
        if end - start <= self.max_sentence_chars:
            return [(start, end)]
        pieces: list[tuple[int, int]] = []
        cursor = start
        while end - cursor > self.max_sentence_chars:
            window = text[cursor:cursor + self.max_sentence_chars]
            cut = window.rfind("\n")
            if cut < self.max_sentence_chars // 3:
                cut = window.rfind(" ")
            if cut < self.max_sentence_chars // 3:
                cut = self.max_sentence_chars
            pieces.append(_strip_range(text, cursor, cursor + cut))
            cursor += cut
        pieces.append(_strip_range(text, cursor, end))
        return [p for p in pieces if p[1] > p[0]]


def _strip_range(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraph_ranges(text: str) -> list[tuple[int, int]]:
    ranges = []
    cursor = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        ranges.append(_strip_range(text, cursor, match.start()))
        cursor = match.end()
    ranges.append(_strip_range(text, cursor, len(text)))
    return [r for r in ranges if r[1] > r[0]]


class Chunker:
    """Cuts article text into overlapping, sentence-aligned passages."""

    def __init__(self, settings: ChunkingSettings | None = None) -> None:
        self.settings = settings or ChunkingSettings()
        self.sentences = SentenceSplitter(self.settings.language, self.settings.max_sentence_chars)
        from langchain_text_splitters import RecursiveCharacterTextSplitter  # slow import; indexing only

        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
            add_start_index=True,
        )

    def chunk(self, text: str) -> list[ChunkSpan]:
        """Sentence-aligned passages of `text`, in order, without duplicates."""
        sentences = self.sentences.split(text)
        if not sentences:
            return []
        chunks: list[ChunkSpan] = []
        seen: set[tuple[int, int]] = set()
        for document in self._splitter.create_documents([text]):
            start = document.metadata["start_index"]
            end = start + len(document.page_content)
            members = tuple(s for s in sentences if start <= (s.start + s.end) // 2 < end)
            if not members:
                continue
            bounds = (members[0].start, members[-1].end)
            if bounds in seen:
                continue
            seen.add(bounds)
            chunks.append(ChunkSpan(bounds[0], bounds[1], members))
        return chunks
