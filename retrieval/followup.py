"""Follow-up questions in a conversation: "and the Russian one?" after "who led the Chinese
delegation?" is searched as "who led the Russian delegation?".

No text is generated: the question searched is made of the previous question's words and the
message's own words. Whether a message leans on the conversation is decided from signals that
can be measured on the message alone:

- a leading cue ("and ...", "what about ...", "how about ...") on a message too short to
  stand alone (fewer than `MIN_STANDALONE_WORDS` content words): a *strong* follow-up;
- a bare question word ("when?"): strong;
- a third-person pronoun with no name in the message to refer to, or a message of at most
  one content word and no name ("who else attended?"; "what is the NASUWT?" asks about a
  name and stands alone): *weak*; the caller keeps the rewrite only when it retrieves better than
  the message alone (`FollowUpResolver.prefer`).

A message with `MIN_STANDALONE_WORDS` content words or more, no cue and no unresolved pronoun
is complete: it is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

import numpy as np

from newsqa.index import stem_words
from newsqa.index.text import STOPWORDS

from .answers import AnswerSet
from .config import MIN_STANDALONE_WORDS, SUBSTITUTE_MIN_COSINE


_TOKEN = re.compile(r"[\w'’-]+", re.UNICODE)
WH_WORDS = frozenset("who whom whose what when where why which how".split())
# Words that open a message meant to continue the previous question.
_CUES = (("and",), ("what", "about"), ("how", "about"), ("what", "of"), ("and", "what", "about"))
# Words that stand for something said before without adding content ("the Russian one").
_PRO_FORMS = frozenset("one ones else also too instead then".split())
_PERSONAL = frozenset("he she him her his hers".split())
_IMPERSONAL = frozenset("it its they them their theirs".split())
_POSSESSIVE = frozenset("his her hers its their theirs".split())

Strength = Literal["none", "weak", "strong"]


class WordEncoder(Protocol):
    """The part of an embedding model the resolver needs to compare words."""

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Turn:
    """One question of a conversation as it was searched, and the quote it got (if any)."""

    question: str
    answer: str | None = None

    @classmethod
    def of(cls, understood_as: str, result: AnswerSet) -> "Turn":
        return cls(understood_as, result.answers[0].quote if result.found and result.answers else None)


@dataclass(frozen=True)
class Resolution:
    """How a message was understood: `understood_as` is the question to search;
    `is_follow_up` says it was rebuilt from the conversation; `strength` how surely the
    message leans on it (a weak rewrite is kept only if it retrieves better); `reason` names
    the signal."""

    message: str
    understood_as: str
    is_follow_up: bool
    reason: str
    strength: Strength = "none"


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def is_content(self) -> bool:
        word = self.lower.removesuffix("'s")
        return word not in STOPWORDS and word not in _PRO_FORMS and any(ch.isalnum() for ch in word)

    @property
    def is_name(self) -> bool:
        return self.text[:1].isupper() and self.lower not in STOPWORDS


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _stem(word: str) -> str:
    return stem_words([word.lower().removesuffix("'s").removesuffix("’s")])[0]


class FollowUpResolver:
    """Turns a message into the question it stands for, given the conversation so far."""

    def __init__(self, encoder: WordEncoder | None = None,
                 min_standalone_words: int = MIN_STANDALONE_WORDS,
                 substitute_min_cosine: float = SUBSTITUTE_MIN_COSINE) -> None:
        self.encoder = encoder
        self.min_standalone_words = min_standalone_words
        self.substitute_min_cosine = substitute_min_cosine
        self._vector = lru_cache(maxsize=4096)(self._encode_word)

    def resolve(self, message: str, context: Sequence[Turn] = ()) -> Resolution:
        """The question `message` stands for after the turns in `context` (oldest first).

        Returns:
            A `Resolution`; `understood_as` is `message` itself when it is not a follow-up.
        """
        message = " ".join(message.split())
        if not context:
            return Resolution(message, message, False, "no earlier question")
        previous = context[-1]
        tokens = _tokens(message)
        words = [t.lower for t in tokens]
        content = [t for t in tokens if t.is_content]
        cue = next((len(c) for c in sorted(_CUES, key=len, reverse=True) if tuple(words[:len(c)]) == c), 0)
        names = [t for n, t in enumerate(tokens) if t.is_name and n > 0 and t.lower not in WH_WORDS]
        pronouns = [t for t in tokens if t.lower in _PERSONAL | _IMPERSONAL]
        short = len(content) < self.min_standalone_words

        if pronouns and not names and short:
            return self._replace_pronouns(message, tokens, pronouns, previous)
        if not short:
            return Resolution(message, message, False, "complete question")
        wh = [t for t in tokens[cue:] if t.lower in WH_WORDS]
        if not content and wh:
            return Resolution(message, self._ask_wh(previous.question, wh[0].lower), True,
                              "a bare question word", "strong")
        if not content:
            return Resolution(message, message, False, "no words to add")
        if cue:
            return Resolution(message, self._substitute(previous.question, content, wh), True,
                              f"starts with “{' '.join(words[:cue])}”", "strong")
        if len(content) <= 1 and not names:
            return Resolution(message, self._substitute(previous.question, content, wh), True,
                              "too short to stand alone", "weak")
        return Resolution(message, message, False, "stands alone")

    @staticmethod
    def prefer(resolution: Resolution, alone: AnswerSet, rewritten: AnswerSet) -> bool:
        """Whether the rewritten question's answers are the ones to give: always for a strong
        follow-up; for a weak one only when it finds an answer the message alone does not, or
        a better-scored one."""
        if not resolution.is_follow_up:
            return False
        if resolution.strength == "strong":
            return True
        if not rewritten.found:
            return False
        return not alone.found or rewritten.answers[0].score > alone.answers[0].score

    # -- rewrites ------------------------------------------------------------------------
    @staticmethod
    def _ask_wh(question: str, wh: str) -> str:
        """The previous question asked with another question word ("when?")."""
        tokens = _tokens(question)
        if tokens and tokens[0].lower in WH_WORDS:
            return wh + question[tokens[0].end:]
        return f"{wh} {question}"

    def _substitute(self, question: str, new: list[_Token], wh: list[_Token]) -> str:
        """`question` with each new word in place of its word of the same kind, or added."""
        tokens = _tokens(question)
        held = {_stem(t.text) for t in tokens}
        replace: dict[int, str] = {}
        added: list[str] = []
        for word in new:
            if _stem(word.text) in held:
                continue
            slots = [n for n, t in enumerate(tokens) if t.is_content and n not in replace
                     and t.is_name == word.is_name and t.lower not in WH_WORDS]
            best = self._closest(word.text, [tokens[n].text for n in slots])
            if best is None:
                added.append(word.text)
            else:
                replace[slots[best]] = word.text
        if wh and tokens and tokens[0].lower in WH_WORDS and wh[0].lower != tokens[0].lower:
            replace[0] = wh[0].lower
        out, at = [], 0
        for n, token in enumerate(tokens):
            if n in replace:
                out += [question[at:token.start], replace[n]]
                at = token.end
        out.append(question[at:])
        text = "".join(out)
        if added:
            mark = "?" if text.rstrip().endswith("?") else ""
            text = f"{text.rstrip().rstrip('?').rstrip()} {' '.join(added)}{mark}"
        return text

    def _closest(self, word: str, candidates: list[str]) -> int | None:
        """Index of the candidate whose embedding is closest to `word`'s, if close enough."""
        if not candidates or self.encoder is None:
            return None
        target = self._vector(word.lower())
        cosines = [float(target @ self._vector(c.lower())) for c in candidates]
        best = int(np.argmax(cosines))
        return best if cosines[best] >= self.substitute_min_cosine else None

    def _encode_word(self, word: str) -> np.ndarray:
        vector = np.asarray(self.encoder.encode_queries([word])[0], np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def _replace_pronouns(self, message: str, tokens: list[_Token], pronouns: list[_Token],
                          previous: Turn) -> Resolution:
        """`message` with each pronoun replaced by what it most likely stands for: he/she by
        the longest name in the previous answer that its question did not hold (else one in
        the question); it/they by a name of two words or more in the previous question (a
        single capitalised word there is as often an adjective: "Chinese"), else by the
        previous question's content words."""
        asked = {_stem(t.text) for t in _tokens(previous.question)}
        in_question = _names(previous.question, set())
        in_answer = _names(previous.answer or "", asked)
        topic = " ".join(t.text for t in _tokens(previous.question) if t.is_content and t.lower not in WH_WORDS)
        out, at, used = [], 0, []
        for pronoun in pronouns:
            if pronoun.lower in _PERSONAL:
                entity = next((names[0] for names in (in_answer, in_question) if names), None)
            else:
                entity = next((n for n in in_question if len(n.split()) > 1), None) or topic or None
            if entity is None:
                continue
            used.append(entity)
            out += [message[at:pronoun.start], f"{entity}'s" if pronoun.lower in _POSSESSIVE else entity]
            at = pronoun.end
        if not used:
            return Resolution(message, message, False, "a pronoun with nothing to refer to")
        out.append(message[at:])
        return Resolution(message, "".join(out), True, f"“{pronouns[0].text}” taken as {used[0]}", "weak")


def _names(text: str, exclude: set[str]) -> list[str]:
    """Runs of capitalised words in `text` (no stop word in them, none of whose stems is in
    `exclude`), longest first, then in order of appearance."""
    runs: list[list[_Token]] = []
    last_end = -2
    for token in _tokens(text):
        if token.is_name and token.lower not in WH_WORDS:
            gap = text[last_end:token.start] if last_end >= 0 else "x"
            if runs and gap.strip() == "":
                runs[-1].append(token)
            else:
                runs.append([token])
            last_end = token.end
        else:
            last_end = -2
    spans = [" ".join(t.text for t in run) for run in runs
             if not any(_stem(t.text) in exclude for t in run)]
    spans = list(dict.fromkeys(spans))
    return sorted(spans, key=lambda s: -len(s.split()))
