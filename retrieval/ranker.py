"""The sentence ranker: a linear model over `features.FEATURES`, read from `ranker.json`.

`ranker.json` holds the weights in force and loads once, at first use. Today they are the
hand-set weights: `benchmarks/train_ranker.py` fits learned ones on the shared eval sets
(pairwise, listwise, a search on the figures from zero or from the hand-set weights) and
scores each on sets it was not fitted on; none that answers the seed article right beats the
hand-set weights there yet (docs/quality.md). `train_ranker.py --save pairwise|search` writes
a learned model in the same format, so switching is a data change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import RetrievalError
from .features import FEATURES

RANKER_FILE = Path(__file__).with_name("ranker.json")


@dataclass(frozen=True)
class LinearRanker:
    """Scores feature rows: (x - mean) / scale · weights + bias, a log-odds that the
    sentence holds the answer."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """Log-odds per row of `matrix` (columns in `FEATURES` order)."""
        return ((matrix - self.mean) / self.scale) @ self.weights + self.bias

    def to_dict(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias}

    @classmethod
    def from_dict(cls, data: dict) -> "LinearRanker":
        """A ranker from its saved parameters.

        Raises:
            RetrievalError: the parameters do not fit today's features.
        """
        features = tuple(data["features"])
        if features != FEATURES:
            raise RetrievalError(f"the ranker was fitted on features {features}, not {FEATURES}; "
                                 f"refit it with benchmarks/train_ranker.py")
        as_array = lambda key: np.asarray(data[key], np.float32)  # noqa: E731
        return cls(features, as_array("mean"), as_array("scale"), as_array("weights"), float(data["bias"]))

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> "LinearRanker":
        """The ranker saved at `path`.

        Raises:
            RetrievalError: missing, unreadable or fitted on other features.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RetrievalError(f"cannot read the ranker at {path}: {error}") from error
        return cls.from_dict(data["model"] if "model" in data else data)

    @classmethod
    def of_weights(cls, weights: dict[str, float]) -> "LinearRanker":
        """A ranker over the raw features (no centring or scaling) with these weights by
        feature name; features not named weigh 0."""
        vector = np.asarray([weights.get(name, 0.0) for name in FEATURES], np.float32)
        ones = np.ones(len(FEATURES), np.float32)
        return cls(FEATURES, np.zeros(len(FEATURES), np.float32), ones, vector, 0.0)

    @classmethod
    def hand_set(cls) -> "LinearRanker":
        """The weights before the learned ranker (cosine, coverage, answer-type cue, rank and
        passage coverage); the baseline `benchmarks/train_ranker.py` compares against."""
        return cls.of_weights({"cos_sentence": 3.0, "coverage": 1.0, "type_match": 0.3, "rank_prior": 0.2,
                               "passage_coverage": 1.5})

    def named_weights(self) -> dict[str, float]:
        """The weights by feature name."""
        return dict(zip(self.features, map(float, self.weights)))


@lru_cache(maxsize=1)
def shipped_ranker() -> LinearRanker:
    """The ranker shipped with newsqa (loaded once)."""
    return LinearRanker.load()
