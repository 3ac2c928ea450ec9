"""Scoring answer quality on a question set.

A dataset folder holds `articles/` (one article per file) and `questions.jsonl` (one line
per question: `id`, `question`, `answers`, `doc_id`, and in dated sets `as_of`, the day the
question was asked: it is answered as of that day). An answer "hits" a text when one of
its gold answers, SQuAD-normalised (lower case, no punctuation, no a/an/the, single
spaces), is a substring of the normalised text.

- quote_hit@1: the top answer's quote holds a gold answer.
- passage_hit@k: one of the top k answers' passages holds a gold answer.
- MRR@5: mean of 1/rank of the first passage hit in the top 5 (0 when none).
- quote_chars: mean length of the top quote (over questions that got one).

These score the answers users get, after the not-found rule. The `ranking_` figures score
the same ranking with the rule off (as the reference pipelines, which have no such rule, are
scored), and `lost_to_threshold` is the share of questions the rule answered "not found"
although the ranking's top 5 held the answer.

Honesty is measured by asking one set's questions of another set's index: they should get
`found: false`, while few of a set's own questions should.
"""

from __future__ import annotations

import json
import math
import re
import string
import time
from datetime import date
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .answerer import QuestionAnswerer
from .answers import AnswerSet

# Answers asked for per question: passage_hit@5 and MRR@5 look at five.
TOP_K = 5
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, punctuation and articles removed, spaces squeezed."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_in(answers: Sequence[str], text: str) -> bool:
    """True when one of the gold `answers` is in `text` (both normalised)."""
    haystack = normalize_answer(text)
    return any((gold := normalize_answer(answer)) and gold in haystack for answer in answers)


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a dataset, with its acceptable answers."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None = None
    as_of: date | None = None  # asked as of this day (dated sets), else no bound


def load_questions(dataset_dir: Path, limit: int | None = None) -> list[EvalQuestion]:
    """The questions of a dataset folder (`questions.jsonl`), in file order.

    Raises:
        FileNotFoundError: the folder has no questions.jsonl.
        ValueError: a line is not a question object.
    """
    path = Path(dataset_dir) / "questions.jsonl"
    questions: list[EvalQuestion] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                as_of = row.get("as_of")
                questions.append(EvalQuestion(str(row["id"]), str(row["question"]),
                                              tuple(str(a) for a in row.get("answers", [])), row.get("doc_id"),
                                              date.fromisoformat(as_of) if as_of else None))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a question line ({error})") from None
            if limit is not None and len(questions) >= limit:
                break
    return questions


@dataclass(frozen=True)
class QuestionOutcome:
    """How one question fared."""

    id: str
    found: bool
    quote_hit: bool
    passage_rank: int | None  # 1-based rank of the first passage holding an answer, within TOP_K
    quote_chars: int | None
    seconds: float
    ranked_passage_rank: int | None = None  # the same, of the ranking with the not-found rule off


def _passage_rank(question: EvalQuestion, passages: Sequence[str]) -> int | None:
    """1-based rank of the first of the top TOP_K `passages` holding a gold answer."""
    return next((n for n, p in enumerate(passages[:TOP_K], 1) if answer_in(question.answers, p)), None)


def score_texts(question: EvalQuestion, quote: str | None, passages: Sequence[str], seconds: float,
                ranked_passages: Sequence[str] | None = None) -> QuestionOutcome:
    """Score a top quote (None: not found) and ranked passages against the gold answers;
    `ranked_passages` are the ranking's with the not-found rule off (default: `passages`)."""
    rank = _passage_rank(question, passages)
    return QuestionOutcome(
        id=question.id, found=quote is not None,
        quote_hit=quote is not None and answer_in(question.answers, quote),
        passage_rank=rank, quote_chars=len(quote) if quote is not None else None, seconds=seconds,
        ranked_passage_rank=rank if ranked_passages is None else _passage_rank(question, ranked_passages),
    )


def score_answer_set(question: EvalQuestion, result: AnswerSet, seconds: float,
                     ranked: AnswerSet | None = None) -> QuestionOutcome:
    """Score one answer set against the gold answers; `ranked` is the same question's
    answer set with the not-found rule off (default: `result`)."""
    answers = result.answers if result.found else []
    return score_texts(question, answers[0].quote if answers else None, [a.passage for a in answers], seconds,
                       None if ranked is None else [a.passage for a in ranked.answers])


@dataclass(frozen=True)
class QualityReport:
    """The figures of one dataset: hit rates, quote length and per-question latency."""

    dataset: str
    questions: int
    quote_hit_at_1: float
    quote_chars: float
    passage_hit_at_1: float
    passage_hit_at_5: float
    mrr_at_5: float
    not_found: float  # share of the questions answered `found: false`
    latency_mean_ms: float
    latency_p95_ms: float
    # The ranking with the not-found rule off, and what the rule costs it.
    ranking_passage_hit_at_1: float
    ranking_passage_hit_at_5: float
    ranking_mrr_at_5: float
    lost_to_threshold: float  # answered not found, the answer in the ranking's top 5

    @classmethod
    def from_outcomes(cls, dataset: str, outcomes: Sequence[QuestionOutcome]) -> "QualityReport":
        n = max(len(outcomes), 1)
        lengths = [o.quote_chars for o in outcomes if o.quote_chars is not None]
        latencies = sorted(o.seconds * 1000 for o in outcomes)
        return cls(
            dataset=dataset, questions=len(outcomes),
            quote_hit_at_1=sum(o.quote_hit for o in outcomes) / n,
            quote_chars=sum(lengths) / len(lengths) if lengths else 0.0,
            passage_hit_at_1=sum(o.passage_rank == 1 for o in outcomes) / n,
            passage_hit_at_5=sum(o.passage_rank is not None for o in outcomes) / n,
            mrr_at_5=sum(1 / o.passage_rank for o in outcomes if o.passage_rank) / n,
            not_found=sum(not o.found for o in outcomes) / n,
            latency_mean_ms=sum(latencies) / len(latencies) if latencies else 0.0,
            latency_p95_ms=_percentile(latencies, 0.95),
            ranking_passage_hit_at_1=sum(o.ranked_passage_rank == 1 for o in outcomes) / n,
            ranking_passage_hit_at_5=sum(o.ranked_passage_rank is not None for o in outcomes) / n,
            ranking_mrr_at_5=sum(1 / o.ranked_passage_rank for o in outcomes if o.ranked_passage_rank) / n,
            lost_to_threshold=sum(not o.found and o.ranked_passage_rank is not None for o in outcomes) / n,
        )


@dataclass(frozen=True)
class HonestyReport:
    """Questions about another corpus: how many are (rightly) answered `found: false`."""

    index_dataset: str
    question_dataset: str
    questions: int
    not_found: float


def _percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, math.ceil(share * len(sorted_values)) - 1)]


def answer_questions(answerer: QuestionAnswerer, questions: Sequence[EvalQuestion], *, batch_size: int = 1,
                     progress: Callable[[int, int], None] | None = None) -> list[QuestionOutcome]:
    """Ask every question (`batch_size` at a time, as `ask_many` does) and score the answers.

    Latency is per question: a batch's time divided by its size (with the default batch
    size of 1, each question's own time, as a user asking one question sees it). The
    ranking without the not-found rule is scored from the same candidates, untimed.
    """
    outcomes: list[QuestionOutcome] = []
    for start in range(0, len(questions), max(batch_size, 1)):
        batch = questions[start:start + max(batch_size, 1)]
        began = time.perf_counter()
        candidates = answerer.candidates([q.question for q in batch], TOP_K, as_of=[q.as_of for q in batch])
        results = [answerer.answer_set(q.question, quotes, TOP_K) for q, quotes in zip(batch, candidates)]
        each = (time.perf_counter() - began) / len(batch)
        for question, quotes, result in zip(batch, candidates, results):
            ranked = answerer.answer_set(question.question, quotes, TOP_K, threshold=False)
            outcomes.append(score_answer_set(question, result, each, ranked))
        if progress:
            progress(len(outcomes), len(questions))
    return outcomes


def evaluate(answerer: QuestionAnswerer, questions: Sequence[EvalQuestion], dataset: str = "", *,
             batch_size: int = 1, progress: Callable[[int, int], None] | None = None) -> QualityReport:
    """The quality figures of `answerer` (over an index of the dataset's articles) on `questions`."""
    return QualityReport.from_outcomes(
        dataset, answer_questions(answerer, questions, batch_size=batch_size, progress=progress))


def measure_honesty(answerer: QuestionAnswerer, questions: Sequence[EvalQuestion], index_dataset: str = "",
                    question_dataset: str = "", *, batch_size: int = 32) -> HonestyReport:
    """Share of `questions` (about another corpus) that `answerer` answers `found: false`,
    asked as the answerable ones are (`answer_questions`, TOP_K answers), so the two shares
    are of the same answers users get."""
    outcomes = answer_questions(answerer, questions, batch_size=batch_size)
    not_found = sum(not o.found for o in outcomes)
    return HonestyReport(index_dataset, question_dataset, len(questions), not_found / max(len(questions), 1))
