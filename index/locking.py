"""The index's one-writer lock."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexLocked
from .layout import LOCK_NAME


@contextmanager
def writer_lock(index_dir: Path, wait_seconds: float,
                on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the index's write lock; wait up to `wait_seconds` for another writer.

    The lock is an `flock` on `.lock`: the kernel drops it when its holder dies, even by
    SIGKILL, so a crashed indexer never blocks the next one. `on_wait` is called once if
    the lock is busy (to tell people why nothing happens).

    Raises:
        IndexLocked: another indexer still holds it after the wait.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_NAME, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"another indexer is writing {index_dir}; try again when it has finished"
                    ) from None
                if on_wait is not None and not told:
                    on_wait()
                    told = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
