"""The application layer both faces call: settings in; indexing, adding, answering and stats out.

The CLI (`bot/cli/`) and the Telegram bot (`bot/telegram/`) only parse input and format
output around these calls, so each behaviour (which settings apply, the model check,
building a missing index, fetching a page) is written once, here.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from newsqa.index import (
    ArticleError,
    ArticleFetcher,
    ArticleInbox,
    ArticleReader,
    FetchError,
    IndexBuilder,
    IndexMismatch,
    IndexNotFound,
    IndexReader,
    IndexReport,
    IndexSnapshot,
    SavedArticle,
    TextEncoder,
    is_url,
    load_encoder,
)
from newsqa.retrieval import AnswerSet, FollowUpResolver, QuestionAnswerer, Resolution, Turn

from .settings import Settings

log = logging.getLogger(__name__)

# How long `newsqa index` waits for another indexer before giving up.
LOCK_WAIT_SECONDS = 600.0

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexInfo:
    """What the index holds, for `newsqa stats` and `/stats`."""

    articles: int
    sources: int
    chunks: int
    generation: int
    updated_at: float | None
    model: str
    backend: str
    vector_index: str
    index_dir: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def minutes_old(self) -> float | None:
        return (time.time() - self.updated_at) / 60 if self.updated_at else None


@dataclass
class AddResult:
    """What `add` saved, what it could not add (item, reason) and the index report."""

    saved: list[SavedArticle] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    report: IndexReport | None = None


# Turns of a conversation kept for follow-ups (only the last is read today; a few more make
# room for resolving against earlier ones without changing what a conversation holds).
CONTEXT_TURNS = 5
# Conversations kept in memory at most (a few hundred bytes each): the least recently used
# goes first.
MAX_CONVERSATIONS = 10_000


@dataclass(frozen=True)
class ChatAnswer:
    """A message's answers in a conversation: `result` is what to show, `understood_as` the
    question searched (the message itself unless it was taken as a follow-up)."""

    result: AnswerSet
    resolution: Resolution

    @property
    def understood_as(self) -> str:
        return self.result.question

    @property
    def is_follow_up(self) -> bool:
        return self.result.question != self.resolution.message

    def to_dict(self) -> dict[str, object]:
        """`ask --json`'s shape plus `understood_as`."""
        return self.result.to_dict() | {"question": self.resolution.message, "understood_as": self.understood_as}


class Conversation:
    """The last questions and answers of one chat (or one `newsqa chat` run), in memory only;
    forgotten after `expire_seconds` of silence (0: follow-ups are off)."""

    def __init__(self, resolver: FollowUpResolver, expire_seconds: float,
                 clock: Callable[[], float] = time.monotonic, max_turns: int = CONTEXT_TURNS) -> None:
        self.resolver = resolver
        self.expire_seconds = expire_seconds
        self.clock = clock
        self.turns: deque[Turn] = deque(maxlen=max_turns)
        self._last = clock()

    def context(self) -> list[Turn]:
        """The turns still in force (none once the conversation has expired)."""
        if self.expire_seconds <= 0 or self.clock() - self._last > self.expire_seconds:
            self.turns.clear()
        return list(self.turns)

    def resolve(self, message: str) -> Resolution:
        """How `message` is to be understood in this conversation (embeds a word or two)."""
        return self.resolver.resolve(message, self.context())

    @staticmethod
    def searches(resolution: Resolution) -> list[str]:
        """The questions to search for `resolution`, whose answers `settle` takes in this order:
        the message; the rewrite of a strong follow-up; both for a weak one (the rewrite is
        kept only if it retrieves better)."""
        if not resolution.is_follow_up:
            return [resolution.message]
        if resolution.strength == "strong":
            return [resolution.understood_as]
        return [resolution.message, resolution.understood_as]

    def settle(self, resolution: Resolution, results: list[AnswerSet]) -> ChatAnswer:
        """The answers to give, of the `searches(resolution)` results, and remember the turn."""
        if len(results) == 2:
            alone, rewritten = results
            result = rewritten if self.resolver.prefer(resolution, alone, rewritten) else alone
        else:
            result = results[0]
        self.turns.append(Turn.of(result.question, result))
        self._last = self.clock()
        return ChatAnswer(result, resolution)

    def follow(self, turn: Turn) -> None:
        """Continue from `turn` (a group reply to one of the bot's answers)."""
        self.turns.clear()
        self.turns.append(turn)
        self._last = self.clock()

    def reset(self) -> None:
        """Start afresh (`/new`)."""
        self.turns.clear()


class Conversations:
    """One `Conversation` per key (a chat id), at most `max_conversations`; thread-safe."""

    def __init__(self, factory: Callable[[], Conversation], max_conversations: int = MAX_CONVERSATIONS) -> None:
        self.factory = factory
        self.max_conversations = max_conversations
        self._items: OrderedDict[object, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: object) -> Conversation:
        with self._lock:
            conversation = self._items.get(key)
            if conversation is None:
                conversation = self._items[key] = self.factory()
            self._items.move_to_end(key)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
            return conversation

    def reset(self, key: object) -> None:
        with self._lock:
            self._items.pop(key, None)


class NewsqaApp:
    """Builds each heavy part once, lazily (the encoder, the index reader, the answerer), and
    runs the use cases on them."""

    def __init__(self, settings: Settings, encoder: TextEncoder | None = None) -> None:
        self.settings = settings
        if encoder is not None:  # an encoder already loaded (the bot's tests share one)
            self.encoder = encoder

    @cached_property
    def encoder(self) -> TextEncoder:
        return load_encoder(self.settings.embedding_model, self.settings.embedding_backend,
                            self.settings.cache_dir)

    # -- indexing ------------------------------------------------------------------------
    def builder(self, index_dir: Path | None = None, on_wait: Callable[[], None] | None = None) -> IndexBuilder:
        """The index builder with the settings applied (article size cap, lock wait)."""
        return IndexBuilder(
            index_dir or self.settings.index_dir, self.encoder,
            reader=ArticleReader(max_bytes=self.settings.max_article_bytes),
            lock_wait_seconds=LOCK_WAIT_SECONDS, on_wait=on_wait,
        )

    def build_index(self, *, rebuild: bool = False, progress: Progress | None = None,
                    on_wait: Callable[[], None] | None = None) -> IndexReport:
        """Bring the index in line with the articles folder (waits for another indexer first;
        `on_wait` is called once if it has to)."""
        return self.builder(on_wait=on_wait).update(self.settings.articles_dir, rebuild=rebuild, progress=progress)

    def open_reader(self, on_missing: Callable[[], None] | None = None) -> IndexReader:
        """The index reader; builds the index first when there is none and `on_missing` is given.

        Raises:
            IndexNotFound: no index and no permission to build one.
            IndexMismatch: the index was built with another model.
        """
        try:
            reader = IndexReader(self.settings.index_dir)
        except IndexNotFound:
            if on_missing is None:
                raise
            on_missing()
            reader = IndexReader(self.settings.index_dir)
        reader.snapshot.manifest.check_model(self.settings.index_dir, self.settings.embedding_model)
        return reader

    def index_info(self) -> IndexInfo:
        """Counts, generation, age, model of the index (no model loaded)."""
        snapshot = IndexReader(self.settings.index_dir).snapshot
        return self.snapshot_info(snapshot)

    def snapshot_info(self, snapshot: IndexSnapshot) -> IndexInfo:
        """What `snapshot` holds, as `index_info` reports it."""
        stats = snapshot.stats()
        return IndexInfo(
            articles=stats.articles, sources=stats.sources, chunks=stats.chunks, generation=stats.generation,
            updated_at=stats.updated_at, model=snapshot.manifest.model, backend=snapshot.manifest.backend,
            vector_index=snapshot.manifest.vector_index, index_dir=str(self.settings.index_dir),
        )

    # -- answering -----------------------------------------------------------------------
    def answerer(self, reader: IndexReader) -> QuestionAnswerer:
        return QuestionAnswerer(reader, self.encoder)

    @cached_property
    def resolver(self) -> FollowUpResolver:
        """The follow-up resolver, comparing words with the loaded encoder."""
        return FollowUpResolver(self.encoder)

    def conversation(self, clock: Callable[[], float] = time.monotonic) -> Conversation:
        """A new conversation, expiring after NEWSQA_CONTEXT_MINUTES of silence."""
        return Conversation(self.resolver, self.settings.context_minutes * 60, clock)

    def ask_in(self, conversation: Conversation, answerer: QuestionAnswerer, message: str, k: int = 3,
               as_of: date | None = None) -> ChatAnswer:
        """Answer `message` as the next turn of `conversation`: a follow-up is searched as the
        question it stands for (in one batch with the message itself when the rewrite is
        kept only if it retrieves better).

        Raises:
            EmptyQuestion: the message has no words.
        """
        resolution = conversation.resolve(message)
        questions = conversation.searches(resolution)
        return conversation.settle(resolution, answerer.ask_many(questions, k, as_of=[as_of] * len(questions)))

    # -- adding articles -----------------------------------------------------------------
    def _inbox(self) -> ArticleInbox:
        return ArticleInbox(self.settings.articles_dir, ArticleReader(max_bytes=self.settings.max_article_bytes))

    def _fetcher(self, allow_private: bool) -> ArticleFetcher:
        return ArticleFetcher(max_bytes=self.settings.max_article_bytes, timeout=self.settings.fetch_timeout,
                              allow_private=allow_private)

    def fetch_article(self, url: str, *, allow_private: bool) -> SavedArticle:
        """Fetch `url` into the articles folder (not indexed yet). The bot's /add passes
        `allow_private=settings.fetch_allow_private`; the operator's `newsqa add` may fetch anything.

        Raises:
            FetchError: the page cannot be fetched (ForbiddenAddress: not a public address).
            ArticleError: the page holds no article.
        """
        return self._inbox().save_page(self._fetcher(allow_private).fetch(url))

    def add(self, items: Iterable[str], *, allow_private: bool = True,
            on_saved: Callable[[SavedArticle], None] | None = None,
            on_failed: Callable[[str, str], None] | None = None) -> AddResult:
        """Copy files and fetch http(s) URLs into the articles folder; an item that cannot be
        added is reported (`on_failed(item, reason)`) and the others are still added."""
        inbox, fetcher = self._inbox(), self._fetcher(allow_private)
        result = AddResult()
        for item in items:
            try:
                if is_url(item):
                    article = inbox.save_page(fetcher.fetch(item))
                else:
                    article = inbox.copy_file(Path(item).expanduser())
            except (FetchError, ArticleError) as error:
                result.failed.append((item, str(error)))
                if on_failed is not None:
                    on_failed(item, str(error))
                continue
            result.saved.append(article)
            if on_saved is not None:
                on_saved(article)
        return result

    # -- evaluation ----------------------------------------------------------------------
    def dataset_index_dir(self, dataset_dir: Path) -> Path:
        """Where the cached index of a dataset lives: beside the main index, keyed by the
        dataset's absolute path (two folders of the same name do not share an index)."""
        resolved = dataset_dir.resolve()
        key = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
        return self.settings.index_dir.parent / "eval" / f"{resolved.name}-{key}"

    def open_dataset_index(self, articles_dir: Path, index_dir: Path,
                           rebuild: bool = False) -> tuple[IndexReader, IndexReport]:
        """Build (or bring up to date) the index of a dataset's articles, then open it. A cache:
        one built with other settings is rebuilt."""
        builder = self.builder(index_dir)
        try:
            report = builder.update(articles_dir, rebuild=rebuild)
        except IndexMismatch:
            report = builder.update(articles_dir, rebuild=True)
        return IndexReader(index_dir), report
