"""`newsqa feeds`: follow RSS and Atom feeds, list them, poll them into the index."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import click

from newsqa.index.feeds import FeedRecord, PollReport

from ..feeds import FeedService, poll_and_index
from .output import app_of, plural, run_index


def _when(timestamp: float | None) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else None


def feed_json(feed: FeedRecord) -> dict[str, object]:
    """A feed as `feeds list --json` prints it (times as local `YYYY-MM-DD HH:MM:SS`)."""
    return {"url": feed.url, "title": feed.title, "status": feed.status, "last_poll": _when(feed.last_poll),
            "error": feed.error, "failures": feed.failures, "backoff_until": _when(feed.backoff_until),
            "articles": feed.articles, "from_chat": feed.from_chat}


def _service(ctx: click.Context) -> FeedService:
    return FeedService(app_of(ctx).settings)


@click.group()
def feeds() -> None:
    """Follow RSS and Atom feeds: each new entry becomes a dated article, indexed.

    `newsqa watch` and `newsqa bot` poll the feeds every NEWSQA_FEED_INTERVAL seconds;
    `newsqa feeds poll` polls them once (for cron).

    \b
    Example:
      newsqa feeds add https://news.example/rss.xml
      newsqa feeds poll
      newsqa feeds list
    """


@feeds.command("add")
@click.argument("url")
@click.pass_context
def add_feed(ctx: click.Context, url: str) -> None:
    """Follow the feed at URL (RSS 2.0, RSS 1.0, Atom, or a page that links one).

    \b
    Example:
      newsqa feeds add https://news.example/rss.xml
      newsqa feeds add https://news.example/
    """
    result = _service(ctx).follow(url)
    state = "Following" if result.new else "Already following"
    click.echo(f"{state}: {result.feed.title or result.feed.url} ({result.feed.url})")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_feeds(ctx: click.Context, as_json: bool) -> None:
    """List the followed feeds: title, last poll and status, articles saved.

    \b
    Example:
      newsqa feeds list
      newsqa feeds list --json
    """
    followed = _service(ctx).feeds()
    if as_json:
        click.echo(json.dumps([feed_json(feed) for feed in followed], ensure_ascii=False))
        return
    if not followed:
        click.echo("No feeds followed yet. Add one with `newsqa feeds add URL`.", err=True)
    for feed in followed:
        polled = f"polled {_when(feed.last_poll)}" if feed.last_poll else "not polled yet"
        status = feed.status
        if feed.backoff_until and feed.backoff_until > time.time():
            status += f", {feed.failures} failures, next try after {_when(feed.backoff_until)}"
        click.echo(f"{feed.title or '(no title)'}  {feed.url}")
        click.echo(f"   {polled}: {status}; {plural(feed.articles, 'article')}"
                   + (f"\n   {feed.error}" if feed.error else ""))


@feeds.command("remove")
@click.argument("url")
@click.pass_context
def remove_feed(ctx: click.Context, url: str) -> None:
    """Stop following URL; the articles already saved from it stay.

    \b
    Example:
      newsqa feeds remove https://news.example/rss.xml
    """
    feed = _service(ctx).unfollow(url)
    click.echo(f"No longer following: {feed.title or feed.url} ({plural(feed.articles, 'saved article')} kept)")


@feeds.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def import_feeds(ctx: click.Context, file: Path) -> None:
    """Follow every feed an OPML FILE lists (feed readers export these); checked at the next poll.

    \b
    Example:
      newsqa feeds import subscriptions.opml
    """
    results = _service(ctx).import_opml(file)
    new = sum(result.new for result in results)
    click.echo(f"{new} feeds added, {len(results) - new} already followed.")


@feeds.command("export")
@click.pass_context
def export_feeds(ctx: click.Context) -> None:
    """Print the followed feeds as OPML, for a feed reader or another newsqa.

    \b
    Example:
      newsqa feeds export > subscriptions.opml
    """
    click.echo(_service(ctx).export_opml(), nl=False)


def print_poll(report: PollReport) -> None:
    """What a poll brought, one line per article, skip, duplicate and failure (on stderr)."""
    for feed in report.feeds:
        name = feed.title or feed.url
        for added in feed.added:
            click.echo(f"added: {added.title} ({added.url})" + (" [the feed's own text]" if added.text_from == "feed"
                                                                  else ""), err=True)
        for duplicate in feed.duplicates:
            click.echo(f"duplicate: {duplicate.url} is a duplicate of {duplicate.duplicate_of}", err=True)
        for skipped in feed.skipped:
            click.echo(f"skipped: {skipped.url or skipped.title or '(an entry)'}: {skipped.reason}", err=True)
        if feed.failed:
            click.echo(f"failed: {name}: {feed.error}", err=True)
    for path in report.removed:
        click.echo(f"removed (older than the retention): {path}", err=True)


@feeds.command("poll")
@click.option("--json", "as_json", is_flag=True, help="Print the poll and index reports as JSON.")
@click.pass_context
def poll_feeds(ctx: click.Context, as_json: bool) -> None:
    """Poll every feed once, save the new entries and index them.

    Exit status 0 when every feed was polled, 1 when any failed (or is backing off after
    failures); the others are polled all the same.

    \b
    Example:
      newsqa feeds poll
      newsqa feeds poll --json
    """
    app = app_of(ctx)
    polled = poll_and_index(app, lambda: run_index(app))
    report = polled.poll
    if as_json:
        click.echo(json.dumps({"feeds": [asdict(feed) for feed in report.feeds], "removed": report.removed,
                               "index": asdict(polled.index) if polled.index else None}, ensure_ascii=False))
    else:
        print_poll(report)
        click.echo(report.summary())
        if polled.index is not None:
            click.echo(polled.index.summary())
    if report.failed:
        raise click.ClickException(f"{len(report.failed)} of {plural(len(report.feeds), 'feed')} failed")
