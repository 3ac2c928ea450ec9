"""What the handlers share while the bot runs: settings, the application layer, the index
reader, the answering thread, the button store, the limits and the delivery."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from telegram import Update

from newsqa.index import IndexReader, IndexStorage, StoreStats

from ..app import Conversations, NewsqaApp
from ..settings import Settings
from .access import Access
from .batching import BatchedAnswerer, QuestionRateLimit
from .delivery import Delivery
from .formatting import RichText
from .state import QuestionStore
from .texts import SLOW_DOWN

log = logging.getLogger(__name__)

# "Slow down" notices one user gets per minute; past that the bot stays silent, so a user over
# a limit never makes it send more than this.
NOTICES_PER_MINUTE = 1


@dataclass
class BotRuntime:
    """Made by `NewsqaBot`; `reader`, `answers`, `questions` and `reindex_executor` are set
    when the bot starts (`NewsqaBot.start_up`)."""

    settings: Settings
    app: NewsqaApp
    access: Access
    delivery: Delivery
    rate_limit: QuestionRateLimit
    # Everything else a user makes the bot do (buttons, /sources, /stats, refusals...).
    action_limit: QuestionRateLimit
    notice_limit: QuestionRateLimit
    reader: IndexReader | None = None
    answers: BatchedAnswerer | None = None
    questions: QuestionStore | None = None
    # Each private chat's last questions, for follow-ups (memory only).
    conversations: Conversations | None = None
    reindex_executor: ThreadPoolExecutor | None = None
    # One reindex (or /add) at a time.
    reindex_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stats: tuple[IndexStorage, int, StoreStats] | None = field(default=None, init=False, repr=False)

    def index_stats(self) -> StoreStats:
        """The index's counts, read once per generation (they change only with it)."""
        snapshot = self.reader.snapshot
        cached = self._stats
        if cached is None or cached[0] is not snapshot.storage or cached[1] != snapshot.generation:
            cached = self._stats = (snapshot.storage, snapshot.generation, snapshot.stats())
        return cached[2]

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
            await self.delivery.reply(update.effective_message, RichText.of(SLOW_DOWN))
        return False
