"""How well can "not found" separate foreign questions from answerable ones on the eval sets?

For every question of each set asked of its own index (answerable) and of the other set's
index (foreign), the signals at hand for the top answer are collected: the relevance parts
(cosine, quote and passage coverage), the best dense and BM25 scores among the candidates,
the gap between the top dense/BM25 score and the mean of the top 30, and the question's IDF
mass. A logistic regression over all of them (scikit-learn, fit on everything: an optimistic
upper bound) and the shipped relevance rule are then swept over cut-offs; each prints the
cut that keeps >= 80% of foreign questions rejected on both indexes while losing the fewest
answerable questions of the first set whose answer is in the top 5 (each such loss costs
passage_hit@5). So is the shipped rule with its coverage terms scaled down for questions of
little IDF mass, and with a penalty for each of the question's names (its capitalised words
after the first of a sentence) that the top passage and its title do not hold: a question about
"Super Bowl 50" asked of news that never names it; and with a bonus for the agreement of the
dense and keyword rankings (the share of the one's top 5 in the other's).

    .venv/bin/python benchmarks/notfound_tradeoff.py ../shared/eval/xquad_en ../shared/eval/covidqa
    .venv/bin/python benchmarks/notfound_tradeoff.py ../shared/eval/news_dev ../shared/eval/xquad_en
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.evaluation import TOP_K, EvalQuestion, answer_in
from newsqa.index import STOPWORDS, SentenceSplitter
from newsqa.retrieval.terms import QuestionTerms, passage_terms
from tune_quality import CachedEncoder, Dataset, pair_from_command_line

FEATURES = ("cosine", "coverage", "passage_coverage", "dense", "bm25", "dense_gap", "bm25_gap", "idf_mass",
            "names_missing", "agreement")


def names_missing(question: str, texts: Sequence[str]) -> float:
    """The share of the question's names (stems of its capitalised content words, the first
    word of each sentence left out) that none of `texts` holds; 0 for a question without names."""
    names = set()
    for span in SentenceSplitter().split(question):
        words = passage_terms(question[span.start:span.end])
        names.update(stem for n, (word, stem) in enumerate(zip(words.words, words.stems))
                     if n > 0 and words.capital[n] and word.casefold() not in STOPWORDS and len(stem) >= 2)
    if not names:
        return 0.0
    terms = QuestionTerms(tuple(sorted(names)), np.ones(len(names), np.float32))
    held = {int(c) for text in texts for c in terms.columns_of(passage_terms(text).stems) if c >= 0}
    return 1.0 - len(held) / len(names)


def signals(dataset: Dataset, questions: Sequence[EvalQuestion], encoder: CachedEncoder) -> list[dict]:
    """The top answer's signals for each question asked of `dataset`'s index."""
    answerer = QuestionAnswerer(dataset.reader, encoder, retriever=dataset.retriever)
    snapshot = dataset.reader.snapshot
    rows = []
    for question in questions:
        text = clean_question(question.question)
        vector = encoder.vectors[text]
        quotes = answerer.quotes(text, vector, TOP_K, snapshot)
        terms = QuestionTerms.of(text, snapshot)
        dense_hits = snapshot.vector_search(vector.reshape(1, -1), 30)[0]
        keyword_hits = snapshot.keyword_search(text, 30)
        dense = np.asarray(dense_hits.scores)
        bm25 = np.asarray([s for _, s in keyword_hits] or [0.0])
        top = quotes[0] if quotes else None
        rows.append({
            "cosine": top.cosine if top else 0.0, "coverage": top.coverage if top else 0.0,
            "passage_coverage": top.passage_coverage if top else 0.0,
            "dense": float(dense[0]), "bm25": float(bm25[0]), "dense_gap": float(dense[0] - dense.mean()),
            "bm25_gap": float(bm25[0] - bm25.mean()), "idf_mass": float(terms.weights.sum()),
            "relevance": answerer.relevance(top) if top else 0.0,
            "names_missing": names_missing(text, (top.passage.chunk.title, top.passage.chunk.text)) if top else 1.0,
            # the two rankings agree: the share of the dense top 5 that is in the keyword top 5
            "agreement": len({int(i) for i in dense_hits.ids[:5]} & {i for i, _ in keyword_hits[:5]}) / 5,
            "hit": any(answer_in(question.answers, q.passage.chunk.text) for q in quotes[:TOP_K]),
            # the top answer's texts, for signals computed from them elsewhere (notfound_maxsim.py)
            "top_quote": top.text if top else "", "top_passage": top.passage.chunk.text if top else "",
        })
    return rows


def best_cut(scores: dict[str, np.ndarray], rows: dict[str, list[dict]], first: str, second: str) -> str:
    """The cut keeping >= 80% foreign rejection on both indexes that loses fewest `first` hits."""
    pooled = np.concatenate(list(scores.values()))
    best = None
    for cut in np.unique(np.quantile(pooled, np.linspace(0.05, 0.7, 400))):
        rejected = {name: float(np.mean(s < cut)) for name, s in scores.items() if name.startswith("foreign")}
        if min(rejected.values()) < 0.80:
            continue
        lost = float(np.mean([s < cut and r["hit"] for s, r in zip(scores[f"own {first}"], rows[f"own {first}"])]))
        if best is None or lost < best[0]:
            other = float(np.mean(scores[f"own {second}"] < cut))
            best = (lost, cut, rejected, other)
    if best is None:
        return "no cut rejects 80% of both foreign sets"
    lost, cut, rejected, other = best
    return (f"cut {cut:.3f}: {first} answerable lost with the answer in the top 5 {lost:.3%}; {second} lost "
            f"{other:.3%}; foreign rejected " + ", ".join(f"{k} {v:.1%}" for k, v in rejected.items()))


def main() -> None:
    first, second, encoder = pair_from_command_line(__doc__.splitlines()[0])
    rows = {}
    for own, other in ((first, second), (second, first)):
        rows[f"own {own.name}"] = signals(own, own.questions, encoder)
        rows[f"foreign {other.name} on {own.name}"] = signals(own, other.questions, encoder)
    print("shipped relevance rule: " + best_cut(
        {k: np.asarray([r["relevance"] for r in v]) for k, v in rows.items()}, rows, first.name, second.name))
    # Short questions of common words ("How many were male?") pass on full coverage: does
    # scaling the coverage terms by the question's IDF mass separate them better?
    for mass in (4.0, 8.0, 12.0):
        print(f"coverage scaled by min(1, IDF mass / {mass:g}): " + best_cut(
            {k: np.asarray([r["cosine"] + min(1.0, r["idf_mass"] / mass)
                            * (0.5 * r["coverage"] + 0.25 * r["passage_coverage"]) for r in v])
             for k, v in rows.items()}, rows, first.name, second.name))
    for penalty in (0.1, 0.25, 0.5):
        print(f"relevance - {penalty:g} x share of the question's names the top passage lacks: " + best_cut(
            {k: np.asarray([r["relevance"] - penalty * r["names_missing"] for r in v]) for k, v in rows.items()},
            rows, first.name, second.name))
    # Answerable questions' passages come first in both rankings more often than foreign ones'.
    for weight in (0.1, 0.2, 0.4):
        print(f"relevance + {weight:g} x agreement of the dense and keyword top 5: " + best_cut(
            {k: np.asarray([r["relevance"] + weight * r["agreement"] for r in v]) for k, v in rows.items()},
            rows, first.name, second.name))
    matrix = {k: np.asarray([[r[f] for f in FEATURES] for r in v]) for k, v in rows.items()}
    x = np.concatenate(list(matrix.values()))
    y = np.concatenate([np.full(len(v), k.startswith("own")) for k, v in matrix.items()])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(max_iter=5000, class_weight="balanced").fit((x - mean) / std, y)
    print(f"logistic regression over {', '.join(FEATURES)}: " + best_cut(
        {k: model.decision_function((v - mean) / std) for k, v in matrix.items()}, rows, first.name, second.name))


if __name__ == "__main__":
    main()
