"""`newsqa feeds` and `newsqa watch` against the news site on 127.0.0.1, with the real model
and index: entries polled in are answered, cited by their links and dated."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from news_site import rss, serve
from newsqa.bot.cli import cli
from helpers import Lines, spawn


@pytest.fixture()
def site():
    server = serve()
    yield server
    server.shutdown()


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_follow_poll_and_answer_from_the_entries(cli_env, site, tmp_path):
    added = run("feeds", "add", site.base + "/")  # the home page links the RSS feed
    assert added.exit_code == 0 and added.stdout == f"Following: Portwell News ({site.base}/rss.xml)\n"
    assert run("feeds", "add", site.base + "/rss.xml").stdout.startswith("Already following: Portwell News")
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(f'<opml version="2.0"><body><outline text="Courier" xmlUrl="{site.base}/atom.xml"/>'
                    f'<outline text="Broken" xmlUrl="{site.base}/broken.xml"/></body></opml>')
    assert run("feeds", "import", str(opml)).stdout == "2 feeds added, 0 already followed.\n"

    polled = run("feeds", "poll", "--json")
    assert polled.exit_code == 1 and "Error: 1 of 3 feeds failed" in polled.stderr
    report = json.loads(polled.stdout)
    assert [f["status"] for f in report["feeds"]] == ["ok", "ok", "failed"]
    entries = [a["url"] for f in report["feeds"] for a in f["added"]]
    assert len(entries) == 4 and set(entries) <= set(report["index"]["added"])  # indexed, cited by link
    assert report["feeds"][1]["duplicates"] == [{"title": "Tens of thousands lose power in coastal storm",
                                                 "url": f"{site.base}/courier/storm-wire",
                                                 "duplicate_of": f"{site.base}/wire/storm.html"}]
    answer = json.loads(run("ask", "--json", "-k", "1", "Who chairs the Brannock orchard cooperative?").stdout)
    top = answer["answers"][0]
    assert "Tobias Wren" in top["quote"] and top["url"] == top["source"] == f"{site.base}/private/orchard.html"
    assert top["published"] == "2024-03-06" and top["title"] == "Record apple harvest for Brannock orchards"
    council = json.loads(run("ask", "--json", "-k", "1", "Where will Lowe build its new library?").stdout)
    assert "bus depot" in council["answers"][0]["quote"] and council["answers"][0]["published"] == "2024-03-07"

    start = len(site.requests)
    again = run("feeds", "poll")
    assert again.exit_code == 1 and "0 new articles" in again.stdout and "Indexed" not in again.stdout
    assert "failed: " in again.stderr and "backing off after 1 failures" in again.stderr
    assert {(r.path, r.status) for r in site.requests[start:]} == {("/rss.xml", 304), ("/atom.xml", 304)}

    listed = {f["url"]: f for f in json.loads(run("feeds", "list", "--json").stdout)}
    assert listed[f"{site.base}/rss.xml"]["articles"] == 3 and listed[f"{site.base}/rss.xml"]["status"] == "not-modified"
    assert listed[f"{site.base}/broken.xml"]["failures"] == 1 and listed[f"{site.base}/broken.xml"]["backoff_until"]
    text = run("feeds", "list").stdout
    assert "Portwell News" in text and "1 failures, next try after" in text and "malformed XML" in text

    exported = run("feeds", "export").stdout
    assert exported.startswith("<?xml") and f'xmlUrl="{site.base}/atom.xml"' in exported
    removed = run("feeds", "remove", site.base + "/atom.xml")
    assert removed.exit_code == 0 and "1 saved article kept" in removed.stdout
    assert f"{site.base}/atom.xml" not in run("feeds", "list", "--json").stdout


@pytest.mark.parametrize(("args", "message"), [
    (["feeds", "add", "{site}/about.html"], "is neither an RSS or Atom feed nor a page that links one"),
    (["feeds", "add", "{site}/missing.xml"], "answered 404"),
    (["feeds", "add", "{site}/broken.xml"], "malformed XML"),
    (["feeds", "add", "news.example/rss"], "only http:// and https://"),
    (["feeds", "remove", "{site}/rss.xml"], "is not a followed feed"),
    (["feeds", "import", "no-such.opml"], "cannot read"),
    (["feeds", "import", "{articles}/000_043524482d9a4f74.txt"], "not an OPML file"),
])
def test_feed_commands_fail_with_one_line_and_exit_1(cli_env, site, args, message):
    result = run(*args[:-1], args[-1].format(site=site.base, articles=cli_env["articles"]))
    assert result.exit_code == 1 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_poll_with_nothing_followed_exits_0(cli_env):
    result = run("feeds", "poll")
    assert result.exit_code == 0 and "0 feeds polled" in result.stdout


def test_watch_polls_the_feeds_and_answers_from_an_entry_added_while_it_runs(cli_env, site, monkeypatch):
    monkeypatch.setenv("NEWSQA_FEED_INTERVAL", "1")
    assert run("feeds", "add", site.base + "/rdf.xml").exit_code == 0
    watcher = spawn("watch", "--debounce", "0.2")
    out = Lines(watcher.stdout)
    try:
        out.until(lambda line: "1 feed polled: 1 new article," in line)
        out.until(lambda line: "Indexed" in line and "1 added" in line)
        site.add_route("/rdf.xml", "application/rss+xml", rss([
            {"title": "Lighthouse keeper retires", "link": f"{site.base}/skarn/lighthouse.html",
             "date": "Sat, 09 Mar 2024 10:00:00 GMT",
             "content": "After forty-one years at the Skarn Point lighthouse, keeper Edwin Moss retired on "
                        "Saturday. The light has been automatic since 1998, but Moss stayed on to "
                        "look after the tower, the fog signal and the small museum in the old engine room. "
                        "The harbour board said a volunteer group would run the museum from the spring, "
                        "and that the tower would stay open to visitors on summer weekends."}]))
        out.until(lambda line: "1 new article," in line)
        out.until(lambda line: "Indexed" in line and "1 added" in line)
        answer = json.loads(run("ask", "--json", "-k", "1", "Who kept the Skarn Point lighthouse?").stdout)
        assert "Edwin Moss" in answer["answers"][0]["quote"]
        assert answer["answers"][0]["url"] == f"{site.base}/skarn/lighthouse.html"
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    finally:
        watcher.kill()


def test_feed_settings_are_read_and_checked(monkeypatch, cli_env):
    from newsqa.bot.settings import load_settings

    monkeypatch.setenv("NEWSQA_FEED_RETENTION_DAYS", "")
    monkeypatch.setenv("NEWSQA_RESPECT_ROBOTS", "false")
    settings = load_settings()
    assert (settings.feed_interval, settings.respect_robots, settings.feed_retention_days) == (900.0, False, None)
    monkeypatch.setenv("NEWSQA_FEED_INTERVAL", "0")
    result = run("feeds", "list")
    assert result.exit_code == 1 and "invalid setting NEWSQA_FEED_INTERVAL" in result.stderr


def test_the_feed_list_lives_where_NEWSQA_FEEDS_FILE_says(cli_env, site, tmp_path, monkeypatch):
    default = run("feeds", "add", site.base + "/rdf.xml")
    assert default.exit_code == 0 and (cli_env["index"].parent / "feeds.sqlite").is_file()
    monkeypatch.setenv("NEWSQA_FEEDS_FILE", str(tmp_path / "state" / "my-feeds.sqlite"))
    assert json.loads(run("feeds", "list", "--json").stdout) == []
    assert run("feeds", "add", site.base + "/atom.xml").exit_code == 0
    assert [f["title"] for f in json.loads(run("feeds", "list", "--json").stdout)] == ["Lowe Courier"]


def test_retention_removes_old_feed_articles_from_the_index(cli_env, site, monkeypatch):
    assert run("feeds", "add", site.base + "/rdf.xml").exit_code == 0
    first = json.loads(run("feeds", "poll", "--json").stdout)
    assert first["removed"] == [] and len(first["feeds"][0]["added"]) == 1
    monkeypatch.setenv("NEWSQA_FEED_RETENTION_DAYS", "30")  # the ferry story is from 2024-03-08
    second = run("feeds", "poll", "--json")
    report = json.loads(second.stdout)
    assert second.exit_code == 0 and report["removed"] == [first["feeds"][0]["added"][0]["path"]]
    assert [Path(r).name for r in report["index"]["removed"]] == [Path(report["removed"][0]).name]
    assert not list((cli_env["articles"] / "feeds").rglob("*.md"))
