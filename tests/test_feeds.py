"""The feed library against a news site on 127.0.0.1: discovery, polling twice (the second
costs 304s only), robots.txt, entries without links or text, a malformed feed, a feed that
starts failing and backs off, one wire story on two feeds, retention, OPML, chat rules."""

from __future__ import annotations

import time

import pytest

from news_site import STORM, STORM_EDITED, rss, serve
from newsqa.index import ArticleFetcher, ArticleReader, FeedError, FeedNotFound, NotAFeed
from newsqa.index.feeds import (
    FeedFinder,
    FeedPoller,
    FeedRegistry,
    NearDuplicateFinder,
    OpmlFeed,
    backoff_seconds,
    feed_links,
    parse_feed,
    read_opml,
    write_opml,
)
from newsqa.index.feeds.duplicates import DEFAULT_THRESHOLD, signature
from newsqa.index.fetch import USER_AGENT


@pytest.fixture(scope="module")
def site():
    server = serve()
    yield server
    server.shutdown()


@pytest.fixture()
def fresh_site():
    """A site of its own, for tests that flip its switches."""
    server = serve()
    yield server
    server.shutdown()


@pytest.fixture()
def folders(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    return articles, FeedRegistry(tmp_path / "feeds.sqlite")


def follow(registry: FeedRegistry, site, *paths: str, from_chat: bool = False) -> None:
    for path in paths:
        registry.add(site.base + path, None, from_chat=from_chat)


@pytest.mark.parametrize(("path", "kind", "title"), [
    ("/rss.xml", "rss20", "Portwell News"),
    ("/atom.xml", "atom10", "Lowe Courier"),
    ("/rdf.xml", "rss10", "Skarn Weekly"),
    ("/", "rss20", "Portwell News"),  # a page that links its feed
])
def test_finder_reads_each_feed_kind_and_follows_page_links(site, path, kind, title):
    found = FeedFinder(ArticleFetcher()).find(site.base + path)
    assert found.feed.kind == kind and found.title == title
    assert found.url == site.base + (path if path != "/" else "/rss.xml")


@pytest.mark.parametrize(("path", "message"), [
    ("/about.html", "neither an RSS or Atom feed nor a page that links one"),
    ("/broken.xml", "malformed XML (line 1:"),
    ("/skarn/ferry.txt", "is not an RSS or Atom feed"),
])
def test_finder_refuses_what_is_not_a_feed(site, path, message):
    with pytest.raises(NotAFeed, match=message.replace("(", r"\(")):
        FeedFinder(ArticleFetcher()).find(site.base + path)


def test_feed_links_resolves_relative_hrefs_and_ignores_other_links():
    html = ('<link rel="stylesheet" href="/a.css"><link rel="alternate" type="application/atom+xml" href="a.xml">'
            '<link rel="alternate" type="text/html" href="/fr/"><link rel="Alternate" '
            'type="application/rss+xml; charset=utf-8" href="https://x.example/r.xml">')
    assert feed_links(html, "https://news.example/world/") == ["https://news.example/world/a.xml",
                                                               "https://x.example/r.xml"]


def test_poll_saves_new_entries_once_and_the_second_poll_costs_304s_only(site, folders):
    articles, registry = folders
    follow(registry, site, "/rss.xml", "/atom.xml", "/rdf.xml", "/broken.xml")
    poller = FeedPoller(registry, articles)
    start = len(site.requests)
    report = poller.poll()
    by_url = {feed.url: feed for feed in report.feeds}
    rss, courier, weekly, broken = (by_url[site.base + p] for p in ("/rss.xml", "/atom.xml", "/rdf.xml", "/broken.xml"))

    assert rss.status == courier.status == weekly.status == "ok"
    assert sorted(a.title for a in rss.added) == ["Harbour bridge reopens after repairs",
                                                  "Record apple harvest for Brannock orchards",
                                                  "Storm cuts power to 40,000 homes"]
    orchard = next(a for a in rss.added if "apple" in a.title)
    assert orchard.text_from == "feed" and "robots.txt disallows" in orchard.note  # the feed's full text
    skipped = {s.title: s.reason for s in rss.skipped}
    assert skipped["An entry without a link"] == "the entry has no link"
    assert skipped["Subscribers only: the mayor's diary"].startswith("robots.txt disallows fetching the page; "
                                                                     "the entry's own text is too short")
    assert [a.title for a in courier.added] == ["Council votes for a new library"]
    assert [(d.url, d.duplicate_of) for d in courier.duplicates] == [
        (f"{site.base}/courier/storm-wire", f"{site.base}/wire/storm.html")]
    assert [a.title for a in weekly.added] == ["Night ferry back in service"]  # RSS 1.0, a text page
    assert broken.status == "failed" and "malformed XML" in broken.error and report.failed == [broken]

    paths = site.paths(start)
    assert not any(p.startswith("/private/") for p in paths)  # robots.txt honoured
    assert paths.count("/robots.txt") == 1  # once per site and poll
    assert {r.user_agent for r in site.requests[start:]} == {USER_AGENT}

    bridge_file = articles / next(a.path for a in rss.added if "bridge" in a.url)
    assert bridge_file.parent.relative_to(articles).as_posix() == "feeds/127.0.0.1"
    text = bridge_file.read_text()
    assert text.startswith(f'---\ntitle: "Harbour bridge reopens after repairs"\npublished: "2024-03-04"\n'
                           f'url: "{site.base}/news/bridge.html"\nfeed: "{site.base}/rss.xml"\nauthor: "Dana Reyes"\n---\n')
    article = ArticleReader().read(bridge_file, key="k", source="s")
    assert (article.title, article.published, article.url, article.author) == (
        "Harbour bridge reopens after repairs", "2024-03-04", f"{site.base}/news/bridge.html", "Dana Reyes")
    assert article.source == f"{site.base}/news/bridge.html"  # answers cite the entry's link
    assert "fifty years" in article.text and "Copyright" not in article.text and "feed:" not in article.text

    start = len(site.requests)
    again = poller.poll()
    assert [(r.path, r.status) for r in site.requests[start:]] == [
        ("/rss.xml", 304), ("/atom.xml", 304), ("/rdf.xml", 304)]  # broken.xml is backing off
    assert all(r.if_none_match for r in site.requests[start:])
    assert again.added == 0 and [f.status for f in again.feeds] == ["not-modified"] * 3 + ["backoff"]
    listed = {feed.url: feed for feed in registry.feeds()}
    assert listed[site.base + "/rss.xml"].articles == 3 and listed[site.base + "/atom.xml"].articles == 1
    assert listed[site.base + "/broken.xml"].failures == 1


def test_a_changed_feed_fetches_only_its_new_entries(fresh_site, folders):
    articles, registry = folders
    follow(registry, fresh_site, "/atom.xml")
    poller = FeedPoller(registry, articles)
    poller.poll()
    body = fresh_site.routes["/atom.xml"][1].replace(
        b"<entry>", b"<entry><title>Bridge again</title><link rel='alternate' href='" + fresh_site.base.encode()
        + b"/news/bridge.html'/><id>b</id><updated>2024-03-09T08:00:00Z</updated><summary>s</summary></entry><entry>", 1)
    fresh_site.add_route("/atom.xml", "application/atom+xml", body)
    start = len(fresh_site.requests)
    report = poller.poll()
    assert fresh_site.paths(start) == ["/atom.xml", "/robots.txt", "/news/bridge.html"]
    assert [a.title for a in report.feeds[0].added] == ["Bridge again"]
    assert report.feeds[0].added[0].published == "2024-03-09"  # the entry's date beats the page's


def test_a_feed_that_starts_failing_backs_off_and_recovers(fresh_site, folders):
    articles, registry = folders
    follow(registry, fresh_site, "/flaky.xml", "/rdf.xml")
    poller = FeedPoller(registry, articles)
    assert [f.status for f in poller.poll().feeds] == ["ok", "ok"]
    fresh_site.flaky_failing = True
    fresh_site.add_route("/flaky.xml", "application/rss+xml", rss([], "Flaky Times, changed"))  # no 304 now
    first = poller.poll()
    flaky = first.feeds[0]
    assert flaky.status == "failed" and "500" in flaky.error and first.feeds[1].status == "not-modified"
    record = registry.get(fresh_site.base + "/flaky.xml")
    assert record.failures == 1 and record.backoff_until == pytest.approx(time.time() + backoff_seconds(1), abs=30)
    start = len(fresh_site.requests)
    assert poller.poll().feeds[0].status == "backoff"
    assert "/flaky.xml" not in fresh_site.paths(start)
    later = time.time() + backoff_seconds(1) + 1
    poller.poll(now=later)  # still failing: the wait doubles
    record = registry.get(fresh_site.base + "/flaky.xml")
    assert record.failures == 2 and record.backoff_until - time.time() == pytest.approx(backoff_seconds(2), abs=30)
    assert backoff_seconds(2) == 2 * backoff_seconds(1) and backoff_seconds(50) == backoff_seconds(40)
    fresh_site.flaky_failing = False
    poller.poll(now=time.time() + 10 * backoff_seconds(2))
    record = registry.get(fresh_site.base + "/flaky.xml")
    assert (record.status, record.failures, record.backoff_until, record.error) == ("ok", 0, None, None)


def test_a_timeout_fails_one_feed_and_the_others_are_polled(site, folders):
    articles, registry = folders
    follow(registry, site, "/slow.xml", "/rdf.xml")
    report = FeedPoller(registry, articles, timeout=1.0).poll()
    assert [f.status for f in report.feeds] == ["failed", "ok"]
    assert "no answer within 1 s" in report.feeds[0].error and report.added == 1


def test_a_feed_over_the_size_cap_fails_alone(site, folders):
    articles, registry = folders
    follow(registry, site, "/rss.xml", "/rdf.xml")
    report = FeedPoller(registry, articles, max_bytes=1500).poll()
    assert [f.status for f in report.feeds] == ["failed", "ok"] and "over the limit" in report.feeds[0].error


def test_robots_txt_can_be_ignored_by_the_operator(site, folders):
    articles, registry = folders
    follow(registry, site, "/rss.xml")
    start = len(site.requests)
    report = FeedPoller(registry, articles, respect_robots=False).poll()
    assert "/robots.txt" not in site.paths(start) and "/private/orchard.html" in site.paths(start)
    assert next(a for a in report.feeds[0].added if "apple" in a.title).text_from == "page"


def test_a_huge_feed_is_capped_and_the_rest_waits(fresh_site, folders):
    articles, registry = folders
    items = "".join(f"<item><title>Story number {n}</title><link>{fresh_site.base}/gen/{n}</link>"
                    f"<description>{'word ' * 80}</description></item>" for n in range(40))
    fresh_site.add_route("/huge.xml", "application/rss+xml",
                         f'<rss version="2.0"><channel><title>Huge</title>{items}</channel></rss>'.encode())
    follow(registry, fresh_site, "/huge.xml")
    report = FeedPoller(registry, articles, max_entries=3, respect_robots=False).poll()
    feed = report.feeds[0]
    # The pages are missing, so each entry's own text stands in: the same filler thrice, one story.
    assert len(feed.added) == 1 and len(feed.duplicates) == 2
    assert sum("over the cap of 3" in s.reason for s in feed.skipped) == 37
    assert len(registry.known_links([f"{fresh_site.base}/gen/{n}" for n in range(40)])) == 3
    start = len(fresh_site.requests)
    poller = FeedPoller(registry, articles, max_entries=3, respect_robots=False)
    assert sum("over the cap" in s.reason for s in poller.poll().feeds[0].skipped) == 34  # no 304: 3 more
    assert fresh_site.requests[start].status == 200 and fresh_site.requests[start].if_none_match is None
    assert len(registry.known_links([f"{fresh_site.base}/gen/{n}" for n in range(40)])) == 6


def test_a_chat_feed_follows_the_chat_fetch_rules(site, folders):
    articles, registry = folders
    follow(registry, site, "/rss.xml", from_chat=True)
    report = FeedPoller(registry, articles).poll()
    assert report.feeds[0].status == "failed" and "loopback" in report.feeds[0].error
    allowed = FeedPoller(registry, articles, chat_allow_private=True).poll(now=time.time() + 10**6)
    assert allowed.feeds[0].status == "ok" and allowed.added == 3


def test_a_private_entry_link_is_named_as_such_and_never_fetched(site):
    from newsqa.index.feeds import EntrySkipped, EntryTextFetcher, FeedEntry, RobotsRules

    guarded = ArticleFetcher(allow_private=False)
    texts = EntryTextFetcher(guarded, RobotsRules(guarded))
    start = len(site.requests)
    with pytest.raises(EntrySkipped, match="refusing to fetch from 127.0.0.1.*loopback.*too short"):
        texts.text(FeedEntry(f"{site.base}/news/bridge.html", "Bridge", None, None, None, ["Short."]))
    long_text = texts.text(FeedEntry(f"{site.base}/news/bridge.html", "Bridge", None, None, None, ["word " * 70]))
    assert long_text.source == "feed" and "loopback" in long_text.page_note
    # Neither the page nor its robots.txt was asked for (an earlier test's slow feed request may
    # still reach the shared site meanwhile: only this test's paths are checked).
    assert not {"/news/bridge.html", "/robots.txt"} & set(site.paths(start))


def test_retention_removes_old_feed_articles_and_never_fetches_them_again(site, folders):
    articles, registry = folders
    follow(registry, site, "/rss.xml")
    FeedPoller(registry, articles).poll()
    other = articles / "notes.txt"
    other.write_text("A note of the user's own, not from a feed.\n\nIt stays.")
    # The stories are dated 2024-03-04..06: a 2024-03-10 clock with 4 days keeps the 06 one.
    now = time.mktime((2024, 3, 10, 12, 0, 0, 0, 0, -1))
    removed = FeedPoller(registry, articles, retention_days=4).apply_retention(now)
    assert len(removed) == 2 and all(path.startswith("feeds/") for path in removed)
    left = sorted(p.name for p in (articles / "feeds" / "127.0.0.1").iterdir())
    assert len(left) == 2 and left[0].startswith(".record-apple") and left[1].startswith("record-apple")
    assert other.exists()
    assert len(registry.known_links([f"{site.base}/news/bridge.html", f"{site.base}/wire/storm.html"])) == 2
    assert FeedPoller(registry, articles, retention_days=None).apply_retention(now) == []


def test_near_duplicates_of_a_wire_story_match_and_other_stories_do_not():
    finder = NearDuplicateFinder()
    finder.add("first", signature("\n\n".join(STORM)))
    assert finder.match(signature("\n\n".join(STORM_EDITED))) == "first"
    assert finder.match(signature("A council voted on Thursday to build a new library on the old bus "
                                  "depot site in Market Street, its leader Amara Okafor said.")) is None
    assert 0.3 <= DEFAULT_THRESHOLD <= 0.7  # the measured range of docs/feeds.md


def test_one_poll_at_a_time(site, folders):
    articles, registry = folders
    follow(registry, site, "/rdf.xml")
    with registry.polling():
        with pytest.raises(FeedError, match="another poll of the feeds is running"):
            FeedPoller(registry, articles).poll()
    assert FeedPoller(registry, articles).poll().added == 1


def test_opml_round_trip_and_nested_outlines(tmp_path):
    feeds = [OpmlFeed("https://a.example/rss", "A & B news"), OpmlFeed("https://c.example/atom", None)]
    assert read_opml(write_opml(feeds).encode()) == [OpmlFeed("https://a.example/rss", "A & B news"),
                                                     OpmlFeed("https://c.example/atom", "https://c.example/atom")]
    nested = (b'<opml version="1.0"><body><outline text="News"><outline text="X" xmlUrl="https://x.example/f"/>'
              b'</outline><outline text="no feed"/></body></opml>')
    assert read_opml(nested) == [OpmlFeed("https://x.example/f", "X")]


def test_registry_survives_reopening_and_names_unknown_feeds(tmp_path):
    registry = FeedRegistry(tmp_path / "feeds.sqlite")
    record, new = registry.add("https://a.example/rss", "A")
    assert new and not registry.add("https://a.example/rss", "A2")[1]
    assert FeedRegistry(tmp_path / "feeds.sqlite").get("https://a.example/rss").title == "A2"
    registry.remove("https://a.example/rss")
    with pytest.raises(FeedNotFound, match="not a followed feed"):
        registry.remove("https://a.example/rss")


def test_parse_feed_prefers_full_content_and_reads_dates():
    feed = parse_feed(b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                      b"<title>T</title><item><title>A &amp; B</title><link>https://x.example/1</link>"
                      b"<pubDate>Tue, 05 Mar 2024 23:30:00 -0500</pubDate><description>short</description>"
                      b"<content:encoded><![CDATA[<p>First para.</p><script>x()</script><p>Second <b>para</b>."
                      b"</p>]]></content:encoded></item></channel></rss>")
    entry = feed.entries[0]
    # The publisher's day, not UTC's (which is already the 6th).
    assert (entry.title, entry.published, entry.paragraphs) == ("A & B", "2024-03-05", ["First para.", "Second para."])
