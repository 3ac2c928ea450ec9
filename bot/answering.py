"""Answering many chat users at once without blocking the event loop.

Embedding and search are CPU work: they run on one worker thread, and questions that arrive
while it is busy are answered together in the next batch (one forward pass of the model for
all of them), so thirty users asking at once cost about as much as a few asking in turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from newsqa.retrieval import AnswerSet, QuestionAnswerer

log = logging.getLogger(__name__)

# Questions answered in one batch at most (one model forward pass).
MAX_BATCH = 32
# The index is checked for a new generation at most this often (one stat + one query).
REFRESH_SECONDS = 1.0
# Users whose recent questions the per-user limit remembers (a few hundred bytes each).
MAX_TRACKED_USERS = 10_000


class BatchedAnswerer:
    """Answers questions on a worker thread, batching those that wait; call `start` first."""

    def __init__(self, answerer: QuestionAnswerer, k: int, max_batch: int = MAX_BATCH,
                 refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.answerer = answerer
        self.k = k
        self.max_batch = max_batch
        self.refresh_seconds = refresh_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-answer")
        self._queue: asyncio.Queue[tuple[tuple[str, date | None], asyncio.Future[AnswerSet]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._refreshed = time.monotonic()

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._run(), name="newsqa-answer-batches")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            future.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def ask(self, question: str, as_of: date | None = None) -> AnswerSet:
        """The answers to `question` as of the day `as_of` (today when None), computed off
        the event loop.

        Raises:
            EmptyQuestion: the question has no words.
            RuntimeError: `start` was not called.
        """
        if self._queue is None:
            raise RuntimeError("BatchedAnswerer.start() must be awaited before ask()")
        future: asyncio.Future[AnswerSet] = asyncio.get_running_loop().create_future()
        await self._queue.put(((question, as_of or date.today()), future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [(question, future) for question, future in batch if not future.done()]
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self._executor, self._answer, [q for q, _ in batch])
            except Exception:  # one bad question must not sink the others: answer one by one
                for question, future in batch:
                    try:
                        result = (await loop.run_in_executor(self._executor, self._answer, [question]))[0]
                    except Exception as error:
                        if not future.done():
                            future.set_exception(error)
                    else:
                        if not future.done():
                            future.set_result(result)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)

    def _answer(self, questions: list[tuple[str, date | None]]) -> list[AnswerSet]:
        """Runs on the worker thread: pick up a re-indexed corpus, then answer."""
        now = time.monotonic()
        if now - self._refreshed >= self.refresh_seconds:
            self._refreshed = now
            self.answerer.reader.refresh()
        return self.answerer.ask_many([q for q, _ in questions], self.k, as_of=[day for _, day in questions])


class QuestionRateLimit:
    """At most `per_minute` questions per user in any 60 seconds; 0 means no limit.

    Memory is bounded: at most `max_users` users are tracked, each with at most `per_minute`
    times. Past that, the user who asked least recently is forgotten first (only someone
    asking more than `max_users` others ago, so in practice a quiet user).
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 max_users: int = MAX_TRACKED_USERS) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.max_users = max_users
        self._asked: OrderedDict[int, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """Users currently tracked."""
        return len(self._asked)

    def allow(self, user_id: int) -> bool:
        """Count a question by `user_id`; False when it is over the limit (and not counted)."""
        if self.per_minute <= 0:
            return True
        now = self.clock()
        times = self._asked.setdefault(user_id, deque())
        self._asked.move_to_end(user_id)
        while times and times[0] <= now - self.WINDOW_SECONDS:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        while len(self._asked) > self.max_users:
            self._asked.popitem(last=False)
        return True

    def retry_in(self, user_id: int) -> float:
        """Seconds until `user_id` may ask again."""
        times = self._asked.get(user_id)
        if not times or len(times) < self.per_minute:
            return 0.0
        return max(0.0, times[0] + self.WINDOW_SECONDS - self.clock())
