"""`newsqa eval DATASET_DIR`: answer quality on a question set, as figures."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from newsqa.index import IndexReader
from newsqa.retrieval.evaluation import evaluate, load_questions, measure_honesty

from ..app import NewsqaApp
from .output import app_of, echo_article_notes


def _open_dataset_index(app: NewsqaApp, dataset_dir: Path, index_dir: Path,
                        rebuild: bool, quiet: bool) -> IndexReader:
    """Build (or bring up to date) the index of the dataset's articles, then open it."""
    articles = dataset_dir / "articles"
    if not articles.is_dir():
        raise click.UsageError(f"{dataset_dir} has no articles/ folder: a dataset is a folder with "
                               f"articles/ and questions.jsonl")
    reader, report = app.open_dataset_index(articles, index_dir, rebuild)
    if not quiet and report.changed:
        click.echo(f"{index_dir}: {report.summary()}", err=True)
    echo_article_notes(report)
    return reader


def _progress_bar(label: str, total: int, quiet: bool):
    if quiet:
        return None
    return click.progressbar(length=total, label=label, file=sys.stderr)


@click.command("eval")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--index-dir", "eval_index_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index of the dataset's articles [default: a cache under the data folder].")
@click.option("--rebuild", is_flag=True, help="Rebuild the dataset's index from scratch.")
@click.option("--not-found-of", "foreign", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Also ask this other dataset's questions of DATASET_DIR's index "
                                 "and report the share rightly answered found:false.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N questions.")
@click.option("--batch-size", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Questions answered together (latency is per question either way).")
@click.pass_context
def eval_command(ctx: click.Context, dataset_dir: Path, as_json: bool, eval_index_dir: Path | None,
                 rebuild: bool, foreign: Path | None, limit: int | None, batch_size: int) -> None:
    """Measure answer quality on DATASET_DIR (articles/ + questions.jsonl).

    Prints quote_hit@1, mean quote length, passage_hit@1/@5, MRR@5, the share of
    questions answered "not found", and latency per question (mean, p95). Passage figures
    are also given for the ranking alone (the not-found rule off), as reference pipelines
    without such a rule are scored. The dataset's index is built once and reused.

    \b
    Example:
      newsqa eval ../shared/eval/xquad_en
      newsqa eval ../shared/eval/covidqa --not-found-of ../shared/eval/xquad_en --json
    """
    app = app_of(ctx)
    questions = load_questions(dataset_dir, limit)
    if not questions:
        raise click.UsageError(f"{dataset_dir}/questions.jsonl holds no questions")
    index_dir = eval_index_dir or app.dataset_index_dir(dataset_dir)
    reader = _open_dataset_index(app, dataset_dir, index_dir, rebuild, as_json)
    answerer = app.answerer(reader)
    app.encoder.encode_queries(["warm up"])  # model load is not question latency
    bar = _progress_bar("Answering", len(questions), as_json)
    if bar is None:
        report = evaluate(answerer, questions, dataset_dir.name, batch_size=batch_size)
    else:
        with bar:
            def progress(done: int, total: int) -> None:
                bar.update(done - bar.pos)

            report = evaluate(answerer, questions, dataset_dir.name, batch_size=batch_size, progress=progress)
    honesty = None
    if foreign is not None:
        honesty = measure_honesty(answerer, load_questions(foreign, limit), dataset_dir.name, foreign.name)
    if as_json:
        payload = asdict(report)
        payload["index_dir"] = str(index_dir)
        payload["config"] = answerer.scoring_config()
        if honesty is not None:
            payload["honesty"] = asdict(honesty)
        click.echo(json.dumps(payload))
        return
    click.echo(f"{report.dataset}: {report.questions} questions ({index_dir})")
    click.echo(f"  quote_hit@1     {report.quote_hit_at_1:.3f}   mean quote {report.quote_chars:.0f} chars")
    click.echo(f"  passage_hit@1   {report.passage_hit_at_1:.3f}   ranking alone {report.ranking_passage_hit_at_1:.3f}")
    click.echo(f"  passage_hit@5   {report.passage_hit_at_5:.3f}   ranking alone {report.ranking_passage_hit_at_5:.3f}")
    click.echo(f"  MRR@5           {report.mrr_at_5:.3f}   ranking alone {report.ranking_mrr_at_5:.3f}")
    click.echo(f"  not found       {report.not_found:.1%} of these answerable questions "
               f"({report.lost_to_threshold:.1%} with the answer in the ranking's top 5)")
    click.echo(f"  latency         mean {report.latency_mean_ms:.1f} ms, p95 {report.latency_p95_ms:.1f} ms per question")
    if honesty is not None:
        click.echo(f"  honesty         {honesty.not_found:.1%} of {honesty.questions} {honesty.question_dataset} "
                   f"questions answered not found")
