"""`newsqa ask` and `newsqa chat`: answer questions with quotes from the index."""

from __future__ import annotations

import json
import sys

import click

from newsqa.retrieval import EmptyQuestion

from .output import app_of, open_reader, print_answers


@click.command()
@click.argument("question", required=False)
@click.option("-k", "--top", "k", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many answers to show.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON; without QUESTION, answer each line of stdin with one JSON line.")
@click.pass_context
def ask(ctx: click.Context, question: str | None, k: int, as_json: bool) -> None:
    """Answer QUESTION with quotes from the articles (builds the index if there is none).

    \b
    Example:
      newsqa ask "who led the Chinese delegation?"
      newsqa ask -k 5 --json "who led the Chinese delegation?"
      printf 'who led the Chinese delegation?\\nwhen is Victory Day?\\n' | newsqa ask --json
    """
    app = app_of(ctx)
    if question is None and not as_json:
        raise click.UsageError("give a QUESTION, or use --json to read questions from stdin", ctx)
    if question is not None and not question.strip():
        raise EmptyQuestion("the question is empty; ask something like “who led the Chinese delegation?”")
    answerer = app.answerer(open_reader(app))
    if question is not None:
        result = answerer.ask(question, k)
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            print_answers(result)
        return
    for line in sys.stdin:
        text = line.rstrip("\n")
        try:
            payload = answerer.ask(text, k).to_dict()
        except EmptyQuestion as error:
            payload = {"question": text, "found": False, "answers": [], "error": str(error)}
        click.echo(json.dumps(payload, ensure_ascii=False))
        sys.stdout.flush()


@click.command()
@click.option("-k", "--top", "k", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many answers to show.")
@click.pass_context
def chat(ctx: click.Context, k: int) -> None:
    """Ask several questions in a row; an empty line or Ctrl-D ends.

    \b
    Example:
      newsqa chat
      > who led the Chinese delegation?
    """
    app = app_of(ctx)
    answerer = app.answerer(open_reader(app))
    click.echo("Ask about the news (empty line or Ctrl-D to quit).", err=True)
    while True:
        try:
            question = click.prompt("?", prompt_suffix=" ", default="", show_default=False, err=True)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        answerer.reader.refresh()
        try:
            print_answers(answerer.ask(question, k))
        except EmptyQuestion as error:
            click.echo(str(error), err=True)
        click.echo()
