"""Followed topics: who follows what, what was already pushed to whom, and matching the
articles a new index generation added against every followed topic.

Follows live in SQLite beside the bot's button state (not in the index folder, which a
rebuild clears), so they survive restarts. New articles are found by passage id: ids only
grow, so "the passages after the last id matched" are what every generation since brought,
however they arrived (the folder, `newsqa add`, /reindex, a feed poll). Each followed topic
is then asked of those passages only (`retrieval.PoolAnswerer`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsqa.index import IndexSnapshot
from newsqa.retrieval import Answer, PassagePool, PoolAnswerer, QuestionAnswerer, clean_question

# Answers looked at per topic and new batch: one topic may be answered by several new articles.
ANSWERS_PER_TOPIC = 3
# Pushed (chat, article) pairs are remembered this long, so an article is never pushed twice.
KEEP_PUSHED_SECONDS = 365 * 24 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS follows(
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    topic_key TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE(chat_id, topic_key)
);
CREATE TABLE IF NOT EXISTS pushed(
    chat_id INTEGER NOT NULL,
    article TEXT NOT NULL,
    pushed_at REAL NOT NULL,
    PRIMARY KEY(chat_id, article)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pushes(chat_id INTEGER NOT NULL, sent_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS pushes_chat ON pushes(chat_id, sent_at);
CREATE TABLE IF NOT EXISTS follow_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class FollowError(Exception):
    """A follow request that cannot be done; the message says why."""


class TooManyTopics(FollowError):
    pass


class TopicTooLong(FollowError):
    pass


class NotFollowing(FollowError):
    pass


@dataclass(frozen=True)
class Follow:
    """A topic a chat follows; `user_id` is who followed it (checked against the allowlist)."""

    id: int
    chat_id: int
    user_id: int
    topic: str


@dataclass(frozen=True)
class Alert:
    """A new article that answers a followed topic."""

    follow: Follow
    answer: Answer

    @property
    def article(self) -> str:
        """The key an article is pushed once by: its URL, else its source."""
        return self.answer.url or self.answer.source


def topic_key(topic: str) -> str:
    return " ".join(topic.split()).casefold()


class FollowStore:
    """Follows, pushed articles and push times; thread-safe, one SQLite file."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    # -- follows ---------------------------------------------------------------------------
    def follow(self, chat_id: int, user_id: int, topic: str, *, max_topics: int, max_chars: int) -> tuple[Follow, bool]:
        """Follow `topic` in `chat_id`; returns the follow and whether it is new.

        Raises:
            TopicTooLong: longer than `max_chars`.
            TooManyTopics: the chat follows `max_topics` already.
            EmptyQuestion: the topic has no words.
        """
        topic = " ".join(topic.split())
        if len(topic) > max_chars:
            raise TopicTooLong(f"a topic can be at most {max_chars} characters long")
        clean_question(topic)
        key = topic_key(topic)
        with self._lock:
            row = self.db.execute("SELECT id, chat_id, user_id, topic FROM follows WHERE chat_id = ? AND topic_key = ?",
                                  (chat_id, key)).fetchone()
            if row is not None:
                return Follow(*row), False
            count = self.db.execute("SELECT count(*) FROM follows WHERE chat_id = ?", (chat_id,)).fetchone()[0]
            if count >= max_topics:
                raise TooManyTopics(f"you follow {count} topics already, the most there can be; "
                                    f"stop following one first (/following)")
            cursor = self.db.execute("INSERT INTO follows(chat_id, user_id, topic, topic_key, created_at) "
                                     "VALUES (?, ?, ?, ?, ?)", (chat_id, user_id, topic, key, self.clock()))
            return Follow(int(cursor.lastrowid), chat_id, user_id, topic), True

    def unfollow(self, chat_id: int, topic: str) -> Follow:
        """Stop following `topic` in `chat_id` (case and spacing do not matter).

        Raises:
            NotFollowing: the chat does not follow it.
        """
        with self._lock:
            row = self.db.execute("SELECT id, chat_id, user_id, topic FROM follows WHERE chat_id = ? AND topic_key = ?",
                                  (chat_id, topic_key(topic))).fetchone()
            if row is None:
                raise NotFollowing(f"not following “{' '.join(topic.split())}” (see /following)")
            self.db.execute("DELETE FROM follows WHERE id = ?", (row[0],))
            return Follow(*row)

    def unfollow_id(self, chat_id: int, follow_id: int) -> Follow | None:
        """Stop the follow `follow_id` of `chat_id`; None when there is none (already stopped)."""
        with self._lock:
            row = self.db.execute("SELECT id, chat_id, user_id, topic FROM follows WHERE id = ? AND chat_id = ?",
                                  (follow_id, chat_id)).fetchone()
            if row is not None:
                self.db.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
            return Follow(*row) if row else None

    def following(self, chat_id: int) -> list[Follow]:
        """The chat's topics, oldest first."""
        with self._lock:
            rows = self.db.execute("SELECT id, chat_id, user_id, topic FROM follows WHERE chat_id = ? ORDER BY id",
                                   (chat_id,)).fetchall()
        return [Follow(*row) for row in rows]

    def all_follows(self) -> list[Follow]:
        with self._lock:
            rows = self.db.execute("SELECT id, chat_id, user_id, topic FROM follows ORDER BY id").fetchall()
        return [Follow(*row) for row in rows]

    def remove_chat(self, chat_id: int) -> int:
        """Drop every follow of `chat_id` (it blocked the bot); returns how many."""
        with self._lock:
            return self.db.execute("DELETE FROM follows WHERE chat_id = ?", (chat_id,)).rowcount

    # -- pushing ---------------------------------------------------------------------------
    def claim(self, chat_id: int, articles: list[str]) -> set[str]:
        """Mark `articles` pushed to `chat_id`; returns those not pushed before (at most once)."""
        now = self.clock()
        claimed: set[str] = set()
        with self._lock:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                for article in dict.fromkeys(articles):
                    cursor = self.db.execute("INSERT OR IGNORE INTO pushed VALUES (?, ?, ?)", (chat_id, article, now))
                    if cursor.rowcount:
                        claimed.add(article)
        return claimed

    def pushes_last_hour(self, chat_id: int) -> int:
        with self._lock:
            return self.db.execute("SELECT count(*) FROM pushes WHERE chat_id = ? AND sent_at > ?",
                                   (chat_id, self.clock() - 3600)).fetchone()[0]

    def record_push(self, chat_id: int) -> None:
        now = self.clock()
        with self._lock:
            self.db.execute("INSERT INTO pushes VALUES (?, ?)", (chat_id, now))
            self.db.execute("DELETE FROM pushes WHERE sent_at < ?", (now - 3600,))
            self.db.execute("DELETE FROM pushed WHERE pushed_at < ?", (now - KEEP_PUSHED_SECONDS,))

    # -- the last passage matched ------------------------------------------------------------
    def last_matched(self) -> int | None:
        """The highest passage id already matched against the follows (None: never)."""
        with self._lock:
            row = self.db.execute("SELECT value FROM follow_meta WHERE key = 'last_chunk_id'").fetchone()
        return int(row[0]) if row else None

    def set_last_matched(self, chunk_id: int) -> None:
        with self._lock:
            self.db.execute("INSERT OR REPLACE INTO follow_meta VALUES ('last_chunk_id', ?)", (str(chunk_id),))

    def close(self) -> None:
        with self._lock:
            self.db.close()


@dataclass(frozen=True)
class NewArticles:
    """What matching one batch of new passages found: alerts by chat, and what it looked at."""

    alerts: dict[int, list[Alert]]
    passages: int
    topics: int
    last_chunk_id: int


class TopicMatcher:
    """Asks every followed topic of the passages added since the last match; keeps the topics'
    vectors between batches (a topic is embedded once)."""

    def __init__(self, answerer: QuestionAnswerer, store: FollowStore) -> None:
        self.answerer = answerer
        self.pool_answerer = PoolAnswerer(answerer)
        self.store = store
        self._vectors: dict[str, np.ndarray] = {}

    def match_new(self, snapshot: IndexSnapshot | None = None) -> NewArticles | None:
        """Match the passages `snapshot` added since the last match; None when there are none.
        The first run (or one after a rebuild renumbered the passages) only remembers where the
        index is: what was there before is not news. The caller marks the batch done with
        `store.set_last_matched(result.last_chunk_id)` once it has pushed the alerts."""
        snapshot = snapshot or self.answerer.reader.snapshot
        last = snapshot.last_chunk_id()
        seen = self.store.last_matched()
        if seen is None or last < seen:
            self.store.set_last_matched(last)
            return None
        if last == seen:
            return None
        new_ids = snapshot.chunk_ids_after(seen)
        follows = self.store.all_follows()
        by_topic: dict[str, list[Follow]] = defaultdict(list)
        for follow in follows:
            by_topic[clean_question(follow.topic)].append(follow)
        topics = list(by_topic)
        alerts: dict[int, list[Alert]] = defaultdict(list)
        if topics and new_ids:
            pool = PassagePool.of(snapshot, new_ids)
            missing = [t for t in topics if t not in self._vectors]
            if missing:
                self._vectors.update(zip(missing, self.answerer.encoder.encode_queries(missing)))
            vectors = np.stack([self._vectors[t] for t in topics])
            for topic, result in zip(topics, self.pool_answerer.ask_many(topics, pool, ANSWERS_PER_TOPIC, vectors)):
                for follow in by_topic[topic]:
                    alerts[follow.chat_id].extend(Alert(follow, answer) for answer in result.answers)
        return NewArticles(dict(alerts), len(new_ids), len(topics), last)


def group_alerts(alerts: list[Alert]) -> list[Alert]:
    """One alert per article (the best-scored topic's), articles in order of first arrival."""
    best: dict[str, Alert] = {}
    for alert in alerts:
        kept = best.get(alert.article)
        if kept is None or alert.answer.score > kept.answer.score:
            best[alert.article] = alert
    return list(best.values())
