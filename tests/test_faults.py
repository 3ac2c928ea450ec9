"""Faults on the Telegram side: 5xx, timeouts and refused connections. The real bot runs against
the fake Bot API server, which fails, hangs or goes down on command; the bot must back off,
keep polling and answer by itself once the server is back. Waits are hang guards only."""

from __future__ import annotations

import asyncio
import logging

from fake_telegram import FakeTelegram
from test_bot import EXAMPLE, ask, bot_settings, running_bot  # noqa: F401  (bot_settings is a fixture)

LOGGER = "newsqa.bot.telegram_bot"
# Short backoff so the tests stay cheap; the shipped one is SEND_BACKOFF_SECONDS.
FAST_BACKOFF = (0.1, 0.2)


def test_bot_rides_out_5xx_timeouts_and_an_outage(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder,
                                                         send_backoff=FAST_BACKOFF):
            ann = server.user(1101)
            # Replies that meet 502/500 are sent again.
            server.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text
            assert [e[:2] for e in server.errors] == [("sendMessage", 502), ("sendMessage", 502)]

            # Failing getUpdates calls do not stop polling (the bot waits longer after each).
            server.fail_next("getUpdates", status=500, description="Internal Server Error", times=2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text  # on the poll already open
            await server.wait_for(lambda: sum(1 for e in server.errors if e[:2] == ("getUpdates", 500)) == 2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text

            # A reply that hangs past the bot's read timeout (5 s) is sent again, once.
            server.delay_next("sendMessage", 30)
            before = len(server.messages_in(ann["id"]))
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text
            assert len(server.messages_in(ann["id"])) == before + 1

            # The server goes away (open long poll cut, connections refused), then comes back
            # on the same port: a question asked meanwhile is answered without any help.
            async with server.outage():
                count = len(server.messages_in(ann["id"]))
                server.say(ann, "when is Victory Day?")
                await asyncio.sleep(3)
            assert "Victory Day" in (await server.reply(ann["id"], count)).text
            assert server.outages == 1
            assert "Li Hongzhong" in (await ask(server, server.user(1102), EXAMPLE)).text

    asyncio.run(scenario())


def test_a_reply_that_cannot_be_delivered_is_logged_and_the_bot_goes_on(bot_settings, encoder, caplog):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder,
                                                         send_backoff=FAST_BACKOFF):
            # Every try of the answer fails, and so does the "something went wrong" after it.
            server.fail_next("sendMessage", status=500, description="Internal Server Error",
                             times=len(FAST_BACKOFF) + 2)
            server.say(server.user(1201), EXAMPLE)
            await server.wait_for(lambda: len(server.errors) == len(FAST_BACKOFF) + 2)
            for _ in range(200):  # the error handler logs right after the last failed call
                if any("could not tell the user" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
            assert "Li Hongzhong" in (await ask(server, server.user(1202), EXAMPLE)).text

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(m.startswith("could not deliver a message to chat 1201 after 3 tries: Internal Server Error")
               for m in messages), messages
    assert sum("sending to chat 1201 failed" in m for m in messages) == 2
    assert any("could not tell the user" in m for m in messages)
