"""The bundled model run as int8 ONNX: less work per token than float32 torch, no torch import.

Tokenisation uses the model's own `tokenizer.json` through the `tokenizers` library, the
forward pass onnxruntime, pooling numpy: a one-shot `newsqa ask` loads none of torch,
transformers or sentence-transformers once the exported file is cached (see
`onnx_export`). Vectors agree with the torch backend to a cosine of about 0.99.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .encoder import ForwardPass, PooledEncoder, normalise
from .errors import ModelNotFound
from .onnx_export import export_int8


def onnx_supported(model_dir: Path) -> bool:
    """True when the model at `model_dir` is one this encoder reproduces: a BERT-style
    transformer with a fast tokenizer, mean pooling and nothing after it but normalisation."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    modes = [key for key, value in pooling.items() if key.startswith("pooling_mode") and value]
    return (types[:2] == ["Transformer", "Pooling"] and set(types[2:]) <= {"Normalize"}
            and modes == ["pooling_mode_mean_tokens"] and (model_dir / "tokenizer.json").exists())


class OnnxEncoder(PooledEncoder):
    """The `TextEncoder` for the bundled model on onnxruntime; loads on first use (`warm_up`)."""

    backend = "onnx"

    def __init__(self, name: str, model_dir: Path, cache_dir: Path | None = None) -> None:
        self.name = name
        self.model_dir = Path(model_dir)
        self.cache_dir = cache_dir
        self._session = None  # for questions: one intra-op thread
        self._batch_session = None  # for batches of passages: every core, loaded at the first
        self._tokenizer = None
        self._dimension = 0

    def warm_up(self) -> None:
        """Load the tokenizer and the ONNX session for questions now (exporting the model once
        if needed); batches of passages get their own session when the first comes.

        Raises:
            ModelNotFound: the model folder is unusable.
        """
        if self._session is not None:
            return
        from tokenizers import Tokenizer

        try:
            config = json.loads((self.model_dir / "sentence_bert_config.json").read_text())
            max_length = int(config.get("max_seq_length") or 512)
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            hidden = json.loads((self.model_dir / "config.json").read_text())["hidden_size"]
        except (OSError, ValueError, KeyError) as error:
            raise ModelNotFound(f"cannot load embedding model {self.name!r}: {error}") from error
        tokenizer.enable_truncation(max_length=max_length)
        pad_id = tokenizer.token_to_id("[PAD]")
        tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        session = self._new_session(threads=1)
        self._inputs = {i.name for i in session.get_inputs()}
        self._tokenizer, self._dimension, self._session = tokenizer, int(hidden), session

    def _new_session(self, threads: int = 0):
        """An onnxruntime session of the exported model; `threads` intra-op threads (0: one
        per core). A question is too small to split: on one thread it is embedded faster
        (2.9 -> 2.3 ms on 2 cores), and the keyword search beside it keeps the other core."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(str(export_int8(self.model_dir, self.cache_dir)), options,
                                            providers=["CPUExecutionProvider"])

    @property
    def dimension(self) -> int:
        self.warm_up()
        return self._dimension

    def _run(self, texts: Sequence[str], session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Token embeddings, attention mask and character offsets for one batch."""
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        tokens = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        offsets = np.array([e.offsets for e in encodings], dtype=np.int64).reshape(len(texts), -1, 2)
        return tokens, mask, offsets

    @staticmethod
    def _mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[..., None].astype(np.float32)
        return (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors for questions, each embedded on its own: the int8 model scales
        its activations per batch, so a question batched with others would get a slightly
        different vector (cosine down to 0.989) and could get another answer than alone."""
        self.warm_up()
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens, mask, _ = self._run([text], self._session)
            out[row] = self._mean_pool(tokens, mask)[0]
        return normalise(out)

    def _forward(self, texts: Sequence[str]) -> ForwardPass:
        if self._batch_session is None:
            self._batch_session = self._new_session()
        tokens, mask, offsets = self._run(texts, self._batch_session)
        return ForwardPass(vectors=self._mean_pool(tokens, mask), tokens=tokens,
                           starts=offsets[:, :, 0], ends=offsets[:, :, 1])
