"""Who may do what, on every path into the bot: messages, commands and button presses, in
private chats and groups. Table-driven against the real bot and the fake Bot API server."""

from __future__ import annotations

import asyncio

import pytest

from fake_telegram import FakeTelegram
from helpers import EXAMPLE, PageHandler, http_site, running_bot

STRANGER, MEMBER, ADMIN = 499, 401, 402
REFUSED = "only answers its approved users"
ADMINS_ONLY = "Only admins"
PRIVATE_PAGE = "refusing to fetch from 127.0.0.1"
ANSWER = "Li Hongzhong"
STORY = (b"Lighthouse keeper retires after forty years\n\n"
         b"The keeper of the Skerry Point lighthouse, Morag Dunnet, retired on Sunday after forty years.\n")

# (user, what they send in a private chat, replies expected, text in the last reply)
PRIVATE_TABLE = [
    (STRANGER, EXAMPLE, 1, REFUSED), (MEMBER, EXAMPLE, 1, ANSWER), (ADMIN, EXAMPLE, 1, ANSWER),
    (STRANGER, f"/ask {EXAMPLE}", 1, REFUSED), (MEMBER, f"/ask {EXAMPLE}", 1, ANSWER),
    (STRANGER, "/start", 1, REFUSED), (MEMBER, "/start", 1, EXAMPLE),
    (STRANGER, "/help", 1, REFUSED), (MEMBER, "/help", 1, "/sources"),
    (STRANGER, "/sources", 1, REFUSED), (MEMBER, "/sources", 1, "Top Russian"),
    (STRANGER, "/stats", 1, REFUSED), (MEMBER, "/stats", 1, "1 article"),
    (STRANGER, "/frobnicate", 1, REFUSED), (MEMBER, "/frobnicate", 1, "/help"),
    (STRANGER, "/reindex", 1, REFUSED), (MEMBER, "/reindex", 1, ADMINS_ONLY), (ADMIN, "/reindex", 2, "unchanged"),
    (STRANGER, "/add {site}/story", 1, REFUSED), (MEMBER, "/add {site}/story", 1, ADMINS_ONLY),
    (ADMIN, "/add {site}/story", 2, PRIVATE_PAGE),
]
# (user, what they send in a group, text in the bot's reply, or None for silence)
GROUP_TABLE = [
    (STRANGER, f"/ask {EXAMPLE}", REFUSED), (STRANGER, f"@newsqa_test_bot {EXAMPLE}", REFUSED),
    (STRANGER, "/sources", REFUSED), (STRANGER, "/reindex", REFUSED), (STRANGER, "/add {site}/story", REFUSED),
    (STRANGER, "just chatting", None), (STRANGER, f"/ask@another_bot {EXAMPLE}", None),
    (MEMBER, f"/ask {EXAMPLE}", ANSWER), (MEMBER, "/reindex", ADMINS_ONLY), (MEMBER, "/add {site}/story", ADMINS_ONLY),
]
# (user, button under an allowed user's answer in a group, what they get)
BUTTON_TABLE = [
    (STRANGER, "More", "alert: " + REFUSED), (STRANGER, "Context", "alert: " + REFUSED),
    (STRANGER, "src:1", "alert: " + REFUSED), (STRANGER, "bogus", "alert: " + REFUSED),
    (MEMBER, "More", "edited"), (ADMIN, "Context", "context"),
]


class Story(PageHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_page(STORY)


@pytest.fixture(scope="module")
def site():
    with http_site(Story) as url:
        yield url


def test_allowlist_and_admins_on_every_path(bot_settings, encoder, site):
    async def scenario() -> list[str]:
        wrong: list[str] = []
        async with FakeTelegram() as server, running_bot(
                bot_settings(server, allowed_users=str(MEMBER), admin_users=str(ADMIN)), encoder):
            users = {STRANGER: server.user(STRANGER, "Eve"), MEMBER: server.user(MEMBER, "Ann"),
                     ADMIN: server.user(ADMIN, "Root")}
            for user_id, text, replies, expected in PRIVATE_TABLE:
                text = text.format(site=site)
                count = len(server.messages_in(user_id))
                server.say(users[user_id], text)
                last = await server.reply(user_id, count + replies - 1)
                await asyncio.sleep(0.3)  # anything more than expected would arrive now
                got = server.messages_in(user_id)[count:]
                if expected not in last.text or len(got) != replies:
                    wrong.append(f"private {user_id} {text!r}: {[m.text[:80] for m in got]}")
                if user_id == STRANGER and any(ANSWER in m.text or m.buttons() for m in got):
                    wrong.append(f"private {user_id} {text!r} leaked: {[m.text[:80] for m in got]}")
            server.send_sticker(users[STRANGER])
            sticker = await server.reply(STRANGER, len(server.messages_in(STRANGER)))
            if REFUSED not in sticker.text:
                wrong.append(f"sticker from a stranger: {sticker.text!r}")

            group = server.group()
            for user_id, text, expected in GROUP_TABLE:
                text = text.format(site=site)
                message = server.say(users[user_id], text, chat=group)
                if expected is None:
                    continue
                reply = await server.wait_for(lambda: next(
                    (m for m in server.messages_in(group["id"]) if m.reply_to == message["message_id"]), None))
                if expected not in reply.text or (user_id == STRANGER and ANSWER in reply.text):
                    wrong.append(f"group {user_id} {text!r}: {reply.text[:80]!r}")
            await asyncio.sleep(0.3)
            expected_replies = sum(1 for *_, expected in GROUP_TABLE if expected is not None)
            if len(server.messages_in(group["id"])) != expected_replies:
                wrong.append(f"group: {len(server.messages_in(group['id']))} replies, not {expected_replies}")

            card = next(m for m in server.messages_in(group["id"]) if ANSWER in m.text)
            for user_id, button, expected in BUTTON_TABLE:
                edits, sent = card.edits, len(server.messages_in(group["id"]))
                data = card.buttons().get(button, button)
                query = server.press_data(users[user_id], card, data)
                await server.wait_for(lambda: server.callback_answers[query])
                answer = server.callback_answers[query]
                if expected.startswith("alert: "):
                    ok = answer["show_alert"] and expected[7:] in answer["text"] and card.edits == edits
                    await asyncio.sleep(0.3)
                    ok = ok and len(server.messages_in(group["id"])) == sent and card.edits == edits
                elif expected == "edited":
                    ok = await server.wait_for(lambda: card.edits == edits + 1)
                else:
                    ok = "Context from" in (await server.reply(group["id"], sent)).text
                if not ok:
                    wrong.append(f"button {button!r} by {user_id}: {answer}")

            # A button's answer stays in the chat it was asked in: its key, pressed under a
            # message in another chat, is refused even for an approved user.
            private = next(m for m in server.messages_in(MEMBER) if m.buttons().get("Context"))
            query = server.press_data(users[MEMBER], card, private.buttons()["Context"])
            await server.wait_for(lambda: server.callback_answers[query])
            if "expired" not in server.callback_answers[query]["text"]:
                wrong.append(f"a key from another chat was honoured: {server.callback_answers[query]}")
        return wrong

    assert asyncio.run(scenario()) == []


def test_admin_add_fetches_private_pages_only_when_allowed(bot_settings, encoder, site, articles):
    async def scenario() -> tuple[str, str, str, str]:
        async with FakeTelegram() as server, running_bot(
                bot_settings(server, admin_users=str(ADMIN), fetch_allow_private=True), encoder,
                refresh_seconds=0):
            admin, reader = server.user(ADMIN, "Root"), server.user(MEMBER, "Ann")
            server.say(admin, f"/add {site}/story")
            report = await server.reply(ADMIN, 1)
            server.say(reader, "/add " + site + "/story")
            refused = await server.reply(MEMBER, 0)
            server.say(reader, "who kept the Skerry Point lighthouse?")
            answer = await server.reply(MEMBER, 1)
            server.say(admin, "/add ftp://example.org/story.txt")
            ftp = await server.wait_for(lambda: next(
                (m for m in server.messages_in(ADMIN) if m.text.startswith("Could not add")), None))
            return report.text, refused.text, answer.text, ftp.text

    report, refused, answer, ftp = asyncio.run(scenario())
    assert report.startswith("Saved Lighthouse keeper retires after forty years") and "1 added" in report
    assert ADMINS_ONLY in refused
    assert "Morag Dunnet" in answer
    assert "only http:// and https://" in ftp
    saved = [p for p in articles.iterdir() if p.name.startswith("127.0.0.1")]
    assert len(saved) == 1 and saved[0].read_bytes() == STORY
