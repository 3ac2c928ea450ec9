"""The Telegram bot's set-up: the python-telegram-bot Application, its handlers, start-up and
shut-down, polling or webhook (python-telegram-bot v22).

Private chats: every text message is a question. Groups: only `/ask <question>`, a message
that @mentions the bot, or a reply to one of its messages. Answers are HTML cards with
"More" and "Context" buttons whose state lives in a `QuestionStore`, so they keep working
after a restart. The handlers are in `handlers.py` (everyone), `admin.py` (admins) and
`feeds.py` (/latest, the feed commands and the polling job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

from telegram import Bot, LinkPreviewOptions, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from newsqa.index import IndexReader, StoreStats

from ..app import Conversations, NewsqaApp
from ..settings import Settings
from . import callbacks
from .access import Access
from .admin import AdminHandlers
from .batching import REFRESH_SECONDS, BatchedAnswerer, QuestionRateLimit
from .delivery import SEND_BACKOFF_SECONDS, Delivery
from .formatting import plural
from .feeds import FeedHandlers
from .follows import FollowHandlers
from .handlers import ChatHandlers
from .runtime import NOTICES_PER_MINUTE, BotRuntime
from .state import QuestionStore
from .texts import COMMANDS, FAILED

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# Answers kept per question; the first is shown, "More" pages through the rest.
ANSWERS_PER_QUESTION = 5
# The alert job looks for new passages at most this often (it also refreshes the reader).
ALERT_MIN_SECONDS = 0.2
# A 429 from Telegram is waited out (retry_after) and the request sent again, this many times.
FLOOD_RETRIES = 3


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


class NewsqaBot:
    """One running bot: the Application, its handlers and the state they share."""

    def __init__(self, settings: Settings, app: NewsqaApp,
                 refresh_seconds: float = REFRESH_SECONDS,
                 send_backoff: Sequence[float] = SEND_BACKOFF_SECONDS) -> None:
        if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.app = app
        self.refresh_seconds = refresh_seconds
        action_limit = QuestionRateLimit(settings.actions_per_minute)
        self.runtime = BotRuntime(settings, app, Access(settings, action_limit), Delivery(send_backoff),
                                  rate_limit=QuestionRateLimit(settings.questions_per_minute),
                                  action_limit=action_limit, notice_limit=QuestionRateLimit(NOTICES_PER_MINUTE))
        self.runtime.conversations = Conversations(app.conversation)
        self.chat = ChatHandlers(self.runtime)
        self.admin = AdminHandlers(self.runtime)
        self.feeds = FeedHandlers(self.runtime)
        self.follows = FollowHandlers(self.runtime)

    def build(self) -> Application:
        """The python-telegram-bot Application with every handler registered."""
        application = (
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
        chat, admin, feeds = self.chat, self.admin, self.feeds
        application.add_handler(TypeHandler(Update, self.runtime.access.gate), group=-1)
        application.add_handler(CommandHandler("start", chat.start))
        application.add_handler(CommandHandler("help", chat.help))
        application.add_handler(CommandHandler("ask", chat.ask))
        application.add_handler(CommandHandler("new", chat.new))
        application.add_handler(CommandHandler("sources", chat.sources))
        application.add_handler(CommandHandler("stats", chat.stats))
        application.add_handler(CommandHandler("reindex", admin.reindex))
        application.add_handler(CommandHandler("add", admin.add))
        application.add_handler(CommandHandler("latest", feeds.latest))
        application.add_handler(CommandHandler("feeds", feeds.feeds))
        application.add_handler(CommandHandler("feed_add", feeds.feed_add))
        application.add_handler(CommandHandler("feed_remove", feeds.feed_remove))
        application.add_handler(CommandHandler("follow", self.follows.follow))
        application.add_handler(CommandHandler("following", self.follows.following))
        application.add_handler(CommandHandler("unfollow", self.follows.unfollow))
        application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
                                               chat.question))
        application.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND,
                                               chat.group_message))
        application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, chat.unknown_command))
        application.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT, chat.not_text))
        application.add_handler(CallbackQueryHandler(chat.more, pattern=callbacks.MORE_PATTERN))
        application.add_handler(CallbackQueryHandler(chat.show_context, pattern=callbacks.CONTEXT_PATTERN))
        application.add_handler(CallbackQueryHandler(chat.sources_button, pattern=callbacks.SOURCES_PATTERN))
        application.add_handler(CallbackQueryHandler(feeds.latest_button, pattern=callbacks.LATEST_PATTERN))
        application.add_handler(CallbackQueryHandler(self.follows.unfollow_button, pattern=callbacks.UNFOLLOW_PATTERN))
        application.add_handler(CallbackQueryHandler(chat.stale_button))
        application.add_error_handler(self.on_error)
        # Feeds are polled off the event loop, first right after start-up, then every interval.
        application.job_queue.run_repeating(feeds.poll_feeds, interval=self.settings.feed_interval, first=0,
                                            name="poll-feeds")
        # New articles are matched against the followed topics as soon as the reader sees them.
        interval = max(self.refresh_seconds, ALERT_MIN_SECONDS)
        application.job_queue.run_repeating(self.follows.push_alerts, interval=interval, first=interval,
                                            name="push-alerts")
        return application

    async def start_up(self, application: Application) -> None:
        """Load the model, open the index (building it if there is none), register commands."""
        runtime = self.runtime
        runtime.reader = await asyncio.to_thread(self.app.open_reader, self._build_missing_index)
        answerer = self.app.answerer(runtime.reader)
        await asyncio.to_thread(answerer.warm_up)
        runtime.questions = QuestionStore(self.settings.bot_state_path)
        runtime.reindex_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-reindex")
        runtime.answers = BatchedAnswerer(answerer, ANSWERS_PER_QUESTION, refresh_seconds=self.refresh_seconds)
        await runtime.answers.start()
        await asyncio.to_thread(self.follows.start)
        await application.bot.set_my_commands(COMMANDS)
        stats = runtime.index_stats()
        log.info("@%s answers from %s (%s) in %s", application.bot.username, plural(stats.articles, "article"),
                 plural(stats.chunks, "passage"), self.settings.index_dir)
        log.info("%s", self.access_mode())

    def access_mode(self) -> str:
        """Who may use the bot, in one line for the log at start."""
        admins = plural(len(self.settings.admin_users), "admin")
        if not self.settings.allowed_users:
            return f"access: open to everyone (NEWSQA_ALLOWED_USERS is empty); {admins}"
        return (f"access: only {plural(len(self.settings.allowed_users), 'allowed user')} and {admins} "
                f"(NEWSQA_ALLOWED_USERS); everyone else is refused")

    @property
    def reader(self) -> IndexReader | None:
        """The index reader answers come from (set when the bot starts)."""
        return self.runtime.reader

    def index_stats(self) -> StoreStats:
        """The index's counts, read once per generation."""
        return self.runtime.index_stats()

    async def shut_down(self, application: Application) -> None:
        """Stop the answering thread and close the question store."""
        runtime = self.runtime
        if runtime.answers is not None:
            await runtime.answers.stop()
        if runtime.reindex_executor is not None:
            runtime.reindex_executor.shutdown(wait=False, cancel_futures=True)
        if runtime.questions is not None:
            runtime.questions.close()
        self.follows.stop()

    def _build_missing_index(self) -> None:
        log.info("no index at %s yet: building it from %s", self.settings.index_dir, self.settings.articles_dir)
        report = self.app.build_index()
        for skipped in report.skipped:
            log.warning("skipped %s", skipped)
        for problem in report.problems:
            log.warning("indexed with a problem: %s", problem)
        log.info("%s", report.summary())

    def run(self, webhook: WebhookConfig | None = None) -> None:
        """Run until Ctrl-C: long polling, or a webhook server when `webhook` is given.

        Raises:
            InvalidToken: Telegram rejected the token.
            NetworkError: the Bot API server cannot be reached.
        """
        asyncio.run(self.check_token())
        application = self.build()
        if webhook is None:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            application.run_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                                    webhook_url=webhook.url, secret_token=webhook.secret_token,
                                    allowed_updates=ALLOWED_UPDATES)

    async def check_token(self) -> None:
        """Ask Telegram who the bot is, so a bad token or server fails fast and quietly."""
        token = self.settings.telegram_bot_token.get_secret_value().strip()
        async with Bot(token, base_url=self.settings.telegram_base_url) as bot:
            log.info("connected to the Bot API as @%s", bot.username)

    @asynccontextmanager
    async def serving(self, application: Application, webhook: WebhookConfig | None = None,
                      **polling_options: object) -> AsyncIterator[Application]:
        """Run inside an event loop that is already running (for embedding and tests)."""
        async with application:
            await self.start_up(application)
            try:
                await application.start()
                if webhook is None:
                    await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, **polling_options)
                else:
                    await application.updater.start_webhook(
                        listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                        webhook_url=webhook.url, secret_token=webhook.secret_token,
                        allowed_updates=ALLOWED_UPDATES)
                try:
                    yield application
                finally:
                    await application.updater.stop()
                    await application.stop()
            finally:
                await self.shut_down(application)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log every failure with its traceback; tell the user when there is one to tell."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %s", update_id, context.error, exc_info=context.error)
        if not isinstance(update, Update) or isinstance(context.error, Forbidden):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(FAILED)
            elif update.effective_message is not None:
                await update.effective_message.reply_text(FAILED)
        except TelegramError as error:
            log.warning("could not tell the user about the failure: %s", error)
