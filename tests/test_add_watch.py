"""`newsqa add` against a real HTTP server on 127.0.0.1, `newsqa watch`, and a running
`newsqa chat` that answers from an article added after it started."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import ROOT, STORY, Lines, PageHandler, html_page, spawn
from newsqa.bot.cli import cli
from newsqa.index import IndexBuilder, IndexReader

PLAIN_STORY = "Ferry service resumes on the northern route\n\n" \
              "The ferry between Skarn and Lowe resumed on Friday, captained by Harriet Quayle.\n"


class ArticleServer(PageHandler):
    """Routes for the fetcher: good pages, wrong types, huge bodies, redirects."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path
        if path == "/news/bridge.html":
            self.send_page(html_page("windows-1252"), "text/html; charset=windows-1252")
        elif path == "/ferry":
            self.send_page(PLAIN_STORY.encode(), "text/plain; charset=utf-8")
        elif path == "/moved":
            self._redirect("/ferry")
        elif path.startswith("/loop"):
            self._redirect(f"/loop{len(path)}")
        elif path == "/photo.png":
            self.send_page(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
        elif path == "/huge.html":
            self.send_page(b"<p>" + b"x" * 300_000 + b"</p>", "text/html")
        elif path == "/huge-chunked.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<p>" + b"y" * 60_000 + b"</p>"
            for _ in range(6):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/empty.html":
            self.send_page(b"<html><head><title>Nothing</title></head><body></body></html>", "text/html")
        elif path == "/to-ftp":
            self._redirect("ftp://127.0.0.1/file.html")
        else:
            self.send_page(b"not found", "text/plain", 404)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ArticleSite(ThreadingHTTPServer):
    """The test site. A client hanging up mid-response (the fetcher stopping a redirect loop or
    a huge body) is expected, so its reset is not printed: the server thread's traceback would
    land in the stderr `CliRunner` captures and read as newsqa's own."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def site():
    server = ArticleSite(("127.0.0.1", 0), ArticleServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_add_url_then_answers_cite_it(cli_env, site, encoder):
    IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])
    url = f"{site}/news/bridge.html"
    result = run("add", url, f"{site}/moved")
    assert result.exit_code == 0, result.output
    assert "2 added" in result.stdout
    bridge = json.loads(run("ask", "--json", "-k", "1", "How long will the new deck of the Harbour Bridge last?").stdout)
    answer = bridge["answers"][0]
    assert "fifty years" in answer["quote"]
    assert answer["source"] == answer["url"] == url
    assert answer["title"] == "Harbour bridge reopens after repairs" and answer["published"] == "2024-03-04"
    ferry = json.loads(run("ask", "--json", "-k", "1", "Who captained the ferry between Skarn and Lowe?").stdout)
    assert "Harriet Quayle" in ferry["answers"][0]["quote"]
    assert ferry["answers"][0]["source"] == f"{site}/ferry"  # where the redirect led
    again = run("add", url)
    assert again.exit_code == 0 and "already there" in again.stderr and "0 added" in again.stdout
    assert not [p for p in cli_env["articles"].iterdir() if p.name.startswith(".newsqa-incoming")]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("ftp://127.0.0.1/story.html", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("/photo.png", "content type image/png is not an article"),
        ("/huge.html", "over the limit"),
        ("/huge-chunked.html", "over the limit"),
        ("/loop", "more than 5 redirects"),
        ("/to-ftp", "not http(s)"),
        ("/missing", "404"),
    ],
)
def test_add_refuses_bad_urls_and_saves_nothing(cli_env, site, monkeypatch, path, message):
    monkeypatch.setenv("NEWSQA_MAX_ARTICLE_BYTES", "200000")
    before = sorted(p.name for p in cli_env["articles"].iterdir())
    result = run("add", site + path if path.startswith("/") else path)
    assert result.exit_code == 1
    assert message in result.stderr and "could not be added" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in cli_env["articles"].iterdir()) == before
    assert not cli_env["index"].exists()  # nothing to index, so no index run either


def test_a_page_without_text_is_reported_once_as_a_process_prints_it(cli_env, site):
    """The reason is ours; the extraction library's own warning is not printed beside it."""
    process = spawn("add", "--no-index", f"{site}/empty.html")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert [line for line in stderr.splitlines() if line.strip()] == [
        f"could not add: {site}/empty.html: no article text found in the HTML page",
        "Error: 1 of 1 could not be added"]


def test_add_copies_files_and_reports_each_failure(cli_env, tmp_path):
    good = tmp_path / "bridge.txt"
    good.write_text(STORY)
    result = run("add", "--no-index", str(good), str(tmp_path / "missing.txt"), str(ROOT / "pyproject.toml"))
    assert result.exit_code == 1
    assert "missing.txt: no such file" in result.stderr and "unsupported file type .toml" in result.stderr
    assert "2 of 3 could not be added" in result.output
    assert (cli_env["articles"] / "bridge.txt").read_text() == STORY


def test_running_chat_answers_from_an_article_indexed_after_it_started(cli_env, encoder):
    IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])
    chat = spawn("chat", "-k", "1", stdin=subprocess.PIPE)
    out = Lines(chat.stdout)
    try:
        chat.stdin.write("Who cut the ribbon at the Harbour Bridge?\n")
        first = out.until(lambda line: line == "")
        assert not any("Ingrid Vasquez" in line for line in first)
        (cli_env["articles"] / "bridge.txt").write_text(STORY)
        IndexBuilder(cli_env["index"], encoder).update(cli_env["articles"])  # a new generation
        chat.stdin.write("Who cut the ribbon at the Harbour Bridge?\n")
        second = out.until(lambda line: line == "")
        assert "Ingrid Vasquez" in second[0]
        assert any("bridge.txt" in line for line in second[1:])
        chat.stdin.write("\n")
        chat.stdin.close()
        assert chat.wait(timeout=60) == 0
    finally:
        chat.kill()


def test_watch_reindexes_when_an_article_arrives(cli_env):
    watcher = spawn("watch", "--debounce", "0.2")
    err, out = Lines(watcher.stderr), Lines(watcher.stdout)
    try:
        assert "1 added" in out.until(lambda line: line.startswith("Indexed"))[-1]
        err.until(lambda line: line.startswith("Watching"))
        (cli_env["articles"] / ".draft.txt").write_text(STORY)  # hidden: ignored
        (cli_env["articles"] / "bridge.txt").write_text(STORY)
        summary = out.until(lambda line: "Indexed" in line)[-1]
        assert "1 added" in summary and "1 unchanged" in summary
        reader = IndexReader(cli_env["index"])
        assert reader.snapshot.stats().articles == 2
        (cli_env["articles"] / "bridge.txt").unlink()
        assert "1 removed" in out.until(lambda line: "Indexed" in line)[-1]
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    finally:
        watcher.kill()


@pytest.mark.parametrize("command", ["add", "watch"])
def test_new_commands_have_help_with_examples(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output and f"newsqa {command}" in result.output
