"""Hostile pages and files on the index side (issue 17): a declared charset may only name a
WHATWG encoding, no text with lone surrogates reaches the index, and one article failing at
any stage (read, clean, chunk, embed) is skipped with its reason while the rest is indexed.
Real HTTP server on 127.0.0.1, real model, real FAISS."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner

from helpers import PageHandler, http_site
from newsqa.bot.cli import cli
from newsqa.index import ArticleReader, IndexBuilder, IndexReader, decode_text
from newsqa.index.html import HtmlArticleExtractor

GOOD = "Harbour bridge reopens\n\nThe mayor of Port Elms, Ingrid Vasquez, reopened the harbour bridge on Monday.\n"
# `+2D0-` is UTF-7 for a lone high surrogate.
POISON_BODY = b"Poisoned page for every later run\n\nThe council met on Tuesday +2D0- and voted to fund a library.\n"
PAGES: dict[str, tuple[str, bytes]] = {
    "/utf7": ("text/plain; charset=utf-7", POISON_BODY),
    "/punycode": ("text/html; charset=punycode", b"<html><body><article><h1>Punycode page here</h1><p>"
                  + b"The ferry between Skarn and Lowe resumed on Friday, captained by Harriet Quayle. " * 3
                  + b"</p></article></body></html>"),
    "/rot13": ("text/plain; charset=rot13", b"Gur zrffntr urer\n\nGur srel erfhzrq ba Sevqnl ng abba.\n"),
}


class Pages(PageHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        content_type, body = PAGES.get(self.path, ("text/plain", b"not found"))
        self.send_page(body, content_type, 200 if self.path in PAGES else 404)


@pytest.fixture(scope="module")
def site():
    with http_site(Pages) as url:
        yield url


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(("data", "declared", "expected"), [
    (b"+2D0-abc", "utf-7", "+2D0-abc"),  # not a WHATWG label: read as UTF-8, not as UTF-7
    (b"caf\xe9", "punycode", "café"),  # nor is punycode: the Windows-1252 guess reads it
    (b"Uryyb", "rot13", "Uryyb"),
    (b"caf\xe9", "latin1", "café"),  # a WHATWG label for Windows-1252
    (b"\x93quoted\x94", "ISO-8859-1", "\u201cquoted\u201d"),  # read as browsers do
    (b"\xcf\xf0\xe8\xe2\xe5\xf2", " windows-1251 ", "Привет"),
    (b"\x82\xa0", "Shift_JIS", "あ"),
])
def test_only_whatwg_charset_labels_are_honoured(data, declared, expected):
    assert decode_text(data, declared) == expected


@pytest.mark.parametrize("declared", [None, "utf-7", "utf-8", "x-user-defined", "iso-2022-kr", "utf-16"])
def test_decoded_text_never_holds_a_lone_surrogate(declared):
    for data in (b"abc +2D0- def", "abc \ud800 def".encode("utf-8", "surrogatepass"), b"\xed\xa0\x80 text"):
        decode_text(data, declared).encode("utf-8")  # storable: raises on a lone surrogate


def test_a_poisoned_charset_from_a_server_is_indexed_as_text_and_later_runs_still_work(cli_env, site):
    articles = cli_env["articles"]
    result = run("add", f"{site}/utf7", f"{site}/punycode", f"{site}/rot13")
    assert result.exit_code == 0, result.output
    assert "4 added" in result.stdout, result.output  # and the seed
    (articles / "later.txt").write_text(GOOD)
    later = run("index")
    assert later.exit_code == 0 and "1 added" in later.stdout, later.output
    answer = json.loads(run("ask", "--json", "-k", "1", "Who reopened the harbour bridge?").stdout)
    assert "Ingrid Vasquez" in answer["answers"][0]["quote"]
    poisoned = json.loads(run("ask", "--json", "-k", "1", "What did the council vote to fund?").stdout)
    assert "+2D0-" in poisoned["answers"][0]["quote"]  # the bytes as written, not a surrogate
    assert run("index", "--rebuild").exit_code == 0


def test_a_file_declaring_punycode_or_utf7_is_read_as_text(tmp_path):
    html = tmp_path / "page.html"
    html.write_bytes(b'<html><head><meta charset="punycode"><title>Ferry resumes on the north route</title></head>'
                     b"<body><article><p>" + b"The ferry between Skarn and Lowe resumed on Friday. " * 4
                     + b"</p></article></body></html>")
    article = ArticleReader().read(html, key=html.name, source=str(html))
    assert "Skarn and Lowe" in article.text


class _FailingExtractor(HtmlArticleExtractor):
    """An extractor that breaks on one page the way a library bug would (not an ArticleError)."""

    def extract(self, html: str, url: str | None = None):
        if "BREAK-THE-EXTRACTOR" in html:
            raise RecursionError("maximum recursion depth exceeded")
        return super().extract(html, url)


class _FailingEncoder:
    """The real encoder, except that it fails on one article's text (as on a model error)."""

    def __init__(self, encoder) -> None:
        self._encoder = encoder

    def __getattr__(self, name: str):
        return getattr(self._encoder, name)

    def encode_passages(self, texts, sentences):
        if any("BREAK-THE-MODEL" in text for text in texts):
            raise RuntimeError("the model choked")
        return self._encoder.encode_passages(texts, sentences)


def test_one_article_failing_at_any_stage_is_skipped_and_the_rest_indexed(tmp_path, encoder):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (folder / "extract.html").write_text("<html><body><p>BREAK-THE-EXTRACTOR</p></body></html>")
    (folder / "model.txt").write_text("Model breaker story\n\nThis text says BREAK-THE-MODEL in its body.\n")
    (folder / "model-copy.txt").write_text("Model breaker story\n\nThis text says BREAK-THE-MODEL in its body.\n")
    for number in range(10):  # a full embedding group around the article that fails
        (folder / f"story-{number}.txt").write_text(
            f"Story number {number} of ten\n\nThe town of Elm{number} opened a new school on day {number}.\n")
    index = tmp_path / "index"
    builder = IndexBuilder(index, _FailingEncoder(encoder), reader=ArticleReader(html=_FailingExtractor()))
    report = builder.update(folder)
    reasons = {skipped.source.rsplit("/", 1)[-1]: skipped.reason for skipped in report.skipped}
    assert reasons == {"extract.html": "cannot read: RecursionError: maximum recursion depth exceeded",
                       "model.txt": "cannot index: RuntimeError: the model choked",
                       "model-copy.txt": "cannot index: RuntimeError: the model choked"}
    assert len(report.added) == 11
    sources = {row[1].rsplit("/", 1)[-1] for row in IndexReader(index).snapshot.list_articles(0, 100)}
    assert sources == {"good.txt"} | {f"story-{number}.txt" for number in range(10)}
    # Skipped articles are tried again next time (they were not recorded), and once the reader
    # and the model cope with them they are indexed.
    again = IndexBuilder(index, encoder).update(folder)
    assert sorted(a.rsplit("/", 1)[-1] for a in again.added + again.duplicates) == [
        "extract.html", "model-copy.txt", "model.txt"]


@pytest.mark.parametrize("name", ["in#dex", "in?dex", "in%23dex", "in dex", "in%3Fdex#?"])
def test_an_index_folder_with_uri_characters_in_its_path_opens_its_own_store(tmp_path, encoder, name):
    """Readers open the store read-only through a `file:` URI; a path holding `#`, `?` or `%`
    must still name this folder's store (not a file the URI would otherwise point at)."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (tmp_path / "in").write_bytes(b"")  # what `file:.../in#dex/...` would open without escaping
    index = tmp_path / name / "index"
    assert len(IndexBuilder(index, encoder).update(folder).added) == 1
    assert IndexReader(index).snapshot.stats().articles == 1


def test_concurrent_saves_of_one_name_each_claim_their_own(tmp_path):
    """Saves racing for `story.txt` (as concurrent `newsqa add` runs do) never overwrite each
    other: each gets a name of its own, taken atomically."""
    from concurrent.futures import ThreadPoolExecutor

    from newsqa.index import ArticleInbox

    articles, outside = tmp_path / "articles", tmp_path / "outside"
    articles.mkdir()
    sources = []
    for number in range(8):
        folder = outside / str(number)
        folder.mkdir(parents=True)
        (folder / "story.txt").write_text(f"Story from desk {number} today\n\n"
                                          f"Desk {number} reports a ferry on Friday.\n")
        sources.append(folder / "story.txt")
    barrier = threading.Barrier(len(sources))

    def save(path):
        barrier.wait()
        return ArticleInbox(articles).copy_file(path)

    with ThreadPoolExecutor(len(sources)) as pool:
        saved = list(pool.map(save, sources))
    assert len({s.path for s in saved}) == len(sources)
    assert sorted(p.read_text() for p in articles.iterdir()) == sorted(p.read_text() for p in sources)
    assert not [p for p in articles.iterdir() if p.name.startswith(".")]


def test_staging_folders_of_killed_saves_are_swept(tmp_path):
    import os
    import time

    from newsqa.index import ArticleInbox
    from newsqa.index.inbox import STALE_STAGING_SECONDS

    articles = tmp_path / "articles"
    articles.mkdir()
    stale, live = articles / ".newsqa-incoming-killed", articles / ".newsqa-incoming-live"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "half.txt").write_text("half an art")
    old = time.time() - STALE_STAGING_SECONDS - 60
    os.utime(stale, (old, old))
    (tmp_path / "new.txt").write_text(GOOD)
    ArticleInbox(articles).copy_file(tmp_path / "new.txt")
    assert not stale.exists() and live.exists()  # a save still running is left alone
