"""Finding the articles of a folder, and telling cheaply whether a file changed."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ArticlesDirNotFound
from .origin import ArticleOrigin


def scan_articles(articles_dir: Path) -> dict[str, Path]:
    """Article files under `articles_dir` by key (their POSIX path inside it); hidden ones skipped.

    Raises:
        ArticlesDirNotFound: the folder does not exist.
    """
    articles_dir = Path(articles_dir)
    if not articles_dir.is_dir():
        raise ArticlesDirNotFound(f"articles folder {articles_dir} does not exist")
    found: dict[str, Path] = {}
    for root, dirs, files in os.walk(articles_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            found[path.relative_to(articles_dir).as_posix()] = path
    return found


def file_fingerprint(path: Path) -> str:
    """Size and mtime of the file, and of its origin sidecar when it has one."""
    stat = path.stat()
    fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
    try:
        origin = ArticleOrigin.sidecar(path).stat()
    except OSError:
        return fingerprint
    return f"{fingerprint}:{origin.st_size}:{origin.st_mtime_ns}"
