"""The bot's small state: remembered answers for buttons, and the per-user question limit."""

from __future__ import annotations

from newsqa.bot.telegram.batching import QuestionRateLimit
from newsqa.bot.telegram.state import KEEP_SECONDS, QuestionStore
from newsqa.retrieval import Answer, AnswerSet


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


ANSWERS = AnswerSet("who?", True, [
    Answer(quote="Li <Hongzhong> & co.", passage="p1 “Li <Hongzhong> & co.” 😀", score=0.8, title="T", source="a.txt",
           published="2023-07-25", url="https://x.org/?a=1&b=2", quote_start=3, quote_end=20, chunk_id=4),
    Answer(quote="Second.", passage="Second.", score=0.5, title="U", source="b.txt"),
])


def test_answers_survive_reopening_and_expire(tmp_path):
    clock = Clock()
    store = QuestionStore(tmp_path / "state.sqlite", clock=clock)
    key = store.save(-100123, ANSWERS)
    assert len(key.encode()) <= 16 and store.save(-100123, ANSWERS) != key
    store.close()

    reopened = QuestionStore(tmp_path / "state.sqlite", clock=clock)
    asked = reopened.load(key)
    assert (asked.chat_id, asked.question, asked.answers) == (-100123, "who?", ANSWERS.answers)
    assert reopened.load("unknown") is None
    clock.now += KEEP_SECONDS + 1
    assert reopened.load(key) is None


def test_an_unreadable_row_reads_as_expired(tmp_path):
    store = QuestionStore(tmp_path / "state.sqlite")
    key = store.save(1, ANSWERS)
    store.db.execute("UPDATE questions SET answers = '[{\"no\": 1}]' WHERE key = ?", (key,))
    assert store.load(key) is None


def test_question_limit_is_per_user_over_a_sliding_minute():
    clock = Clock()
    limit = QuestionRateLimit(2, clock=clock)
    assert limit.allow(1) and limit.allow(1) and not limit.allow(1)
    assert limit.allow(2)
    assert limit.retry_in(1) == 60
    clock.now += 30
    assert not limit.allow(1) and limit.retry_in(1) == 30
    clock.now += 30
    assert limit.allow(1)
    assert all(QuestionRateLimit(0, clock=clock).allow(1) for _ in range(100))
