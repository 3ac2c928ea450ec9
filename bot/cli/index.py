"""`newsqa index` and `newsqa stats`: build the index, and say what it holds."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from .output import app_of, run_index


@click.command()
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch (new model or chunking, or a broken index).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool, as_json: bool) -> None:
    """Build or update the index of the articles folder.

    Only new and changed articles are embedded; removed ones leave the index.

    \b
    Example:
      newsqa index
      NEWSQA_ARTICLES_DIR=~/news newsqa index --rebuild
    """
    report = run_index(app_of(ctx), rebuild)
    if as_json:
        click.echo(json.dumps(asdict(report)))
    else:
        click.echo(report.summary())


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show what the index holds: articles, chunks, generation, age.

    \b
    Example:
      newsqa stats
    """
    info = app_of(ctx).index_info()
    if as_json:
        click.echo(json.dumps(info.to_dict()))
        return
    minutes = info.minutes_old
    age = f"{minutes:.0f} min ago" if minutes is not None else "never"
    click.echo(f"{info.articles} articles ({info.sources} sources), {info.chunks} chunks, "
               f"generation {info.generation}, updated {age}; model {info.model}; "
               f"storage {'Milvus' if info.storage == 'milvus' else 'local FAISS + SQLite'}; {info.index_dir}")
