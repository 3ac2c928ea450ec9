"""The followed feeds and what became of each entry, in one SQLite file beside the index.

A feed row holds its HTTP state (ETag, Last-Modified) for conditional GETs and its failure
count and back-off; an entry row remembers every link already handled, so no page is
fetched twice, and the MinHash signature of each saved story for near-duplicate checks.
SQLite transactions make every change atomic; the file survives restarts and rebuilds of
the index (which clear the index folder, not its parent).
"""

from __future__ import annotations

import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import FeedError, FeedNotFound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    added_at REAL NOT NULL,
    from_chat INTEGER NOT NULL DEFAULT 0,
    etag TEXT,
    last_modified TEXT,
    last_poll REAL,
    status TEXT NOT NULL DEFAULT 'new',
    error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    backoff_until REAL
);
CREATE TABLE IF NOT EXISTS entries (
    link TEXT PRIMARY KEY,
    feed_url TEXT NOT NULL,
    state TEXT NOT NULL,            -- saved | duplicate | skipped | removed
    path TEXT,                      -- inside the articles folder, for saved entries
    title TEXT,
    published TEXT,
    saved_at REAL NOT NULL,
    note TEXT,                      -- the skip reason, or the link this one duplicates
    signature BLOB                  -- MinHash values of the body, for saved entries
);
CREATE INDEX IF NOT EXISTS entries_feed ON entries(feed_url, state);
"""


@dataclass(frozen=True)
class FeedRecord:
    """A followed feed and its polling state (`status`: new, ok, not-modified, failed)."""

    url: str
    title: str | None
    added_at: float
    from_chat: bool
    etag: str | None
    last_modified: str | None
    last_poll: float | None
    status: str
    error: str | None
    failures: int
    backoff_until: float | None
    articles: int = 0


@dataclass(frozen=True)
class SavedEntry:
    """A feed entry saved as an article."""

    link: str
    feed_url: str
    path: str
    title: str | None
    published: str | None
    saved_at: float
    signature: bytes | None


class FeedRegistry:
    """Reads and writes the feed list; each method is one short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=30)) as connection:
                connection.row_factory = sqlite3.Row
                connection.executescript(_SCHEMA)
                with connection:
                    yield connection
        except sqlite3.DatabaseError as error:
            raise FeedError(f"the feed list {self.path} cannot be used: {error}") from error

    @contextmanager
    def polling(self) -> Iterator[None]:
        """Hold the poll lock, so two polls (a bot's and a cron `feeds poll`) never fetch and
        save the same entries at once. An `flock`: the kernel drops it if its holder dies.

        Raises:
            FeedError: another poll holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FeedError("another poll of the feeds is running; try again when it is done") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- feeds ----------------------------------------------------------------------
    def add(self, url: str, title: str | None, *, from_chat: bool = False) -> tuple[FeedRecord, bool]:
        """Follow `url` (the title is refreshed when it is followed already); True when new."""
        with self._db() as db:
            new = db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone() is None
            if new:
                db.execute("INSERT INTO feeds (url, title, added_at, from_chat) VALUES (?, ?, ?, ?)",
                           (url, title, time.time(), int(from_chat)))
            elif title:
                db.execute("UPDATE feeds SET title = ? WHERE url = ?", (title, url))
        return self.get(url), new

    def remove(self, url: str) -> FeedRecord:
        """Stop following `url`; its saved articles stay (retention or the user removes them).

        Raises:
            FeedNotFound: `url` is not followed.
        """
        record = self.get(url)
        with self._db() as db:
            db.execute("DELETE FROM feeds WHERE url = ?", (url,))
        return record

    def get(self, url: str) -> FeedRecord:
        """Raises: FeedNotFound."""
        with self._db() as db:
            row = db.execute(f"{self._select()} WHERE f.url = ?", (url,)).fetchone()
        if row is None:
            raise FeedNotFound(f"{url} is not a followed feed (see `newsqa feeds list`)")
        return self._record(row)

    def feeds(self) -> list[FeedRecord]:
        """Every followed feed, in the order they were added."""
        with self._db() as db:
            rows = db.execute(f"{self._select()} ORDER BY f.added_at, f.url").fetchall()
        return [self._record(row) for row in rows]

    def record_poll(self, url: str, *, status: str, error: str | None = None, title: str | None = None,
                    etag: str | None = None, last_modified: str | None = None,
                    keep_validators: bool = False, backoff_seconds: float | None = None) -> None:
        """Store the outcome of one poll; a failure (`backoff_seconds` given) counts up."""
        now = time.time()
        with self._db() as db:
            if backoff_seconds is not None:
                db.execute("UPDATE feeds SET last_poll = ?, status = ?, error = ?, failures = failures + 1, "
                           "backoff_until = ? WHERE url = ?", (now, status, error, now + backoff_seconds, url))
                return
            db.execute("UPDATE feeds SET last_poll = ?, status = ?, error = NULL, failures = 0, "
                       "backoff_until = NULL, title = COALESCE(?, title) WHERE url = ?",
                       (now, status, title, url))
            if not keep_validators:
                db.execute("UPDATE feeds SET etag = ?, last_modified = ? WHERE url = ?",
                           (etag, last_modified, url))

    # -- entries --------------------------------------------------------------------
    def known_links(self, links: list[str]) -> set[str]:
        """Which of `links` were handled before (saved, duplicate, skipped or removed)."""
        if not links:
            return set()
        with self._db() as db:
            known: set[str] = set()
            for start in range(0, len(links), 500):
                part = links[start:start + 500]
                rows = db.execute(f"SELECT link FROM entries WHERE link IN ({','.join('?' * len(part))})", part)
                known.update(row["link"] for row in rows)
        return known

    def record_entry(self, link: str, feed_url: str, state: str, *, path: str | None = None,
                     title: str | None = None, published: str | None = None, note: str | None = None,
                     signature: bytes | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO entries (link, feed_url, state, path, title, published, "
                       "saved_at, note, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (link, feed_url, state, path, title, published, time.time(), note, signature))

    def saved_entries(self) -> list[SavedEntry]:
        """Every entry that is an article now, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT link, feed_url, path, title, published, saved_at, signature "
                              "FROM entries WHERE state = 'saved' ORDER BY saved_at, link").fetchall()
        return [SavedEntry(**dict(row)) for row in rows]

    def mark_removed(self, link: str) -> None:
        with self._db() as db:
            db.execute("UPDATE entries SET state = 'removed', signature = NULL WHERE link = ?", (link,))

    # -- helpers --------------------------------------------------------------------
    @staticmethod
    def _select() -> str:
        return ("SELECT f.*, (SELECT COUNT(*) FROM entries e WHERE e.feed_url = f.url AND e.state = 'saved') "
                "AS articles FROM feeds f")

    @staticmethod
    def _record(row: sqlite3.Row) -> FeedRecord:
        values = dict(row)
        values["from_chat"] = bool(values["from_chat"])
        return FeedRecord(**values)
