"""Sentence splitting and sentence-aligned chunks keep exact offsets."""

from __future__ import annotations

from helpers import SEED_FILE
from newsqa.index import ArticleReader, Chunker, ChunkingSettings, SentenceSplitter


def _seed_text() -> str:
    return ArticleReader().read(SEED_FILE, key="s", source="s").text


def test_sentences_are_exact_spans_and_never_cross_paragraphs():
    text = _seed_text()
    sentences = SentenceSplitter().split(text)
    assert len(sentences) > 20
    for s in sentences:
        piece = text[s.start:s.end]
        assert piece == piece.strip() and piece
        assert "\n\n" not in piece
    target = "China also confirmed Tuesday it would send a delegation led by Politburo member Li Hongzhong."
    assert target in [text[s.start:s.end] for s in sentences]


def test_abbreviations_do_not_split_sentences():
    text = "In addition, a U.S. soldier, Travis King, is believed to be in custody. Dr. Smith agreed."
    pieces = [text[s.start:s.end] for s in SentenceSplitter().split(text)]
    assert pieces == ["In addition, a U.S. soldier, Travis King, is believed to be in custody.", "Dr. Smith agreed."]


def test_long_sentence_is_cut_at_spaces():
    text = " ".join(["word"] * 400)
    spans = SentenceSplitter(max_sentence_chars=300).split(text)
    assert len(spans) > 1
    assert all(s.end - s.start <= 300 for s in spans)
    assert all(text[s.start:s.end].split() == ["word"] * len(text[s.start:s.end].split()) for s in spans)


def test_chunks_are_sentence_aligned_and_cover_every_sentence():
    text = _seed_text()
    settings = ChunkingSettings(chunk_size=500, chunk_overlap=100)
    chunks = Chunker(settings).chunk(text)
    assert len(chunks) > 3
    covered = set()
    for chunk in chunks:
        assert chunk.start == chunk.sentences[0].start and chunk.end == chunk.sentences[-1].end
        covered.update((s.start, s.end) for s in chunk.sentences)
    assert covered == {(s.start, s.end) for s in SentenceSplitter().split(text)}
    assert all(b.start >= a.start for a, b in zip(chunks, chunks[1:]))
