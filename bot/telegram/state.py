"""What the bot remembers of answered questions, so "More" and "Context" survive a restart.

Telegram gives a button only 64 bytes of `callback_data`, so a button carries a short key
and the answers live here: one small SQLite file (JSON rows, no pickle) beside the index.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from newsqa.retrieval import Answer, AnswerSet

# Buttons of answers older than this say the question has expired.
KEEP_SECONDS = 30 * 24 * 3600
# Old rows are pruned every this many saves (and on opening).
PRUNE_EVERY = 200
# At most this many questions are kept (about 5 KB each on disk, none in memory): the oldest
# go first, so a busy bot's file stays under about half a gigabyte.
MAX_ROWS = 100_000
_ANSWER_FIELDS = {f.name for f in fields(Answer)}

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions(
    key TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answers TEXT NOT NULL,
    asked_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions(asked_at);
"""


@dataclass(frozen=True)
class AskedQuestion:
    """A question answered in a chat, with the answers its buttons page through."""

    key: str
    chat_id: int
    question: str
    answers: list[Answer]
    asked_at: float


class QuestionStore:
    """Answered questions by short key; thread-safe, one SQLite file."""

    def __init__(self, path: Path, keep_seconds: float = KEEP_SECONDS,
                 clock: Callable[[], float] = time.time, max_rows: int = MAX_ROWS) -> None:
        self.path = Path(path)
        self.keep_seconds = keep_seconds
        self.max_rows = max_rows
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._saves = 0
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.prune()

    def save(self, chat_id: int, result: AnswerSet) -> str:
        """Remember `result` for buttons in `chat_id`; returns the key they carry."""
        answers = json.dumps([asdict(answer) for answer in result.answers], ensure_ascii=False)
        with self._lock:
            self._saves += 1
            if self._saves % PRUNE_EVERY == 0:
                self._prune()
            while True:
                key = secrets.token_urlsafe(6)  # 8 characters
                try:
                    self.db.execute("INSERT INTO questions VALUES (?, ?, ?, ?, ?)",
                                    (key, chat_id, result.question, answers, self.clock()))
                    return key
                except sqlite3.IntegrityError:
                    continue

    def load(self, key: str) -> AskedQuestion | None:
        """The question saved under `key`, or None when unknown, expired or unreadable."""
        with self._lock:
            row = self.db.execute(
                "SELECT key, chat_id, question, answers, asked_at FROM questions WHERE key = ?", (key,)
            ).fetchone()
        if row is None or row[4] < self.clock() - self.keep_seconds:
            return None
        try:
            answers = [Answer(**{k: v for k, v in item.items() if k in _ANSWER_FIELDS})
                       for item in json.loads(row[3])]
        except (ValueError, TypeError):
            return None
        return AskedQuestion(row[0], row[1], row[2], answers, row[4])

    def prune(self) -> None:
        """Forget questions older than `keep_seconds`, and the oldest beyond `max_rows`."""
        with self._lock:
            self._prune()

    def _prune(self) -> None:
        self.db.execute("DELETE FROM questions WHERE asked_at < ?", (self.clock() - self.keep_seconds,))
        self.db.execute("DELETE FROM questions WHERE asked_at <= (SELECT asked_at FROM questions "
                        "ORDER BY asked_at DESC LIMIT 1 OFFSET ?)", (self.max_rows,))

    def close(self) -> None:
        with self._lock:
            self.db.close()
