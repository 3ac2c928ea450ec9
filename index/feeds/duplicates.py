"""One story, one article: near-duplicate bodies found with MinHash LSH (datasketch).

The same wire story arrives from two feeds or under two URLs, lightly edited: "said Tuesday"
vs "said on Tuesday", another headline, a boilerplate line added. Word 3-gram shingles
of the body change only around each edit, so such copies keep a high Jaccard similarity,
while two different stories share almost no 3-grams. How the threshold was chosen, with
the measurement: docs/feeds.md (benchmarks/feed_duplicates.py reruns it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

# MinHash permutations: 128 keeps the estimate within about +-0.045 (1 sigma at J=0.5) and a
# signature at 512 bytes.
NUM_PERM = 128
# datasketch's permutation scheme (its 2.x default), named because stored values carry no trace
# of the scheme that made them; 32-bit values.
SCHEME = "affine32"
_DTYPE = np.uint32
# Estimated Jaccard similarity of word 3-gram sets at or above which two bodies are one story
# (measured: docs/feeds.md).
DEFAULT_THRESHOLD = 0.5
SHINGLE_WORDS = 3
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """The set of `size`-word runs of `text`, case and punctuation ignored."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def signature(text: str):
    """The MinHash of `text`'s shingles (a datasketch `MinHash`)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    for shingle in shingles(text):
        minhash.update(shingle.encode("utf-8"))
    return minhash


def signature_bytes(minhash) -> bytes:
    """A MinHash's values as bytes, for storage (no pickle)."""
    return np.asarray(minhash.hashvalues, dtype=_DTYPE).tobytes()


def _from_bytes(data: bytes):
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, scheme=SCHEME, hashvalues=np.frombuffer(data, dtype=_DTYPE).copy())


class NearDuplicateFinder:
    """Remembers story bodies under a key (their link) and names the first one a new body copies."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[str, object] = {}
        self._order: dict[str, int] = {}

    def load(self, stored: Iterable[tuple[str, bytes]]) -> None:
        """Add signatures saved before (`signature_bytes`), oldest first."""
        for key, data in stored:
            if data and len(data) == NUM_PERM * np.dtype(_DTYPE).itemsize:
                self._insert(key, _from_bytes(data))

    def match(self, minhash) -> str | None:
        """The key of the earliest stored body this one nearly duplicates, or None.

        LSH gives candidates; each is confirmed on the estimated Jaccard similarity.
        """
        close = [key for key in self._lsh.query(minhash)
                 if self._signatures[key].jaccard(minhash) >= self.threshold]
        return min(close, key=self._order.__getitem__) if close else None

    def add(self, key: str, minhash) -> None:
        """Remember `minhash` under `key` (a key already there is kept as it was)."""
        if key not in self._signatures:
            self._insert(key, minhash)

    def _insert(self, key: str, minhash) -> None:
        if key in self._signatures:
            return
        self._lsh.insert(key, minhash)
        self._signatures[key] = minhash
        self._order[key] = len(self._order)
