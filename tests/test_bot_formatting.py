"""Message formatting against Telegram's rules, with the fake server's strict HTML parser as judge."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_telegram import EntityParseError, parse_html, utf16_len
from newsqa.bot.telegram.formatting import MAX_MESSAGE_UNITS, RichText, Span, answer_card, context_view
from newsqa.retrieval import Answer

# Text that trips naive formatting: markup characters, entities, emoji (two UTF-16 units), newlines.
_CHARS = st.sampled_from(list("ab <>&;\"'#\n.") + ["&amp;", "&lt;", "<b>", "</i>", "😀", "é", "\u200b"])
_TEXT = st.lists(_CHARS, max_size=60).map("".join)
_SPANS = st.lists(st.builds(Span, text=_TEXT, bold=st.booleans(), italic=st.booleans(), quoted=st.booleans(),
                            link=st.sampled_from([None, "https://example.org/a?b=1&c=<2>"])),
                  min_size=1, max_size=12)


@given(_SPANS)
def test_rendered_html_is_accepted_and_shows_the_exact_text(spans):
    text = RichText(tuple(spans))
    shown, entities = parse_html(text.html())
    assert shown == text.plain()
    bold = {(e["offset"], e["length"]) for e in entities if e["type"] == "bold"}
    offset = 0
    for span in spans:
        if span.bold and span.text:
            assert (offset, utf16_len(span.text)) in bold
        offset += utf16_len(span.text)


@settings(max_examples=60)
@given(_SPANS, st.integers(min_value=8, max_value=120))
def test_split_pieces_fit_the_limit_and_keep_every_word(spans, limit):
    text = RichText(tuple(spans))
    pieces = text.split(limit)
    for piece in pieces:
        shown, _ = parse_html(piece.html())
        assert shown == piece.plain() and shown.strip()
        assert utf16_len(shown) <= limit
    assert "".join("".join(p.plain() for p in pieces).split()) == "".join(text.plain().split())


@settings(max_examples=60)
@given(_SPANS, st.integers(min_value=8, max_value=120))
def test_trim_fits_the_limit_and_marks_the_cut(spans, limit):
    text = RichText(tuple(spans))
    trimmed = text.trim(limit)
    shown, _ = parse_html(trimmed.html())
    assert utf16_len(shown) <= limit
    if text.units() > limit:
        assert shown.endswith("…")
    else:
        assert trimmed == text


def test_split_prefers_paragraph_and_sentence_ends():
    text = RichText.of("First paragraph is here.\n\nSecond one. It has two sentences.")
    assert [p.plain() for p in text.split(40)] == ["First paragraph is here.", "Second one. It has two sentences."]


def _answer(**fields) -> Answer:
    """An answer whose quote is the passage's, with the offsets the answerer gives: the
    sentence before and after the quote (up to the paragraph's end) as its context."""
    base = dict(quote="The key sentence.", passage="Before it. The key sentence. After it.\n\nNext paragraph.",
                score=0.9, title="A title", source="/data/articles/story.txt")
    answer = {**base, **fields}
    at = answer["passage"].find(answer["quote"])
    if at < 0:  # a quote from elsewhere: no offsets, as from an older version
        return Answer(**answer)
    end = at + len(answer["quote"])
    paragraph_end = answer["passage"].find("\n", end)
    previous_end = answer["passage"].rfind(". ", 0, max(0, at - 2))
    layout = dict(passage_start=100, quote_start=100 + at, quote_end=100 + end,
                  context_start=100 + (previous_end + 2 if previous_end >= 0 else 0),
                  context_end=100 + (paragraph_end if paragraph_end >= 0 else len(answer["passage"])))
    return Answer(**{**layout, **answer})


def test_an_answer_without_offsets_shows_the_quote_alone_and_the_passage_unmarked():
    old = Answer(quote="The key sentence.", passage="Before it. The key sentence. After it.", score=0.9,
                 title="A title", source="story.txt")
    shown, entities = parse_html(answer_card(old, 1, 1).html())
    quote = next(e for e in entities if e["type"] == "blockquote")
    assert shown[quote["offset"]:quote["offset"] + quote["length"]] == "The key sentence."
    context, entities = parse_html(context_view(old)[0].html())
    assert "Before it. The key sentence. After it." in context
    assert [e for e in entities if e["type"] == "bold"][1:] == []  # only the title is bold


def test_answer_card_bolds_the_quote_between_its_neighbours():
    card = answer_card(_answer(published="2023-07-25"), 1, 3)
    shown, entities = parse_html(card.html())
    quote = next(e for e in entities if e["type"] == "blockquote")
    assert shown[quote["offset"]:quote["offset"] + quote["length"]] == "Before it. The key sentence. After it."
    assert "A title · 2023-07-25" in shown and "story.txt" in shown and "/data/articles" not in shown
    assert "Answer 1 of 3" in shown and "Next paragraph" not in shown


def test_answer_card_links_the_title_of_web_articles_only():
    linked = answer_card(_answer(source="https://news.example.org/story?id=1&x=2"), 1, 1)
    _, entities = parse_html(linked.html())
    assert [e["url"] for e in entities if e["type"] == "text_link"] == ["https://news.example.org/story?id=1&x=2"]
    local = answer_card(_answer(source="javascript:alert(1)"), 1, 1)
    assert "<a " not in local.html()


@pytest.mark.parametrize("field", ["quote", "title", "passage"])
def test_huge_article_text_never_makes_a_message_over_the_limit(field):
    huge = "word " * 3000 + "😀" * 2000
    answer = _answer(**{field: huge}) if field != "quote" else _answer(quote=huge, passage="x " + huge + " y")
    card_shown, _ = parse_html(answer_card(answer, 1, 2).html())
    assert utf16_len(card_shown) <= MAX_MESSAGE_UNITS
    for piece in context_view(answer):
        shown, _ = parse_html(piece.html())
        assert utf16_len(shown) <= MAX_MESSAGE_UNITS


@pytest.mark.parametrize(("html", "error"), [
    ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
    ("é <b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<a href='x>y", "Unclosed start tag at byte offset 0"),
    ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
])
def test_fake_server_rejects_html_like_telegram(html, error):
    with pytest.raises(EntityParseError, match="^" + error.replace("(", r"\(").replace("$", r"\$") + "$"):
        parse_html(html)


def test_fake_server_decodes_entities_like_telegram():
    assert parse_html("AT&T &foo; &lt;b&gt; &#x27;&#39; &quot;")[0] == "AT&T &foo; <b> '' \""
