"""CPU cost of the int8 ONNX export variants of the bundled model, measured interleaved.

Exports all-MiniLM-L6-v2 twice with `index/onnx_export.py`'s `export_to`, with transformers'
default (SDPA) attention and with eager attention (the recipe the index uses), quantises both
the same way (dynamic, int8, per channel), then encodes the longest covidqa passages
(1000/200 chunks) with one onnxruntime thread and reports the process CPU seconds of each
variant over interleaved rounds, so machine load hits both alike. Also prints the cosine of each variant's mean-pooled
vectors to the float32 sentence-transformers ones.

    .venv/bin/python benchmarks/export_variants.py [--passages 160] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
from langchain_text_splitters import RecursiveCharacterTextSplitter
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer

from newsqa.index.embedding import resolve_model_path
from newsqa.index.onnx_export import export_to

# The shared eval sets: NEWSQA_EVAL_DIR, else `../shared/eval` beside this repository.
ARTICLES = Path(os.environ.get("NEWSQA_EVAL_DIR") or Path(__file__).resolve().parent.parent.parent / "shared" / "eval") / "covidqa" / "articles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    model_dir = Path(resolve_model_path("all-MiniLM-L6-v2"))
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = sorted((c for f in sorted(ARTICLES.glob("*.txt")) for c in splitter.split_text(f.read_text())),
                   key=len)[-args.passages:]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    batches = []
    for start in range(0, len(texts), 32):
        encodings = tokenizer.encode_batch(texts[start:start + 32])
        ids = np.array([e.ids for e in encodings])
        batches.append({"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in encodings]),
                        "token_type_ids": np.zeros_like(ids)})
    reference = SentenceTransformer(str(model_dir), device="cpu").encode(texts, batch_size=32, normalize_embeddings=True)
    with tempfile.TemporaryDirectory() as work:
        sessions = {}
        for attention in ("sdpa", "eager"):
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.log_severity_level = 3
            sessions[attention] = onnxruntime.InferenceSession(str(export_to(model_dir, Path(work), attention)), options,
                                                               providers=["CPUExecutionProvider"])
        seconds: dict[str, list[float]] = {name: [] for name in sessions}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for name, session in sessions.items():
                began, pooled = time.process_time(), []
                for batch in batches:
                    tokens, mask = session.run(None, batch)[0], batch["attention_mask"][..., None]
                    pooled.append((tokens * mask).sum(1) / mask.sum(1))
                seconds[name].append(time.process_time() - began)
                stacked = np.vstack(pooled)
                vectors[name] = stacked / np.linalg.norm(stacked, axis=1, keepdims=True)
    tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    print(f"{len(texts)} passages, {tokens} tokens, {args.rounds} interleaved rounds, one onnxruntime thread")
    print("| export | CPU s (min) | all rounds | cosine to float32 (mean / min) |")
    print("|---|---|---|---|")
    for name, values in seconds.items():
        cosine = (vectors[name] * reference).sum(axis=1)
        print(f"| {name} | {min(values):.2f} | {' '.join(f'{v:.2f}' for v in values)} | "
              f"{cosine.mean():.4f} / {cosine.min():.4f} |")
    print(f"eager / sdpa CPU: {min(seconds['eager']) / min(seconds['sdpa']):.2f}")


if __name__ == "__main__":
    main()
