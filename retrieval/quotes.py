"""Picking the sentence to quote from the retrieved passages.

Every sentence of the retrieved passages is scored by the sentence ranker (`ranker.py`) from
the signals of `features.py`: how similar it is to the question, how much of the question it
holds, and whether it holds what the question asks for beyond the question's own words. The
best sentence of each passage is that passage's quote; a neighbouring sentence joins it when
it is nearly as likely to hold the answer, so an answer spanning two sentences is quoted whole
(across a paragraph break too: news paragraphs are often one sentence long), and a quote that
names a person by surname alone takes the sentence before that names them in full. Scrape junk
(photo credits, "Related:", newsletter promos, link labels) is never quoted, and a leading
dateline ("WASHINGTON (CNN) —") is left out of the quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from newsqa.index import STOPWORDS, StoredChunk, is_date_or_time, stem_words

from .config import EXTEND_MARGIN, MAX_QUOTE_CHARS, RECENCY_DAYS, W_NEWEST, W_RECENCY_PRIOR, W_RECENT_SPAN
from .features import FEATURES, QuestionProfile, SentenceFeaturizer
from .hybrid import RetrievedPassage
from .ranker import LinearRanker, shipped_ranker
from .terms import PASSAGE_TERMS_CACHE, QuestionTerms
from .timeframe import TimeFrame

NOVEL_WORDS, COS_SENTENCE = FEATURES.index("novel_words"), FEATURES.index("cos_sentence")
# Sentences that are page furniture, never an answer: what opens them (matched at the start
# only, which costs a fraction of searching every position) ...
_JUNK_OPENING = re.compile(
    r"\W*(related( articles?| stories| content)?\s*:|read (more|next)\b|more from\b|see also\b|"
    r"(more|recap|explainer|contributing|interactive|opinion|analysis|follow( [\w'’]+){0,3})\s*:|"
    r"[A-Z][\w'’ ]{0,30}:(?=[A-Z“\"‘'])|"  # a link's label glued to its title: "Recap:Supreme Court ..."
    r"sign up\b|subscribe\b|click here\b|follow us\b|(watch|listen)\s*:|advertisement\b|"
    r"(photo(graph)?|image|video)( credit)?s?\s*:|credits?\s*:|all rights reserved|copyright\b|©|"
    r"from (staff|[\w ]{1,30} network) and wire reports|this (story|article) (has been|was) updated\b|"
    r"follow [\w .'’-]{1,40} on (twitter|x|facebook|instagram|threads)\b|would you like to receive\b|"
    r"learn more\s*:|just for subscribers\b|"
    # a wire's and a site's boilerplate: "Our Standards: The Thomson Reuters Trust Principles.",
    # BBC's "Image caption, ..." and "Media caption, ...", "Listen to this article", "Share on Facebook"
    r"our standards\s*:|(?:image|media)\s+(?:caption|source)\s*,|listen to this (?:article|story)\b|"
    r"share (?:this (?:article|story)|on (?:facebook|twitter|x|linkedin|whatsapp|email))\b)"
    # a byline, and nothing else: "By Laura Oliverio and Kyle Almond, CNN" (names capitalised)
    r"|\W*by\s+(?-i:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
    r"(?:(?:,|\s+and|\s*&)\s+[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})*)\W*$"
    # a live blog's sign-off: a dash and a name of 2-4 words ("– David Jackson"); a hyphen
    # and one word is a list item ("- Eggs")
    r"|\s*(?:[–—]|--)\s*(?-i:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){1,3})\W*$"
    # a wire story's credits: "(Reporting by Jane Doe in Paris; Editing by Tom Roe)"
    # (names, places and roles only: "Reporting by The Post found ..." is a sentence)
    r"|\W*(?:additional\s+)?(?:reporting|writing|editing|research|compiled|graphics)\s+by\s+"
    r"(?-i:[A-Z][\w.'’-]*(?:(?:\s*[;,&]\s*|\s+)(?:[A-Z][\w.'’-]*|and|in|by|of|additional|reporting|writing"
    r"|editing|research|compiled|graphics))*)\W*$"
    # a label with nothing after it: a transcript's speaker ("Taylor Wilson:"), a list's field
    r"|\W*[\w.'’-]+(?:\s+[\w.'’-]+){0,3}\s*:\s*$"
    # a list's number alone: "5."
    r"|\s*\d{1,3}[.)]\s*$",
    re.IGNORECASE,
)
# ... and what they hold anywhere: a photo credit, a newsletter promo, a sentence that ends
# crediting others ("CNN’s Jane Doe contributed to this report."), a reprint notice.
_JUNK_ANYWHERE = re.compile(
    r"getty images\W*$|\((ap|afp|reuters) photo|\bnewsletter\b.*\bsign up\b|\bsign up\b.*\bnewsletter\b"
    r"|\bcontributed\s+(?:reporting|to\s+this\s+(?:report|story|article|piece))\W*$"
    r"|\bmay not be published, broadcast, rewritten,? or redistributed\b",
    re.IGNORECASE,
)
# The longest option of a multiple-choice question, in words ("Naked, Alone and Racing to Get Home").
MAX_CHOICE_WORDS = 8
# A publication stamp, and nothing else: "Updated 11:39 p.m. ET / Ariel Edwards-Levy",
# "Published April 8, 2023" (the stamp's text must read as a day or time).
_STAMP = re.compile(r"^\W*(?:last\s+)?(?:updated|published|posted)\b\s*:?\s*(?:on\s+)?([^/|]+?)\s*(?:[/|].*)?$",
                    re.IGNORECASE)
# A dateline that opens a story: "WASHINGTON (CNN) —", "(CNN) —", "CNN —", "LONDON (Reuters) -",
# with the day as wires give it: "LONDON, March 3 (Reuters) -", "March 3 (Reuters) -",
# "(Bloomberg) --". (A place alone, "HOUSTON —", stays: it may be what a question asks.)
_DATELINE = re.compile(
    r"\s*(?:[A-Z][A-Za-z.'’-]*(?:[ ,]+[A-Z][A-Za-z.'’-]*){0,3}[ ,]*)?(?:\d{1,2}[ ,]+)?"
    r"\(?(?:CNN(?: Business| Sport)?|AP|Reuters|AFP|UPI|Bloomberg)\)?\s*[—–-]{1,2}\s+"
)

# A name as news gives it after its first mention: one capitalised word ("Hurts"), and the
# same name given in full ("Jalen Hurts", "E. Jean Carroll").
_NAME_WORD = re.compile(r"(?<![\w'’.-])[A-Z][a-z][\w'’-]*")
_CAPITAL_BEFORE = re.compile(r"[A-Z][\w'’.-]*\s*$")
# What comes right before a name given in full: a capitalised word and a space ("Jalen " of
# "Jalen Hurts", "E. " of "E. Jean Carroll"); and a word's end.
_FULL_NAME_BEFORE = re.compile(r"[A-Z][\w'’.-]*\.? +$")
_WORD_END = re.compile(r"\b")


def _bare_names(text: str, said: frozenset[str]) -> list[str]:
    """Names in `text` given by one word the question does not say, no capitalised word before
    them ("Hurts and the Eagles agreed": "Hurts")."""
    words = [m.group() for m in _NAME_WORD.finditer(text)
             if m.group().casefold() not in STOPWORDS and not _CAPITAL_BEFORE.search(text, 0, m.start())]
    return [word for word, stem in zip(words, stem_words(words)) if stem not in said]


def _names_in_full(names: Sequence[str], text: str) -> bool:
    """Whether `text` gives one of `names` in full (a capitalised word or more before it)."""
    return any(_in_full(name, text) for name in names)


def _in_full(name: str, text: str) -> bool:
    """Whether `text` gives `name`, as a whole word, right after a capitalised word. (Each
    occurrence is checked with patterns compiled once: a pattern per name cost more to compile
    than to match, with a news index's many names.)"""
    at = text.find(name)
    while at >= 0:
        if _WORD_END.match(text, at + len(name)) and _FULL_NAME_BEFORE.search(text, 0, at):
            return True
        at = text.find(name, at + 1)
    return False


def _relative_spans(chunk: StoredChunk) -> tuple[tuple[int, int], ...]:
    return tuple((sentence.start - chunk.start, sentence.end - chunk.start) for sentence in chunk.sentences)


def junk_sentences(chunk: StoredChunk) -> np.ndarray:
    """Per sentence of a passage: never quoted (page furniture, a question, a quiz's options)."""
    spans = _relative_spans(chunk)
    furniture = np.fromiter((_is_junk(chunk.text[a:b].strip()) for a, b in spans), bool, len(spans))
    return furniture | _unanswering_sentences(chunk.text, spans)


# Sentences whose furniture check is kept between questions (~400 bytes each: ~13 MB at most).
@lru_cache(maxsize=PASSAGE_TERMS_CACHE * 8)
def _is_junk(sentence: str) -> bool:
    """Whether one sentence is page furniture: a label, a credit, a byline, a stamp."""
    if _JUNK_OPENING.match(sentence) or _JUNK_ANYWHERE.search(sentence):
        return True
    stamp = _STAMP.match(sentence)
    return stamp is not None and is_date_or_time(stamp.group(1))


def _asks(sentence: str) -> bool:
    """Whether a sentence is a question ("Who is the Oscars host?", a quiz's): it answers nothing."""
    return sentence.rstrip("\"”’')").endswith("?")


def _choices(sentences: Sequence[str]) -> np.ndarray:
    """Per sentence: an option of a multiple-choice question (a quiz's "25%", "Japan"): a short
    line without a full stop in a run of such lines right after a line that asks, or opening a
    passage that has such runs (its question was cut off by the passage's start). The options
    hold the answer and its decoys alike, so none answers the question."""
    short = np.fromiter((len(s.split()) <= MAX_CHOICE_WORDS and not s.endswith((".", "!", "?", ":"))
                         for s in sentences), bool, len(sentences))
    choice = np.zeros(len(sentences), bool)
    for n in range(1, len(sentences)):
        if short[n] and (_asks(sentences[n - 1]) or choice[n - 1]):
            choice[n] = True
    if choice.any():
        opening = int(np.argmin(short)) if not short.all() else len(short)
        choice[:opening] = True
    return choice


@lru_cache(maxsize=PASSAGE_TERMS_CACHE)
def _unanswering_sentences(text: str, spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Per sentence of a passage: a question or a quiz's option (cached with the passage's words)."""
    sentences = [text[start:end].strip() for start, end in spans]
    flags = np.fromiter(map(_asks, sentences), bool, len(spans)) | _choices(sentences)
    flags.flags.writeable = False
    return flags


def _best_quotable(chunk: StoredChunk, scores: np.ndarray) -> int | None:
    """The best-scored sentence of a passage that is not page furniture (None: none is left),
    with `scores` set to -inf for furniture from two sentences before it to one after (all a
    quote may join). Sentences are checked best first, so most are never checked."""
    checked: set[int] = set()
    while np.isfinite(scores).any():
        best = int(np.argmax(scores))
        for n in range(max(best - 2, 0), min(best + 2, len(scores))):
            if n not in checked and np.isfinite(scores[n]):
                checked.add(n)
                sentence = chunk.sentences[n]
                if _is_junk(chunk.article_text[sentence.start:sentence.end].strip()):
                    scores[n] = -math.inf
        if np.isfinite(scores[best]):
            return best
    return None


@dataclass(frozen=True)
class Quote:
    """The chosen span of one passage and how well it answers."""

    passage: RetrievedPassage
    start: int
    end: int
    score: float
    cosine: float  # best of the sentence's and the passage's similarity to the question
    coverage: float  # IDF-weighted share of the question's terms in the quote
    passage_coverage: float  # the same share over the whole passage
    recency: float = 0.0  # the part of `score` that is the recency bonus (0: undated, no as-of)

    @property
    def text(self) -> str:
        return self.passage.chunk.article_text[self.start:self.end]


class QuotePicker:
    """Chooses the best sentence (or two) of each passage for a question."""

    def __init__(self, ranker: LinearRanker | None = None, extend_margin: float = EXTEND_MARGIN,
                 max_quote_chars: int = MAX_QUOTE_CHARS, w_recent_span: float = W_RECENT_SPAN,
                 w_newest: float = W_NEWEST, w_recency_prior: float = W_RECENCY_PRIOR,
                 recency_days: float = RECENCY_DAYS) -> None:
        self._ranker = ranker
        self.featurizer = SentenceFeaturizer()
        self.extend_margin = extend_margin
        self.max_quote_chars = max_quote_chars
        self.w_recent_span = w_recent_span
        self.w_newest = w_newest
        self.w_recency_prior = w_recency_prior
        self.recency_days = recency_days

    @property
    def ranker(self) -> LinearRanker:
        """The sentence ranker (the shipped one unless another was given), loaded at first use."""
        if self._ranker is None:
            self._ranker = shipped_ranker()
        return self._ranker

    def pick(self, question: str, query_vector: np.ndarray, passages: Sequence[RetrievedPassage],
             terms: QuestionTerms | None = None, frame: TimeFrame | None = None) -> list[Quote]:
        """One quote per passage, best first."""
        terms = terms if terms is not None else QuestionTerms.of(question)
        profile = QuestionProfile.of(question, terms)
        features = self.featurizer.features(profile, query_vector, passages)
        scores = self.ranker.score(features.matrix) if len(features.matrix) else np.zeros(0, np.float32)
        total = float(terms.weights.sum())
        quotes: list[Quote] = []
        for index, passage in enumerate(passages):
            rows = np.flatnonzero(features.passage_of == index)
            if not len(rows):
                continue
            sentence_scores = scores[rows].astype(np.float64)
            chunk = passage.chunk
            echo = features.matrix[rows, NOVEL_WORDS] == 0  # holds nothing the question does not
            sentence_scores[echo | _unanswering_sentences(chunk.text, _relative_spans(chunk))] = -math.inf
            best = _best_quotable(chunk, sentence_scores)
            if best is None:
                continue
            presence = features.presence[index]
            quote = self._quote(passage, best, sentence_scores, presence, profile, total,
                                cosine=features.matrix[rows, COS_SENTENCE])
            quotes.append(self._with_recency(quote, frame))
        return sorted(quotes, key=lambda q: -q.score)

    def _quote(self, passage: RetrievedPassage, best: int, scores: np.ndarray, presence: np.ndarray,
               profile: QuestionProfile, total: float, cosine: np.ndarray) -> Quote:
        """The best sentence of one passage, joined by a neighbour nearly as good; for a
        question asking for a name, by the sentence before when that one gives in full a name
        the quote gives bare ("Jalen Hurts ..." before "Hurts and the Eagles agreed ...")."""
        chunk = passage.chunk
        terms = profile.terms
        first = best
        sentence = chunk.sentences[best]
        start, end = sentence.start, sentence.end
        used = presence[best]
        order = sorted((best - 1, best + 1), key=lambda i: -scores[i] if 0 <= i < len(scores) else 0.0)
        for neighbour in order:
            if not 0 <= neighbour < len(scores):
                continue
            other = chunk.sentences[neighbour]
            joined = (min(start, other.start), max(end, other.end))
            if (scores[best] - scores[neighbour] <= self.extend_margin
                    and joined[1] - joined[0] <= self.max_quote_chars):
                start, end = joined
                first = min(best, neighbour)
                used = np.maximum(used, presence[neighbour])
                break
        if profile.kind == "name" and first > 0 and np.isfinite(scores[first - 1]):
            start, end, used = self._with_full_name(chunk, presence, profile.said, best, first, (start, end), used)
        dateline = _DATELINE.match(chunk.article_text, start, end)
        if dateline is not None and dateline.end() < end:
            start = dateline.end()
        quote_coverage = float(used @ terms.weights / total) if total > 0 else 0.0
        passage_coverage = float(presence.max(axis=0) @ terms.weights / total) if total > 0 else 0.0
        return Quote(passage, start, end, float(scores[best]), max(float(cosine[best]), passage.dense),
                     quote_coverage, passage_coverage)

    def _with_full_name(self, chunk: StoredChunk, presence: np.ndarray, said: frozenset[str], best: int,
                        first: int, span: tuple[int, int], used: np.ndarray) -> tuple[int, int, np.ndarray]:
        """`span` (from sentence `first`) joined by the sentence before it when that one gives in
        full a name the span gives bare; when there is no room for both, the best sentence alone
        takes it, in place of the neighbour after it."""
        text, (start, end) = chunk.article_text, span
        before = chunk.sentences[first - 1]

        def named_in_full(a: int, b: int) -> bool:
            return _names_in_full(_bare_names(text[a:b], said), text[before.start:before.end])

        if end - before.start <= self.max_quote_chars and named_in_full(start, end):
            return before.start, end, np.maximum(used, presence[first - 1])
        sentence = chunk.sentences[best]
        if (first == best and end > sentence.end and sentence.end - before.start <= self.max_quote_chars
                and named_in_full(sentence.start, sentence.end)):
            return before.start, sentence.end, np.maximum(presence[best], presence[first - 1])
        return start, end, used

    def recency_bonus(self, published: str | None, frame: TimeFrame | None) -> float:
        """What the recency the question asks for adds to the score of a quote from an article
        published that day (0: undated, or no as-of)."""
        age = frame.age_days(published) if frame is not None else None
        if age is None:
            return 0.0
        bonus = self.w_recent_span if frame.recent(published) else 0.0
        return bonus + (self.w_newest if frame.wants_newest else self.w_recency_prior) * math.exp(-age / self.recency_days)

    def _with_recency(self, quote: Quote, frame: TimeFrame | None) -> Quote:
        """`quote` with the recency its question asks for added to its score."""
        bonus = self.recency_bonus(quote.passage.chunk.published, frame)
        return replace(quote, score=quote.score + bonus, recency=bonus) if bonus else quote
