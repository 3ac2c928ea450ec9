"""The `newsqa` command line: index articles, ask questions, chat, run the bot."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from pydantic import ValidationError

from newsqa.index import (
    ArticlesDirNotFound,
    IndexCorrupt,
    IndexLayerError,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    IndexReport,
    ModelNotFound,
)
from newsqa.retrieval import AnswerSet, EmptyQuestion, RetrievalError

from . import telegram_cli
from .add import add
from .eval_cmd import eval_command
from .feeds_cli import feeds
from .services import LOCK_WAIT_SECONDS, NewsqaServices
from .settings import Settings, load_settings, warn_about_unknown_settings
from .watch import watch

EXAMPLE_QUESTION = "who led the Chinese delegation?"


class NewsqaGroup(click.Group):
    """The one place where library errors become messages and exit codes."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EmptyQuestion as error:
            raise click.UsageError(str(error), ctx) from None
        except ArticlesDirNotFound as error:
            raise click.ClickException(
                f"{error}. Put articles there or set NEWSQA_ARTICLES_DIR / --articles-dir."
            ) from None
        except IndexCorrupt as error:
            raise click.ClickException(
                f"the index is unreadable ({error}). Rebuild it with `newsqa index --rebuild`."
            ) from None
        except IndexNotFound as error:
            raise click.ClickException(f"{error}. Build it with `newsqa index`.") from None
        except ModelNotFound as error:
            raise click.ClickException(
                f"{error}. Set NEWSQA_EMBEDDING_MODEL to a sentence-transformers model name or "
                f"local path (default all-MiniLM-L6-v2, bundled)."
            ) from None
        except (IndexMismatch, IndexLocked, IndexLayerError, RetrievalError) as error:
            raise click.ClickException(str(error)) from None
        except ValidationError as error:  # a malformed setting in the environment or .env
            problem = error.errors()[0]
            raise click.ClickException(
                f"invalid setting {'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None


def _services(ctx: click.Context) -> NewsqaServices:
    return ctx.find_object(NewsqaServices)


@click.group(cls=NewsqaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--articles-dir", type=click.Path(path_type=Path), default=None,
              help="Folder of articles [env NEWSQA_ARTICLES_DIR; default seeds/].")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None,
              help="Where the index lives [env NEWSQA_INDEX_DIR; default data/index].")
@click.option("--model", "embedding_model", default=None,
              help="sentence-transformers model name or path [env NEWSQA_EMBEDDING_MODEL].")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, to stderr.")
@click.version_option(package_name="newsqa")
@click.pass_context
def cli(ctx: click.Context, articles_dir: Path | None, index_dir: Path | None,
        embedding_model: str | None, verbose: bool) -> None:
    """Ask questions about news articles; get back the sentences that answer them, quoted.

    \b
    Example:
      newsqa index
      newsqa ask "who led the Chinese delegation?"
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    warn_about_unknown_settings()
    settings = load_settings(articles_dir=articles_dir, index_dir=index_dir, embedding_model=embedding_model)
    ctx.obj = NewsqaServices(settings)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when stderr is a file or pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def _tell_waiting() -> None:
    click.echo(f"Waiting for another indexer to finish (up to {LOCK_WAIT_SECONDS:.0f} s)...", err=True)


def _run_index(services: NewsqaServices, rebuild: bool = False) -> IndexReport:
    with _progress("Embedding articles") as progress:
        report = services.build_index(rebuild=rebuild, progress=progress, on_wait=_tell_waiting)
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.source}: {skipped.reason}", err=True)
    return report


@cli.command()
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
    report = _run_index(_services(ctx), rebuild)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(report)))
    else:
        click.echo(report.summary())


def _print_answers(result: AnswerSet) -> None:
    if not result.found:
        click.echo("No answer found in the indexed articles.")
        return
    for number, answer in enumerate(result.answers, 1):
        click.echo(f"{number}. “{answer.quote}”")
        click.echo(f"   {answer.title}" + (f" ({answer.published})" if answer.published else ""))
        click.echo(f"   {answer.url or answer.source}  ·  score {answer.score:.2f}")
        if number < len(result.answers):
            click.echo()


def _reader(services: NewsqaServices):
    def build() -> None:
        click.echo(f"No index at {services.settings.index_dir} yet: building it from "
                   f"{services.settings.articles_dir} first.", err=True)
        click.echo(_run_index(services).summary(), err=True)

    return services.open_reader(on_missing=build)


class IsoDay(click.ParamType):
    """A calendar day written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a day in the form YYYY-MM-DD (e.g. 2023-03-02)", param, ctx)


def _stdin_question(line: str, default_as_of: date) -> tuple[str, date]:
    """A line of `ask --json` input: plain text, or a JSON object {"question", "as_of"}.

    Raises:
        ValueError: a JSON line that is not such an object, or a bad as_of.
    """
    text = line.rstrip("\n")
    if not text.lstrip().startswith("{"):
        return text, default_as_of
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not a JSON object: {error}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("question"), str):
        raise ValueError('a JSON line needs a "question" string, e.g. {"question": "...", "as_of": "2023-03-02"}')
    as_of = payload.get("as_of")
    if as_of is None:
        return payload["question"], default_as_of
    try:
        return payload["question"], date.fromisoformat(str(as_of))
    except ValueError:
        raise ValueError(f"as_of {as_of!r} is not a day in the form YYYY-MM-DD") from None


@cli.command()
@click.argument("question", required=False)
@click.option("-k", "--top", "k", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many answers to show.")
@click.option("--as-of", "as_of", type=IsoDay(), default=None,
              help="Answer as of this day: nothing published after it is quoted, and \"this week\" "
                   "is the week before it [default: today].")
@click.option("--since", type=IsoDay(), default=None,
              help="Only quote articles published on or after this day.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON; without QUESTION, answer each line of stdin with one JSON line "
                   "(a line may be {\"question\": ..., \"as_of\": \"YYYY-MM-DD\"}).")
@click.pass_context
def ask(ctx: click.Context, question: str | None, k: int, as_of: date | None, since: date | None,
        as_json: bool) -> None:
    """Answer QUESTION with quotes from the articles (builds the index if there is none).

    \b
    Example:
      newsqa ask "who led the Chinese delegation?"
      newsqa ask --as-of 2023-03-02 "what did the Supreme Court take up this week?"
      newsqa ask -k 5 --json "who led the Chinese delegation?"
      printf 'who led the Chinese delegation?\\nwhen is Victory Day?\\n' | newsqa ask --json
      echo '{"question": "who won?", "as_of": "2023-03-03"}' | newsqa ask --json
    """
    services = _services(ctx)
    if question is None and not as_json:
        raise click.UsageError("give a QUESTION, or use --json to read questions from stdin", ctx)
    if question is not None and not question.strip():
        raise EmptyQuestion("the question is empty; ask something like “who led the Chinese delegation?”")
    day = as_of or date.today()
    answerer = services.answerer(_reader(services))
    if question is not None:
        result = answerer.ask(question, k, as_of=day, since=since)
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            _print_answers(result)
        return
    for line in sys.stdin:
        text = line.rstrip("\n")
        try:
            text, line_day = _stdin_question(line, day)
            payload = answerer.ask(text, k, as_of=line_day, since=since).to_dict()
        except (EmptyQuestion, ValueError) as error:
            payload = {"question": text, "found": False, "answers": [], "error": str(error)}
        click.echo(json.dumps(payload, ensure_ascii=False))
        sys.stdout.flush()


@cli.command()
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
    services = _services(ctx)
    answerer = services.answerer(_reader(services))
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
            _print_answers(answerer.ask(question, k, as_of=date.today()))
        except EmptyQuestion as error:
            click.echo(str(error), err=True)
        click.echo()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Show what the index holds: articles, chunks, generation, age.

    \b
    Example:
      newsqa stats
    """
    from dataclasses import asdict

    from newsqa.index import IndexReader

    services = _services(ctx)
    snapshot = IndexReader(services.settings.index_dir).snapshot
    info = asdict(snapshot.stats())
    info["model"] = snapshot.manifest.model
    info["backend"] = snapshot.manifest.backend
    info["vector_index"] = snapshot.manifest.vector_index
    info["index_dir"] = str(services.settings.index_dir)
    if as_json:
        click.echo(json.dumps(info))
        return
    age = f"{(time.time() - info['updated_at']) / 60:.0f} min ago" if info["updated_at"] else "never"
    click.echo(f"{info['articles']} articles ({info['sources']} sources), {info['chunks']} chunks, "
               f"generation {info['generation']}, updated {age}; model {info['model']}; {info['index_dir']}")


cli.add_command(add)
cli.add_command(watch)
cli.add_command(telegram_cli.bot)
cli.add_command(eval_command)
cli.add_command(feeds)


def main() -> None:
    """Console entry point."""
    cli(prog_name="newsqa")
