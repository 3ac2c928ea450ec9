"""Atomic, durable file writes: the one helper every index writer uses.

A file is written beside its final name, fsynced, renamed into place, and then its folder is
fsynced (a file's own fsync does not make its new name durable). Readers see the old file or
the new one, never half of either, and a crash leaves at most a `.tmp` file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make renames inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush the contents of the file at `path` to disk."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def move_into_place(written: Path, path: Path, *, sync_directory: bool = True) -> None:
    """Rename the complete file `written` to `path` (same file system), durably: its contents
    are fsynced first and, unless the caller fsyncs the folder itself after several moves,
    the folder after."""
    fsync_file(written)
    os.replace(written, path)
    if sync_directory:
        fsync_directory(Path(path).parent)


@contextmanager
def atomic_path(path: Path, *, unique: bool = False, sync_directory: bool = True) -> Iterator[Path]:
    """A temporary path beside `path` to write to (for writers that want a file name, like
    FAISS); moved into place when the block ends, removed when it raises.

    `unique` gives each writer its own temporary name (for files that several processes may
    write at once, like a cache); otherwise it is `<name>.tmp`, which a writer holding a lock
    can clean up after a crash.
    """
    path = Path(path)
    if unique:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    else:
        tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        move_into_place(tmp, path, sync_directory=sync_directory)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes | str, *, unique: bool = False, sync_directory: bool = True) -> None:
    """Write `data` (text as UTF-8) to `path` atomically and durably."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, unique=unique, sync_directory=sync_directory) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(payload)
