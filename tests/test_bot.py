"""The Telegram bot end to end: the real Application, real model and index, over real HTTP to the
fake Bot API server in `fake_telegram.py`. Tests play the users; every wait is a hang guard,
never an assertion on time."""

from __future__ import annotations

import asyncio
import logging
import socket

from aiohttp import ClientSession

from fake_telegram import FakeTelegram, utf16_len
from helpers import ACME, ACME_QUOTE, ACME_TITLE, EXAMPLE, SEED_QUESTIONS, ask, reply_to, running_bot
from newsqa.bot.telegram import COMMANDS, EXPIRED, WebhookConfig


def test_private_question_gets_the_quote_in_bold_with_buttons(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            ann = server.user(101)
            answer = await ask(server, ann, EXAMPLE)
            assert answer.parse_mode == "HTML"
            quote, bold = answer.styled("blockquote"), answer.styled("bold")
            assert "Li Hongzhong" in bold[0] and bold[0] in quote[0]
            assert "Top Russian, Chinese Officials To Visit North Korea" in bold[1]
            assert set(answer.buttons()) == {"More", "Context"}
            await server.wait_for(lambda: (ann["id"], "typing") in server.actions)
            assert [c["command"] for c in server.commands] == [c.command for c in COMMANDS]

            start = await ask(server, ann, "/start")
            assert EXAMPLE in start.text and "/ask" in start.text
            assert "/sources" in (await ask(server, ann, "/help")).text
            assert "1 article (1 source), 6 passages" in (await ask(server, ann, "/stats")).text
            assert "Top Russian" in (await ask(server, ann, "/sources")).text
            assert "/help" in (await ask(server, ann, "/frobnicate")).text
            count = len(server.messages_in(ann["id"]))
            server.send_sticker(ann)
            assert "as text" in (await server.reply(ann["id"], count)).text
            assert server.errors == []

    asyncio.run(scenario())


def test_buttons_page_and_show_context_and_survive_a_restart(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server)
            ann = server.user(201)
            async with running_bot(settings, encoder):
                card = await ask(server, ann, EXAMPLE)
                first = card.styled("bold")[0]
                server.press(ann, card, "More")
                await server.wait_for(lambda: card.edits == 1)
                second = card.styled("bold")[0]
                assert second != first and "Answer 2 of" in card.text
                assert {"Back", "Context"} <= set(card.buttons())
                server.press(ann, card, "Context")
                context = await server.reply(ann["id"], 1)
                assert "Context from" in context.text and second in context.styled("bold")
                assert len(context.styled("blockquote")[0]) > len(second)

            async with running_bot(settings, encoder):  # a new process: state comes from disk
                server.press(ann, card, "Back")
                await server.wait_for(lambda: card.edits == 2)
                assert card.styled("bold")[0] == first and "Answer 1 of" in card.text
                stale = server.press_data(ann, card, "more:NoSuchQ1:1")
                await server.wait_for(lambda: server.callback_answers[stale])
                assert server.callback_answers[stale] == {"text": EXPIRED, "show_alert": True}
                await server.wait_for(lambda: all(server.callback_answers.values()))
            assert server.errors == []

    asyncio.run(scenario())


def test_group_answers_only_ask_mentions_and_replies(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            group, ann, bob = server.group(), server.user(301, "Ann"), server.user(302, "Bob")
            silent = [server.say(ann, EXAMPLE, chat=group),
                      server.say(bob, f"/ask@another_bot {EXAMPLE}", chat=group),
                      server.say(bob, "@someone_else when is Victory Day?", chat=group)]
            asked = server.say(ann, f"/ask {EXAMPLE}", chat=group)
            answer = await reply_to(server, asked)
            assert "Li Hongzhong" in answer.styled("bold")[0]
            mention = server.say(bob, "@newsqa_test_bot when is Victory Day?", chat=group)
            assert "Victory Day" in (await reply_to(server, mention)).styled("bold")[0]
            follow_up = server.say(ann, "and who leads the Russian military delegation?", chat=group,
                                   reply_to=answer)
            assert "Shoigu" in (await reply_to(server, follow_up)).styled("bold")[0]
            empty = server.say(ann, "/ask", chat=group)
            assert "/ask who led" in (await reply_to(server, empty)).text

            replied = {m.reply_to for m in server.messages_in(group["id"])}
            assert len(server.messages_in(group["id"])) == 4
            assert not replied & {m["message_id"] for m in silent}

    asyncio.run(scenario())


def test_allowlist_refuses_messages_commands_and_buttons(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server, allowed_users="401", admin_users="402")
            async with running_bot(settings, encoder):
                stranger, member, admin = server.user(499, "Eve"), server.user(401), server.user(402, "Root")
                for text in (EXAMPLE, "/sources", "/start"):
                    refusal = await ask(server, stranger, text)
                    assert "only answers its approved users" in refusal.text and "499" in refusal.text
                    assert "Li Hongzhong" not in refusal.text and "Top Russian" not in refusal.text
                    assert refusal.buttons() == {}
                assert "Li Hongzhong" in (await ask(server, admin, EXAMPLE)).text

                group = server.group()
                card = await reply_to(server, server.say(member, f"/ask {EXAMPLE}", chat=group))
                pressed = server.press(stranger, card, "More")
                await server.wait_for(lambda: server.callback_answers[pressed])
                assert "approved users" in server.callback_answers[pressed]["text"]
                assert card.edits == 0
                server.say(stranger, "just chatting", chat=group)
                mention = server.say(stranger, f"@newsqa_test_bot {EXAMPLE}", chat=group)
                refusal = await reply_to(server, mention)
                assert "approved users" in refusal.text and "Li Hongzhong" not in refusal.text
                assert len(server.messages_in(group["id"])) == 2

    asyncio.run(scenario())


def test_new_articles_are_answered_after_reindexing_with_their_markup_escaped(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server, admin_users="501")
            async with running_bot(settings, encoder, refresh_seconds=0) as bot:
                reader, admin = server.user(502, "Reader"), server.user(501, "Admin")
                assert "Only admins" in (await ask(server, reader, "/reindex")).text

                # Another process (`newsqa index`) updates the index: picked up without a restart.
                (articles / "acme.txt").write_text(ACME)
                await asyncio.to_thread(bot.app.build_index)
                card = await ask(server, reader, "how many engineers will Acme hire in Lyon?")
                assert card.styled("bold")[0] == ACME_QUOTE
                assert ACME_QUOTE in card.styled("blockquote")[0]
                assert ACME_TITLE in card.text
                assert "&lt;Widgets&gt; &amp; Sons" in card.source and "&amp;amp; final" in card.source

                for number in range(11):
                    (articles / f"brief-{number:02d}.txt").write_text(
                        f"Harbour brief {number}\n\nThe harbour of Port {number} loaded {number + 3} ships "
                        f"of grain on Friday.\n")
                (articles / "zoo.md").write_text(  # a date nobody can read: indexed, undated, and said so
                    "---\ntitle: Berlin Zoo welcomes panda twins\npublished: last Tuesday\n---\nThe Berlin Zoo said on Tuesday that its giant panda Meng "
                    "Meng gave birth to twins, whom the keepers named Leni and Lotti.\n")
                count = len(server.messages_in(admin["id"]))
                server.say(admin, "/reindex")
                report = await server.reply(admin["id"], count + 1)
                assert "12 added" in report.text and "2 unchanged" in report.text
                assert "Indexed with a problem:" in report.text and "zoo.md: front matter 'published: last Tuesday'" \
                    in report.text
                twins = await ask(server, reader, "what did the keepers name the panda twins?")
                assert "Leni and Lotti" in twins.styled("bold")[0]
                assert "14 articles" in (await ask(server, reader, "/stats")).text
                page = await ask(server, reader, "/sources")
                assert "page 1 of 2" in page.text and set(page.buttons()) == {"Next"}
                server.press(reader, page, "Next")
                await server.wait_for(lambda: page.edits == 1)
                assert "page 2 of 2" in page.text and set(page.buttons()) == {"Previous"}
                assert ACME_TITLE in page.text
            assert server.errors == []

    asyncio.run(scenario())


def test_flood_control_429_is_waited_out_and_the_answer_arrives(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            server.fail_next("sendMessage", retry_after=1)
            answer = await ask(server, server.user(601), EXAMPLE)
            assert "Li Hongzhong" in answer.text
            assert server.errors == [("sendMessage", 429, "Too Many Requests: retry after 1")]
            assert len(server.called("sendMessage")) == 2

    asyncio.run(scenario())


def test_rejected_html_is_resent_as_plain_text(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            server.fail_next("sendMessage", status=400, description='Bad Request: can\'t parse entities: '
                             'Unsupported start tag "quote" at byte offset 12')
            answer = await ask(server, server.user(602), EXAMPLE)
            assert answer.parse_mode is None and answer.entities == []
            assert "Li Hongzhong" in answer.text and "<b>" not in answer.text
            assert set(answer.buttons()) == {"More", "Context"}

    asyncio.run(scenario())


def test_odd_questions_get_honest_replies(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            ann = server.user(701)
            long_question = (EXAMPLE + " " + "and tell me everything else you know about it " * 120)[:5000]
            assert len(long_question) == 5000
            answer = await ask(server, ann, long_question)
            assert "went wrong" not in answer.text and utf16_len(answer.text) <= 4096
            nothing = await ask(server, ann, "what is the recipe for banana bread?")
            assert "could not find" in nothing.text and "1 indexed article" in nothing.text
            assert nothing.buttons() == {}
            assert "Ask me a question" in (await ask(server, ann, "?!")).text
            assert server.errors == []

    asyncio.run(scenario())


def test_thirty_users_asking_at_once_all_get_their_answer(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            questions = list(SEED_QUESTIONS)
            users = [server.user(1000 + n, f"User{n}") for n in range(30)]
            for n, user in enumerate(users):
                server.say(user, questions[n % 3])
            replies = await asyncio.gather(*(server.reply(user["id"]) for user in users))
            for n, reply in enumerate(replies):
                assert SEED_QUESTIONS[questions[n % 3]] in reply.styled("bold")[0]
            assert server.errors == []

    asyncio.run(scenario())


def test_per_user_question_limit_replies_politely(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server, questions_per_minute=2), encoder):
            ann, bob = server.user(801), server.user(802, "Bob")
            for _ in range(2):
                assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text
            slow_down = await ask(server, ann, EXAMPLE)
            assert "faster than I can read" in slow_down.text and "Li Hongzhong" not in slow_down.text
            assert "Li Hongzhong" in (await ask(server, bob, EXAMPLE)).text

    asyncio.run(scenario())


def test_a_failing_update_is_logged_and_polling_goes_on(bot_settings, encoder, caplog):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder):
            server.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
            server.say(server.user(901), EXAMPLE)
            await server.wait_for(lambda: server.errors)
            for _ in range(200):  # the error handler runs right after the failed call
                if any(r.exc_info for r in caplog.records if r.name.startswith("newsqa.bot.telegram.")):
                    break
                await asyncio.sleep(0.05)
            assert "Li Hongzhong" in (await ask(server, server.user(902), EXAMPLE)).text

    with caplog.at_level(logging.ERROR, logger="newsqa.bot.telegram"):
        asyncio.run(scenario())
    failures = [r for r in caplog.records if r.name.startswith("newsqa.bot.telegram.") and r.exc_info]
    assert len(failures) == 1 and "blocked by the user" in str(failures[0].exc_info[1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_webhook_mode_takes_updates_with_the_secret_only(bot_settings, encoder):
    async def scenario() -> None:
        port = _free_port()
        hook = WebhookConfig(url=f"http://127.0.0.1:{port}/newsqa-hook", listen="127.0.0.1", port=port,
                             secret_token="s3cret-Token_1")
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder, webhook=hook):
            assert server.webhook == {"url": hook.url, "secret_token": "s3cret-Token_1"}
            answer = await ask(server, server.user(951), EXAMPLE)
            assert "Li Hongzhong" in answer.text
            async with ClientSession() as session:
                forged = {"update_id": 99, "message": {"message_id": 5, "date": 0, "text": EXAMPLE,
                                                       "chat": {"id": 952, "type": "private"}}}
                async with session.post(hook.url, json=forged,
                                        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                    assert response.status == 403
            assert server.called("getUpdates") == []

    asyncio.run(scenario())
