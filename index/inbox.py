"""Putting new articles into the articles folder: copied files and fetched pages.

Every article is checked (read and cleaned) before it lands, so nothing that would only be
skipped gets saved; it is written under a hidden name and renamed into place, with its
origin sidecar first, so an indexer or watcher never sees half an article. Saved names
are made from a safe alphabet and always resolve inside the articles folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .articles import SUPPORTED_SUFFIXES, Article, ArticleReader
from .atomic import fsync_directory, fsync_file, move_into_place
from .errors import ArticleError, ArticlesDirNotFound
from .fetch import FetchedPage
from .origin import ArticleOrigin

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Long enough to read, short enough for every file system (255 bytes) with suffixes added.
_MAX_STEM = 80
# Prefix of the hidden staging folders (hidden: the folder scan and the watcher skip them).
_STAGING_PREFIX = ".newsqa-incoming-"
# A save takes seconds; a staging folder this old is a killed save's, and is swept.
STALE_STAGING_SECONDS = 3600


@dataclass(frozen=True)
class SavedArticle:
    """An article now in the articles folder: where it is, and what it will be cited as."""

    path: Path
    source: str
    title: str
    unchanged: bool = False


def safe_stem(text: str) -> str:
    """A file name stem of letters, digits, `.`, `_` and `-`; never hidden, never `..`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("-", ascii_text).strip(".-_")
    stem = re.sub(r"[-.]*-[-.]*|\.{2,}", lambda m: "-" if "-" in m.group() else ".", stem)
    stem = stem[:_MAX_STEM].strip(".-_")
    return stem or "article"


def url_stem(url: str) -> str:
    """`https://news.example/world/bridge-reopens.html` -> `news.example-bridge-reopens-1a2b3c4d`.

    The hash of the whole URL keeps pages with the same last path segment apart, and gives
    the same name when the same URL is added again (which then updates the article).
    """
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s and s not in {".", ".."}]
    last = segments[-1].rsplit(".", 1)[0] if segments else ""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    host = parts.hostname or "page"
    return f"{safe_stem(f'{host}-{last}')[:_MAX_STEM - 9].strip('.-_')}-{digest}"


class ArticleInbox:
    """Saves new articles into `articles_dir`."""

    def __init__(self, articles_dir: Path, reader: ArticleReader | None = None) -> None:
        self.articles_dir = Path(articles_dir)
        self.reader = reader or ArticleReader()

    def save_page(self, page: FetchedPage) -> SavedArticle:
        """Save a fetched page with its URL as its source.

        Raises:
            ArticleError: the page holds no article text (nothing is saved).
        """
        target = self._inside(url_stem(page.url) + page.suffix)
        origin = ArticleOrigin(url=page.url, charset=page.charset, content_type=page.media_type)
        return self._place(page.body, target, origin)

    def save_markdown(self, folder: tuple[str, ...], stem: str, text: str, url: str) -> SavedArticle:
        """Save Markdown `text` (front matter included) as `folder/.../stem.md`, citing `url`.

        `folder` and `stem` are made safe first; sub-folders are created as needed.

        Raises:
            ArticleError: the text holds no article (nothing is saved).
        """
        parts = tuple(safe_stem(part) for part in folder)
        target = self._inside(safe_stem(stem) + ".md", parts)
        origin = ArticleOrigin(url=url, charset="utf-8", content_type="text/markdown")
        return self._place(text.encode("utf-8"), target, origin)

    def copy_file(self, path: Path) -> SavedArticle:
        """Copy an article file in (a file already inside the folder is left where it is).

        Raises:
            ArticleError: unsupported type, unreadable, too large, or no article text.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise ArticleError(f"{path}: unsupported file type {suffix or '(none)'} "
                               f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
        if not path.is_file():
            raise ArticleError(f"{path}: no such file")
        self._check_folder()
        if path.resolve().is_relative_to(self.articles_dir.resolve()):
            article = self._read(path, path)
            return SavedArticle(path, article.source, article.title, unchanged=True)
        try:
            if path.stat().st_size > self.reader.max_bytes:
                raise ArticleError(f"{path}: file too large ({path.stat().st_size:,} bytes "
                                   f"> {self.reader.max_bytes:,})")
            data = path.read_bytes()
        except OSError as error:
            raise ArticleError(f"{path}: cannot read: {error.strerror or error}") from error
        stem = safe_stem(path.stem)
        number = 1
        while number < 1000:
            target = self._inside(f"{stem}{'' if number == 1 else f'-{number}'}{suffix}")
            if target.exists():
                if target.read_bytes() == data:
                    article = self._read(target, target)
                    return SavedArticle(target, article.source, article.title, unchanged=True)
                number += 1
                continue
            saved = self._place(data, target, None, claim=True)
            if saved is not None:
                return saved
            # Another save claimed the name since we looked: look at what it put there.
        raise ArticleError(f"{path}: too many files named {stem}{suffix} in {self.articles_dir}")

    # -- helpers -------------------------------------------------------------------
    def _check_folder(self) -> None:
        if not self.articles_dir.is_dir():
            raise ArticlesDirNotFound(f"articles folder {self.articles_dir} does not exist")

    def _inside(self, name: str, folder: tuple[str, ...] = ()) -> Path:
        """`articles_dir / *folder / name` (folders created), refusing anything that would land
        elsewhere."""
        self._check_folder()
        root = self.articles_dir.resolve()
        for part in (*folder, name):
            if not part or part.startswith(".") or "/" in part or "\\" in part:
                raise ArticleError(f"refusing to save {'/'.join((*folder, name))!r} outside {self.articles_dir}")
        parent = root.joinpath(*folder)
        target = (parent / name).resolve()
        if target.parent != parent.resolve() or not target.is_relative_to(root):
            raise ArticleError(f"refusing to save {name!r} outside {self.articles_dir}")
        parent.mkdir(parents=True, exist_ok=True)
        return target

    def _sweep_staging(self) -> None:
        """Remove staging folders that saves killed mid-way left behind (older than a live
        save could be)."""
        cutoff = time.time() - STALE_STAGING_SECONDS
        for folder in self.articles_dir.glob(f"{_STAGING_PREFIX}*"):
            try:
                if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue

    def _read(self, path: Path, named_as: Path) -> Article:
        key = named_as.resolve().relative_to(self.articles_dir.resolve()).as_posix()
        return self.reader.read(path, key=key, source=str(self.articles_dir / key))

    def _place(self, data: bytes, target: Path, origin: ArticleOrigin | None,
               claim: bool = False) -> SavedArticle | None:
        """Check the article in a hidden staging folder, then rename it (sidecar first) in.

        With `claim`, the name must be new: it is taken with a hard link, which fails when
        another save got there first (then None is returned and nothing is written); without,
        an article already there (the same URL added again) is replaced.
        """
        self._sweep_staging()
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.articles_dir.resolve()))
        staged = staging / target.name
        try:
            staged.write_bytes(data)
            if origin is not None:
                origin.save(staged)
            try:
                article = self._read(staged, target)
            except ArticleError as error:
                raise ArticleError(f"{origin.url if origin else target.name}: {error}") from None
            old_origin = ArticleOrigin.load(target)
            unchanged = (target.exists() and target.read_bytes() == data
                         and (old_origin.url if old_origin else None) == (origin.url if origin else None))
            if claim:
                if not target.exists():  # a sidecar left by a removed page must not name this copy
                    ArticleOrigin.sidecar(target).unlink(missing_ok=True)
                fsync_file(staged)
                try:
                    os.link(staged, target)  # atomic, and never over another save's file
                except FileExistsError:
                    return None
                fsync_directory(target.parent)
                unchanged = False
            elif not unchanged:
                sidecar = ArticleOrigin.sidecar(target)
                if origin is not None:
                    move_into_place(ArticleOrigin.sidecar(staged), sidecar, sync_directory=False)
                else:
                    sidecar.unlink(missing_ok=True)
                move_into_place(staged, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return SavedArticle(target, article.source, article.title, unchanged=unchanged)
