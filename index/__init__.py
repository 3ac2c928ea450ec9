"""Index layer: articles in, a persisted hybrid index out (FAISS + FTS5 keyword + documents).

An article goes: `scanning` (which files) -> `articles` (read, decode, clean; `html` for
pages, `origin` for their URL) -> `chunking` (passages and sentences) -> `encoder`/`embedding`
(vectors; `onnx_encoder` + `onnx_export` for the int8 runtime) -> `builder` (the plan, in
batches, under `locking`'s lock) -> `backend` (the storage interface; `faiss_sqlite` over
`store` and `vectors`) with `manifest` and `layout` naming the files, all written through
`atomic`. `reader` hands out snapshots for answering; `text` holds the keyword rules, `dates`
the one date form and the window a search keeps;
`fetch` and `inbox` bring web pages and files into the articles folder, `feeds/` followed news
feeds.
"""

from .articles import Article, ArticleCleaner, ArticleReader, decode_text
from .backend import BACKENDS, IndexStorage, IndexStorageWriter, StorageBackend, storage_backend
from .builder import ArticleProblem, IndexBuilder, IndexReport, SkippedArticle, StorageChoice
from .chunking import Chunker, ChunkingSettings, ChunkSpan, SentenceSpan, SentenceSplitter
from .dates import PublishedWindow, is_date_or_time, iso_date
from .embedding import DEFAULT_MODEL, SentenceTransformerEncoder, load_encoder
from .encoder import EncodedPassages, PooledEncoder, TextEncoder
from .errors import (
    ArticleError,
    ArticlesDirNotFound,
    FeedError,
    FeedNotFound,
    IndexCorrupt,
    IndexLayerError,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    ModelNotFound,
    NotAFeed,
    StorageUnavailable,
)
from .faiss_sqlite import FaissSqliteBackend, FaissSqliteStorage, FaissSqliteWriter
from .fetch import ArticleFetcher, FetchedPage, FetchError, ResponseTooLarge, UnsupportedContent, UnsupportedUrl, is_url
from .html import ExtractedPage, HtmlArticleExtractor
from .inbox import ArticleInbox, SavedArticle
from .locking import writer_lock
from .manifest import Manifest
from .origin import ArticleOrigin
from .reader import IndexReader, IndexSnapshot, open_snapshot
from .scanning import scan_articles
from .store import DocumentReader, DocumentWriter, StoredChunk, StoredSentence, StoreStats
from .text import FTS5_TOKENIZER, STOPWORDS, fold, keyword_terms, stem_words
from .vectors import FaissVectorStore, VectorHits

__all__ = [
    "BACKENDS", "DEFAULT_MODEL", "FTS5_TOKENIZER", "STOPWORDS",
    "Article", "ArticleCleaner", "ArticleError", "ArticleProblem", "ArticleFetcher", "ArticleInbox", "ArticleOrigin",
    "ArticleReader", "ArticlesDirNotFound", "ChunkSpan", "Chunker", "ChunkingSettings", "DocumentReader",
    "DocumentWriter", "EncodedPassages", "ExtractedPage", "FaissSqliteBackend", "FaissSqliteStorage",
    "FaissSqliteWriter", "FaissVectorStore", "FetchError", "FetchedPage", "HtmlArticleExtractor",
    "IndexBuilder", "IndexCorrupt", "IndexLayerError", "IndexLocked", "IndexMismatch", "IndexNotFound",
    "IndexReader", "IndexReport", "IndexSnapshot", "IndexStorage", "IndexStorageWriter", "Manifest",
    "ModelNotFound", "PooledEncoder", "PublishedWindow", "ResponseTooLarge", "SavedArticle",
    "SentenceSpan", "SentenceSplitter", "SentenceTransformerEncoder", "SkippedArticle", "StorageBackend",
    "StoreStats", "StoredChunk", "StoredSentence", "TextEncoder", "UnsupportedContent", "UnsupportedUrl",
    "VectorHits", "decode_text", "fold", "is_date_or_time", "is_url", "iso_date", "keyword_terms", "load_encoder", "open_snapshot",
    "scan_articles", "stem_words", "storage_backend", "writer_lock", "FeedError", "FeedNotFound", "NotAFeed",
    "StorageChoice", "StorageUnavailable",
]
