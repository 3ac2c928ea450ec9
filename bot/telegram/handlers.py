"""The chat's commands and questions: /start, /help, /ask, private and group questions,
the More/Context buttons, /sources and /stats.

A question goes: `question`/`ask`/`group_message` -> `_answer` (rate limit, the chat's
conversation for follow-ups, the answering thread in `batching`, the button store in `state`)
-> `formatting.answer_card` -> `delivery`. `/new` forgets the chat's conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from newsqa.index import StorageUnavailable
from newsqa.retrieval import EmptyQuestion, Turn, clean_question

from ..app import ChatAnswer, Conversation

from . import callbacks
from .access import addressed
from .formatting import RichText, SourceLine, Span, answer_card, context_view, not_found, plural, sources_page
from .runtime import BotRuntime
from .state import AskedQuestion
from .texts import EXAMPLE_QUESTION, EXPIRED, FRESH_START, HELP

log = logging.getLogger(__name__)

SOURCES_PER_PAGE = 10


def ago(timestamp: float | None) -> str:
    """"3 hours ago", "just now" or "never"."""
    if not timestamp:
        return "never"
    seconds = max(0.0, time.time() - timestamp)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def answer_buttons(key: str, index: int, total: int) -> InlineKeyboardMarkup:
    """Back / More / Context under answer `index` of the question stored under `key`."""
    row = []
    if index > 0:
        row.append(InlineKeyboardButton("Back", callback_data=callbacks.more_data(key, index - 1)))
    if index + 1 < total:
        row.append(InlineKeyboardButton("More", callback_data=callbacks.more_data(key, index + 1)))
    row.append(InlineKeyboardButton("Context", callback_data=callbacks.context_data(key, index)))
    return InlineKeyboardMarkup([row])


def understood(chat: ChatAnswer) -> RichText:
    """ "Understood as: ..." over the answer to a follow-up, so a wrong guess shows; nothing
    for a question taken as it was asked."""
    if not chat.is_follow_up:
        return RichText.of()
    return RichText.of(Span("Understood as: ", italic=True), Span(chat.understood_as, italic=True), "\n")


class ChatHandlers:
    """Handlers for everyone allowed to ask."""

    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime
        self.delivery = runtime.delivery

    # -- commands -----------------------------------------------------------------------
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome, with an example question."""
        if not await self.runtime.metered(update):
            return
        name = update.effective_user.first_name if update.effective_user else "there"
        text = RichText.of(f"Hello {name}! Ask me a question about the news, for example:\n",
                           Span(EXAMPLE_QUESTION, italic=True), "\n\n") + HELP
        await self.delivery.reply(update.effective_message, text)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """How to ask."""
        if not await self.runtime.metered(update):
            return
        await self.delivery.reply(update.effective_message, HELP)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer `/ask <question>`."""
        message = update.effective_message
        question = (message.text or "").split(maxsplit=1)[1:]
        if not question:
            await self.delivery.reply(message, RichText.of("Put your question after /ask, for example:\n",
                                                           Span(f"/ask {EXAMPLE_QUESTION}", italic=True)))
            return
        await self._answer(message, question[0])

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a text message in a private chat."""
        await self._answer(update.effective_message, update.effective_message.text or "")

    async def group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a group message that mentions the bot or replies to it; ignore the rest."""
        text = addressed(update.effective_message, context)
        if text is not None:
            await self._answer(update.effective_message, text)

    async def new(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Forget the chat's earlier questions: the next message is not a follow-up."""
        if not await self.runtime.metered(update):
            return
        self.runtime.conversations.reset(update.effective_message.chat_id)
        await self.delivery.reply(update.effective_message, RichText.of(FRESH_START))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point to /help for commands the bot does not know."""
        if not await self.runtime.metered(update):
            return
        await self.delivery.reply(update.effective_message, RichText.of("I do not know that command. See /help."))

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain that questions are text."""
        if not await self.runtime.metered(update):
            return
        await self.delivery.reply(update.effective_message, RichText.of("Please send your question as text."))

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the indexed articles, one page at a time."""
        if not await self.runtime.metered(update):
            return
        text, markup = await asyncio.to_thread(self._sources_page, 0)
        await self.delivery.reply(update.effective_message, text, markup)

    async def sources_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn the page of /sources."""
        query = update.callback_query
        if not await self.runtime.metered(update):
            return
        page = callbacks.parse_sources_page(query.data)
        if page is None:
            await query.answer(EXPIRED)
            return
        text, markup = await asyncio.to_thread(self._sources_page, page)
        await self.delivery.edit(query.message, text, markup)
        await query.answer()

    def _sources_page(self, page: int) -> tuple[RichText, InlineKeyboardMarkup | None]:
        snapshot = self.runtime.reader.snapshot
        total = self.runtime.index_stats().articles
        pages = max(1, -(-total // SOURCES_PER_PAGE))
        page = min(page, pages - 1)
        rows = snapshot.list_articles(page * SOURCES_PER_PAGE, SOURCES_PER_PAGE)
        lines = [SourceLine(title, source, published) for title, source, published in rows]
        text = sources_page(lines, page * SOURCES_PER_PAGE + 1, page, pages, total)
        buttons = []
        if page > 0:
            buttons.append(InlineKeyboardButton("Previous", callback_data=callbacks.sources_data(page - 1)))
        if page + 1 < pages:
            buttons.append(InlineKeyboardButton("Next", callback_data=callbacks.sources_data(page + 1)))
        return text, InlineKeyboardMarkup([buttons]) if buttons else None

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Articles, chunks and age of the index."""
        if not await self.runtime.metered(update):
            return
        stats = await asyncio.to_thread(self.runtime.index_stats)
        text = RichText.of(
            Span("Index", bold=True),
            f"\n{plural(stats.articles, 'article')} ({plural(stats.sources, 'source')}), "
            f"{plural(stats.chunks, 'passage')}"
            f"\nGeneration {stats.generation}, updated {ago(stats.updated_at)}",
        )
        await self.delivery.reply(update.effective_message, text)

    # -- answering ----------------------------------------------------------------------
    async def _answer(self, message: Message, question: str) -> None:
        runtime = self.runtime
        # JSON can carry lone surrogates, which no UTF-8 store or tokenizer takes: pairs are
        # joined, lone ones become U+FFFD.
        question = question.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        try:
            clean_question(question)
        except EmptyQuestion:
            await self.delivery.reply(message, RichText.of("Ask me a question, for example: ",
                                                           Span(EXAMPLE_QUESTION, italic=True)))
            return
        user = message.from_user
        if user is not None and not runtime.rate_limit.allow(user.id):
            wait = max(1, round(runtime.rate_limit.retry_in(user.id)))
            if not runtime.notice_limit.allow(user.id):
                return  # told a moment ago
            await self.delivery.reply(message, RichText.of(
                f"You are asking faster than I can read ({runtime.settings.questions_per_minute} questions "
                f"a minute). Please try again in {wait} s."))
            return
        async with self.delivery.typing(message.chat):
            conversation = await self._conversation(message)
            # As of the day the message was sent (UTC): a question queued during an outage
            # is answered about its own day's news.
            day = message.date.date() if message.date else None
            try:
                resolution = await asyncio.to_thread(conversation.resolve, question)
                results = await asyncio.gather(*(runtime.answers.ask(text, day)
                                                 for text in conversation.searches(resolution)))
                chat = conversation.settle(resolution, list(results))
                result = chat.result
                if not result.found:
                    articles = (await asyncio.to_thread(runtime.index_stats)).articles
            except StorageUnavailable as error:
                # The storage server (Milvus) is down: say so; the next question tries it again.
                log.warning("answering failed: %s", error)
                await self.delivery.reply(message, RichText.of(
                    "The news index is temporarily unavailable. Please try again in a minute."))
                return
            if result.found:
                key = await asyncio.to_thread(runtime.questions.save, message.chat_id, result)
        heading = understood(chat)
        if not result.found:
            await self.delivery.reply(message, (heading + not_found(articles)).trim())
            return
        total = len(result.answers)
        await self.delivery.reply(message, (heading + answer_card(result.answers[0], 1, total)).trim(),
                                  answer_buttons(key, 0, total))

    async def _conversation(self, message: Message) -> Conversation:
        """The conversation `message` continues: a reply to one of the bot's answers continues
        that answer's question; otherwise a private chat's own conversation, and in a group
        none (a fresh one)."""
        runtime = self.runtime
        replied = await asyncio.to_thread(self._replied_turn, message)
        if message.chat.type == Chat.PRIVATE:
            conversation = await asyncio.to_thread(runtime.conversations.get, message.chat_id)
        else:
            conversation = await asyncio.to_thread(runtime.app.conversation)
        if replied is not None:
            conversation.follow(replied)
        return conversation

    def _replied_turn(self, message: Message) -> Turn | None:
        """The question and first quote of the bot's answer `message` replies to, if any: its
        buttons carry the key it is stored under."""
        replied = message.reply_to_message
        if replied is None or replied.reply_markup is None:
            return None
        for row in replied.reply_markup.inline_keyboard:
            for button in row:
                found = callbacks.parse_answer_button(button.callback_data if isinstance(button.callback_data, str)
                                                      else None)
                if found is None:
                    continue
                asked = self.runtime.questions.load(found.key)
                if asked is None or asked.chat_id != message.chat_id or not asked.answers:
                    return None
                return Turn(asked.question, asked.answers[min(found.index, len(asked.answers) - 1)].quote)
        return None

    async def _button_answer(self, update: Update) -> tuple[AskedQuestion, int] | None:
        """The stored question and answer index a More/Context button points at; None (after
        telling the presser so, or when over the action limit) when there is none."""
        query = update.callback_query
        if not await self.runtime.metered(update):
            return None
        button = callbacks.parse_answer_button(query.data)
        asked = None if button is None else await asyncio.to_thread(self.runtime.questions.load, button.key)
        chat_id = query.message.chat.id if query.message is not None else None
        if button is None or asked is None or asked.chat_id != chat_id or button.index >= len(asked.answers):
            await query.answer(EXPIRED, show_alert=True)
            return None
        return asked, button.index

    async def more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the next (or previous) answer in place."""
        query = update.callback_query
        found = await self._button_answer(update)
        if found is None:
            return
        asked, index = found
        card = answer_card(asked.answers[index], index + 1, len(asked.answers))
        await self.delivery.edit(query.message, card, answer_buttons(asked.key, index, len(asked.answers)))
        await query.answer()

    async def show_context(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the passage around a quote."""
        query = update.callback_query
        found = await self._button_answer(update)
        if found is None:
            return
        asked, index = found
        await query.answer()
        for piece in context_view(asked.answers[index]):
            await self.delivery.send(context, query.message.chat.id, piece)

    async def stale_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button this version of the bot does not know."""
        await update.callback_query.answer(EXPIRED, show_alert=True)
