"""Exceptions raised by the retrieval layer."""


class RetrievalError(Exception):
    """Base class of retrieval errors."""


class EmptyQuestion(RetrievalError):
    """The question has no words to search for."""
