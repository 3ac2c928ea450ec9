"""Answering from the seed index with the real model: the right quote, verbatim."""

from __future__ import annotations

import pytest

from conftest import SEED_FILE
from newsqa.retrieval import EmptyQuestion, rrf_fuse

EXAMPLE = "who led the Chinese delegation?"
LI_SENTENCE = "China also confirmed Tuesday it would send a delegation led by Politburo member Li Hongzhong."


def test_example_question_quotes_li_hongzhong_first(seed_answerer):
    result = seed_answerer.ask(EXAMPLE)
    assert result.found
    top = result.answers[0]
    assert "Li Hongzhong" in top.quote
    assert top.quote == LI_SENTENCE
    assert top.title == "Top Russian, Chinese Officials To Visit North Korea in Post-Pandemic First"
    assert top.source.endswith(SEED_FILE.name)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is Russia's defense minister?", "Sergei Shoigu"),
        ("When was the Korean War armistice signed?", "July 27, 1953"),
        ("Which US submarine arrived at a South Korean naval base?", "USS Annapolis"),
        ("What is the name of the US soldier believed to be in North Korean custody?", "Travis King"),
    ],
)
def test_other_seed_questions(seed_answerer, question, expected):
    result = seed_answerer.ask(question)
    assert result.found
    assert expected in result.answers[0].quote


def test_quotes_are_verbatim_sentences_not_chunks(seed_answerer):
    raw = SEED_FILE.read_text()
    for question in (EXAMPLE, "Why did North Korea close its borders?", "What did Seoul detect?"):
        for answer in seed_answerer.ask(question, k=5).answers:
            assert answer.quote in raw
            assert answer.quote in answer.passage
            assert len(answer.quote) < len(answer.passage) or len(answer.passage) < 300


def test_answers_ranked_and_never_repeat_a_quote(seed_answerer):
    answers = seed_answerer.ask(EXAMPLE, k=10).answers
    scores = [a.score for a in answers]
    assert scores == sorted(scores, reverse=True)
    quotes = [" ".join(a.quote.split()) for a in answers]
    assert len(quotes) == len(set(quotes))


@pytest.mark.parametrize(
    "question",
    ["What is the recipe for sourdough bread?", "How do I configure a Kubernetes ingress?",
     "Who won the 1998 FIFA World Cup final?"],
)
def test_unrelated_question_is_not_found(seed_answerer, question):
    result = seed_answerer.ask(question)
    assert not result.found and result.answers == []


@pytest.mark.parametrize("question", ["", "   ", "?!...", "\x00\x01"])
def test_empty_question_raises(seed_answerer, question):
    with pytest.raises(EmptyQuestion):
        seed_answerer.ask(question)


def test_huge_question_is_answered_not_crashed(seed_answerer):
    result = seed_answerer.ask("who led the Chinese delegation? " * 5000)
    assert isinstance(result.found, bool)


def test_rrf_fuse_rewards_agreement():
    fused = rrf_fuse([[1, 2, 3], [3, 1, 4]], [1.0, 1.0])
    assert [item for item, _ in fused][:2] == [1, 3]
    assert {item for item, _ in fused} == {1, 2, 3, 4}
