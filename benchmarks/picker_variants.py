"""Quote-picking variants measured against the shipped picker (seventeenth and eighteenth sessions; none kept).

Each eval set named is answered as `newsqa eval` answers it (as of each question's `as_of`, 5
answers, the not-found rule in force, one question at a time) by the shipped answerer and by
one with a variant picker, and each row prints quote_hit@1 / quote chars / passage_hit@1 /
passage_hit@5 (docs/quality-log.md, "Seventeenth session"; docs/quality.md, "Tried and not kept"):

- `headline MARGIN`: the article's title is a candidate quote of the article's best-placed
  passage (its own vector, embedded when first met; the passage's other features), and is
  quoted instead of that passage's best sentence when it scores MARGIN above it;
- `support WEIGHT`: redundancy: a sentence's candidate answers (the names, numbers or dates the
  question asks for) counted in the passages of other articles among those examined;
  WEIGHT x log(1 + that count) is added to the sentence's score;
- `support-dated WEIGHT:DAYS` (eighteenth session): the same, counting only dated articles
  published within DAYS of the candidate's own (dated) article, so undated sets are untouched;
- `title-answer WEIGHT` (eighteenth session): WEIGHT is added to a sentence holding a candidate
  answer that its article's title holds too;
- `quiz-intro`: the line that introduces a quiz (just before its first question with options,
  without a sentence's closing punctuation) is never quoted;
- `standalone alone|mix`: each sentence's vector embedded on its own instead of pooled from its
  passage's pass (`mix`: the mean of the two).

    .venv/bin/python benchmarks/picker_variants.py ../shared/eval/news_dev ../shared/eval/xquad_en \
        ../shared/eval/covidqa --variant support 0.1      # ~1 min a variant and set
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import load_settings
from newsqa.index import IndexBuilder, IndexReader, StoredChunk, StoredSentence, iso_date, keyword_terms, stem_words
from newsqa.retrieval import QuestionAnswerer
from newsqa.retrieval.evaluation import evaluate, load_questions
from newsqa.retrieval.features import QuestionProfile, SentenceFeatures, SentenceFeaturizer, _PassageWords
from newsqa.retrieval.hybrid import RetrievedPassage
from newsqa.retrieval.quotes import NOVEL_WORDS, Quote, QuotePicker, _asks, _choices, _is_junk
from newsqa.retrieval.ranker import LinearRanker, shipped_ranker
from newsqa.retrieval.terms import QuestionTerms, chunk_terms
from newsqa.retrieval.timeframe import TimeFrame

_LIST_NUMBER = re.compile(r"\d{1,3}[.)]")


class VectorCache:
    """Texts embedded on their own, each once (as a passage of one sentence)."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> list[np.ndarray]:
        new = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        for start in range(0, len(new), 64):
            part = new[start:start + 64]
            encoded = self.encoder.encode_passages(part, [[(0, len(t))] for t in part])
            self.vectors.update(zip(part, encoded.passages))
        return [self.vectors[t] for t in texts]


@dataclass(frozen=True)
class HeadlineQuote(Quote):
    """A quote that is the article's title (the passage stays the one it stands for)."""

    headline: str = ""

    @property
    def text(self) -> str:
        return self.headline


class HeadlinePicker(QuotePicker):
    """The shipped picker, with each article's title as a candidate of its best-placed passage."""

    def __init__(self, vectors: VectorCache, margin: float) -> None:
        super().__init__()
        self.vectors, self.margin = vectors, margin

    def pick(self, question: str, query_vector: np.ndarray, passages: Sequence[RetrievedPassage],
             terms: QuestionTerms | None = None, frame: TimeFrame | None = None) -> list[Quote]:
        quotes = super().pick(question, query_vector, passages, terms, frame)
        terms = terms if terms is not None else QuestionTerms.of(question)
        firsts: dict[int, int] = {}
        for index, passage in enumerate(passages):
            firsts.setdefault(passage.chunk.article_id, index)
        headlines = []
        for index in firsts.values():
            chunk = passages[index].chunk
            title = chunk.title.strip()
            if len(title.split()) < 3 or _asks(title) or _is_junk(title):
                continue
            sentence = StoredSentence(0, len(title), 0, self.vectors([title])[0])
            headline = replace(chunk, chunk_id=-1 - chunk.chunk_id, start=0, end=len(title), text=title,
                               article_text=title, sentences=(sentence,), words=None)
            headlines.append((index, replace(passages[index], chunk=headline)))
        if not headlines:
            return quotes
        every = list(passages) + [p for _, p in headlines]
        features = self.featurizer.features(QuestionProfile.of(question, terms), query_vector, every)
        scores = self.ranker.score(features.matrix)
        position = {q.passage.chunk.chunk_id: n for n, q in enumerate(quotes)}
        for extra, (index, headline) in enumerate(headlines):
            rows = np.flatnonzero(features.passage_of == len(passages) + extra)
            at = position.get(passages[index].chunk.chunk_id)
            if not len(rows) or at is None or features.matrix[rows[0], NOVEL_WORDS] == 0:
                continue
            quote = quotes[at]
            if scores[rows[0]] > quote.score - quote.recency + self.margin:
                quotes[at] = HeadlineQuote(quote.passage, quote.start, quote.end,
                                           float(scores[rows[0]]) + quote.recency, quote.cosine, quote.coverage,
                                           quote.passage_coverage, quote.recency, headline=headline.chunk.text)
        return sorted(quotes, key=lambda q: -q.score)


class AnswerBonusFeaturizer(SentenceFeaturizer):
    """The shipped features, and per sentence a bonus computed from its candidate answers (the
    names, numbers or dates the question asks for, not said by it), read by `BonusRanker` right
    after. Subclasses say what a candidate answer earns (`bonuses`)."""

    bonus = np.zeros(0, np.float32)

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        features = super().features(profile, query_vector, passages)
        self.bonus = np.zeros(len(features.matrix), np.float32)
        if profile.kind not in ("name", "number", "date") or not len(features.matrix):
            return features
        chunks = [p.chunk for p in passages]
        texts = [chunk_terms(chunk) for chunk in chunks]
        sentences = [s for chunk in chunks for s in chunk.sentences]
        words = _PassageWords.of(texts, chunks, sentences, features.passage_of, profile)
        answer = words.novel(profile, texts, chunks).answer
        stems = [stem for text in texts for stem in text.stems]
        passage = np.repeat(np.arange(len(chunks)), [text.size for text in texts])
        candidates = [(int(n), stems[n], int(passage[n])) for n in np.flatnonzero(answer)]
        for (n, _, _), value in zip(candidates, self.bonuses(candidates, chunks)):
            row = int(words.rows_of[n])
            self.bonus[row] = max(self.bonus[row], value)
        return features

    def bonuses(self, candidates: Sequence[tuple[int, str, int]], chunks: Sequence[StoredChunk]) -> list[float]:
        """Per candidate answer (word index, stem, passage index): what it adds to its sentence."""
        raise NotImplementedError


class SupportFeaturizer(AnswerBonusFeaturizer):
    """Support: log(1 + the other articles among the passages examined that hold the same
    candidate answer); with `days`, only dated articles published within that many days of the
    candidate's own (which must be dated) count: reports of the same news."""

    def __init__(self, days: float | None = None) -> None:
        super().__init__()
        self.days = days

    def bonuses(self, candidates: Sequence[tuple[int, str, int]], chunks: Sequence[StoredChunk]) -> list[float]:
        day = [date.fromisoformat(iso) if (iso := iso_date(chunk.published)) else None for chunk in chunks]
        holders: dict[str, set[int]] = {}
        for _, stem, passage in candidates:
            holders.setdefault(stem, set()).add(passage)
        def counts(other: int, passage: int) -> bool:
            return self.days is None or (day[other] is not None and day[passage] is not None
                                         and abs((day[other] - day[passage]).days) <= self.days)

        return [math.log1p(len({chunks[other].article_id for other in holders[stem] if counts(other, passage)}
                               - {chunks[passage].article_id}))
                for _, stem, passage in candidates]


class TitleAnswerFeaturizer(AnswerBonusFeaturizer):
    """1 for a sentence holding a candidate answer that its article's title holds too
    ("Trump charged with 34 felony counts" confirms the "34" of a sentence below it)."""

    def bonuses(self, candidates: Sequence[tuple[int, str, int]], chunks: Sequence[StoredChunk]) -> list[float]:
        titles = [frozenset(stem_words(keyword_terms(chunk.title))) for chunk in chunks]
        return [1.0 if stem in titles[passage] else 0.0 for _, stem, passage in candidates]


class BonusRanker:
    """The shipped ranker's scores plus `weight` times the featurizer's bonus."""

    def __init__(self, ranker: LinearRanker, featurizer: AnswerBonusFeaturizer, weight: float) -> None:
        self.ranker, self.featurizer, self.weight = ranker, featurizer, weight

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return self.ranker.score(matrix) + self.weight * self.featurizer.bonus


class QuizIntroFeaturizer(SentenceFeaturizer):
    """The shipped features, with a quiz's introduction marked as holding nothing new (an echo,
    which the picker never quotes)."""

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        features = super().features(profile, query_vector, passages)
        row = 0
        for passage in passages:
            chunk = passage.chunk
            lines = [chunk.article_text[s.start:s.end].strip() for s in chunk.sentences]
            choice = _choices(lines)
            for n in range(len(lines) - 2):
                asking = n + 2 if _LIST_NUMBER.fullmatch(lines[n + 1]) else n + 1
                if (asking + 1 < len(lines) and _asks(lines[asking]) and choice[asking + 1]
                        and not lines[n].endswith((".", "!", "?", '"', "”", ")"))):
                    features.matrix[row + n, NOVEL_WORDS] = 0.0
            row += len(lines)
        return features


class StandaloneFeaturizer(SentenceFeaturizer):
    """The shipped features over sentence vectors embedded on their own (`mix`: averaged with
    the pooled ones)."""

    def __init__(self, vectors: VectorCache, mix: bool) -> None:
        super().__init__()
        self.vectors, self.mix = vectors, mix

    def features(self, profile: QuestionProfile, query_vector: np.ndarray,
                 passages: Sequence[RetrievedPassage]) -> SentenceFeatures:
        return super().features(profile, query_vector, [replace(p, chunk=self._alone(p.chunk)) for p in passages])

    def _alone(self, chunk: StoredChunk) -> StoredChunk:
        alone = self.vectors([chunk.article_text[s.start:s.end] for s in chunk.sentences])
        sentences = []
        for sentence, vector in zip(chunk.sentences, alone):
            if self.mix:
                vector = sentence.vector + vector
            sentences.append(replace(sentence, vector=(vector / max(np.linalg.norm(vector), 1e-12)).astype(np.float32)))
        return replace(chunk, sentences=tuple(sentences))


def variant_picker(name: str, value: str | None, vectors: VectorCache) -> QuotePicker:
    """The picker of one variant (`shipped`: the shipped one)."""
    if name == "shipped":
        return QuotePicker()
    if name == "headline":
        return HeadlinePicker(vectors, float(value or 0.0))
    if name in ("support", "support-dated", "title-answer"):
        weight, _, days = (value or "0.1").partition(":")
        featurizer = (TitleAnswerFeaturizer() if name == "title-answer"
                      else SupportFeaturizer(float(days or 7) if name == "support-dated" else None))
        picker = QuotePicker(ranker=BonusRanker(shipped_ranker(), featurizer, float(weight)))
        picker.featurizer = featurizer
        return picker
    picker = QuotePicker()
    if name == "quiz-intro":
        picker.featurizer = QuizIntroFeaturizer()
    elif name == "standalone":
        picker.featurizer = StandaloneFeaturizer(vectors, mix=value == "mix")
    else:
        raise SystemExit(f"unknown variant {name!r}")
    return picker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--variant", nargs="+", required=True, metavar=("NAME", "VALUE"),
                        help="headline MARGIN | support WEIGHT | support-dated WEIGHT:DAYS | title-answer WEIGHT | "
                             "quiz-intro | standalone alone|mix")
    args = parser.parse_args()
    name, value = args.variant[0], (args.variant[1] if len(args.variant) > 1 else None)
    app = NewsqaApp(load_settings())
    vectors = VectorCache(app.encoder)
    app.encoder.encode_queries(["warm up"])
    print("| set | picker | quote_hit@1 | quote chars | passage_hit@1 | passage_hit@5 |\n|---|---|---|---|---|---|")
    for directory in args.datasets:
        index_dir = app.dataset_index_dir(directory)
        IndexBuilder(index_dir, app.encoder).update(directory / "articles")
        reader = IndexReader(index_dir)
        questions = load_questions(directory)
        for label, picker in (("shipped", variant_picker("shipped", None, vectors)),
                              (" ".join(args.variant), variant_picker(name, value, vectors))):
            report = evaluate(QuestionAnswerer(reader, app.encoder, picker=picker), questions, directory.name)
            count = len(questions)
            print(f"| {directory.name} | {label} | {report.quote_hit_at_1:.3f} ({round(report.quote_hit_at_1 * count)}) "
                  f"| {report.quote_chars:.0f} | {report.passage_hit_at_1:.3f} ({round(report.passage_hit_at_1 * count)}) "
                  f"| {report.passage_hit_at_5:.3f} ({round(report.passage_hit_at_5 * count)}) |", flush=True)


if __name__ == "__main__":
    main()
