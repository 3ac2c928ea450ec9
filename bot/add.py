"""`newsqa add`: put article files or web pages into the articles folder, then index them."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from newsqa.index import ArticleError, ArticleFetcher, ArticleInbox, ArticleReader, FetchError, SavedArticle, is_url

from .services import NewsqaServices
from .settings import Settings


def fetch_article(settings: Settings, url: str, *, allow_private: bool) -> SavedArticle:
    """Fetch `url` into the articles folder (not indexed yet). The bot's /add passes
    `allow_private=settings.fetch_allow_private`; the operator's `newsqa add` may fetch anything.

    Raises:
        FetchError: the page cannot be fetched (ForbiddenAddress: not a public address).
        ArticleError: the page holds no article.
    """
    reader = ArticleReader(max_bytes=settings.max_article_bytes)
    fetcher = ArticleFetcher(max_bytes=settings.max_article_bytes, timeout=settings.fetch_timeout,
                             allow_private=allow_private)
    return ArticleInbox(settings.articles_dir, reader).save_page(fetcher.fetch(url))


def _save(inbox: ArticleInbox, fetcher: ArticleFetcher, item: str) -> SavedArticle:
    if is_url(item):
        return inbox.save_page(fetcher.fetch(item))
    return inbox.copy_file(Path(item).expanduser())


@click.command()
@click.argument("items", nargs=-1, required=True, metavar="PATH|URL...")
@click.option("--no-index", is_flag=True, help="Only save the articles; index them later.")
@click.option("--json", "as_json", is_flag=True, help="Print what was saved and the index report as JSON.")
@click.pass_context
def add(ctx: click.Context, items: tuple[str, ...], no_index: bool, as_json: bool) -> None:
    """Add article files (.txt, .md, .html) or http(s) URLs to the articles folder and index them.

    Files are copied in; pages are fetched (time, size and redirects bounded; HTML, plain
    text or Markdown only) and saved with their URL, which answers from them cite. An item
    that cannot be added is reported and the others are still added.

    \b
    Example:
      newsqa add ~/Downloads/bridge-reopens.html notes/council-vote.txt
      newsqa add https://news.example/world/bridge-reopens
    """
    from .cli import _run_index  # the CLI's indexing with progress bar and messages

    services: NewsqaServices = ctx.find_object(NewsqaServices)
    settings = services.settings
    reader = ArticleReader(max_bytes=settings.max_article_bytes)
    inbox = ArticleInbox(settings.articles_dir, reader)
    fetcher = ArticleFetcher(max_bytes=settings.max_article_bytes, timeout=settings.fetch_timeout)
    saved: list[SavedArticle] = []
    failed: list[dict[str, str]] = []
    for item in items:
        try:
            article = _save(inbox, fetcher, item)
        except (FetchError, ArticleError) as error:
            failed.append({"item": item, "error": str(error)})
            click.echo(f"could not add: {error}", err=True)
            continue
        saved.append(article)
        if not as_json:
            state = "already there" if article.unchanged else "saved"
            click.echo(f"{state}: {article.source} ({article.title})", err=True)
    report = _run_index(services) if saved and not no_index else None
    if as_json:
        click.echo(json.dumps({
            "saved": [{**asdict(a), "path": str(a.path)} for a in saved], "failed": failed,
            "report": asdict(report) if report else None,
        }, ensure_ascii=False))
    elif report is not None:
        click.echo(report.summary())
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(items)} could not be added")
