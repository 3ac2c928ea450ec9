"""Following topics (issue 18): /follow, /following, /unfollow and the pushed alerts, end to end
against the fake Bot API with the real model and index; the new-articles-only answering
(`retrieval.PoolAnswerer`) on a real index; `newsqa ask --since`."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from fake_telegram import FakeTelegram
from helpers import EXAMPLE, SEED_QUESTIONS, ask, running_bot
from newsqa.bot.cli import cli
from newsqa.bot.telegram import COMMANDS
from newsqa.index import IndexBuilder, IndexReader
from newsqa.retrieval import PassagePool, PoolAnswerer, QuestionAnswerer

ACME_TOPIC = "how many engineers will Acme hire in Lyon?"
PANDA_TOPIC = "what did the keepers name the panda twins?"
ACME_MD = """---
title: Acme <Widgets> & Sons to hire in Lyon
published: 2026-11-30
url: https://news.example/acme?a=1&b=2
---
Acme <Widgets> & Sons reported on Monday that third-quarter profit doubled as orders rose.

Chief executive Ada Quill said Acme would hire 300 engineers in Lyon next year, its biggest hiring plan.

The company, founded in 1921, makes industrial gizmos and employs 4,000 people across France.
"""
ACME_MORE = """---
title: Acme adds a second Lyon plant
published: 2026-12-01
---
Acme said on Tuesday it would hire 150 more engineers in Lyon for a second plant, on top of its earlier plan.

The new plant opens in 2028.
"""
PANDA = """Berlin Zoo welcomes panda twins

The Berlin Zoo said on Tuesday that its giant panda Meng Meng gave birth to twins, whom the keepers named Leni and Lotti.
"""


async def settled(bot) -> None:
    """Wait (a hang guard, not a timing assertion) until the alert job has matched every
    passage the index holds and sent what it found."""
    async def done() -> bool:
        follows = bot.follows
        reader = bot.runtime.reader
        reader.refresh()
        return follows.store.last_matched() == reader.snapshot.last_chunk_id() and not follows._pushing.locked()

    for _ in range(600):
        if await done():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the alert job never caught up")


async def reindex(server: FakeTelegram, admin: dict) -> str:
    report = await ask(server, admin, "/reindex")
    if "Re-reading" in report.text:
        count = len(server.messages_in(admin["id"]))
        report = await server.reply(admin["id"], count)
    return report.text


def test_follow_push_once_survive_restart_and_unfollow(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server, allowed_users="801,802", admin_users="800")
            admin, ann, bob, eve = server.user(800, "Admin"), server.user(801, "Ann"), server.user(802, "Bob"), \
                server.user(899, "Eve")
            async with running_bot(settings, encoder, refresh_seconds=0.2) as bot:
                assert {"follow", "following", "unfollow"} <= {c["command"] for c in server.commands}
                assert "/follow" in (await ask(server, ann, "/help")).text
                confirm = await ask(server, ann, f"/follow {ACME_TOPIC}")
                assert "Now following" in confirm.text and ACME_TOPIC in confirm.text
                assert list(confirm.buttons()) == [f"Stop following “{ACME_TOPIC[:39]}…”"]
                assert "Already following" in (await ask(server, ann, f"/follow   {ACME_TOPIC.upper()}")).text
                assert "Now following" in (await ask(server, bob, f"/follow {PANDA_TOPIC}")).text
                refusal = await ask(server, eve, f"/follow {ACME_TOPIC}")
                assert "approved users" in refusal.text and "Now following" not in refusal.text
                assert "at most 200 characters" in (await ask(server, bob, "/follow " + "harbour " * 40)).text

                # A matching article arrives through the folder and /reindex: pushed to Ann only.
                (articles / "acme.md").write_text(ACME_MD)
                assert "1 added" in await reindex(server, admin)
                await settled(bot)
                [alert] = server.messages_in(ann["id"])[-1:]
                assert alert.parse_mode == "HTML" and "New article on a topic you follow" in alert.text
                assert "hire 300 engineers in Lyon" in alert.styled("blockquote")[0]
                assert "Acme <Widgets> & Sons to hire in Lyon · 2026-11-30" in alert.text
                assert "&lt;Widgets&gt; &amp; Sons" in alert.source
                assert alert.links() == ["https://news.example/acme?a=1&b=2"]
                assert list(alert.buttons()) == [f"Stop following “{ACME_TOPIC[:39]}…”"]
                bob_seen = len(server.messages_in(bob["id"]))
                assert not any("New article" in m.text for m in server.messages_in(bob["id"]))

                # A non-matching one reaches only the follower it answers; the edited Acme
                # article (new passages, same article) is not pushed again.
                ann_seen = len(server.messages_in(ann["id"]))
                (articles / "zoo.txt").write_text(PANDA)
                (articles / "acme.md").write_text(ACME_MD.replace("its biggest", "by far its biggest"))
                report = await reindex(server, admin)
                assert "1 added" in report and "1 updated" in report
                await settled(bot)
                assert len(server.messages_in(ann["id"])) == ann_seen
                [panda] = server.messages_in(bob["id"])[bob_seen:]
                assert "Leni and Lotti" in panda.styled("blockquote")[0]
                assert "Berlin Zoo welcomes panda twins" in panda.text
                assert server.errors == []

            async with running_bot(settings, encoder, refresh_seconds=0.2) as bot:  # a restart
                listed = await ask(server, ann, "/following")
                assert "Following 1 topic" in listed.text and ACME_TOPIC in listed.text
                ann_seen = len(server.messages_in(ann["id"]))
                (articles / "acme-more.md").write_text(ACME_MORE)
                await asyncio.to_thread(bot.app.build_index)  # another process indexes (`newsqa index`)
                await settled(bot)
                [more] = server.messages_in(ann["id"])[ann_seen:]
                assert "150 more engineers" in more.text and "Acme adds a second Lyon plant · 2026-12-01" in more.text

                server.press(ann, listed, next(iter(listed.buttons())))
                stopped = await server.reply(ann["id"], ann_seen + 1)
                assert "No longer following" in stopped.text
                assert "You follow no topics" in (await ask(server, ann, "/following")).text
                assert "No longer following" in (await ask(server, bob, f"/unfollow {PANDA_TOPIC}")).text
                assert "not following" in (await ask(server, bob, f"/unfollow {PANDA_TOPIC}")).text
                seen = {user["id"]: len(server.messages_in(user["id"])) for user in (ann, bob)}
                (articles / "acme-third.md").write_text(ACME_MORE.replace("150", "75").replace("second", "third"))
                (articles / "zoo-2.txt").write_text(PANDA.replace("Berlin", "Vienna").replace("Leni", "Fu"))
                await asyncio.to_thread(bot.app.build_index)
                await settled(bot)
                assert {user["id"]: len(server.messages_in(user["id"])) for user in (ann, bob)} == seen
                assert server.errors == []

    asyncio.run(scenario())


def test_a_blocked_bot_drops_the_follows_and_the_allowlist_applies_when_pushing(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            ann, bob = server.user(901, "Ann"), server.user(902, "Bob")
            async with running_bot(bot_settings(server, allowed_users="901,902"), encoder) as bot:
                for user in (ann, bob):
                    assert "Now following" in (await ask(server, user, f"/follow {ACME_TOPIC}")).text
            seen = {user["id"]: len(server.messages_in(user["id"])) for user in (ann, bob)}
            # Bob is no longer allowed; Ann has blocked the bot (Telegram answers 403).
            async with running_bot(bot_settings(server, allowed_users="901"), encoder, refresh_seconds=0.2) as bot:
                server.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
                (articles / "acme.md").write_text(ACME_MD)
                await asyncio.to_thread(bot.app.build_index)
                await settled(bot)
                assert {user["id"]: len(server.messages_in(user["id"])) for user in (ann, bob)} == seen
                assert server.errors == [("sendMessage", 403, "Forbidden: bot was blocked by the user")]
                store = bot.follows.store
                assert store.following(901) == [] and [f.topic for f in store.following(902)] == [ACME_TOPIC]

    asyncio.run(scenario())


def test_pushes_per_hour_cap_and_topics_per_chat(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server, follow_pushes_per_hour=1, follow_max_topics=1)
            ann = server.user(951)
            async with running_bot(settings, encoder, refresh_seconds=0.2) as bot:
                assert "Now following" in (await ask(server, ann, f"/follow {ACME_TOPIC}")).text
                assert "follow 1 topics already" in (await ask(server, ann, f"/follow {PANDA_TOPIC}")).text
                seen = len(server.messages_in(ann["id"]))
                (articles / "acme.md").write_text(ACME_MD)
                await asyncio.to_thread(bot.app.build_index)
                await settled(bot)
                assert len(server.messages_in(ann["id"])) == seen + 1
                (articles / "acme-more.md").write_text(ACME_MORE)
                await asyncio.to_thread(bot.app.build_index)
                await settled(bot)
                assert len(server.messages_in(ann["id"])) == seen + 1  # over the hour's cap: dropped

    asyncio.run(scenario())


def test_several_matches_arrive_in_one_message(bot_settings, encoder, articles):
    async def scenario() -> None:
        async with FakeTelegram() as server:
            ann = server.user(961)
            async with running_bot(bot_settings(server), encoder, refresh_seconds=0.2) as bot:
                for topic in (ACME_TOPIC, PANDA_TOPIC):
                    assert "Now following" in (await ask(server, ann, f"/follow {topic}")).text
                seen = len(server.messages_in(ann["id"]))
                (articles / "acme.md").write_text(ACME_MD)
                (articles / "zoo.txt").write_text(PANDA)
                await asyncio.to_thread(bot.app.build_index)
                await settled(bot)
                [alert] = server.messages_in(ann["id"])[seen:]
                assert "2 new articles on topics you follow" in alert.text
                assert "Leni and Lotti" in alert.text and "300 engineers" in alert.text
                assert len(alert.buttons()) == 2

    asyncio.run(scenario())


def test_pool_answers_like_the_index_and_only_from_its_passages(tmp_path, seed_index, encoder, articles):
    reader = IndexReader(seed_index)
    answerer = QuestionAnswerer(reader, encoder)
    snapshot = reader.snapshot
    pool = PassagePool.of(snapshot, snapshot.chunk_ids_after(0))
    assert len(pool) == snapshot.stats().chunks
    questions = list(SEED_QUESTIONS) + ["What is the recipe for sourdough bread?"]
    pooled = PoolAnswerer(answerer).ask_many(questions, pool, k=1)
    for question, result in zip(questions, pooled):
        full = answerer.ask(question, k=1)
        assert result.found == full.found
        if full.found:
            assert result.answers[0].quote == full.answers[0].quote
    assert not pooled[-1].found

    # Only new passages: the seed questions find nothing among an added article's passages.
    index = tmp_path / "index"
    builder = IndexBuilder(index, encoder)
    builder.update(articles)
    mark = IndexReader(index).snapshot.last_chunk_id()
    (articles / "acme.md").write_text(ACME_MD)
    builder.update(articles)
    reader = IndexReader(index)
    new = reader.snapshot.chunk_ids_after(mark)
    assert new and min(new) > mark
    pool = PassagePool.of(reader.snapshot, new)
    results = PoolAnswerer(QuestionAnswerer(reader, encoder)).ask_many([EXAMPLE, ACME_TOPIC], pool)
    assert not results[0].found
    assert "300 engineers" in results[1].answers[0].quote


def test_cli_ask_since_answers_only_from_articles_published_that_day_or_later(cli_env):
    (cli_env["articles"] / "acme.md").write_text(ACME_MD)
    run = lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)  # noqa: E731
    before = json.loads(run("ask", "--json", "--since", "2026-11-30", ACME_TOPIC).stdout)
    assert before["found"] and before["answers"][0]["published"] == "2026-11-30"
    assert all(a["published"] >= "2026-11-30" for a in before["answers"])
    after = json.loads(run("ask", "--json", "--since", "2026-12-01", ACME_TOPIC).stdout)
    assert all(a["published"] is None or a["published"] >= "2026-12-01" for a in after["answers"])
    assert not any("300 engineers" in a["quote"] for a in after["answers"])
    bad = run("ask", "--since", "yesterday-ish", ACME_TOPIC)
    assert bad.exit_code == 2


def test_cli_ask_refuses_a_since_after_the_as_of_day(cli_env):
    (cli_env["articles"] / "acme.md").write_text(ACME_MD)
    swapped = CliRunner().invoke(cli, ["ask", "--since", "2026-12-01", "--as-of", "2026-11-30", ACME_TOPIC])
    assert swapped.exit_code == 2 and "--since 2026-12-01 is after" in swapped.output
    lines = f'{{"question": "{ACME_TOPIC}", "as_of": "2026-11-30"}}\n{ACME_TOPIC}\n'
    piped = CliRunner().invoke(cli, ["ask", "--json", "--since", "2026-11-30"], input=lines, catch_exceptions=False)
    first, second = (json.loads(line) for line in piped.stdout.splitlines())
    assert first["found"] and "error" not in first  # a span of one day is a span
    assert second["found"]
    late = CliRunner().invoke(cli, ["ask", "--json", "--since", "2026-12-01"], input=lines, catch_exceptions=False)
    first, second = (json.loads(line) for line in late.stdout.splitlines())
    assert not first["found"] and "is after the day answered as of (2026-11-30)" in first["error"]
    assert "error" not in second  # the next line is answered as usual


def test_commands_menu_names_the_follow_commands():
    assert [c.command for c in COMMANDS if "follow" in c.command] == ["follow", "following", "unfollow"]
