"""Titles of works, for questions that ask for one ("which movie", "what song", "what is the
show called"): the name that answers is a title, which news writes in quotation marks
(“The Little Mermaid”, 'Everything Everywhere All at Once'), where a quoted remark runs longer.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .config import MAX_TITLE_WORDS

# Words for a work. "play" and "novel" are left out: "what plays a role", "what novel features".
_WORK = r"(?:movie|film|show|series|sitcom|drama|documentary|song|album|single|book|musical|remake|opera|podcast|franchise)s?"
# "which film star", "which movie director": a person or a body, not a title.
_PERSON = r"(?:star|director|actor|actress|critic|producer|maker|composer|writer|author|singer|host|character|company|studio|festival)s?\b"
# A work word followed by its object is a verb: "what surveys show the location", "what shows us".
_VERB_USE = r"(?:the|a|an|us|them|it|that|how|what|which|whether|up|signs?)\b"
# "which [up to three words] movie", not across a verb ("what did this model show") or "of".
_ASKS_TITLE = re.compile(
    rf"\b(?:which|what)\s+(?:(?!(?:is|was|are|were|do|does|did|can|could|will|would|has|have|had|of)\b)[\w-]+\s+){{0,3}}"
    rf"{_WORK}\b(?!\s+{_PERSON})(?!\s+{_VERB_USE})|\b{_WORK}\s+(?:is\s+)?called\b", re.IGNORECASE)
# A quoted span that starts with a capital or a digit; straight single quotes only around
# whole words (not the apostrophe of "Bailey's").
_QUOTED = re.compile(r"[“\"‘](?=[A-Z0-9])([^“”\"‘’\n]{1,200}?)[”\"’]|(?<!\w)'(?=[A-Z0-9])([^'\n]{1,200}?)'(?!\w)")
# Passages whose title spans are kept between questions.
TITLE_SPANS_CACHE = 4096


def asks_title(question: str) -> bool:
    """Whether `question` asks for the title of a work (a movie, show, song, book)."""
    return _ASKS_TITLE.search(question) is not None


@lru_cache(maxsize=TITLE_SPANS_CACHE)
def _title_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Character spans of `text` that are quoted titles: capitalised, `MAX_TITLE_WORDS` words at most."""
    return tuple((match.start(), match.end()) for match in _QUOTED.finditer(text)
                 if len((match.group(1) or match.group(2)).split()) <= MAX_TITLE_WORDS)


def title_words(text: str, offsets: np.ndarray) -> np.ndarray:
    """Per word of `text` (its character `offsets`): inside a quoted title."""
    flags = np.zeros(len(offsets), bool)
    for start, end in _title_spans(text):
        flags |= (offsets >= start) & (offsets < end)
    return flags
