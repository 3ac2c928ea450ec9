"""The scoring rules of shared/eval/README.md, on hand-made answers."""

from __future__ import annotations

import json

import pytest

from newsqa.retrieval import Answer, AnswerSet
from newsqa.retrieval.evaluation import (
    EvalQuestion,
    QualityReport,
    answer_in,
    load_questions,
    normalize_answer,
    score_answer_set,
)

QUESTION = EvalQuestion("q1", "Who won Super Bowl 50?", ("the Denver Broncos", "Broncos"))


def _answer(quote: str, passage: str) -> Answer:
    return Answer(quote=quote, passage=passage, score=1.0, title="t", source="s")


@pytest.mark.parametrize("text, expected", [
    ("The Denver Broncos!", "denver broncos"),
    ("  A  cat,  an owl   and THE dog. ", "cat owl and dog"),
    ("theory of anthems", "theory of anthems"),  # articles only as whole words
    ("", ""),
])
def test_normalize_answer_is_squad_style(text, expected):
    assert normalize_answer(text) == expected


@pytest.mark.parametrize("answers, text, hit", [
    (("Denver Broncos",), "In 2016 the Denver  Broncos, champions, won.", True),
    (("Denver Broncos",), "The Broncos of Denver won.", False),
    (("308",), "They surrendered 3,080 yards.", True),  # plain substring, as the rules say
    (("",), "anything", False),  # an empty gold answer hits nothing
])
def test_answer_in_matches_normalised_substrings(answers, text, hit):
    assert answer_in(answers, text) is hit


def test_score_answer_set_ranks_the_first_passage_hit():
    result = AnswerSet("q", True, [_answer("Carolina lost.", "Carolina lost the game."),
                                    _answer("Denver won.", "The Broncos won Super Bowl 50.")])
    outcome = score_answer_set(QUESTION, result, 0.01)
    assert (outcome.found, outcome.quote_hit, outcome.passage_rank, outcome.quote_chars) == (True, False, 2, 14)


def test_not_found_scores_nothing():
    outcome = score_answer_set(QUESTION, AnswerSet("q", False, []), 0.01)
    assert (outcome.found, outcome.quote_hit, outcome.passage_rank, outcome.quote_chars) == (False, False, None, None)


def test_report_averages_outcomes():
    results = [
        AnswerSet("a", True, [_answer("the Broncos", "the Broncos won")]),          # quote hit, rank 1
        AnswerSet("b", True, [_answer("nothing", "nothing here"),
                               _answer("x", "x"), _answer("Broncos", "Broncos")]),   # rank 3
        AnswerSet("c", False, []),                                                   # not found
        AnswerSet("d", True, [_answer("no", "no")]),                                 # miss
    ]
    outcomes = [score_answer_set(QUESTION, r, s) for r, s in zip(results, (0.001, 0.002, 0.003, 0.004))]
    report = QualityReport.from_outcomes("demo", outcomes)
    assert report.questions == 4
    assert report.quote_hit_at_1 == 0.25
    assert report.passage_hit_at_1 == 0.25 and report.passage_hit_at_5 == 0.5
    assert report.mrr_at_5 == pytest.approx((1 + 1 / 3) / 4)
    assert report.quote_chars == pytest.approx((11 + 7 + 2) / 3)
    assert report.not_found == 0.25
    assert report.latency_mean_ms == pytest.approx(2.5) and report.latency_p95_ms == pytest.approx(4.0)


def test_ranking_figures_score_the_answers_the_not_found_rule_withheld():
    withheld = AnswerSet("a", True, [_answer("x", "x"), _answer("Broncos", "the Broncos won")])
    outcomes = [
        score_answer_set(QUESTION, AnswerSet("a", False, []), 0.001, withheld),        # lost: rank 2
        score_answer_set(QUESTION, AnswerSet("b", False, []), 0.001,
                         AnswerSet("b", True, [_answer("no", "no")])),                   # rightly not found
        score_answer_set(QUESTION, AnswerSet("c", True, [_answer("Broncos", "Broncos")]), 0.001),  # rank 1
    ]
    report = QualityReport.from_outcomes("demo", outcomes)
    assert report.passage_hit_at_5 == pytest.approx(1 / 3) and report.ranking_passage_hit_at_5 == pytest.approx(2 / 3)
    assert report.ranking_passage_hit_at_1 == pytest.approx(1 / 3)
    assert report.ranking_mrr_at_5 == pytest.approx((1 / 2 + 1) / 3)
    assert report.not_found == pytest.approx(2 / 3) and report.lost_to_threshold == pytest.approx(1 / 3)


def test_load_questions_reads_jsonl_and_rejects_bad_lines(tmp_path):
    rows = [{"id": "1", "question": "Who?", "answers": ["Ann"], "doc_id": "d"},
            {"id": "2", "question": "When?", "answers": ["1990", "in 1990"]}]
    (tmp_path / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert load_questions(tmp_path) == [EvalQuestion("1", "Who?", ("Ann",), "d"),
                                        EvalQuestion("2", "When?", ("1990", "in 1990"), None)]
    assert len(load_questions(tmp_path, limit=1)) == 1
    (tmp_path / "questions.jsonl").write_text('{"id": "1"}\n')
    with pytest.raises(ValueError, match="questions.jsonl:1"):
        load_questions(tmp_path)
