"""Admin commands: /reindex re-reads the articles folder, /add fetches a page and indexes it.

Both run on one worker thread, one at a time, and report what changed.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from newsqa.index import ArticleError, FetchError, IndexLayerError, IndexReport, SavedArticle, is_url
from newsqa.index.fetch import ForbiddenAddress

from .formatting import RichText, Span, bullet_list
from .runtime import BotRuntime


def report_text(report: IndexReport) -> RichText:
    """The index report's summary, the articles it skipped and those indexed with a problem."""
    text = RichText.of(report.summary())
    for heading, items in (("Skipped:", report.skipped), ("Indexed with a problem:", report.problems)):
        if items:
            text = text + RichText.of("\n\n") + bullet_list(heading, (str(item) for item in items))
    return text


class AdminHandlers:
    """Handlers only NEWSQA_ADMIN_USERS may use."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime
        self.delivery = runtime.delivery

    async def reindex(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Re-read the articles folder and report what changed (admins only)."""
        runtime, message = self.runtime, update.effective_message
        if not runtime.access.is_admin(update.effective_user):
            await self.delivery.reply(message, RichText.of("Only admins can reindex (NEWSQA_ADMIN_USERS)."))
            return
        if runtime.reindex_lock.locked():
            await self.delivery.reply(message, RichText.of("A reindex is already running; its report follows."))
            return
        async with runtime.reindex_lock:
            await self.delivery.reply(message, RichText.of("Re-reading the articles folder…"))
            try:
                report = await asyncio.get_running_loop().run_in_executor(runtime.reindex_executor, self._reindex)
            except IndexLayerError as error:
                await self.delivery.reply(message, RichText.of(Span("Reindex failed: ", bold=True), str(error)))
                return
        await self.delivery.reply(message, report_text(report))

    async def add(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Fetch an article from a URL into the articles folder and index it (admins only)."""
        runtime, message = self.runtime, update.effective_message
        if not runtime.access.is_admin(update.effective_user):
            await self.delivery.reply(message, RichText.of("Only admins can add articles (NEWSQA_ADMIN_USERS)."))
            return
        args = context.args or []
        if len(args) != 1 or not is_url(args[0]):
            await self.delivery.reply(message, RichText.of(
                "Put one web address after /add, for example:\n",
                Span("/add https://news.example/world/story", italic=True)))
            return
        if runtime.reindex_lock.locked():
            await self.delivery.reply(message, RichText.of("A reindex is already running; try again when it is done."))
            return
        async with runtime.reindex_lock:
            await self.delivery.reply(message, RichText.of("Fetching the page…"))
            try:
                saved, report = await asyncio.get_running_loop().run_in_executor(
                    runtime.reindex_executor, self._add, args[0])
            except (FetchError, ArticleError) as error:
                text = RichText.of(Span("Could not add it: ", bold=True), str(error))
                if isinstance(error, ForbiddenAddress):
                    text = text + RichText.of("\n\nPages on private networks are refused unless "
                                              "NEWSQA_FETCH_ALLOW_PRIVATE is true.")
                await self.delivery.reply(message, text)
                return
            except IndexLayerError as error:
                await self.delivery.reply(message, RichText.of(Span("Reindex failed: ", bold=True), str(error)))
                return
        state = "Already had" if saved.unchanged else "Saved"
        await self.delivery.reply(message, RichText.of(f"{state} ", Span(saved.title, bold=True),
                                                       f" ({saved.source}).\n") + report_text(report))

    def _add(self, url: str) -> tuple[SavedArticle, IndexReport]:
        saved = self.runtime.app.fetch_article(url, allow_private=self.runtime.settings.fetch_allow_private)
        return saved, self._reindex()

    def _reindex(self) -> IndexReport:
        report = self.runtime.app.build_index()
        self.runtime.reader.refresh()
        return report
