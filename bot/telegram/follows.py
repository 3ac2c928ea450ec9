"""Followed topics: /follow, /following, /unfollow and the "Stop following" buttons, and the
job that pushes new articles answering a followed topic.

The job runs every few seconds: it lets the index reader see a new generation (however the
articles came), matches the passages it added against every topic on a worker thread
(`bot/follows.py`), then sends each chat one message with its matches. In groups, follows
belong to the group chat; whoever followed must still be allowed when the alert is sent.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from newsqa.retrieval import EmptyQuestion

from ..follows import Alert, Follow, FollowError, FollowStore, NewArticles, TopicMatcher, group_alerts
from . import callbacks
from .formatting import MAX_TITLE_CHARS, RichText, Span, alert_message, plural
from .runtime import BotRuntime

log = logging.getLogger(__name__)

# "Stop following" buttons under one alert (one per topic it answers).
MAX_STOP_BUTTONS = 5
# Characters of a topic shown on a button.
BUTTON_TOPIC_CHARS = 40


def _short(topic: str, limit: int = BUTTON_TOPIC_CHARS) -> str:
    return topic if len(topic) <= limit else topic[:limit - 1].rstrip() + "…"


def stop_buttons(follows: list[Follow]) -> InlineKeyboardMarkup | None:
    """One "Stop following" button per follow."""
    rows = [[InlineKeyboardButton(f"Stop following “{_short(f.topic)}”", callback_data=callbacks.unfollow_data(f.id))]
            for f in follows]
    return InlineKeyboardMarkup(rows) if rows else None


class FollowHandlers:
    """Follow commands, their buttons and the alert job."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime
        self.delivery = runtime.delivery
        self.store: FollowStore | None = None
        self.matcher: TopicMatcher | None = None
        self._pushing = asyncio.Lock()

    def start(self) -> None:
        """Open the follow store beside the bot's state (called at start-up, off the loop)."""
        self.store = FollowStore(self.runtime.settings.bot_state_path)
        self.matcher = TopicMatcher(self.runtime.app.answerer(self.runtime.reader), self.store)
        if self.store.last_matched() is None:  # first run: what is indexed already is not news
            self.store.set_last_matched(self.runtime.reader.snapshot.last_chunk_id())

    def stop(self) -> None:
        if self.store is not None:
            self.store.close()

    # -- commands ---------------------------------------------------------------------------
    async def follow(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Follow a topic: new articles that answer it are sent here."""
        message, settings = update.effective_message, self.runtime.settings
        if not await self.runtime.metered(update):
            return
        topic = " ".join(context.args or [])
        if not topic:
            await self.delivery.reply(message, RichText.of(
                "Put a topic or question after /follow, for example:\n",
                Span("/follow the harbour tunnel", italic=True),
                "\nI send you the quoted sentence when a new article answers it."))
            return
        try:
            follow, new = await asyncio.to_thread(
                self.store.follow, message.chat_id, update.effective_user.id, topic,
                max_topics=settings.follow_max_topics, max_chars=settings.follow_max_chars)
        except (FollowError, EmptyQuestion) as error:
            await self.delivery.reply(message, RichText.of(Span("Could not follow it: ", bold=True), str(error)))
            return
        state = "Now following" if new else "Already following"
        await self.delivery.reply(message, RichText.of(
            f"{state} ", Span(follow.topic, bold=True),
            ". When a new article answers it, I send you the quote. /following lists your topics."),
            stop_buttons([follow]))

    async def following(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The chat's topics, each with a button to stop following it."""
        if not await self.runtime.metered(update):
            return
        message = update.effective_message
        follows = await asyncio.to_thread(self.store.following, message.chat_id)
        if not follows:
            await self.delivery.reply(message, RichText.of("You follow no topics. Start with ",
                                                           Span("/follow the harbour tunnel", italic=True)))
            return
        spans: list[Span | str] = [Span(f"Following {plural(len(follows), 'topic')}:", bold=True)]
        spans += [f"\n• {follow.topic}" for follow in follows]
        await self.delivery.reply(message, RichText.of(*spans), stop_buttons(follows))

    async def unfollow(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop following a topic named after the command."""
        if not await self.runtime.metered(update):
            return
        message = update.effective_message
        topic = " ".join(context.args or [])
        if not topic:
            await self.delivery.reply(message, RichText.of("Put the topic after /unfollow, or press its button "
                                                           "under /following."))
            return
        try:
            follow = await asyncio.to_thread(self.store.unfollow, message.chat_id, topic)
        except FollowError as error:
            await self.delivery.reply(message, RichText.of(str(error)))
            return
        await self.delivery.reply(message, RichText.of("No longer following ", Span(follow.topic, bold=True), "."))

    async def unfollow_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A "Stop following" button."""
        query = update.callback_query
        if not await self.runtime.metered(update):
            return
        follow_id = callbacks.parse_unfollow(query.data)
        follow = None
        if follow_id is not None and query.message is not None:
            follow = await asyncio.to_thread(self.store.unfollow_id, query.message.chat.id, follow_id)
        if follow is None:
            await query.answer("Not following that any more.")
            return
        await query.answer(f"No longer following “{_short(follow.topic, MAX_TITLE_CHARS)}”.")
        await self.delivery.send(context, query.message.chat.id,
                                 RichText.of("No longer following ", Span(follow.topic, bold=True), "."))

    # -- the alert job ------------------------------------------------------------------------
    async def push_alerts(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue job: match what new generations added, push each chat its matches."""
        if self.matcher is None or self._pushing.locked():
            return
        async with self._pushing:
            found: NewArticles | None = await asyncio.to_thread(self._match)
            if found is None:
                return
            sent = 0
            for chat_id, alerts in found.alerts.items():
                sent += await self._push(context, chat_id, alerts)
            await asyncio.to_thread(self.store.set_last_matched, found.last_chunk_id)
            log.info("followed topics: %s matched against %s, %s sent",
                     plural(found.topics, "topic"), plural(found.passages, "new passage"), plural(sent, "alert"))

    def _match(self) -> NewArticles | None:
        self.runtime.reader.refresh()
        return self.matcher.match_new(self.runtime.reader.snapshot)

    async def _push(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, alerts: list[Alert]) -> int:
        """Send `chat_id` one message with its new matches; returns 1 when it sent one."""
        store, access, settings = self.store, self.runtime.access, self.runtime.settings
        alerts = [a for a in alerts if access.is_allowed_id(a.follow.user_id)]
        if not alerts:
            return 0
        if await asyncio.to_thread(store.pushes_last_hour, chat_id) >= settings.follow_pushes_per_hour:
            log.info("chat %s is at NEWSQA_FOLLOW_PUSHES_PER_HOUR; %s dropped", chat_id, plural(len(alerts), "match"))
            return 0
        alerts = group_alerts(alerts)
        fresh = await asyncio.to_thread(store.claim, chat_id, [a.article for a in alerts])
        alerts = [a for a in alerts if a.article in fresh]
        if not alerts:
            return 0
        follows = list({a.follow.id: a.follow for a in alerts}.values())[:MAX_STOP_BUTTONS]
        text = alert_message([(a.follow.topic, a.answer) for a in alerts])
        try:
            await self.delivery.send(context, chat_id, text, stop_buttons(follows))
        except Forbidden as error:
            removed = await asyncio.to_thread(store.remove_chat, chat_id)
            log.info("chat %s blocked the bot (%s): %s removed", chat_id, error, plural(removed, "follow"))
            return 0
        except TelegramError as error:
            log.warning("could not send chat %s its alert: %s", chat_id, error)
            return 0
        await asyncio.to_thread(store.record_push, chat_id)
        return 1

