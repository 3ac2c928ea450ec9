"""Property-based tests on the edges: any bytes as an article, any question string."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsqa.index import ArticleError, ArticleReader, Chunker
from newsqa.retrieval import EmptyQuestion

_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like articles and text that does not: markup, emoji, RTL, zero-width.
_article_text = st.lists(
    st.one_of(
        st.sampled_from(list(string.ascii_letters + string.digits + " .,;:!?'\"<>&\n")),
        st.sampled_from(["\u200b", "\u200f", "\u202e", "שלום", "مرحبا", "😀", "𝕏", "é", "\t", "\r\n",
                         "\n\n", ". ", "Word" * 200]),
        st.characters(codec="utf-8"),
    ),
    max_size=600,
).map("".join)


@_settings
@given(data=st.one_of(st.binary(max_size=4000), _article_text.map(lambda t: t.encode("utf-8")),
                      _article_text.map(lambda t: t.encode("utf-16"))),
       suffix=st.sampled_from([".txt", ".md"]))
def test_any_bytes_read_as_text_or_skip_with_reason(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("prop") / f"article{suffix}"
    path.write_bytes(data)
    try:
        article = ArticleReader().read(path, key=path.name, source=str(path))
    except ArticleError as error:
        assert str(error)
        return
    assert article.text.strip() and article.title.strip()
    article.text.encode("utf-8")  # storable: no lone surrogates
    article.title.encode("utf-8")
    for chunk in Chunker().chunk(article.text):
        assert chunk.sentences
        for sentence in chunk.sentences:
            assert chunk.start <= sentence.start < sentence.end <= chunk.end
            assert article.text[sentence.start:sentence.end].strip()


@_settings
@given(question=st.one_of(
    st.text(max_size=300),
    st.text(alphabet=string.punctuation + " \t\n", max_size=50),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs"]), max_size=50),
    st.just("who led the Chinese delegation? " * 4000),
))
def test_any_question_gets_an_answer_or_a_clear_refusal(seed_answerer, question):
    try:
        result = seed_answerer.ask(question)
    except EmptyQuestion as error:
        assert "empty" in str(error)
        return
    assert result.question == question
    assert result.found == bool(result.answers)
    for answer in result.answers:
        assert answer.quote and answer.quote in answer.passage
