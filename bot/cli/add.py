"""`newsqa add`: put article files or web pages into the articles folder, then index them."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from newsqa.index import SavedArticle

from .output import app_of, run_index


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
    app = app_of(ctx)

    def saved(article: SavedArticle) -> None:
        if not as_json:
            state = "already there" if article.unchanged else "saved"
            click.echo(f"{state}: {article.source} ({article.title})", err=True)

    def failed(item: str, reason: str) -> None:
        click.echo(f"could not add: {reason}", err=True)

    # The operator's own command may fetch from any address (the bot's /add may not).
    result = app.add(items, allow_private=True, on_saved=saved, on_failed=failed)
    report = run_index(app) if result.saved and not no_index else None
    if as_json:
        click.echo(json.dumps({
            "saved": [{**asdict(a), "path": str(a.path)} for a in result.saved],
            "failed": [{"item": item, "error": error} for item, error in result.failed],
            "report": asdict(report) if report else None,
        }, ensure_ascii=False))
    elif report is not None:
        click.echo(report.summary())
    if result.failed:
        raise click.ClickException(f"{len(result.failed)} of {len(items)} could not be added")
