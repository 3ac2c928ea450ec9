"""Property-based tests on the edges: any bytes as an article, any article text as a Telegram
reply, any question string. Example counts stay small (suite time) and the examples are
derandomized (the same in every run; see the "ci" profile in conftest.py)."""

from __future__ import annotations

import asyncio
import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fake_telegram import FakeTelegram, parse_html, utf16_len
from newsqa.bot.telegram.formatting import ELLIPSIS, MAX_MESSAGE_UNITS, answer_card, context_view
from newsqa.index import ArticleError, ArticleReader, Chunker, IndexBuilder, IndexReader
from newsqa.retrieval import Answer, EmptyQuestion, quote_context
from helpers import EXAMPLE, PageHandler, running_bot

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
# Lone surrogates cannot be UTF-8 text, but files written with "surrogatepass" hold them.
_lone_surrogates = st.lists(st.one_of(_article_text, st.sampled_from(["\ud800", "\udfff", "\udc80x"])),
                            max_size=8).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@_settings
@given(data=st.one_of(st.binary(max_size=4000), _article_text.map(lambda t: t.encode("utf-8")),
                      _article_text.map(lambda t: t.encode("utf-16")), _lone_surrogates),
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


_reply_settings = settings(max_examples=60, deadline=None)
# Article text meant to break a Telegram reply: markup, entities, astral characters (two UTF-16
# units), RTL and zero-width marks, very long words, paragraphs.
_hostile_text = st.lists(
    st.one_of(
        st.sampled_from(list("abc xyz.,!?<>&\"';#/\n") + ["&amp;", "&lt;b&gt;", "<b>", "</i>", "<a href='x'>",
                                                          "\u200b", "\u200f", "\u202e", "\ufeff", "שלום", "مرحبا",
                                                          "😀", "𝕏", "👨‍👩‍👧", "\n\n", ". ", "W" * 700]),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    min_size=1, max_size=300,
).map("".join)


@_reply_settings
@given(title=_hostile_text, body=_hostile_text, url=st.sampled_from([None, "https://x.org/?a=<1>&b=\"2\""]))
def test_any_article_text_makes_a_valid_reply_whose_quote_matches_the_article(tmp_path_factory, title, body, url):
    path = tmp_path_factory.mktemp("reply") / "article.txt"
    path.write_text(f"{title}\n\n{body}\n\nThe mayor said the bridge will reopen on Monday.\n", encoding="utf-8")
    try:
        article = ArticleReader().read(path, key=path.name, source=str(path))
    except ArticleError:
        return
    for chunk in Chunker().chunk(article.text):
        passage = article.text[chunk.start:chunk.end]
        for sentence in chunk.sentences:
            quote = article.text[sentence.start:sentence.end]
            before, after = quote_context(chunk.sentences, sentence.start, sentence.end)
            answer = Answer(quote=quote, passage=passage, score=0.5, title=article.title, source=url or str(path),
                            url=url, quote_start=sentence.start, quote_end=sentence.end, passage_start=chunk.start,
                            context_start=before, context_end=after)
            shown, entities = parse_html(answer_card(answer, 1, 3).html())  # Telegram's parser, strictly
            assert utf16_len(shown) <= MAX_MESSAGE_UNITS
            bold = next(e for e in entities if e["type"] == "bold")
            units = shown.encode("utf-16-le")[bold["offset"] * 2:(bold["offset"] + bold["length"]) * 2]
            shown_quote = units.decode("utf-16-le")
            if shown_quote.endswith(ELLIPSIS) and not quote.endswith(ELLIPSIS):
                shown_quote = shown_quote[:-1]  # a quote too long for one message is cut, and says so
                assert quote.strip().startswith(shown_quote.strip()) and shown_quote.strip()
            else:
                assert shown_quote.strip() == quote.strip()
            assert shown_quote.strip() in article.text
            for piece in context_view(answer):
                piece_shown, _ = parse_html(piece.html())
                assert 0 < utf16_len(piece_shown) <= MAX_MESSAGE_UNITS


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(st.one_of(st.binary(max_size=3000), _lone_surrogates,
                              _article_text.map(lambda t: t.encode("utf-8"))), min_size=1, max_size=4),
       suffixes=st.lists(st.sampled_from([".txt", ".md", ".html"]), min_size=4, max_size=4))
def test_a_folder_of_bad_files_indexes_the_good_one_and_says_why_it_skipped_the_rest(
        tmp_path_factory, encoder, bad, suffixes):
    folder = tmp_path_factory.mktemp("folder")
    (folder / "good.txt").write_text("Harbour bridge reopens\n\nThe mayor of Port Elms, Ingrid Vasquez, reopened the "
                                     "harbour bridge on Monday.\n")
    for number, data in enumerate(bad):
        (folder / f"bad-{number}{suffixes[number]}").write_bytes(data)
    index = tmp_path_factory.mktemp("index")
    report = IndexBuilder(index, encoder).update(folder)
    assert len(report.added) + len(report.duplicates) + len(report.skipped) == len(bad) + 1
    assert all(skipped.reason for skipped in report.skipped)
    assert "good.txt" not in {skipped.source.rsplit("/", 1)[-1] for skipped in report.skipped}
    sources = {row[1] for row in IndexReader(index).snapshot.list_articles(0, 100)}
    assert any(source.endswith("good.txt") for source in sources)


def test_a_folder_with_no_words_at_all_indexes_without_crashing(tmp_path, encoder):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "control.txt").write_bytes(b"\x01")
    (folder / "empty.md").write_bytes(b"")
    report = IndexBuilder(tmp_path / "index", encoder).update(folder)
    assert report.added == [] and sorted(s.reason for s in report.skipped) == [
        "empty file", "no text left after cleaning (empty, only navigation or no words)"]
    assert IndexReader(tmp_path / "index").snapshot.stats().chunks == 0
    assert IndexBuilder(tmp_path / "index", encoder).update(folder).skipped  # and again, still no crash


# Questions a chat user might send, through the running bot: empty-ish, huge, control
# characters, only punctuation, markup, a lone surrogate (JSON can carry one).
HOSTILE_QUESTIONS = ["?!", "   ", "\u200b\u200f", "\x00\x01\x7f", "<b>who</b> led &amp; the delegation?",
                     "who led \ud800 the Chinese delegation?", "😀" * 2000, "x" * 4096, ".,;:!?" * 100,
                     "\u202ewho led the Chinese delegation?", EXAMPLE]


def test_any_question_through_the_bot_gets_an_answer_or_a_clear_reply(bot_settings, encoder):
    async def scenario() -> list[str]:
        async with FakeTelegram() as server, running_bot(bot_settings(server, questions_per_minute=0), encoder):
            ann = server.user(1301)
            replies = []
            for number, question in enumerate(HOSTILE_QUESTIONS):
                server.say(ann, question)
                reply = await server.reply(ann["id"], number)
                replies.append(reply.text + ("\n[card]" if "Context" in reply.buttons() else ""))
            assert server.errors == []
            return replies

    replies = asyncio.run(scenario())
    for question, reply in zip(HOSTILE_QUESTIONS, replies):
        assert "went wrong" not in reply, (question, reply)
        assert "Ask me a question" in reply or "could not find" in reply or "[card]" in reply, (question, reply)
    assert "Li Hongzhong" in replies[-1]


# Charset labels a page or a server may declare: WHATWG ones, Python codecs that are not text
# encodings (or not safe ones), nonsense, and anything else.
_CHARSETS = st.one_of(
    st.sampled_from(["utf-7", "punycode", "rot13", "hex", "base64", "zlib", "bz2", "uu", "idna", "utf-16",
                     "utf-32", "utf-16-be", "x-user-defined", "iso-2022-kr", "iso-2022-jp", "shift_jis",
                     "latin1", "ascii", "utf-8", "koi8-r", "replacement", "unicode-escape", "raw-unicode-escape",
                     "mbcs", "undefined", "bogus"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.:", max_size=20),
)
_page_bytes = st.one_of(st.binary(max_size=2000), _lone_surrogates,
                        _article_text.map(lambda t: t.encode("utf-8")),
                        st.sampled_from([b"The council met +2D0- on Tuesday and voted to fund a library.",
                                         b"\xed\xa0\x80 Text with an encoded surrogate in it, and more words."]))


_POISON = b"Poisoned page for every later run\n\nThe council met +2D0- on Tuesday and voted to fund a library.\n"


@_settings
@given(data=_page_bytes, charset=_CHARSETS, suffix=st.sampled_from([".txt", ".md", ".html"]),
       how=st.sampled_from(["sidecar", "meta"]))
@example(data=_POISON, charset="utf-7", suffix=".txt", how="sidecar")
@example(data=_POISON, charset="punycode", suffix=".html", how="meta")
@example(data=_POISON, charset="rot13", suffix=".md", how="sidecar")
def test_any_bytes_with_any_declared_charset_read_as_text_or_skip_with_reason(tmp_path_factory, data, charset,
                                                                            suffix, how):
    from newsqa.index.origin import ArticleOrigin

    path = tmp_path_factory.mktemp("charset") / f"article{suffix}"
    if how == "meta":
        data = f'<html><head><meta charset="{charset}"></head><body><p>'.encode() + data + b"</p></body></html>"
    path.write_bytes(data)
    if how == "sidecar":
        ArticleOrigin(url="http://news.example/a", charset=charset).save(path)
    try:
        article = ArticleReader().read(path, key=path.name, source=str(path))
    except ArticleError as error:
        assert str(error)
        return
    for text in (article.text, article.title, article.author or "", article.published or ""):
        text.encode("utf-8")  # storable: no lone surrogates
    assert article.text.strip()
    Chunker().chunk(article.text)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(st.tuples(_page_bytes, _CHARSETS, st.sampled_from(["text/plain", "text/html", "text/markdown"])),
                      min_size=1, max_size=3))
@example(pages=[(_POISON, "utf-7", "text/plain"), (b"<p>" + _POISON + b"</p>", "punycode", "text/html")])
def test_pages_with_any_bytes_and_charset_from_a_server_index_or_skip_and_the_good_one_is_indexed(
        tmp_path_factory, encoder, pages):
    """Each page is fetched from a real HTTP server on 127.0.0.1 with its declared charset, saved
    (or refused with a reason) and indexed beside a good file: every page ends up indexed or
    skipped with a reason, and the good file is always indexed."""
    import threading
    from http.server import ThreadingHTTPServer

    from newsqa.index import ArticleFetcher, ArticleInbox, FetchError

    class Pages(PageHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body, charset, media_type = pages[int(self.path.strip("/"))]
            self.send_page(body, f"{media_type}; charset={charset}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("pages")
    (folder / "good.txt").write_text("Harbour bridge reopens\n\nThe mayor of Port Elms, Ingrid Vasquez, reopened the "
                                     "harbour bridge on Monday.\n")
    refused = 0
    try:
        for number in range(len(pages)):
            try:
                page = ArticleFetcher(timeout=10).fetch(f"http://127.0.0.1:{server.server_address[1]}/{number}")
                ArticleInbox(folder).save_page(page)
            except (ArticleError, FetchError) as error:
                assert str(error)
                refused += 1
    finally:
        server.shutdown()
        server.server_close()
    index = tmp_path_factory.mktemp("index")
    report = IndexBuilder(index, encoder).update(folder)
    assert len(report.added) + len(report.duplicates) + len(report.skipped) == len(pages) + 1 - refused
    assert all(skipped.reason for skipped in report.skipped)
    sources = {row[1] for row in IndexReader(index).snapshot.list_articles(0, 100)}
    assert any(source.endswith("good.txt") for source in sources)
    assert IndexBuilder(index, encoder).update(folder).changed is False  # and a later run is fine too
