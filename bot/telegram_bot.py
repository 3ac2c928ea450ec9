"""The Telegram bot: ask in a chat, get the quoted answer (python-telegram-bot v22).

Private chats: every text message is a question. Groups: only `/ask <question>`, a message
that @mentions the bot, or a reply to one of its messages. Answers are HTML cards with
"More" and "Context" buttons whose state lives in a `QuestionStore`, so they keep working
after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

from telegram import (
    Bot,
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from newsqa.index import (
    ArticleError,
    FetchError,
    IndexLayerError,
    IndexReader,
    IndexReport,
    SavedArticle,
    StoreStats,
    is_url,
)
from newsqa.index.fetch import ForbiddenAddress
from newsqa.retrieval import EmptyQuestion, clean_question

from .add import fetch_article
from .answering import REFRESH_SECONDS, BatchedAnswerer, QuestionRateLimit
from .formatting import (
    RichText,
    SourceLine,
    Span,
    answer_card,
    bullet_list,
    context_view,
    not_found,
    plural,
    sources_page,
)
from .question_store import AskedQuestion, QuestionStore
from .services import NewsqaServices
from .settings import Settings
from .telegram_feeds import LATEST_PREFIX, FeedHandlers

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
EXAMPLE_QUESTION = "who led the Chinese delegation?"
# Answers kept per question; the first is shown, "More" pages through the rest.
ANSWERS_PER_QUESTION = 5
SOURCES_PER_PAGE = 10
# Telegram shows "typing…" for 5 seconds; renew it a little sooner while answering takes.
TYPING_REFRESH_SECONDS = 4.5
# A 429 from Telegram is waited out (retry_after) and the request sent again, this many times.
FLOOD_RETRIES = 3
# A message that fails on the network (5xx, timeout, refused connection) is sent again after
# these waits: 15 s in all, about what a Bot API restart takes. A timed-out send may have
# arrived, so a rare duplicate is possible; a lost answer is not (it is logged when all fail).
SEND_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 7.5)
COMMANDS = [
    BotCommand("start", "Welcome and an example question"),
    BotCommand("help", "How to ask"),
    BotCommand("ask", "Ask a question (needed in groups)"),
    BotCommand("sources", "The indexed articles"),
    BotCommand("stats", "What the index holds and how fresh it is"),
    BotCommand("reindex", "Re-read the articles folder (admins)"),
    BotCommand("add", "Fetch an article from a URL and index it (admins)"),
    BotCommand("latest", "The newest headlines"),
    BotCommand("feeds", "The followed news feeds (admins)"),
    BotCommand("feed_add", "Follow an RSS or Atom feed (admins)"),
    BotCommand("feed_remove", "Stop following a feed (admins)"),
]

REFUSAL = "Sorry, this bot only answers its approved users."
SLOW_DOWN = "You are pressing faster than I can keep up. Please wait a moment."
# "Slow down" notices one user gets per minute; past that the bot stays silent, so a user over
# a limit never makes it send more than this.
NOTICES_PER_MINUTE = 1
EXPIRED = "This question has expired. Please ask it again."
HELP = RichText.of(
    Span("Ask me about the news", bold=True),
    " and I answer with sentences quoted word for word from the articles I have read, "
    "with the article they come from. Nothing is made up.\n\n"
    "In a private chat just send a question. In a group, use ",
    Span("/ask your question", italic=True),
    ", mention me, or reply to one of my messages.\n\n",
    "Under an answer, ", Span("More", bold=True), " shows the next answer and ",
    Span("Context", bold=True), " the passage around the quote.\n\n"
    "/latest shows the newest headlines, /sources lists the articles, /stats shows how fresh the index is.",
)


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram posts updates in webhook mode (behind HTTPS)."""

    url: str
    listen: str = "0.0.0.0"
    port: int = 8443
    secret_token: str | None = None

    @property
    def url_path(self) -> str:
        return urlparse(self.url).path.lstrip("/")


def _ago(timestamp: float | None) -> str:
    if not timestamp:
        return "never"
    seconds = max(0.0, time.time() - timestamp)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


class NewsqaBot(FeedHandlers):
    """One running bot: its handlers and the state they share (answerer, stores, limits)."""

    def __init__(self, settings: Settings, services: NewsqaServices,
                 refresh_seconds: float = REFRESH_SECONDS,
                 send_backoff: Sequence[float] = SEND_BACKOFF_SECONDS) -> None:
        if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.services = services
        self.refresh_seconds = refresh_seconds
        self.send_backoff = tuple(send_backoff)
        self.rate_limit = QuestionRateLimit(settings.questions_per_minute)
        self.action_limit = QuestionRateLimit(settings.actions_per_minute)
        self.notice_limit = QuestionRateLimit(NOTICES_PER_MINUTE)
        self._stats: tuple[object, int, StoreStats] | None = None
        self.reader: IndexReader | None = None
        self.answers: BatchedAnswerer | None = None
        self.questions: QuestionStore | None = None
        self._reindex_lock = asyncio.Lock()
        self._reindex_executor: ThreadPoolExecutor | None = None

    # -- setting up ---------------------------------------------------------------------
    def build(self) -> Application:
        """The python-telegram-bot Application with every handler registered."""
        app = (
            Application.builder()
            .token(self.settings.telegram_bot_token.get_secret_value().strip())
            .base_url(self.settings.telegram_base_url)
            .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
            .concurrent_updates(True)
            .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
            .post_init(self.start_up)
            .post_shutdown(self.shut_down)
            .build()
        )
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(CommandHandler("start", self.start))
        app.add_handler(CommandHandler("help", self.help))
        app.add_handler(CommandHandler("ask", self.ask))
        app.add_handler(CommandHandler("sources", self.sources))
        app.add_handler(CommandHandler("stats", self.stats))
        app.add_handler(CommandHandler("reindex", self.reindex))
        app.add_handler(CommandHandler("add", self.add))
        app.add_handler(CommandHandler("latest", self.latest))
        app.add_handler(CommandHandler("feeds", self.feeds))
        app.add_handler(CommandHandler("feed_add", self.feed_add))
        app.add_handler(CommandHandler("feed_remove", self.feed_remove))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, self.question))
        app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND,
                                       self.group_message))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT, self.not_text))
        app.add_handler(CallbackQueryHandler(self.more, pattern=r"^more:"))
        app.add_handler(CallbackQueryHandler(self.show_context, pattern=r"^ctx:"))
        app.add_handler(CallbackQueryHandler(self.sources_button, pattern=r"^src:"))
        app.add_handler(CallbackQueryHandler(self.latest_button, pattern=f"^{LATEST_PREFIX}"))
        app.add_handler(CallbackQueryHandler(self.stale_button))
        app.add_error_handler(self.on_error)
        # Feeds are polled off the event loop, first right after start-up, then every interval.
        app.job_queue.run_repeating(self.poll_feeds, interval=self.settings.feed_interval, first=0,
                                    name="poll-feeds")
        return app

    async def start_up(self, app: Application) -> None:
        """Load the model, open the index (building it if there is none), register commands."""
        self.reader = await asyncio.to_thread(self.services.open_reader, self._build_missing_index)
        await asyncio.to_thread(self.services.encoder.encode_queries, ["warm up"])
        self.questions = QuestionStore(self.settings.bot_state_path)
        self._reindex_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-reindex")
        self.answers = BatchedAnswerer(self.services.answerer(self.reader), ANSWERS_PER_QUESTION,
                                       refresh_seconds=self.refresh_seconds)
        await self.answers.start()
        await app.bot.set_my_commands(COMMANDS)
        stats = self.index_stats()
        log.info("@%s answers from %s (%s) in %s", app.bot.username, plural(stats.articles, "article"),
                 plural(stats.chunks, "passage"), self.settings.index_dir)
        log.info("%s", self.access_mode())

    def access_mode(self) -> str:
        """Who may use the bot, in one line for the log at start."""
        admins = plural(len(self.settings.admin_users), "admin")
        if not self.settings.allowed_users:
            return f"access: open to everyone (NEWSQA_ALLOWED_USERS is empty); {admins}"
        return (f"access: only {plural(len(self.settings.allowed_users), 'allowed user')} and {admins} "
                f"(NEWSQA_ALLOWED_USERS); everyone else is refused")

    async def shut_down(self, app: Application) -> None:
        """Stop the answering thread and close the question store."""
        if self.answers is not None:
            await self.answers.stop()
        if self._reindex_executor is not None:
            self._reindex_executor.shutdown(wait=False, cancel_futures=True)
        if self.questions is not None:
            self.questions.close()

    def _build_missing_index(self) -> None:
        log.info("no index at %s yet: building it from %s", self.settings.index_dir, self.settings.articles_dir)
        log.info("%s", self.services.build_index().summary())

    def run(self, webhook: WebhookConfig | None = None) -> None:
        """Run until Ctrl-C: long polling, or a webhook server when `webhook` is given.

        Raises:
            InvalidToken: Telegram rejected the token.
            NetworkError: the Bot API server cannot be reached.
        """
        asyncio.run(self.check_token())
        app = self.build()
        if webhook is None:
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            app.run_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                            webhook_url=webhook.url, secret_token=webhook.secret_token,
                            allowed_updates=ALLOWED_UPDATES)

    async def check_token(self) -> None:
        """Ask Telegram who the bot is, so a bad token or server fails fast and quietly."""
        token = self.settings.telegram_bot_token.get_secret_value().strip()
        async with Bot(token, base_url=self.settings.telegram_base_url) as bot:
            log.info("connected to the Bot API as @%s", bot.username)

    @asynccontextmanager
    async def serving(self, app: Application, webhook: WebhookConfig | None = None,
                      **polling_options: object) -> AsyncIterator[Application]:
        """Run inside an event loop that is already running (for embedding and tests)."""
        async with app:
            await self.start_up(app)
            try:
                await app.start()
                if webhook is None:
                    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, **polling_options)
                else:
                    await app.updater.start_webhook(
                        listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                        webhook_url=webhook.url, secret_token=webhook.secret_token,
                        allowed_updates=ALLOWED_UPDATES)
                try:
                    yield app
                finally:
                    await app.updater.stop()
                    await app.stop()
            finally:
                await self.shut_down(app)

    # -- who may ask ------------------------------------------------------------------------
    def is_allowed(self, user: User | None) -> bool:
        if not self.settings.allowed_users:
            return True
        return user is not None and (user.id in self.settings.allowed_users or self.is_admin(user))

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admin_users

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Refuse users outside NEWSQA_ALLOWED_USERS, before any other handler runs."""
        if self.is_allowed(update.effective_user):
            return
        user_id = update.effective_user.id if update.effective_user else "unknown"
        if not self.action_limit.allow(update.effective_user.id if update.effective_user else 0):
            pass  # refusals count as actions: past the limit, silence
        elif update.callback_query is not None:
            await update.callback_query.answer(REFUSAL, show_alert=True)
        elif update.message is not None and self._addressed(update.message, context) is not None:
            await update.message.reply_text(f"{REFUSAL} Your Telegram user id is {user_id}.")
        log.info("refused update from user %s", user_id)
        raise ApplicationHandlerStop

    async def metered(self, update: Update) -> bool:
        """Count an action (a button, /sources, /stats...) against the user's limit; False, after
        a "slow down" (while the user's notices last), when it is over."""
        user = update.effective_user
        if user is None or self.action_limit.allow(user.id):
            return True
        log.info("user %s is over NEWSQA_ACTIONS_PER_MINUTE", user.id)
        notice = self.notice_limit.allow(user.id)
        if update.callback_query is not None:  # answered anyway: the client's spinner stops
            await update.callback_query.answer(SLOW_DOWN if notice else None)
        elif notice and update.effective_message is not None:
            await self._reply(update.effective_message, RichText.of(SLOW_DOWN))
        return False

    def index_stats(self) -> StoreStats:
        """The index's counts, read once per generation (they change only with it)."""
        snapshot = self.reader.snapshot
        cached = self._stats
        if cached is None or cached[0] is not snapshot.store or cached[1] != snapshot.generation:
            cached = self._stats = (snapshot.store, snapshot.generation, snapshot.stats())
        return cached[2]

    def _addressed(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> str | None:
        """The text of `message` meant for this bot (mention removed), or None when it is not."""
        text = message.text or ""
        if message.chat.type == Chat.PRIVATE:
            return text
        bot = context.bot
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            target = command.partition("@")[2]
            return text if not target or target.casefold() == (bot.username or "").casefold() else None
        for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
            if (entity.type == MessageEntity.MENTION and value[1:].casefold() == (bot.username or "").casefold()) \
                    or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id):
                return " ".join(text.replace(value, " ").split())
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return text
        return None

    # -- commands ---------------------------------------------------------------------------
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome, with an example question."""
        if not await self.metered(update):
            return
        name = update.effective_user.first_name if update.effective_user else "there"
        text = RichText.of(f"Hello {name}! Ask me a question about the news, for example:\n",
                           Span(EXAMPLE_QUESTION, italic=True), "\n\n") + HELP
        await self._reply(update.effective_message, text)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """How to ask."""
        if not await self.metered(update):
            return
        await self._reply(update.effective_message, HELP)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer `/ask <question>`."""
        message = update.effective_message
        question = (message.text or "").split(maxsplit=1)[1:]
        if not question:
            await self._reply(message, RichText.of("Put your question after /ask, for example:\n",
                                                   Span(f"/ask {EXAMPLE_QUESTION}", italic=True)))
            return
        await self._answer(message, question[0])

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a text message in a private chat."""
        await self._answer(update.effective_message, update.effective_message.text or "")

    async def group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a group message that mentions the bot or replies to it; ignore the rest."""
        text = self._addressed(update.effective_message, context)
        if text is not None:
            await self._answer(update.effective_message, text)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Point to /help for commands the bot does not know."""
        if not await self.metered(update):
            return
        await self._reply(update.effective_message, RichText.of("I do not know that command. See /help."))

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain that questions are text."""
        if not await self.metered(update):
            return
        await self._reply(update.effective_message, RichText.of("Please send your question as text."))

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the indexed articles, one page at a time."""
        if not await self.metered(update):
            return
        text, markup = await asyncio.to_thread(self._sources_page, 0)
        await self._reply(update.effective_message, text, markup)

    async def sources_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn the page of /sources."""
        query = update.callback_query
        if not await self.metered(update):
            return
        try:
            page = max(0, int(query.data.split(":")[1]))
        except (IndexError, ValueError):
            await query.answer(EXPIRED)
            return
        text, markup = await asyncio.to_thread(self._sources_page, page)
        await self._edit(query.message, text, markup)
        await query.answer()

    def _sources_page(self, page: int) -> tuple[RichText, InlineKeyboardMarkup | None]:
        snapshot = self.reader.snapshot
        total = self.index_stats().articles
        pages = max(1, -(-total // SOURCES_PER_PAGE))
        page = min(page, pages - 1)
        rows = snapshot.store.list_articles(page * SOURCES_PER_PAGE, SOURCES_PER_PAGE)
        lines = [SourceLine(title, source, published) for title, source, published in rows]
        text = sources_page(lines, page * SOURCES_PER_PAGE + 1, page, pages, total)
        buttons = []
        if page > 0:
            buttons.append(InlineKeyboardButton("Previous", callback_data=f"src:{page - 1}"))
        if page + 1 < pages:
            buttons.append(InlineKeyboardButton("Next", callback_data=f"src:{page + 1}"))
        return text, InlineKeyboardMarkup([buttons]) if buttons else None

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Articles, chunks and age of the index."""
        if not await self.metered(update):
            return
        stats = await asyncio.to_thread(self.index_stats)
        text = RichText.of(
            Span("Index", bold=True),
            f"\n{plural(stats.articles, 'article')} ({plural(stats.sources, 'source')}), "
            f"{plural(stats.chunks, 'passage')}"
            f"\nGeneration {stats.generation}, updated {_ago(stats.updated_at)}",
        )
        await self._reply(update.effective_message, text)

    async def reindex(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Re-read the articles folder and report what changed (admins only)."""
        message = update.effective_message
        if not self.is_admin(update.effective_user):
            await self._reply(message, RichText.of("Only admins can reindex (NEWSQA_ADMIN_USERS)."))
            return
        if self._reindex_lock.locked():
            await self._reply(message, RichText.of("A reindex is already running; its report follows."))
            return
        async with self._reindex_lock:
            await self._reply(message, RichText.of("Re-reading the articles folder…"))
            try:
                report = await asyncio.get_running_loop().run_in_executor(self._reindex_executor, self._reindex)
            except IndexLayerError as error:
                await self._reply(message, RichText.of(Span("Reindex failed: ", bold=True), str(error)))
                return
        await self._reply(message, self._report(report))

    async def add(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Fetch an article from a URL into the articles folder and index it (admins only)."""
        message = update.effective_message
        if not self.is_admin(update.effective_user):
            await self._reply(message, RichText.of("Only admins can add articles (NEWSQA_ADMIN_USERS)."))
            return
        args = context.args or []
        if len(args) != 1 or not is_url(args[0]):
            await self._reply(message, RichText.of("Put one web address after /add, for example:\n",
                                                   Span("/add https://news.example/world/story", italic=True)))
            return
        if self._reindex_lock.locked():
            await self._reply(message, RichText.of("A reindex is already running; try again when it is done."))
            return
        async with self._reindex_lock:
            await self._reply(message, RichText.of("Fetching the page…"))
            try:
                saved, report = await asyncio.get_running_loop().run_in_executor(
                    self._reindex_executor, self._add, args[0])
            except (FetchError, ArticleError) as error:
                text = RichText.of(Span("Could not add it: ", bold=True), str(error))
                if isinstance(error, ForbiddenAddress):
                    text = text + RichText.of("\n\nPages on private networks are refused unless "
                                              "NEWSQA_FETCH_ALLOW_PRIVATE is true.")
                await self._reply(message, text)
                return
            except IndexLayerError as error:
                await self._reply(message, RichText.of(Span("Reindex failed: ", bold=True), str(error)))
                return
        state = "Already had" if saved.unchanged else "Saved"
        await self._reply(message, RichText.of(f"{state} ", Span(saved.title, bold=True), f" ({saved.source}).\n")
                          + self._report(report))

    def _add(self, url: str) -> tuple[SavedArticle, IndexReport]:
        saved = fetch_article(self.settings, url, allow_private=self.settings.fetch_allow_private)
        return saved, self._reindex()

    def _reindex(self) -> IndexReport:
        report = self.services.build_index()
        self.reader.refresh()
        return report

    @staticmethod
    def _report(report: IndexReport) -> RichText:
        text = RichText.of(report.summary())
        if report.skipped:
            text = text + RichText.of("\n\n") + bullet_list(
                "Skipped:", (f"{skipped.source}: {skipped.reason}" for skipped in report.skipped))
        return text

    # -- answering --------------------------------------------------------------------------
    async def _answer(self, message: Message, question: str) -> None:
        # JSON can carry lone surrogates, which no UTF-8 store or tokenizer takes: pairs are
        # joined, lone ones become U+FFFD.
        question = question.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        try:
            clean_question(question)
        except EmptyQuestion:
            await self._reply(message, RichText.of("Ask me a question, for example: ",
                                                   Span(EXAMPLE_QUESTION, italic=True)))
            return
        user = message.from_user
        if user is not None and not self.rate_limit.allow(user.id):
            wait = max(1, round(self.rate_limit.retry_in(user.id)))
            if not self.notice_limit.allow(user.id):
                return  # told a moment ago
            await self._reply(message, RichText.of(
                f"You are asking faster than I can read ({self.settings.questions_per_minute} questions "
                f"a minute). Please try again in {wait} s."))
            return
        async with self._typing(message.chat):
            # As of the day the message was sent (UTC): a question queued during an outage
            # is answered about its own day's news.
            result = await self.answers.ask(question, message.date.date() if message.date else None)
            if result.found:
                key = await asyncio.to_thread(self.questions.save, message.chat_id, result)
            else:
                articles = (await asyncio.to_thread(self.index_stats)).articles
        if not result.found:
            await self._reply(message, not_found(articles))
            return
        total = len(result.answers)
        await self._reply(message, answer_card(result.answers[0], 1, total), self._buttons(key, 0, total))

    @staticmethod
    def _buttons(key: str, index: int, total: int) -> InlineKeyboardMarkup:
        row = []
        if index > 0:
            row.append(InlineKeyboardButton("Back", callback_data=f"more:{key}:{index - 1}"))
        if index + 1 < total:
            row.append(InlineKeyboardButton("More", callback_data=f"more:{key}:{index + 1}"))
        row.append(InlineKeyboardButton("Context", callback_data=f"ctx:{key}:{index}"))
        return InlineKeyboardMarkup([row])

    async def _button_answer(self, update: Update) -> tuple[AskedQuestion, int] | None:
        """The stored question and answer index a More/Context button points at, or None."""
        query = update.callback_query
        match = re.fullmatch(r"(?:more|ctx):([\w-]{1,16}):(\d{1,3})", query.data or "")
        if match is None:
            return None
        asked = await asyncio.to_thread(self.questions.load, match[1])
        index = int(match[2])
        chat_id = query.message.chat.id if query.message is not None else None
        if asked is None or asked.chat_id != chat_id or index >= len(asked.answers):
            return None
        return asked, index

    async def more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the next (or previous) answer in place."""
        query = update.callback_query
        if not await self.metered(update):
            return
        found = await self._button_answer(update)
        if found is None:
            await query.answer(EXPIRED, show_alert=True)
            return
        asked, index = found
        card = answer_card(asked.answers[index], index + 1, len(asked.answers))
        await self._edit(query.message, card, self._buttons(asked.key, index, len(asked.answers)))
        await query.answer()

    async def show_context(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the passage around a quote."""
        query = update.callback_query
        if not await self.metered(update):
            return
        found = await self._button_answer(update)
        if found is None:
            await query.answer(EXPIRED, show_alert=True)
            return
        asked, index = found
        await query.answer()
        for piece in context_view(asked.answers[index]):
            await self._send(context, query.message.chat.id, piece)

    async def stale_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button this version of the bot does not know."""
        await update.callback_query.answer(EXPIRED, show_alert=True)

    # -- sending ----------------------------------------------------------------------------
    @asynccontextmanager
    async def _typing(self, chat: Chat) -> AsyncIterator[None]:
        async def keep_typing() -> None:
            while True:
                try:
                    await chat.send_action(ChatAction.TYPING)
                except TelegramError as error:
                    log.debug("typing action failed: %s", error)
                await asyncio.sleep(TYPING_REFRESH_SECONDS)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()

    async def _reply(self, message: Message, text: RichText,
                     markup: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Reply with `text`, split to Telegram's limit; plain text if the HTML is refused."""
        pieces = text.split()
        sent = []
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            sent.append(await self._with_fallback(
                lambda mode, body: message.reply_text(body, parse_mode=mode, reply_markup=markup if last else None,
                                                      do_quote=None if number == 0 else False),
                piece, message.chat_id))
        return sent

    async def _send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: RichText,
                    markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self._with_fallback(
            lambda mode, body: context.bot.send_message(chat_id, body, parse_mode=mode, reply_markup=markup),
            text, chat_id)

    async def _edit(self, message: Message | None, text: RichText, markup: InlineKeyboardMarkup | None) -> None:
        """Replace a message's text and buttons; unchanged content is not an error."""
        if message is None:
            return
        text = text.trim()
        try:
            await self._with_fallback(
                lambda mode, body: message.get_bot().edit_message_text(
                    body, chat_id=message.chat.id, message_id=message.message_id, parse_mode=mode,
                    reply_markup=markup),
                text, message.chat.id)
        except BadRequest as error:
            reason = str(error).casefold()
            if "message is not modified" in reason:
                return
            if "message to edit not found" not in reason and "can't be edited" not in reason:
                raise
            await self._with_fallback(  # too old or deleted: send the page as a new message
                lambda mode, body: message.get_bot().send_message(
                    message.chat.id, body, parse_mode=mode, reply_markup=markup),
                text, message.chat.id)

    async def _with_fallback(self, send: Callable[[str | None, str], Awaitable[Message]], text: RichText,
                             chat_id: int) -> Message:
        try:
            return await self._retrying(send, ParseMode.HTML, text.html(), chat_id)
        except BadRequest as error:
            if "can't parse entities" not in str(error).casefold():
                raise
            log.warning("Telegram refused the HTML (%s); sending plain text", error)
            return await self._retrying(send, None, text.plain(), chat_id)

    async def _retrying(self, send: Callable[[str | None, str], Awaitable[Message]], mode: str | None, body: str,
                        chat_id: int) -> Message:
        """`send(mode, body)`, sent again after network failures (5xx, timeouts, refused
        connections) with backoff; 429s are waited out by the rate limiter below this."""
        for attempt, wait in enumerate((*self.send_backoff, None), 1):
            try:
                return await send(mode, body)
            except BadRequest:
                raise  # a BadRequest is a NetworkError in python-telegram-bot, but resending cannot help
            except NetworkError as error:
                if wait is None:
                    log.error("could not deliver a message to chat %s after %d tries: %s", chat_id, attempt, error)
                    raise
                log.warning("sending to chat %s failed (%s); trying again in %g s", chat_id, error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    # -- errors -----------------------------------------------------------------------------
    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log every failure with its traceback; tell the user when there is one to tell."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %s", update_id, context.error, exc_info=context.error)
        if not isinstance(update, Update) or isinstance(context.error, Forbidden):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer("Sorry, something went wrong. Please try again.")
            elif update.effective_message is not None:
                await update.effective_message.reply_text("Sorry, something went wrong. Please try again.")
        except TelegramError as error:
            log.warning("could not tell the user about the failure: %s", error)
