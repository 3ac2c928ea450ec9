"""Were the answering weights tuned to the questions they are reported on? A held-out check.

The weights of docs/quality.md were chosen on the full eval sets. Here each set's articles
are split in two halves (by a hash of the article id; every question goes with its article,
foreign questions too). On each half the grid below is searched for the best setting under
issue 5's constraints (>= 80% of the other set's questions not found on both indexes, <= 3%
of own questions lost), scored by the sum of both sets' quote_hit@1 and passage_hit@5. The
setting picked on one half is then scored on the other half, beside the shipped defaults.
If the picked setting is the default, or scores on the unseen half no better than the
default does, the defaults are not an artefact of tuning on the reported questions.

    .venv/bin/python benchmarks/heldout.py ../shared/eval/xquad_en ../shared/eval/covidqa
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import MIN_RELEVANCE, PASSAGE_COVERAGE_WEIGHT, PASSAGES_PER_ANSWER
from newsqa.retrieval.evaluation import TOP_K, EvalQuestion, QualityReport, score_answer_set
from newsqa.retrieval.features import FEATURES
from newsqa.retrieval.quotes import Quote
from newsqa.retrieval.ranker import LinearRanker
from tune_quality import CachedEncoder, Dataset, pair_from_command_line, picker_with, quotes_for

PICKER_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # passage coverage in the answers' order
RELEVANCE_GRID = tuple(itertools.product((0.0, 0.25, 0.5), (0.55, 0.6, 0.65, 0.7, 0.75)))  # weight, cut
_SHIPPED = LinearRanker.load()
DEFAULT = (float(_SHIPPED.weights[FEATURES.index("passage_coverage")] * _SHIPPED.scale[FEATURES.index("passage_coverage")]),
           PASSAGE_COVERAGE_WEIGHT, MIN_RELEVANCE)


def half_of(question: EvalQuestion) -> int:
    """0 or 1: which half the question's article falls in."""
    return hashlib.sha1(str(question.doc_id or question.id).encode()).digest()[0] & 1


@dataclass(frozen=True)
class Figures:
    """One setting's figures on one half."""

    quote_hit: dict[str, float]
    passage_hit_5: dict[str, float]
    lost: dict[str, float]
    foreign_not_found: dict[str, float]

    @property
    def allowed(self) -> bool:
        return min(self.foreign_not_found.values()) >= 0.80 and max(self.lost.values()) <= 0.03

    @property
    def score(self) -> float:
        return sum(self.quote_hit.values()) + sum(self.passage_hit_5.values())

    def row(self) -> str:
        names = sorted(self.quote_hit)
        return " | ".join([f"{self.quote_hit[n]:.3f} | {self.passage_hit_5[n]:.3f} | {self.lost[n]:.3f}" for n in names]
                          + [f"{self.foreign_not_found[n]:.3f}" for n in names])


class HalfScorer:
    """Candidate quotes of every question computed once per picker setting, scored per half."""

    def __init__(self, datasets: Sequence[Dataset], encoder: CachedEncoder) -> None:
        self.datasets = datasets
        self.encoder = encoder
        self.own: dict[float, dict[str, list[list[Quote]]]] = {}
        self.foreign: dict[float, dict[str, list[list[Quote]]]] = {}

    def prepare(self, w_passage_coverage: float) -> None:
        picker = picker_with(w_passage_coverage)
        first, second = self.datasets
        self.own[w_passage_coverage] = {
            d.name: quotes_for(d, d.questions, self.encoder, TOP_K, PASSAGES_PER_ANSWER, picker) for d in self.datasets}
        # Keyed by the index asked; the questions are the other set's.
        self.foreign[w_passage_coverage] = {
            first.name: quotes_for(first, second.questions, self.encoder, TOP_K, PASSAGES_PER_ANSWER, picker),
            second.name: quotes_for(second, first.questions, self.encoder, TOP_K, PASSAGES_PER_ANSWER, picker)}

    def figures(self, half: int, w_passage_coverage: float, weight: float, cut: float) -> Figures:
        quote_hit, passage_hit, lost, foreign = {}, {}, {}, {}
        first, second = self.datasets
        for dataset, other in ((first, second), (second, first)):
            answerer = QuestionAnswerer(dataset.reader, self.encoder, passage_coverage_weight=weight, min_relevance=cut)
            own = [(q, quotes) for q, quotes in zip(dataset.questions, self.own[w_passage_coverage][dataset.name])
                   if half_of(q) == half]
            report = QualityReport.from_outcomes(dataset.name, [
                score_answer_set(q, answerer.answer_set(q.question, quotes, TOP_K), 0.0) for q, quotes in own])
            quote_hit[dataset.name], passage_hit[dataset.name] = report.quote_hit_at_1, report.passage_hit_at_5
            lost[dataset.name] = report.not_found
            asked = [quotes for q, quotes in zip(other.questions, self.foreign[w_passage_coverage][dataset.name])
                     if half_of(q) == half]
            foreign[dataset.name] = sum(not answerer.answer_set("", quotes, TOP_K).found for quotes in asked) / len(asked)
        return Figures(quote_hit, passage_hit, lost, foreign)


def empty_halves(datasets: Sequence[Dataset]) -> list[str]:
    """'set half N' for each half of a set that holds none of its questions (nothing to score)."""
    return [f"{d.name} half {half}" for d in datasets for half in (0, 1)
            if not any(half_of(q) == half for q in d.questions)]


def main() -> None:
    first, second, encoder = pair_from_command_line(__doc__.splitlines()[0])
    if missing := empty_halves((first, second)):
        raise SystemExit(f"heldout.py: no questions in {', '.join(missing)}; each half of both sets needs some "
                         "(the sets are split by a hash of the article id)")
    scorer = HalfScorer((first, second), encoder)
    for w_passage_coverage in PICKER_GRID:
        scorer.prepare(w_passage_coverage)
    settings = [(w, weight, cut) for w in PICKER_GRID for weight, cut in RELEVANCE_GRID]
    names = sorted((first.name, second.name))
    print("setting = (passage coverage in order, passage coverage in relevance, cut); "
          "figures = " + ", ".join(f"{n} q@1 | p@5 | lost" for n in names)
          + ", then the share of the other set's questions not found on " + ", ".join(names))
    for tuned, held in ((0, 1), (1, 0)):
        allowed = [(scorer.figures(tuned, *s), s) for s in settings]
        allowed = [(f, s) for f, s in allowed if f.allowed]
        picked = max(allowed, key=lambda pair: pair[0].score)[1] if allowed else None
        print(f"\ntuned on half {tuned} ({len(allowed)} of {len(settings)} settings within the constraints): "
              f"picked {picked}, default {DEFAULT}")
        for label, setting in (("picked", picked), ("default", DEFAULT)):
            if setting is None:
                continue
            for half, role in ((tuned, "tuning half"), (held, "held-out half")):
                figures = scorer.figures(half, *setting)
                print(f"  {label:7} on {role:13}: {figures.row()}  (sum {figures.score:.3f})")


if __name__ == "__main__":
    main()
