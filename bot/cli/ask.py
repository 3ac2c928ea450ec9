"""`newsqa ask` and `newsqa chat`: answer questions with quotes from the index."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from newsqa.retrieval import EmptyQuestion

from .output import app_of, open_reader, print_answers


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


def _check_span(since: date | None, as_of: date) -> None:
    """Refuses a span that ends before it starts (two days swapped, most likely).

    Raises:
        ValueError: `since` is after `as_of`.
    """
    if since is not None and since > as_of:
        raise ValueError(f"--since {since.isoformat()} is after the day answered as of ({as_of.isoformat()}): "
                         "give a day on or before it")


@click.command()
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
    app = app_of(ctx)
    if question is None and not as_json:
        raise click.UsageError("give a QUESTION, or use --json to read questions from stdin", ctx)
    if question is not None and not question.strip():
        raise EmptyQuestion("the question is empty; ask something like “who led the Chinese delegation?”")
    day = as_of or date.today()
    if question is not None:
        try:
            _check_span(since, day)
        except ValueError as error:
            raise click.UsageError(str(error), ctx) from None
    answerer = app.answerer(open_reader(app))
    if question is not None:
        result = answerer.ask(question, k, as_of=day, since=since)
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            print_answers(result)
        return
    answerer.warm_up()
    for line in sys.stdin:
        text = line.rstrip("\n")
        try:
            text, line_day = _stdin_question(line, day)
            _check_span(since, line_day)
            payload = answerer.ask(text, k, as_of=line_day, since=since).to_dict()
        except (EmptyQuestion, ValueError) as error:
            payload = {"question": text, "found": False, "answers": [], "error": str(error)}
        click.echo(json.dumps(payload, ensure_ascii=False))
        sys.stdout.flush()


@click.command()
@click.option("-k", "--top", "k", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many answers to show.")
@click.option("--json", "as_json", is_flag=True,
              help="Read questions from stdin, one a line, and print one JSON line each: `ask --json`'s "
                   "fields plus understood_as, the question as searched.")
@click.pass_context
def chat(ctx: click.Context, k: int, as_json: bool) -> None:
    """Ask several questions in a row; an empty line or Ctrl-D ends, /new forgets the earlier ones.

    A short follow-up ("and the Russian one?", "when?", "what is he a member of?") is
    answered as the question it stands for, built from the previous one; the answer says how
    it was understood. NEWSQA_CONTEXT_MINUTES sets how long earlier questions count.

    \b
    Example:
      newsqa chat
      > who led the Chinese delegation?
      > and the Russian one?
      printf 'who led the Chinese delegation?\\nand the Russian one?\\n' | newsqa chat --json
    """
    app = app_of(ctx)
    answerer = app.answerer(open_reader(app))
    answerer.warm_up()
    conversation = app.conversation()
    if as_json:
        for line in sys.stdin:
            text = line.rstrip("\n")
            if text.strip() == "/new":
                conversation.reset()
                continue
            try:
                payload = app.ask_in(conversation, answerer, text, k, as_of=date.today()).to_dict()
            except EmptyQuestion as error:
                payload = {"question": text, "understood_as": None, "found": False, "answers": [],
                           "error": str(error)}
            click.echo(json.dumps(payload, ensure_ascii=False))
            sys.stdout.flush()
        return
    click.echo("Ask about the news (empty line or Ctrl-D to quit, /new to start afresh).", err=True)
    while True:
        try:
            question = click.prompt("?", prompt_suffix=" ", default="", show_default=False, err=True)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        if question.strip() == "/new":
            conversation.reset()
            click.echo("Starting afresh.", err=True)
            continue
        answerer.reader.refresh()
        try:
            answer = app.ask_in(conversation, answerer, question, k, as_of=date.today())
        except EmptyQuestion as error:
            click.echo(str(error), err=True)
            continue
        if answer.is_follow_up:
            click.echo(f"Understood as: {answer.understood_as}")
        print_answers(answer.result)
        click.echo()
