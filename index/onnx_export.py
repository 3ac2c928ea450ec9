"""One-time export of a BERT-style sentence-transformers model to an int8 ONNX file.

The transformer is exported with `torch.onnx.export` (its token embeddings are the only
output: pooling happens in numpy, so sentence vectors can be pooled from the same pass),
then its weights are quantised to int8 with onnxruntime's dynamic quantisation. The file
is cached under `NEWSQA_CACHE_DIR` (default `~/.cache/newsqa`), named by a hash of the
model weights and the versions that shaped it, and written atomically, so concurrent
first runs cannot see half a file. Only this module imports torch on the ONNX path, and
only when the cached file is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from .atomic import atomic_write, move_into_place

log = logging.getLogger(__name__)

# Bump when the export or quantisation recipe changes: old cached files are then ignored.
EXPORT_RECIPE = 3
# ONNX opset of the exported graph; 17 is supported by every onnxruntime >= 1.14.
OPSET = 17
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def cache_dir() -> Path:
    """Where exported models are kept: `NEWSQA_CACHE_DIR`, else `~/.cache/newsqa`."""
    configured = os.environ.get("NEWSQA_CACHE_DIR", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "newsqa"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def weights_file(model_dir: Path) -> Path:
    """The transformer weights of a sentence-transformers model folder."""
    for name in _WEIGHT_FILES:
        if (model_dir / name).exists():
            return model_dir / name
    raise FileNotFoundError(f"no model weights ({' or '.join(_WEIGHT_FILES)}) in {model_dir}")


def _weights_hash(path: Path, memo_dir: Path) -> str:
    """sha256 of the weights, remembered by (path, size, mtime) so a cold start does not
    re-read 90 MB to find its cached model."""
    stat = path.stat()
    memo_key = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:32]
    memo = memo_dir / "hashes" / memo_key
    try:
        return memo.read_text().strip()
    except OSError:
        pass
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(memo, value, unique=True)
    except OSError:  # a read-only cache still works, only slower
        pass
    return value


def cached_model_path(model_dir: Path, cache: Path | None = None) -> Path:
    """Where the int8 ONNX file of `model_dir` is (or will be) cached, under `cache`
    (default: `cache_dir()`)."""
    directory = Path(cache).expanduser() if cache else cache_dir()
    key = hashlib.sha256(json.dumps({
        "weights": _weights_hash(weights_file(model_dir), directory),
        "recipe": EXPORT_RECIPE, "opset": OPSET,
        "onnxruntime": _version("onnxruntime"), "onnx": _version("onnx"),
    }, sort_keys=True).encode()).hexdigest()[:16]
    return directory / "onnx" / f"{model_dir.name}-{key}-int8.onnx"


@contextlib.contextmanager
def _root_logger_quiet() -> Iterator[None]:
    """Errors only on the root logger for a while (onnxruntime's quantiser logs there)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def export_int8(model_dir: Path, cache: Path | None = None) -> Path:
    """The cached int8 ONNX file for the model at `model_dir`, exported first if missing
    (about 30 s once; needs torch, transformers and onnx)."""
    target = cached_model_path(model_dir, cache)
    if target.exists():
        return target
    log.warning("exporting %s to ONNX int8 once, into %s (about 30 s)", model_dir.name, target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as work:
        move_into_place(export_to(model_dir, Path(work)), target)
    return target


def export_to(model_dir: Path, work: Path, attention: str = "eager") -> Path:
    """Export the model at `model_dir` into `work` as an int8 ONNX file of token embeddings,
    with `attention` ("eager" or "sdpa"), and return its path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    class _TokenEmbeddings(torch.nn.Module):
        """The transformer with its last hidden state as the one output."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # Eager attention exports as plain MatMul/Softmax; the default SDPA path exports extra
    # mask and shape ops that cost ~15% more CPU per token in onnxruntime (docs/performance.md).
    transformers_logging.disable_progress_bar()  # a bar for reading weights from local disk is noise
    try:
        model = AutoModel.from_pretrained(str(model_dir), attn_implementation=attention).eval()
    finally:
        transformers_logging.enable_progress_bar()
    fp32, int8 = work / f"{attention}-fp32.onnx", work / f"{attention}-int8.onnx"
    dummy = {
        "input_ids": torch.ones((2, 8), dtype=torch.int64),
        "attention_mask": torch.ones((2, 8), dtype=torch.int64),
        "token_type_ids": torch.zeros((2, 8), dtype=torch.int64),
    }
    dynamic = {name: {0: "batch", 1: "tokens"} for name in (*dummy, "token_embeddings")}
    # The tracer's and the quantiser's advice (TracerWarning, "consider pre-processing")
    # concerns model authors, not someone indexing articles: keep it off their terminal.
    with torch.inference_mode(), warnings.catch_warnings(), _root_logger_quiet():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _TokenEmbeddings(model), tuple(dummy.values()), str(fp32), input_names=list(dummy),
            output_names=["token_embeddings"], dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
        )
        # Per-channel scales: cosine to float32 0.995 (one scale per tensor gave 0.970).
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return int8
