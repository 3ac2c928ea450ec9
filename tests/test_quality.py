"""Answer quality does not regress: a slice of xquad_en (10 articles, 285 questions) and a
dated slice of news_dev (112 articles, 23 questions asked as of their day).

Thresholds sit a little under what the defaults measure on this slice (docs/quality.md);
the whole-set figures come from `newsqa eval`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import QUIZ_QUESTION, write_quiz_and_report
from newsqa.bot.cli import cli
from newsqa.index import IndexBuilder, IndexReader
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval import config as scoring
from newsqa.retrieval.evaluation import EvalQuestion, evaluate, load_questions, measure_honesty

SLICE = Path(__file__).resolve().parent / "fixtures" / "xquad_en_slice"
# Measured on the slice with the defaults: see docs/quality.md.
QUOTE_HIT_AT_1, PASSAGE_HIT_AT_1, PASSAGE_HIT_AT_5 = 0.86, 0.95, 0.985  # measured 0.891, 0.979, 1.000
# Questions about what the slice does not hold.
FOREIGN = ["What is the price of bitcoin today?", "How many goals did Lionel Messi score in 2012?",
           "Who designed the Eiffel Tower?", "What did the central bank decide about interest rates?",
           "Which vaccine did the WHO approve for children under five?"]


@pytest.fixture(scope="module")
def slice_index(tmp_path_factory, encoder) -> Path:
    directory = tmp_path_factory.mktemp("xquad-slice-index")
    report = IndexBuilder(directory, encoder).update(SLICE / "articles")
    assert len(report.added) == 10 and not report.skipped
    return directory


def test_quality_on_xquad_slice(slice_index, encoder):
    questions = load_questions(SLICE)
    report = evaluate(QuestionAnswerer(IndexReader(slice_index), encoder), questions, "slice", batch_size=32)
    assert report.questions == 285
    assert report.quote_hit_at_1 >= QUOTE_HIT_AT_1, report
    assert report.quote_chars <= 300, report
    assert report.passage_hit_at_1 >= PASSAGE_HIT_AT_1, report
    assert report.passage_hit_at_5 >= PASSAGE_HIT_AT_5, report
    assert report.not_found <= 0.03, report
    # The ranking alone (issue 5's passage_hit@5 >= 0.99 as the reference pipelines are scored)
    # can only hold more answers than what the not-found rule lets through.
    assert report.ranking_passage_hit_at_5 >= max(0.99, report.passage_hit_at_5), report
    assert report.lost_to_threshold <= report.not_found, report


def test_eval_command_reuses_the_index_and_prints_json(cli_env, slice_index):
    result = CliRunner().invoke(cli, ["eval", str(SLICE), "--index-dir", str(slice_index), "--limit", "20",
                                      "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["dataset"] == "xquad_en_slice" and figures["questions"] == 20
    assert 0.5 <= figures["quote_hit_at_1"] <= 1 and figures["latency_p95_ms"] > 0
    assert figures["index_dir"] == str(slice_index)
    assert figures["ranking_passage_hit_at_5"] >= figures["passage_hit_at_5"]
    assert 0 <= figures["lost_to_threshold"] <= figures["not_found"]
    # Every scoring parameter of retrieval/config.py is printed, with the value in force.
    printed = _flatten(figures["config"])
    parameters = {name.lower(): value for name, value in vars(scoring).items() if name.isupper()}
    assert parameters and {name: printed.get(name) for name in parameters} == parameters


def _flatten(config: dict) -> dict:
    """The leaves of a nested config, by their own key."""
    leaves = {}
    for key, value in config.items():
        leaves.update(_flatten(value) if isinstance(value, dict) else {key: value})
    return leaves


def test_eval_command_refuses_a_folder_without_articles(cli_env, tmp_path):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "questions.jsonl").write_text('{"id": "1", "question": "Who?", "answers": ["x"]}\n')
    result = CliRunner().invoke(cli, ["eval", str(dataset)])
    assert result.exit_code == 2 and "articles/" in result.output


def test_eval_command_measures_honesty_on_foreign_questions(cli_env, slice_index, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "questions.jsonl").write_text("".join(
        json.dumps({"id": str(n), "question": q, "answers": ["-"]}) + "\n" for n, q in enumerate(FOREIGN)))
    result = CliRunner().invoke(cli, ["eval", str(SLICE), "--index-dir", str(slice_index), "--limit", "10",
                                      "--not-found-of", str(foreign)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "quote_hit@1" in result.stdout and "p95" in result.stdout
    print(result.stdout)
    assert "100.0% of 5 foreign questions answered not found" in result.stdout


def test_honesty_asks_as_the_answerable_questions_are_asked(tmp_path, encoder):
    """The not-found rule judges the best quote of the passages examined: the other set's
    questions are asked as the set's own are (TOP_K answers), or the two shares not found would
    not compare. Here the passages ranked first only restate the question (never quoted), and
    the one that answers comes fourth. The answerer examines passages for the answers asked
    only (min_answers_examined=1), so asking for fewer would examine the quiz pages alone."""
    write_quiz_and_report(tmp_path / "articles")
    assert len(IndexBuilder(tmp_path / "index", encoder).update(tmp_path / "articles").added) == 4
    answerer = QuestionAnswerer(IndexReader(tmp_path / "index"), encoder, min_answers_examined=1)
    questions = [EvalQuestion("1", QUIZ_QUESTION, ("customs house",))]
    assert evaluate(answerer, questions).passage_hit_at_5 == 1.0
    assert measure_honesty(answerer, questions).not_found == 0.0


# -- a dated slice of news_dev (RealTime QA quizzes over real news, read from ../shared/eval) --

NEWS_DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "news_dev"
# The first four quiz days' questions, over the articles of the first six days' questions: the
# later days' articles cover the same running stories and must never be quoted before their day.
NEWS_QUESTION_DAYS, NEWS_ARTICLE_DAYS = 4, 6
# One question under what the defaults measure on this slice (2026-12-02: 14, 16 and 21 of 23,
# i.e. 0.609, 0.696, 0.913; mean quote 225 chars, 280 since quotes join across paragraphs).
NEWS_QUOTE_HIT_AT_1, NEWS_PASSAGE_HIT_AT_1, NEWS_PASSAGE_HIT_AT_5 = 13 / 23, 15 / 23, 20 / 23


@pytest.fixture(scope="module")
def news_slice(tmp_path_factory, encoder) -> tuple[Path, Path]:
    """(dataset folder, index folder) of the news_dev slice."""
    if not NEWS_DEV.is_dir():
        pytest.fail(f"the shared eval sets are missing: {NEWS_DEV} (CI has ../shared beside the clone)")
    rows = [json.loads(line) for line in (NEWS_DEV / "questions.jsonl").read_text().splitlines() if line.strip()]
    days = sorted({row["as_of"] for row in rows})
    dataset = tmp_path_factory.mktemp("news-slice")
    (dataset / "articles").mkdir()
    for doc in sorted({d for row in rows if row["as_of"] in days[:NEWS_ARTICLE_DAYS] for d in row["doc_ids"]}):
        (dataset / "articles" / f"{doc}.md").write_bytes((NEWS_DEV / "articles" / f"{doc}.md").read_bytes())
    (dataset / "questions.jsonl").write_text("".join(
        json.dumps(row) + "\n" for row in rows if row["as_of"] in days[:NEWS_QUESTION_DAYS]))
    index = tmp_path_factory.mktemp("news-slice-index")
    report = IndexBuilder(index, encoder).update(dataset / "articles")
    assert not report.skipped
    return dataset, index


def test_quality_on_a_dated_news_slice(news_slice, encoder):
    dataset, index = news_slice
    questions = load_questions(dataset)
    answerer = QuestionAnswerer(IndexReader(index), encoder)
    results = answerer.ask_many([q.question for q in questions], 5, as_of=[q.as_of for q in questions])
    for question, result in zip(questions, results):
        assert all(a.published is None or a.published <= question.as_of.isoformat() for a in result.answers), \
            (question.question, [a.published for a in result.answers])
    report = evaluate(answerer, questions, "news_slice", batch_size=1)
    assert report.questions == 23
    assert report.quote_hit_at_1 >= NEWS_QUOTE_HIT_AT_1, report
    assert report.quote_chars <= 300, report
    assert report.passage_hit_at_1 >= NEWS_PASSAGE_HIT_AT_1, report
    assert report.passage_hit_at_5 >= NEWS_PASSAGE_HIT_AT_5, report
