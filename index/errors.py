"""Exceptions raised by the index layer; the edges (CLI, bot) turn them into messages."""


class IndexLayerError(Exception):
    """Base class of every error the index layer raises on purpose."""


class ArticleError(IndexLayerError):
    """An article could not be read or holds no usable text."""


class ArticlesDirNotFound(IndexLayerError):
    """The configured articles folder does not exist."""


class IndexNotFound(IndexLayerError):
    """No index has been built at the given directory yet."""


class IndexCorrupt(IndexLayerError):
    """The index exists but cannot be read; it must be rebuilt."""


class IndexMismatch(IndexLayerError):
    """The index was built with other settings (model, chunking) than the ones asked for."""


class ModelNotFound(IndexLayerError):
    """The embedding model name or path cannot be loaded."""


class IndexLocked(IndexLayerError):
    """Another indexer holds the write lock."""


class IndexWriteFailed(IndexLayerError):
    """The index could not be written (the disk is full, a permission is missing); the
    generation readers use is untouched."""


class StorageUnavailable(IndexLayerError):
    """The index's storage server (Milvus) cannot be reached or failed; try again later."""


class FeedError(IndexLayerError):
    """A news feed could not be added, read or found."""


class NotAFeed(FeedError):
    """The URL is neither an RSS/Atom feed nor a page that links one."""


class FeedNotFound(FeedError):
    """No feed with that URL is followed."""
