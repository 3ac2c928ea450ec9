"""Per-user limits beyond questions (issue 17): button presses, /sources, /stats and refusals
count against NEWSQA_ACTIONS_PER_MINUTE; a user over it gets one "slow down" a minute and then
silence. Index stats are read once per generation. Real bot, fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio

from fake_telegram import FakeTelegram
from test_bot import EXAMPLE, ask, bot_settings, running_bot  # noqa: F401  (bot_settings is a fixture)

SLOW = "faster than I can keep up"
REFUSED = "only answers its approved users"


def test_buttons_and_commands_are_metered_per_user(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(
                bot_settings(server, actions_per_minute=3, questions_per_minute=0), encoder):
            ann, bob = server.user(1501), server.user(1502, "Bob")
            card = await ask(server, ann, EXAMPLE)  # questions have their own limit
            answers = []
            for _ in range(5):
                query = server.press(ann, card, "Context")
                await server.wait_for(lambda: server.callback_answers[query])
                answers.append(server.callback_answers[query]["text"])
            assert answers[:3] == [None, None, None]  # three presses, three passages sent
            assert SLOW in answers[3] and answers[4] is None  # then one notice, then silence
            contexts = [m for m in server.messages_in(ann["id"]) if m is not card and m.text != card.text]
            assert len(contexts) >= 3 and not any(SLOW in m.text for m in server.messages_in(ann["id"]))

            # Commands count too; the notice is once a minute, so /stats now gets no reply at all.
            count = len(server.messages_in(ann["id"]))
            server.say(ann, "/stats")
            await asyncio.sleep(0.5)
            assert len(server.messages_in(ann["id"])) == count
            # Another user is not affected.
            for command, expected in (("/stats", "1 article"), ("/sources", "Top Russian"), ("/stats", "1 article")):
                assert expected in (await ask(server, bob, command)).text
            slow = await ask(server, bob, "/help")
            assert SLOW in slow.text
            count = len(server.messages_in(bob["id"]))
            server.say(bob, "/sources")
            await asyncio.sleep(0.5)
            assert len(server.messages_in(bob["id"])) == count

    asyncio.run(scenario())


def test_refusals_are_metered_too(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(
                bot_settings(server, actions_per_minute=2, allowed_users="1"), encoder):
            eve = server.user(1601, "Eve")
            for _ in range(5):
                server.say(eve, EXAMPLE)
            await server.wait_for(lambda: len(server.messages_in(eve["id"])) >= 2)
            await asyncio.sleep(0.5)
            replies = server.messages_in(eve["id"])
            assert len(replies) == 2 and all(REFUSED in m.text for m in replies)

    asyncio.run(scenario())


def test_index_stats_are_read_once_per_generation(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder) as bot:
            first = bot.index_stats()
            assert bot.index_stats() is first  # cached: no count(*) over the tables per /stats
            (articles / "ferry.txt").write_text("Ferry resumes on the north route\n\n"
                                                "The ferry between Skarn and Lowe resumed on Friday.\n")
            await asyncio.to_thread(bot.services.build_index)
            assert bot.index_stats() is first  # the reader has not switched yet
            await asyncio.to_thread(bot.reader.refresh)
            second = bot.index_stats()
            assert second is not first and second.generation > first.generation
            assert second.articles == first.articles + 1
            assert "2 articles" in (await ask(server, server.user(1702), "/stats")).text

    asyncio.run(scenario())
