"""`newsqa watch`: reindex whenever the articles folder changes."""

from __future__ import annotations

import time
from pathlib import Path

import click

from newsqa.index import ArticlesDirNotFound, IndexCorrupt, IndexLayerError, IndexLocked
from newsqa.index.errors import IndexWriteFailed

from ..app import NewsqaApp
from ..feeds import FeedService
from .feeds import print_poll
from .output import app_of, run_index

# How often the watcher wakes when nothing changes (its first wake-up starts the work).
_READY_TIMEOUT_MS = 500


class ArticleChangeFilter:
    """Changes worth a reindex: not hidden files or folders, nothing inside the index itself."""

    def __init__(self, articles_dir: Path, index_dir: Path) -> None:
        self.articles_dir = articles_dir.resolve()
        self.index_dir = index_dir.resolve()

    def __call__(self, change: object, path: str) -> bool:
        resolved = Path(path).resolve()
        if resolved.is_relative_to(self.index_dir):
            return False
        try:
            parts = resolved.relative_to(self.articles_dir).parts
        except ValueError:
            return False
        return not any(part.startswith(".") for part in parts)


@click.command()
@click.option("--debounce", type=click.FloatRange(0.05, 60), default=1.0, show_default=True,
              help="Seconds of quiet to wait for after a change before reindexing.")
@click.pass_context
def watch(ctx: click.Context, debounce: float) -> None:
    """Index the articles folder, then reindex it whenever articles change; Ctrl-C stops.

    Changes that come close together are reindexed once. A running `newsqa chat` or bot
    picks up each new index generation by itself. Followed feeds (`newsqa feeds`) are
    polled every NEWSQA_FEED_INTERVAL seconds; their new entries land in the folder and
    are indexed like any other change.

    \b
    Example:
      newsqa watch
      newsqa watch --debounce 5
    """
    app = app_of(ctx)
    articles_dir, index_dir = app.settings.articles_dir, app.settings.index_dir
    if not articles_dir.is_dir():
        raise ArticlesDirNotFound(f"articles folder {articles_dir} does not exist")
    try:
        _watch(app, articles_dir, index_dir, int(debounce * 1000))
    except KeyboardInterrupt:  # Ctrl-C between two waits (while indexing or printing) also ends cleanly
        pass


def _watch(app: NewsqaApp, articles_dir: Path, index_dir: Path, quiet_ms: int) -> None:
    """Index once the watcher is in place, then after each batch of changes."""
    import watchfiles  # loads only for this command

    feeds = FeedService(app.settings)
    next_poll = 0.0  # the first poll comes right after the first index
    watching = False
    # The first (empty) batch comes once the watcher is in place: index then, so that
    # nothing written between the initial index and the start of watching is missed.
    for changes in watchfiles.watch(
        articles_dir, watch_filter=ArticleChangeFilter(articles_dir, index_dir),
        step=quiet_ms, debounce=max(10 * quiet_ms, 5000), raise_interrupt=False,
        yield_on_timeout=True, rust_timeout=_READY_TIMEOUT_MS,
    ):
        if watching and time.monotonic() >= next_poll:
            next_poll = time.monotonic() + app.settings.feed_interval
            _poll(feeds)  # new entries are saved into the folder: the next batch indexes them
        if watching and not changes:
            continue
        try:
            report = run_index(app)
        except IndexLocked as error:
            click.echo(f"{error}; will retry at the next change", err=True)
            continue
        except IndexWriteFailed as error:  # a full disk: keep watching, the next change retries
            click.echo(f"{error} (still watching: the next change is indexed again)", err=True)
            continue
        except IndexLayerError as error:  # whatever the index layer says, the watcher lives on
            advice = " Rebuild it with `newsqa index --rebuild`." if isinstance(error, IndexCorrupt) else ""
            click.echo(f"Indexing failed: {str(error).rstrip('.')}.{advice} (still watching: the next change "
                       f"is indexed again)",
                       err=True)
            continue
        click.echo(f"{time.strftime('%H:%M:%S')} {report.summary()}" if watching else report.summary())
        if not watching:
            click.echo(f"Watching {articles_dir} for changes (Ctrl-C to stop).", err=True)
            watching = True


def _poll(feeds: FeedService) -> None:
    """Poll the followed feeds, if any, and say what came in; a failure never stops the watch."""
    try:
        if not feeds.feeds():
            return
        report = feeds.poll()
    except IndexLayerError as error:
        click.echo(f"feeds not polled: {error}", err=True)
        return
    print_poll(report)
    click.echo(f"{time.strftime('%H:%M:%S')} {report.summary()}")
