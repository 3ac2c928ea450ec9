"""Retrieval layer: answer a question from an index with verbatim quotes. No user I/O."""

from .answerer import MIN_RELEVANCE, QueryEncoder, QuestionAnswerer, clean_question
from .answers import Answer, AnswerSet, quote_context
from .errors import EmptyQuestion, RetrievalError
from .followup import FollowUpResolver, Resolution, Turn
from .hybrid import HybridRetriever, RetrievedPassage, rrf_fuse
from .pool import PassagePool, PoolAnswerer
from .quotes import Quote, QuotePicker

__all__ = [
    "MIN_RELEVANCE", "Answer", "AnswerSet", "EmptyQuestion", "FollowUpResolver", "HybridRetriever", "PassagePool",
    "PoolAnswerer", "QueryEncoder", "Quote", "QuotePicker", "QuestionAnswerer", "Resolution", "RetrievalError",
    "RetrievedPassage", "Turn",
    "clean_question", "quote_context", "rrf_fuse",
]
