"""The bot's feed commands and its feed polling job: /feeds, /feed_add, /feed_remove (admins),
/latest (everyone allowed), and a JobQueue job that polls every NEWSQA_FEED_INTERVAL seconds.

Polling and indexing share the admins' worker thread and lock (`runtime.py`), so a poll never
runs beside a /reindex.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from newsqa.index import FeedError, FetchError, IndexLayerError, is_url
from newsqa.index.fetch import ForbiddenAddress

from ..feeds import FeedService, FeedsPolled, poll_and_index
from . import callbacks
from .formatting import RichText, SourceLine, Span, bullet_list, plural, sources_page
from .runtime import BotRuntime

log = logging.getLogger(__name__)

HEADLINES_PER_PAGE = 10


class FeedHandlers:
    """Feed commands and the polling job."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime
        self.delivery = runtime.delivery

    @property
    def feed_service(self) -> FeedService:
        return FeedService(self.runtime.settings)

    # -- polling ----------------------------------------------------------------------------
    async def poll_feeds(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue job: poll the feeds, index what came, let the answerer see it."""
        if not await asyncio.to_thread(self.feed_service.feeds) or self.runtime.reindex_lock.locked():
            return  # nothing followed, or a reindex runs: the next interval polls
        async with self.runtime.reindex_lock:
            try:
                polled: FeedsPolled = await asyncio.get_running_loop().run_in_executor(
                    self.runtime.reindex_executor, self._poll_and_index)
            except IndexLayerError as error:
                log.warning("feed poll failed: %s", error)
                return
        log.info("%s%s", polled.poll.summary(), f"; {polled.index.summary()}" if polled.index else "")
        for skipped in polled.index.skipped if polled.index else ():
            log.warning("skipped %s", skipped)
        for feed in polled.poll.failed:
            log.warning("feed %s: %s", feed.url, feed.error)

    def _poll_and_index(self) -> FeedsPolled:
        polled = poll_and_index(self.runtime.app)
        if polled.index is not None:
            self.runtime.reader.refresh()
        return polled

    # -- admins -----------------------------------------------------------------------------
    async def feeds(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the followed feeds with their status (admins only)."""
        message = update.effective_message
        if not self.runtime.access.is_admin(update.effective_user):
            await self.delivery.reply(message, RichText.of("Only admins can see the feeds (NEWSQA_ADMIN_USERS)."))
            return
        followed = await asyncio.to_thread(self.feed_service.feeds)
        if not followed:
            await self.delivery.reply(message, RichText.of("No feeds followed yet. Add one with ",
                                                   Span("/feed_add https://news.example/rss.xml", italic=True)))
            return
        now = time.time()
        lines = []
        for feed in followed:
            status = feed.status if feed.last_poll else "not polled yet"
            if feed.backoff_until and feed.backoff_until > now:
                status += f", {feed.failures} failures, backing off"
            lines.append(f"{feed.title or feed.url} ({feed.url}): {status}; {plural(feed.articles, 'article')}"
                         + (f" ({feed.error})" if feed.error else ""))
        await self.delivery.reply(message, bullet_list(f"Followed feeds ({len(followed)}):", lines))

    async def feed_add(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Follow a feed from a URL (admins only); chat fetch rules apply, now and at each poll."""
        message = update.effective_message
        if not self.runtime.access.is_admin(update.effective_user):
            await self.delivery.reply(message, RichText.of("Only admins can add feeds (NEWSQA_ADMIN_USERS)."))
            return
        args = context.args or []
        if len(args) != 1 or not is_url(args[0]):
            await self.delivery.reply(message, RichText.of("Put one feed address after /feed_add, for example:\n",
                                                   Span("/feed_add https://news.example/rss.xml", italic=True)))
            return
        try:
            result = await asyncio.to_thread(self.feed_service.follow, args[0], from_chat=True)
        except (FeedError, FetchError) as error:
            text = RichText.of(Span("Could not follow it: ", bold=True), str(error))
            if isinstance(error, ForbiddenAddress):
                text = text + RichText.of("\n\nAddresses on private networks are refused unless "
                                          "NEWSQA_FETCH_ALLOW_PRIVATE is true.")
            await self.delivery.reply(message, text)
            return
        state = "Now following" if result.new else "Already following"
        await self.delivery.reply(message, RichText.of(f"{state} ", Span(result.feed.title or result.feed.url, bold=True),
                                               f" ({result.feed.url}). New entries are indexed at the next poll "
                                               f"(every {self.runtime.settings.feed_interval:g} s)."))

    async def feed_remove(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop following a feed (admins only)."""
        message = update.effective_message
        if not self.runtime.access.is_admin(update.effective_user):
            await self.delivery.reply(message, RichText.of("Only admins can remove feeds (NEWSQA_ADMIN_USERS)."))
            return
        args = context.args or []
        if len(args) != 1:
            await self.delivery.reply(message, RichText.of("Put the feed's address after /feed_remove (see /feeds)."))
            return
        try:
            feed = await asyncio.to_thread(self.feed_service.unfollow, args[0])
        except FeedError as error:
            await self.delivery.reply(message, RichText.of(str(error)))
            return
        await self.delivery.reply(message, RichText.of("No longer following ", Span(feed.title or feed.url, bold=True),
                                               f"; its {plural(feed.articles, 'article')} stay indexed."))

    # -- everyone ---------------------------------------------------------------------------
    async def latest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The newest indexed headlines with date and link, a page at a time."""
        if not await self.runtime.metered(update):
            return
        text, markup = await asyncio.to_thread(self._latest_page, 0)
        await self.delivery.reply(update.effective_message, text, markup)

    async def latest_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn the page of /latest."""
        query = update.callback_query
        if not await self.runtime.metered(update):
            return
        page = callbacks.parse_latest_page(query.data)
        if page is None:
            await query.answer("This list has expired. Send /latest again.")
            return
        text, markup = await asyncio.to_thread(self._latest_page, page)
        await self.delivery.edit(query.message, text, markup)
        await query.answer()

    def _latest_page(self, page: int) -> tuple[RichText, InlineKeyboardMarkup | None]:
        snapshot = self.runtime.reader.snapshot
        total = self.runtime.index_stats().articles
        pages = max(1, -(-total // HEADLINES_PER_PAGE))
        page = min(page, pages - 1)
        rows = snapshot.latest_articles(page * HEADLINES_PER_PAGE, HEADLINES_PER_PAGE)
        lines = [SourceLine(title, source, published) for title, source, published in rows]
        text = sources_page(lines, page * HEADLINES_PER_PAGE + 1, page, pages, total, heading="Latest headlines")
        buttons = []
        if page > 0:
            buttons.append(InlineKeyboardButton("Newer", callback_data=callbacks.latest_data(page - 1)))
        if page + 1 < pages:
            buttons.append(InlineKeyboardButton("Older", callback_data=callbacks.latest_data(page + 1)))
        return text, InlineKeyboardMarkup([buttons]) if buttons else None
