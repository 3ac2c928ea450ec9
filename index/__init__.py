"""Index layer: articles in, a persisted hybrid index out (FAISS + FTS5 keyword + documents)."""

from .articles import Article, ArticleCleaner, ArticleReader, decode_text
from .dates import PublishedWindow, iso_date
from .builder import IndexBuilder, IndexReport, SkippedArticle, scan_articles, writer_lock
from .chunking import Chunker, ChunkingSettings, ChunkSpan, SentenceSpan, SentenceSplitter
from .fetch import ArticleFetcher, FetchedPage, FetchError, ResponseTooLarge, UnsupportedContent, UnsupportedUrl, is_url
from .html import ExtractedPage, HtmlArticleExtractor
from .inbox import ArticleInbox, SavedArticle
from .origin import ArticleOrigin
from .embedding import DEFAULT_MODEL, EncodedPassages, SentenceTransformerEncoder, TextEncoder, load_encoder
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
)
from .manifest import Manifest
from .reader import IndexReader, IndexSnapshot, open_snapshot
from .store import STOPWORDS, DocumentStore, StoredChunk, StoredSentence, StoreStats, keyword_terms
from .vectors import FaissVectorStore, VectorHits, VectorStore

__all__ = [
    "DEFAULT_MODEL", "STOPWORDS", "PublishedWindow", "iso_date", "Article", "ArticleCleaner", "ArticleError", "ArticleReader", "ArticlesDirNotFound",
    "ChunkSpan", "Chunker", "ChunkingSettings", "DocumentStore", "EncodedPassages", "FaissVectorStore",
    "IndexBuilder", "IndexCorrupt", "IndexLayerError", "IndexLocked", "IndexMismatch", "IndexNotFound",
    "IndexReader", "IndexReport", "IndexSnapshot", "Manifest", "ModelNotFound", "SentenceSpan",
    "SentenceSplitter", "SentenceTransformerEncoder", "SkippedArticle", "StoreStats", "StoredChunk",
    "StoredSentence", "TextEncoder", "VectorHits", "VectorStore", "decode_text", "keyword_terms",
    "load_encoder", "open_snapshot", "scan_articles",
    "ArticleFetcher", "ArticleInbox", "ArticleOrigin", "ExtractedPage", "FetchError", "FetchedPage",
    "HtmlArticleExtractor", "ResponseTooLarge", "SavedArticle", "UnsupportedContent", "UnsupportedUrl",
    "is_url", "writer_lock", "FeedError", "FeedNotFound", "NotAFeed",
]
