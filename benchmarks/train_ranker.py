"""Fit the sentence ranker (retrieval/ranker.json) on the shared eval sets, and show how it
does on sets it was not fitted on.

For every question of every set given, the passages `newsqa eval` would examine are
retrieved once (as of the question's `as_of` where the set is dated) and each of their
sentences becomes a row of `retrieval/features.py` features, labelled by whether it holds a
gold answer. A logistic regression (scikit-learn) is fitted on those rows, each set weighing
the same. Figures are those of `newsqa eval` (k = 5, not-found rule in force), scored by
running the real QuotePicker and QuestionAnswerer with the fitted ranker:

- `hand-set`: the weights before the learned ranker;
- `cross-set`: fitted on every set but the one scored (the figure that generalises);
- `news_dev halves`: fitted on the other sets plus one half of news_dev's weeks, scored on
  the other half (and the reverse);
- `all`: fitted on everything (in-sample), the model `--save` writes;
- `--recency`: the picker's recency settings on each half of a dated set's weeks;
- `--neighbours`: the hand-set ranker with each of its weights moved one step of the search's
  grid down and up, on every set (how far the figures move between near-equal weightings);
- `--lightgbm`: gradient-boosted trees (lambdarank) cross-set, for comparison;
- `--listwise L`: a linear model fitted on each question's choice of one sentence among all
  its candidates (a softmax over them, the recency bonus as a fixed offset, echoes and scrape
  junk left out, as the picker leaves them), L2-pulled towards the hand-set weights by L;
  cross-set and per half of news_dev;
- `--within L`: the passages ordered by the hand-set ranker as shipped, and the quote of each
  chosen among its own sentences by a linear model fitted on that choice alone (a softmax over
  each passage's quotable sentences where some hold the answer and some do not, L2-pulled
  towards the hand-set weights by L; a neighbour joins the chosen sentence by the hand-set
  scores, as shipped); `--within-features answer` (default) fits only the signals that say
  whether a sentence answers (`WITHIN_FEATURES`), `all` every sentence-level signal;
- `--search`: the linear model's weights fitted on the figures themselves: a coordinate search
  from zero (`--search-from hand-set`: from the hand-set weights) over a grid of values, each
  setting scored by the real picker and answerer on the sets fitted on (their mean
  quote_hit@1 + passage_hit@1, each set weighing the same), the
  sentence cosine's weight held at the hand-set 3.0 (the unit of the quote-joining margin and
  the recency bonus); cross-set, per half of news_dev, and on all sets.

`--save pairwise` or `--save search` writes that method's fit on all sets to ranker.json.

    .venv/bin/python benchmarks/train_ranker.py ../shared/eval/xquad_en ../shared/eval/covidqa \\
        ../shared/eval/news_dev [--index-root DIR] [--save]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.index import IndexBuilder, IndexReader
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import PASSAGES_PER_ANSWER, clean_question
from newsqa.retrieval.evaluation import TOP_K, EvalQuestion, QualityReport, answer_in, load_questions, score_answer_set
from newsqa.retrieval.features import FEATURES, QuestionProfile, SentenceFeatures, SentenceFeaturizer
from newsqa.retrieval.hybrid import HybridRetriever, RetrievedPassage
from newsqa.retrieval.quotes import (COS_SENTENCE, NOVEL_WORDS, QuotePicker, _best_quotable, _relative_spans,
                                     _unanswering_sentences, junk_sentences)
from newsqa.retrieval.ranker import RANKER_FILE, LinearRanker
from newsqa.retrieval.terms import QuestionTerms
from newsqa.retrieval.timeframe import TimeFrame, time_frame

# Recency settings compared with --recency (span, newest, mild prior, days they fade over), on
# each half of a dated set.
RECENCY_GRID = ((0.0, 0.0, 0.0, 30.0), (1.0, 0.5, 0.1, 30.0), (2.0, 1.0, 0.3, 30.0), (1.0, 0.5, 0.3, 90.0),
                (1.0, 0.5, 0.5, 90.0), (1.0, 0.5, 0.3, 180.0), (1.0, 1.0, 0.5, 180.0), (1.0, 1.0, 0.7, 180.0),
                (1.0, 1.0, 0.5, 365.0))
# L2 strength of the logistic regression (scikit-learn's C: larger fits closer).
C = 1.0


@dataclass
class Case:
    """One question with what the answerer would see: passages, terms, time frame, features."""

    question: EvalQuestion
    text: str
    vector: np.ndarray
    passages: list[RetrievedPassage]
    terms: QuestionTerms
    frame: TimeFrame
    computed: SentenceFeatures
    labels: np.ndarray

    @property
    def features(self) -> np.ndarray:
        return self.computed.matrix


@dataclass
class Dataset:
    name: str
    reader: IndexReader
    cases: list[Case] = field(default_factory=list)


def open_dataset(app: NewsqaApp, directory: Path, index_root: Path | None,
                 passages_per_question: int) -> Dataset:
    index_dir = index_root / directory.name if index_root else app.dataset_index_dir(directory)
    IndexBuilder(index_dir, app.encoder).update(directory / "articles")
    reader = IndexReader(index_dir)
    dataset = Dataset(directory.name, reader)
    questions = load_questions(directory)
    texts = [clean_question(q.question) for q in questions]
    vectors = app.encoder.encode_queries(texts)
    retriever, featurizer = HybridRetriever(), SentenceFeaturizer()
    snapshot = reader.snapshot
    for question, text, vector in zip(questions, texts, vectors):
        frame = time_frame(text, question.as_of)
        passages = retriever.search(snapshot, text, vector, passages_per_question, frame.window)
        terms = QuestionTerms.of(text, snapshot)
        features = featurizer.features(QuestionProfile.of(text, terms), vector, passages)
        labels = np.asarray([answer_in(question.answers, _sentence_text(passages, p, s))
                             for p, s in zip(features.passage_of, features.sentence_of)], np.float32)
        dataset.cases.append(Case(question, text, vector, passages, terms, frame, features, labels))
    return dataset


def _sentence_text(passages: Sequence[RetrievedPassage], passage: int, sentence: int) -> str:
    chunk = passages[passage].chunk
    span = chunk.sentences[sentence]
    return chunk.article_text[span.start:span.end]


# Negatives paired with each positive sentence of a question at most (a random draw, fixed
# seed: picking the most similar ones would teach the model that similarity is bad).
PAIRS_PER_POSITIVE = 200


def fit(parts: Sequence[Sequence[Case]]) -> LinearRanker:
    """A pairwise logistic ranker fitted on the cases of `parts`: for each question, each
    sentence holding the answer against those that do not, so it learns which sentence of a
    question's candidates answers (every question and every part weighing the same)."""
    diffs, weights = [], []
    for cases in parts:
        part, part_weights = [], []
        for case in cases:
            positive = case.features[case.labels == 1]
            negative = case.features[case.labels == 0]
            if not len(positive) or not len(negative):
                continue
            if len(negative) > PAIRS_PER_POSITIVE:
                negative = negative[np.random.default_rng(0).choice(len(negative), PAIRS_PER_POSITIVE, replace=False)]
            pairs = (positive[:, None, :] - negative[None, :, :]).reshape(-1, positive.shape[1])
            part.append(pairs)
            part_weights.append(np.full(len(pairs), 1.0 / len(pairs)))
        if part:
            weight = np.concatenate(part_weights)
            diffs.append(np.vstack(part))
            weights.append(weight / weight.sum())
    x, w = np.vstack(diffs), np.concatenate(weights)
    scale = np.vstack([c.features for cases in parts for c in cases if len(c.features)]).std(axis=0)
    scale[scale == 0] = 1.0
    x = x / scale
    model = LogisticRegression(C=C, max_iter=2000, fit_intercept=False)
    model.fit(np.vstack([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))],
              sample_weight=np.r_[w, w] * len(w) / w.sum())
    return LinearRanker(FEATURES, np.zeros(len(FEATURES), np.float32), scale.astype(np.float32),
                        model.coef_[0].astype(np.float32), 0.0)


def _choice_rows(case: Case, picker: QuotePicker) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A question's candidate sentences as the picker may quote them (features, labels, recency
    offset), or None when none or all of them hold the answer."""
    passage_of = np.concatenate([np.full(len(p.chunk.sentences), n) for n, p in enumerate(case.passages)]
                                or [np.zeros(0, int)])
    quotable = case.features[:, NOVEL_WORDS] > 0
    quotable &= ~np.concatenate([junk_sentences(p.chunk) for p in case.passages] or [np.zeros(0, bool)])
    recency = np.asarray([picker.recency_bonus(p.chunk.published, case.frame) for p in case.passages])
    labels = case.labels[quotable] == 1
    if not labels.any() or labels.all():
        return None
    return case.features[quotable], labels, recency[passage_of[quotable]] if len(recency) else np.zeros(0)


def fit_choices(parts: Sequence[Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | float, float]]], pull: float,
                features: Sequence[str] | None = None) -> LinearRanker:
    """A linear ranker maximising, per choice, the likelihood that the softmax over its
    candidate sentences picks one holding the answer: each choice (features, labels, a fixed
    offset added to the scores, weight) weighing its weight within its part, each part the same;
    only `features` are fitted (None: all; the others keep their hand-set weights), with an L2
    pull of strength `pull` towards the hand-set weights (scipy's L-BFGS)."""
    scale = np.vstack([x for part in parts for x, _, _, _ in part]).std(axis=0)
    scale[scale == 0] = 1.0
    parts = [[(x / scale, y, offset, w) for x, y, offset, w in part] for part in parts if part]
    totals = [sum(w for _, _, _, w in part) for part in parts]
    free = np.isin(FEATURES, features) if features is not None else np.ones(len(FEATURES), bool)
    start = LinearRanker.hand_set().weights.astype(np.float64) * scale

    def loss(values: np.ndarray) -> tuple[float, np.ndarray]:
        weights = start.copy()
        weights[free] = values
        value, gradient = pull * float((weights - start) @ (weights - start)), 2 * pull * (weights - start)
        for part, total in zip(parts, totals):
            for x, y, offset, w in part:
                scores = x @ weights + offset
                every, held = logsumexp(scores), logsumexp(scores[y])
                value += w * (every - held) / total
                gradient += w * (np.exp(scores - every) @ x - np.exp(scores[y] - held) @ x[y]) / total
        return value, gradient[free]

    fitted = start.copy()
    fitted[free] = minimize(loss, start[free].copy(), jac=True, method="L-BFGS-B", options={"maxiter": 300}).x
    return LinearRanker(FEATURES, np.zeros(len(FEATURES), np.float32), scale.astype(np.float32),
                        fitted.astype(np.float32), 0.0)


def fit_listwise(parts: Sequence[Sequence[Case]], pull: float) -> LinearRanker:
    """A linear ranker fitted on each question's choice of one sentence among all its
    candidates, the recency bonus a fixed offset (`fit_choices`)."""
    picker = QuotePicker(LinearRanker.hand_set())
    return fit_choices([[(*rows, 1.0) for case in cases if (rows := _choice_rows(case, picker)) is not None]
                        for cases in parts], pull)


# What `--within-features answer` fits: the signals that vary between the sentences of one
# passage and say whether a sentence holds what is asked (length, "?", the article's opening and
# the echo count are left out: they say how a sentence looks, and set apart one set's answers).
WITHIN_FEATURES = ("cos_sentence", "cos_gap", "coverage", "coverage_gap", "bigrams", "novel_share", "novel_words",
                   "type_match", "type_match_near", "novel_name", "novel_number")


def _passage_choices(case: Case) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """Per passage of a question whose quotable sentences both hold and miss the answer: their
    features, labels, no offset and a weight (each question weighing 1 over its passages)."""
    quotable = case.features[:, NOVEL_WORDS] > 0
    quotable &= ~np.concatenate([junk_sentences(p.chunk) for p in case.passages] or [np.zeros(0, bool)])
    groups = []
    for passage in range(len(case.passages)):
        rows = (case.computed.passage_of == passage) & quotable
        labels = case.labels[rows] == 1
        if labels.any() and not labels.all():
            groups.append((case.features[rows], labels))
    return [(x, y, 0.0, 1.0 / len(groups)) for x, y in groups]


def fit_within(parts: Sequence[Sequence[Case]], pull: float, features: Sequence[str] | None) -> LinearRanker:
    """A linear model choosing the quote within one passage: fitted on each passage's choice
    among its quotable sentences (`fit_choices`), over `features` (None: all)."""
    return fit_choices([[g for case in cases for g in _passage_choices(case)] for cases in parts], pull, features)


class ChooserPicker(QuotePicker):
    """The shipped picker with each passage's quote chosen by another model (`chooser`): the
    passages keep the order of the ranker's best quotable sentence, and a neighbour joins the
    chosen sentence by the ranker's scores, as shipped."""

    def __init__(self, ranker: LinearRanker, chooser: LinearRanker, **picker_args) -> None:
        super().__init__(ranker, **picker_args)
        self.chooser = chooser

    def pick(self, question, query_vector, passages, terms=None, frame=None):
        terms = terms if terms is not None else QuestionTerms.of(question)
        profile = QuestionProfile.of(question, terms)
        features = self.featurizer.features(profile, query_vector, passages)
        ranked = self.ranker.score(features.matrix).astype(np.float64)
        chosen = self.chooser.score(features.matrix).astype(np.float64)
        total = float(terms.weights.sum())
        quotes = []
        for index, passage in enumerate(passages):
            rows = np.flatnonzero(features.passage_of == index)
            if not len(rows):
                continue
            chunk = passage.chunk
            scores, choice = ranked[rows].copy(), chosen[rows].copy()
            never = (features.matrix[rows, NOVEL_WORDS] == 0) | _unanswering_sentences(chunk.text, _relative_spans(chunk))
            scores[never] = -math.inf
            order = _best_quotable(chunk, scores)
            if order is None:
                continue
            choice[~np.isfinite(scores)] = -math.inf
            best = _best_quotable(chunk, choice)
            if best is None:
                best = order
            scores[~np.isfinite(choice)] = -math.inf
            quote = self._quote(passage, best, scores, features.presence[index], profile, total,
                                cosine=features.matrix[rows, COS_SENTENCE])
            quotes.append(self._with_recency(replace(quote, score=float(np.max(scores))), frame))
        return sorted(quotes, key=lambda q: -q.score)


# The coordinate search (--search): the weights it sets, the values it tries for each (the
# sentence cosine's weight stays at the hand-set 3.0), and its rounds over all of them.
# `bigrams` is left out: the question's word pairs are what a sentence restating the question
# holds ("a Chinese delegation would also attend"), and a search that weighed them (0.5) quoted
# such restatements for two of the seed article's questions (docs/quality.md).
SEARCH_FEATURES = ("coverage", "passage_coverage", "rank_prior", "type_match", "cos_passage", "title_coverage",
                   "type_match_near", "novel_words", "keyword")
SEARCH_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
SEARCH_ROUNDS = 2


def fit_search(parts: Sequence[tuple[Dataset, Sequence[Case]]], start: str = "zero") -> LinearRanker:
    """A linear ranker whose weights are searched one at a time over SEARCH_GRID (from zero or
    from the hand-set weights, SEARCH_ROUNDS rounds) for the best mean quote_hit@1 +
    passage_hit@1 over `parts` (each set's cases weighing the same), scored by the real picker
    and answerer."""
    hand = LinearRanker.hand_set().named_weights()
    cosine = hand["cos_sentence"]

    def objective(weights: dict[str, float]) -> float:
        ranker = LinearRanker.of_weights({"cos_sentence": cosine, **weights})
        reports = [score(dataset, cases, ranker) for dataset, cases in parts]
        return float(np.mean([r.quote_hit_at_1 + r.passage_hit_at_1 for r in reports]))

    weights = {name: hand[name] if start == "hand-set" else 0.0 for name in SEARCH_FEATURES}
    best = objective(weights)
    for _ in range(SEARCH_ROUNDS):
        improved = False
        for name in SEARCH_FEATURES:
            for value in SEARCH_GRID:
                trial = weights | {name: value}
                if value != weights[name] and (found := objective(trial)) > best + 1e-9:
                    best, weights, improved = found, trial, True
        if not improved:
            break
    return LinearRanker.of_weights({"cos_sentence": cosine, **weights})


class TreeRanker:
    """A LightGBM lambdarank model behind the ranker's `score` (for comparison only: the
    product reads linear models)."""

    def __init__(self, booster) -> None:
        self.booster = booster

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.predict(matrix)


def fit_lightgbm(parts: Sequence[Sequence[Case]], rounds: int = 300) -> TreeRanker:
    """Gradient-boosted trees with a listwise objective (lambdarank) on the same rows."""
    import lightgbm

    cases = [c for cases in parts for c in cases if len(c.features) and c.labels.sum() > 0]
    data = lightgbm.Dataset(np.vstack([c.features for c in cases]), np.concatenate([c.labels for c in cases]),
                            group=[len(c.labels) for c in cases])
    params = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50,
              "lambdarank_truncation_level": 10, "seed": 0, "deterministic": True, "verbose": -1}
    return TreeRanker(lightgbm.train(params, data, rounds))


class StoredFeatures:
    """The featurizer's rows for the cases' passages, computed once when the cases were made:
    the picker asks for them again for every ranker scored."""

    def __init__(self, cases: Sequence[Case]) -> None:
        self.by_passages = {id(case.passages): case.computed for case in cases}

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        return self.by_passages[id(passages)]


def score(dataset: Dataset, cases: Sequence[Case], ranker: LinearRanker | TreeRanker, picker_args: dict | None = None,
          chooser: LinearRanker | None = None) -> QualityReport:
    """`newsqa eval`'s figures for `cases`, answered with `ranker` (and each passage's quote
    chosen by `chooser`, when given)."""
    picker = (QuotePicker(ranker, **(picker_args or {})) if chooser is None
              else ChooserPicker(ranker, chooser, **(picker_args or {})))
    picker.featurizer = StoredFeatures(cases)  # type: ignore[assignment]
    answerer = QuestionAnswerer(dataset.reader, encoder=None, picker=picker)  # type: ignore[arg-type]
    outcomes = []
    for case in cases:
        quotes = picker.pick(case.text, case.vector, case.passages, case.terms, case.frame)
        outcomes.append(score_answer_set(case.question, answerer.answer_set(case.text, quotes, TOP_K), 0.0,
                                         answerer.answer_set(case.text, quotes, TOP_K, threshold=False)))
    return QualityReport.from_outcomes(dataset.name, outcomes)


def neighbours(ranker: LinearRanker) -> Iterator[tuple[str, LinearRanker]]:
    """`ranker` with one of the weights the search sets moved one step of SEARCH_GRID down or
    up: a label and the ranker, in turn."""
    weights = ranker.named_weights()
    grid = np.asarray(SEARCH_GRID)
    for name in SEARCH_FEATURES:
        at = int(np.argmin(np.abs(grid - weights[name])))
        for step in (-1, 1):
            if 0 <= at + step < len(grid):
                value = float(grid[at + step])
                yield f"{name} {weights[name]:g} -> {value:g}", LinearRanker.of_weights(weights | {name: value})


def halves(cases: Sequence[Case]) -> tuple[list[Case], list[Case]]:
    """A dated set split by its weeks (as-of days alternate between the halves), so no week's
    news is in both."""
    days = sorted({c.question.as_of or date.min for c in cases})
    first = set(days[0::2])
    return ([c for c in cases if (c.question.as_of or date.min) in first],
            [c for c in cases if (c.question.as_of or date.min) not in first])


def cross_sets(datasets: Sequence[Dataset]) -> Iterator[tuple[Dataset, list[list[Case]], str]]:
    """Each set held out in turn (with two sets or more): it, the others' cases, their names."""
    for held in datasets if len(datasets) > 1 else []:
        others = [d for d in datasets if d is not held]
        yield held, [d.cases for d in others], ", ".join(d.name for d in others)


def dated_halves(datasets: Sequence[Dataset]) -> Iterator[tuple[Dataset, list[list[Case]], list[Case], str]]:
    """Per dated set and half of its weeks: the set, the cases to fit on (the other sets' and
    that half's), the other half's to score, and the fitted half's name."""
    for dataset in datasets:
        if not any(c.question.as_of for c in dataset.cases):
            continue
        first, second = halves(dataset.cases)
        others = [d.cases for d in datasets if d is not dataset]
        for train, test, name in ((first, second, "odd weeks"), (second, first, "even weeks")):
            yield dataset, [*others, train], test, name


def row(label: str, report: QualityReport) -> str:
    return (f"| {label} | {report.dataset} | {report.questions} | {report.quote_hit_at_1:.3f} | "
            f"{report.quote_chars:.0f} | {report.passage_hit_at_1:.3f} | {report.passage_hit_at_5:.3f} | "
            f"{report.ranking_passage_hit_at_5:.3f} | {report.not_found:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--index-root", type=Path, default=None,
                        help="Folder holding one index per dataset, by its name [default: newsqa eval's cache].")
    parser.add_argument("--cache", type=Path, default=None,
                        help="Folder to keep each set's retrieved passages and features in between runs "
                             "(a benchmark cache; delete it after changing retrieval or features).")
    parser.add_argument("--recency", action="store_true",
                        help="Also score the hand-set ranker with each recency setting of RECENCY_GRID on each "
                             "half of the dated sets' weeks.")
    parser.add_argument("--neighbours", action="store_true",
                        help="Also score the hand-set ranker with each weight moved one grid step down and up.")
    parser.add_argument("--lightgbm", action="store_true",
                        help="Also score gradient-boosted trees (lambdarank) cross-set; needs `pip install lightgbm`.")
    parser.add_argument("--listwise", type=float, nargs="*", default=[], metavar="PULL",
                        help="Also fit listwise (softmax per question) linear rankers with these pulls towards "
                             "the hand-set weights, cross-set and per half of the dated sets.")
    parser.add_argument("--within", type=float, nargs="*", default=[], metavar="PULL",
                        help="Also fit the choice of the quote within a passage alone (the passages in the "
                             "hand-set order) with these pulls towards the hand-set weights, cross-set and per "
                             "half of the dated sets.")
    parser.add_argument("--within-features", choices=("answer", "all"), default="answer",
                        help="The signals --within fits: those that say a sentence answers (WITHIN_FEATURES), "
                             "or every one.")
    parser.add_argument("--search", action="store_true",
                        help="Also fit the linear weights by a coordinate search on the figures, cross-set, "
                             "per half of the dated sets and on all sets.")
    parser.add_argument("--search-from", choices=("zero", "hand-set"), default="zero",
                        help="Where the search starts: all weights at zero, or the hand-set weights (whose "
                             "tuning on xquad_en and covidqa then carries into those sets' cross-set figures).")
    parser.add_argument("--save", choices=("pairwise", "search"), default=None,
                        help=f"Write that method's model fitted on all sets to {RANKER_FILE}.")
    args = parser.parse_args()
    app = NewsqaApp(load_settings())
    began = time.perf_counter()
    passages = TOP_K * PASSAGES_PER_ANSWER
    datasets = []
    for directory in args.datasets:
        cache = args.cache / f"{directory.name}.pickle" if args.cache else None
        if cache is not None and cache.exists():
            datasets.append(pickle.loads(cache.read_bytes()))
            datasets[-1].reader = IndexReader(args.index_root / directory.name if args.index_root
                                              else app.dataset_index_dir(directory))
            continue
        datasets.append(open_dataset(app, directory, args.index_root, passages))
        if cache is not None:
            reader, datasets[-1].reader = datasets[-1].reader, None
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps(datasets[-1]))
            datasets[-1].reader = reader
    print(f"(features of {sum(len(d.cases) for d in datasets)} questions in {time.perf_counter() - began:.0f} s)",
          file=sys.stderr)
    print("| ranker | scored on | questions | quote_hit@1 | quote chars | passage_hit@1 | passage_hit@5 | "
          "ranking p@5 | not found |")
    print("|---|---|---|---|---|---|---|---|---|")
    hand = LinearRanker.hand_set()
    for dataset in datasets:
        print(row("hand-set", score(dataset, dataset.cases, hand)), flush=True)
    for held, others, names in cross_sets(datasets):
        print(row(f"cross-set (fit on {names})", score(held, held.cases, fit(others))), flush=True)
    for dataset, train, test, name in dated_halves(datasets):
        print(row(f"hand-set, {dataset.name} weeks other than the {name}", score(dataset, test, hand)), flush=True)
        print(row(f"{dataset.name} halves (fit on the others + {name}, scored on the other weeks)",
                  score(dataset, test, fit(train))), flush=True)
    if args.recency:
        hand = LinearRanker.hand_set()
        for dataset in datasets:
            if not any(c.question.as_of for c in dataset.cases):
                continue
            first, second = halves(dataset.cases)
            for span, newest, prior, days in RECENCY_GRID:
                picker_args = {"w_recent_span": span, "w_newest": newest, "w_recency_prior": prior,
                               "recency_days": days}
                for part, name in ((first, "odd weeks"), (second, "even weeks")):
                    print(row(f"hand-set, recency span {span} newest {newest} prior {prior} over {days:.0f} days, {name}",
                              score(dataset, part, hand, picker_args)), flush=True)
    if args.neighbours:
        for label, ranker in neighbours(LinearRanker.hand_set()):
            for dataset in datasets:
                print(row(f"hand-set, {label}", score(dataset, dataset.cases, ranker)), flush=True)
    if args.lightgbm:
        for held, others, names in cross_sets(datasets):
            print(row(f"LightGBM lambdarank, cross-set (fit on {names})",
                      score(held, held.cases, fit_lightgbm(others))), flush=True)
    for pull in args.listwise:
        for held, others, names in cross_sets(datasets):
            print(row(f"listwise, pull {pull}, cross-set (fit on {names})",
                      score(held, held.cases, fit_listwise(others, pull))), flush=True)
        for dataset, train, test, name in dated_halves(datasets):
            print(row(f"listwise, pull {pull}, {dataset.name} halves (fit on the others + {name}, "
                      f"scored on the other weeks)", score(dataset, test, fit_listwise(train, pull))), flush=True)
    within_features = WITHIN_FEATURES if args.within_features == "answer" else None
    for pull in args.within:
        label = f"quote within a passage, {args.within_features} signals, pull {pull}"
        for held, others, names in cross_sets(datasets):
            chooser = fit_within(others, pull, within_features)
            print(row(f"{label}, cross-set (fit on {names})", score(held, held.cases, hand, chooser=chooser)),
                  flush=True)
            print(f"  {label}, fit on {names}: " + ", ".join(
                f"{n} {w:+.2f}" for n, w in zip(FEATURES, chooser.weights / chooser.scale) if abs(w) > 0.005),
                  file=sys.stderr)
        for dataset, train, test, name in dated_halves(datasets):
            print(row(f"{label}, {dataset.name} halves (fit on the others + {name}, scored on the other weeks)",
                      score(dataset, test, hand, chooser=fit_within(train, pull, within_features))), flush=True)
    if args.search or args.save == "search":
        for held, others, names in cross_sets(datasets):
            parts = [(d, d.cases) for d in datasets if d is not held]
            print(row(f"search from {args.search_from}, cross-set (fit on {names})",
                      score(held, held.cases, fit_search(parts, args.search_from))), flush=True)
        for dataset, train, test, name in dated_halves(datasets):
            parts = [(d, d.cases) for d in datasets if d is not dataset] + [(dataset, train[-1])]
            print(row(f"search from {args.search_from}, {dataset.name} halves (fit on the others + {name}, "
                      f"scored on the other weeks)", score(dataset, test, fit_search(parts, args.search_from))),
                  flush=True)
    fits = {"pairwise": fit([d.cases for d in datasets])}
    if args.search or args.save == "search":
        fits["search"] = fit_search([(d, d.cases) for d in datasets], args.search_from)
    for method, everything in fits.items():
        for dataset in datasets:
            print(row(f"{method}, all (in-sample)", score(dataset, dataset.cases, everything)), flush=True)
        print(f"\n{method} weights on all sets (standardised features):", file=sys.stderr)
        for name, weight in sorted(zip(FEATURES, everything.weights), key=lambda p: -abs(p[1])):
            print(f"  {name:18s} {weight:+.3f}", file=sys.stderr)
    if args.save:
        payload = {"kind": f"learned ({args.save})", "fitted_on": [d.name for d in datasets],
                   "fitted": date.today().isoformat(), **({"C": C} if args.save == "pairwise" else {}),
                   "command": "benchmarks/train_ranker.py " + " ".join(str(d) for d in args.datasets)
                              + f" --save {args.save}"
                              + (f" --search-from {args.search_from}" if args.save == "search" else ""),
                   "model": fits[args.save].to_dict()}
        RANKER_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"saved {RANKER_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
