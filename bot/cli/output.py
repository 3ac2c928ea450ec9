"""What several commands print: the progress bar, indexing with its messages, answers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from newsqa.index import IndexReader, IndexReport
from newsqa.retrieval import AnswerSet

from ..app import LOCK_WAIT_SECONDS, NewsqaApp


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def app_of(ctx: click.Context) -> NewsqaApp:
    """The application object the root group made for this run."""
    return ctx.find_object(NewsqaApp)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when stderr is a file or pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    # rich loads only for a terminal: scripts and one-shot questions skip its import.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _tell_waiting() -> None:
    click.echo(f"Waiting for another indexer to finish (up to {LOCK_WAIT_SECONDS:.0f} s)...", err=True)


def run_index(app: NewsqaApp, rebuild: bool = False) -> IndexReport:
    """Index with a progress bar, saying why it waits and which articles were skipped."""
    with progress_bar("Embedding articles") as progress:
        report = app.build_index(rebuild=rebuild, progress=progress, on_wait=_tell_waiting)
    echo_article_notes(report)
    return report


def echo_article_notes(report: IndexReport) -> None:
    """On stderr: the articles skipped, and those indexed with a problem, each with why."""
    for skipped in report.skipped:
        click.echo(f"skipped {skipped}", err=True)
    for problem in report.problems:
        click.echo(f"problem {problem}", err=True)


def open_reader(app: NewsqaApp) -> IndexReader:
    """The index reader, building the index first (and saying so) when there is none."""
    def build() -> None:
        click.echo(f"No index at {app.settings.index_dir} yet: building it from "
                   f"{app.settings.articles_dir} first.", err=True)
        click.echo(run_index(app).summary(), err=True)

    return app.open_reader(on_missing=build)


def print_answers(result: AnswerSet) -> None:
    if not result.found:
        click.echo("No answer found in the indexed articles.")
        return
    for number, answer in enumerate(result.answers, 1):
        # One line per quote: a quote spanning a paragraph break keeps its words, not the break
        # (a blank line ends an answer in `chat`).
        click.echo(f"{number}. “{' '.join(answer.quote.split())}”")
        click.echo(f"   {answer.title}" + (f" ({answer.published})" if answer.published else ""))
        click.echo(f"   {answer.url or answer.source}  ·  score {answer.score:.2f}")
        if number < len(result.answers):
            click.echo()
