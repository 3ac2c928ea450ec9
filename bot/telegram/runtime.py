"""What the handlers share while the bot runs: settings, the application layer, the index
reader, the answering thread, the button store, the limits and the delivery."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from newsqa.index import IndexReader

from ..app import NewsqaApp
from ..settings import Settings
from .access import Access
from .batching import BatchedAnswerer, QuestionRateLimit
from .delivery import Delivery
from .state import QuestionStore


@dataclass
class BotRuntime:
    """Made by `NewsqaBot`; `reader`, `answers`, `questions` and `reindex_executor` are set
    when the bot starts (`NewsqaBot.start_up`)."""

    settings: Settings
    app: NewsqaApp
    access: Access
    delivery: Delivery
    rate_limit: QuestionRateLimit
    reader: IndexReader | None = None
    answers: BatchedAnswerer | None = None
    questions: QuestionStore | None = None
    reindex_executor: ThreadPoolExecutor | None = None
    # One reindex (or /add) at a time.
    reindex_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
