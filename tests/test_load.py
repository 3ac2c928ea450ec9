"""A small version of `benchmarks/bot_load.py`: many users asking at once all get their answers,
and the state the bot keeps per user and per question has a bound. No timing assertions."""

from __future__ import annotations

import asyncio
import itertools

from fake_telegram import FakeTelegram
from newsqa.bot.telegram.batching import QuestionRateLimit
from newsqa.bot.telegram.state import PRUNE_EVERY, QuestionStore
from newsqa.retrieval import Answer, AnswerSet
from helpers import SEED_QUESTIONS, running_bot

USERS, QUESTIONS_EACH = 10, 5


def test_ten_users_sending_five_questions_each_all_get_answers(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server, questions_per_minute=0), encoder):
            questions = list(SEED_QUESTIONS)
            users = [server.user(5000 + n, f"Load{n}") for n in range(USERS)]
            asked: dict[int, list[str]] = {user["id"]: [] for user in users}
            for round_ in range(QUESTIONS_EACH):
                for n, user in enumerate(users):
                    question = questions[(n + round_) % len(questions)]
                    asked[user["id"]].append(question)
                    server.say(user, question)
            await asyncio.gather(*(server.reply(user["id"], QUESTIONS_EACH - 1, timeout=300) for user in users))
            for user in users:
                replies = server.messages_in(user["id"])
                assert len(replies) == QUESTIONS_EACH
                assert all("Context" in r.buttons() for r in replies)  # answer cards, not apologies
                for question in set(asked[user["id"]]):  # replies may overtake each other
                    marker = SEED_QUESTIONS[question]
                    assert sum(marker in r.text for r in replies) >= asked[user["id"]].count(question)
            assert server.errors == []

    asyncio.run(scenario())


def test_per_user_limit_state_is_bounded():
    clock = itertools.count(0.0, 0.01)
    limit = QuestionRateLimit(3, clock=lambda: next(clock), max_users=100)
    for user in range(5000):
        assert limit.allow(user)
    assert len(limit) == 100
    assert limit.allow(4999) and limit.allow(4999) and not limit.allow(4999)  # recent users still counted
    assert len(QuestionRateLimit(0)) == 0


def test_question_store_keeps_at_most_its_bound(tmp_path):
    clock = itertools.count(1_000_000.0)
    answers = AnswerSet("who?", True, [Answer(quote="Q.", passage="P. Q.", score=0.5, title="T", source="a.txt")])
    store = QuestionStore(tmp_path / "state.sqlite", clock=lambda: next(clock), max_rows=50)
    keys = [store.save(1, answers) for _ in range(3 * PRUNE_EVERY + 10)]
    count = store.db.execute("SELECT count(*) FROM questions").fetchone()[0]
    assert count <= 50 + PRUNE_EVERY
    store.close()
    reopened = QuestionStore(tmp_path / "state.sqlite", clock=lambda: next(clock), max_rows=50)
    assert reopened.db.execute("SELECT count(*) FROM questions").fetchone()[0] == 50
    assert reopened.load(keys[-1]) is not None and reopened.load(keys[-50]) is not None
    assert reopened.load(keys[-51]) is None and reopened.load(keys[0]) is None
