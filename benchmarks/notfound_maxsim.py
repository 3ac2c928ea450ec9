"""Does a token-level soft match (MaxSim) tell answerable questions from foreign ones?

The bundled model's token embeddings (all-MiniLM-L6-v2, before pooling) of the question and of
the top answer's quote and passage: for each content token of the question, its best cosine
to any token of the text (ColBERT's late interaction, with the model at hand; no second model
is installable here). The mean says how much of the question the text speaks to, paraphrases
included; the minimum, the least covered token. Every set's questions are asked of every set's
index; printed, per pair of indexes, the in-sample trade-off of `notfound_tradeoff.best_cut`
(foreign >= 80% rejected on both, fewest answerable lost), and the transfer of
`notfound_transfer.transfer` (fitted on two indexes, applied to the third).

    .venv/bin/python benchmarks/notfound_maxsim.py ../shared/eval/news_dev ../shared/eval/xquad_en \
        ../shared/eval/covidqa
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from newsqa.index import STOPWORDS
from newsqa.index.embedding import resolve_model_path
from newsqa.retrieval.answerer import clean_question
from newsqa.retrieval.evaluation import EvalQuestion
from notfound_tradeoff import FEATURES, best_cut, signals
from notfound_transfer import open_sets, transfer
from tune_quality import CachedEncoder, Dataset

MAXSIM = ("maxsim_quote_mean", "maxsim_quote_min", "maxsim_passage_mean", "maxsim_passage_min")


class TokenMatcher:
    """MaxSim of a question's content tokens against a text's tokens, with the bundled model."""

    def __init__(self, model_name: str) -> None:
        self.model = SentenceTransformer(resolve_model_path(model_name), device="cpu")

    def vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: which tokens are content (not [CLS]/[SEP], punctuation or a stop word) and
        their unit vectors."""
        tokenizer = self.model.tokenizer
        out = []
        for text, embedding in zip(texts, self.model.encode(list(texts), output_value="token_embeddings",
                                                            batch_size=32, convert_to_numpy=False)):
            tokens = tokenizer.convert_ids_to_tokens(
                tokenizer(text, truncation=True, max_length=self.model.max_seq_length)["input_ids"])
            vectors = embedding[:len(tokens)].numpy()
            vectors = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)
            content = np.asarray([t not in ("[CLS]", "[SEP]") and any(c.isalnum() for c in t)
                                  and (t.startswith("##") or t not in STOPWORDS) for t in tokens])
            out.append((content, vectors))
        return out

    @staticmethod
    def maxsim(question: tuple[np.ndarray, np.ndarray], text: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
        """(mean, min) over the question's content tokens of the best cosine to a token of the text."""
        (content, q), (_, t) = question, text
        if not content.any() or len(t) <= 2:
            return 0.0, 0.0
        best = (q[content] @ t[1:-1].T).max(axis=1)
        return float(best.mean()), float(best.min())


def rows_for(dataset: Dataset, questions: Sequence[EvalQuestion], encoder: CachedEncoder,
             matcher: TokenMatcher) -> list[dict]:
    """`notfound_tradeoff.signals` with the MaxSim of the top quote and passage added."""
    rows = signals(dataset, questions, encoder)
    texts = [clean_question(question.question) for question in questions]
    quotes, passages = [row["top_quote"] for row in rows], [row["top_passage"] for row in rows]
    for row, q, s, p in zip(rows, matcher.vectors(texts), matcher.vectors(quotes), matcher.vectors(passages)):
        row["maxsim_quote_mean"], row["maxsim_quote_min"] = matcher.maxsim(q, s)
        row["maxsim_passage_mean"], row["maxsim_passage_min"] = matcher.maxsim(q, p)
        row["relevance_plus_maxsim"] = row["relevance"] + 2.0 * row["maxsim_passage_mean"]
    return rows


def main() -> None:
    app, datasets, encoder = open_sets(__doc__.splitlines()[0])
    matcher = TokenMatcher(app.settings.embedding_model)
    # rows[index][question set]
    rows = {index: {name: rows_for(datasets[index], d.questions, encoder, matcher) for name, d in datasets.items()}
            for index in datasets}
    rules = {"shipped relevance": ("relevance",), **{name: (name,) for name in MAXSIM},
             "relevance + 2 x maxsim_passage_mean": ("relevance_plus_maxsim",),
             "logistic regression": FEATURES, "logistic regression with MaxSim": (*FEATURES, *MAXSIM)}
    for first, second in itertools.combinations(datasets, 2):  # the first's own losses reported
        pair = {f"own {first}": rows[first][first], f"foreign {second} on {first}": rows[first][second],
                f"own {second}": rows[second][second], f"foreign {first} on {second}": rows[second][first]}
        print(f"== in-sample trade-off, {first} + {second}")
        for rule, (feature, *more) in rules.items():
            if more:
                continue
            print(f"  {rule}: " + best_cut({k: np.asarray([r[feature] for r in v]) for k, v in pair.items()},
                                           pair, first, second))
    for rule, features in rules.items():
        print(f"== transfer: {rule}")
        transfer(rows, features)


if __name__ == "__main__":
    main()
