"""The bot and feeds end to end: admins follow feeds from the chat (chat fetch rules apply),
the JobQueue polls them, the running bot answers from an entry added while it runs, and
/latest pages through the newest headlines. Real model, real HTTP to the fake Bot API and
to the news site on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from fake_telegram import FakeTelegram
from news_site import rss, serve
from helpers import ask, running_bot
from newsqa.bot.telegram import feeds as telegram_feeds

ADMIN = 7
LIGHTHOUSE = ("After forty-one years at the Skarn Point lighthouse, keeper Edwin Moss retired on Saturday. "
              "The light has been automatic since 1998, but Moss stayed on to look after the tower, the fog "
              "signal and the small museum in the old engine room. The harbour board said a volunteer group "
              "would run the museum from the spring, and that the tower would stay open to visitors on "
              "summer weekends.")


@pytest.fixture()
def site():
    server = serve()
    yield server
    server.shutdown()


async def answered(server: FakeTelegram, user: dict, question: str, words: str, tries: int = 120) -> str:
    """Ask until the answer quotes `words` (the poll runs in the background); the last answer."""
    for _ in range(tries):
        text = (await ask(server, user, question)).text
        if words in text:
            return text
        await asyncio.sleep(0.5)
    return text


def test_chat_feeds_follow_the_chat_fetch_rules(bot_settings, encoder, site):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server, admin_users={ADMIN}), encoder):
            admin, ann = server.user(ADMIN), server.user(8)
            refused = await ask(server, admin, f"/feed_add {site.base}/rss.xml")
            assert "Could not follow it" in refused.text and "loopback" in refused.text
            assert "NEWSQA_FETCH_ALLOW_PRIVATE" in refused.text
            assert "Only admins" in (await ask(server, ann, f"/feed_add {site.base}/rss.xml")).text
            assert "Only admins" in (await ask(server, ann, "/feeds")).text
            assert "No feeds followed yet" in (await ask(server, admin, "/feeds")).text
            assert "Put one feed address" in (await ask(server, admin, "/feed_add rss.xml")).text
            assert server.errors == []
        assert site.paths() == []  # nothing was fetched from the private address

    asyncio.run(scenario())


def test_running_bot_polls_feeds_and_answers_from_a_new_entry(bot_settings, encoder, site, monkeypatch):
    monkeypatch.setattr(telegram_feeds, "HEADLINES_PER_PAGE", 2)

    async def scenario() -> None:
        async with FakeTelegram() as server:
            settings = bot_settings(server, admin_users={ADMIN}, fetch_allow_private=True, feed_interval=1.0)
            async with running_bot(settings, encoder):
                admin, ann = server.user(ADMIN), server.user(8)
                followed = await ask(server, admin, f"/feed_add {site.base}/rdf.xml")
                assert "Now following" in followed.text and "Skarn Weekly" in followed.styled("bold")
                ferry = await answered(server, ann, "Who captains the Northern Tern?", "Harriet Quayle")
                assert "Harriet Quayle" in ferry and f"{site.base}/skarn/ferry.txt" in \
                    (await ask(server, ann, "/latest")).links()

                site.add_route("/rdf.xml", "application/rss+xml", rss([
                    {"title": "Lighthouse keeper retires", "link": f"{site.base}/skarn/lighthouse.html",
                     "date": "Sat, 09 Mar 2024 10:00:00 GMT", "content": LIGHTHOUSE}], "Skarn Weekly"))
                keeper = await answered(server, ann, "Who kept the Skarn Point lighthouse?", "Edwin Moss")
                assert "Edwin Moss" in keeper

                latest = await ask(server, ann, "/latest")
                assert latest.text.startswith("Latest headlines (3), page 1 of 2")
                assert "Lighthouse keeper retires · 2024-03-09" in latest.text
                assert latest.text.index("Lighthouse") < latest.text.index("Night ferry back in service")
                assert f"{site.base}/skarn/lighthouse.html" in latest.links()
                server.press(ann, latest, "Older")
                await server.wait_for(lambda: latest.edits == 1)
                assert "page 2 of 2" in latest.text and set(latest.buttons()) == {"Newer"}

                listed = await ask(server, admin, "/feeds")
                assert "Skarn Weekly" in listed.text and "2 articles" in listed.text
                removed = await ask(server, admin, f"/feed_remove {site.base}/rdf.xml")
                assert "No longer following" in removed.text
                assert "not a followed feed" in (await ask(server, admin, f"/feed_remove {site.base}/rdf.xml")).text
                assert server.errors == []

    asyncio.run(scenario())
