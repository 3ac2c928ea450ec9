"""Incremental indexing: bring an index directory in line with an articles folder.

Each article is known by its key (path inside the folder, or URL) and its content hash.
Unchanged files (same size and mtime) are not even read; new content is embedded once,
however many names it has; removed articles lose their chunks. Work is committed in
batches, each a complete generation, so a killed run keeps what it finished and the next
run picks up the rest.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .articles import Article, ArticleReader
from .backend import IndexStorageWriter, storage_backend
from .chunking import Chunker, ChunkingSettings
from .encoder import TextEncoder
from .errors import (
    ArticleError,
    IndexCorrupt,
    IndexLayerError,
    IndexMismatch,
    IndexNotFound,
    IndexWriteFailed,
)
from .layout import remove_unused, storage_names
from .locking import writer_lock
from .manifest import Manifest
from .scanning import file_fingerprint, scan_articles
from .store import NewChunk

log = logging.getLogger(__name__)

# Articles embedded per committed generation: bounds the work a crash can lose.
BATCH_ARTICLES = 64
# Articles chunked and embedded together: one model batch, one progress step.
EMBED_GROUP = 8
# Old vector generations kept on disk so a reader still switching over finds its files.
KEEP_GENERATIONS = 3

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ArticleNote:
    """An article the index report names, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class SkippedArticle(ArticleNote):
    """An article left out of the index, and why."""


class ArticleProblem(ArticleNote):
    """An article indexed without something in it that could not be read (a date that is no day)."""


@dataclass
class IndexReport:
    """What one `newsqa index` run changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[SkippedArticle] = field(default_factory=list)
    problems: list[ArticleProblem] = field(default_factory=list)
    unchanged: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    generation: int = 0
    seconds: float = 0.0
    # Every file was read again: the index was read by another version of the article reader.
    reread: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.duplicates)

    def summary(self) -> str:
        """One line for people."""
        parts = [
            f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
            f"{self.unchanged} unchanged",
        ]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate")
        parts.append(f"{len(self.skipped)} skipped")
        if self.problems:
            parts.append(f"{len(self.problems)} with a problem")
        reread = " Every file was read again: the index was read by another version of newsqa." if self.reread else ""
        return (f"Indexed: {', '.join(parts)}; {self.chunks_added} chunks embedded "
                f"in {self.seconds:.1f}s (generation {self.generation}).{reread}")


@dataclass(frozen=True)
class StorageChoice:
    """Where a new index keeps its passages: the storage backend's name (`backend.BACKENDS`),
    its server URI ("": inside the index folder) and a name for its tables or collections."""

    name: str = "faiss-sqlite"
    uri: str = ""
    collection: str = "newsqa"


@dataclass(frozen=True)
class _Planned:
    key: str
    article: Article
    fingerprint: str
    is_new: bool


class IndexBuilder:
    """Builds and updates the index at `index_dir` from an articles folder."""

    def __init__(self, index_dir: Path, encoder: TextEncoder, chunking: ChunkingSettings | None = None,
                 reader: ArticleReader | None = None, lock_wait_seconds: float = 0.0,
                 on_wait: Callable[[], None] | None = None, storage: StorageChoice | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.storage = storage or StorageChoice()
        self.encoder = encoder
        self.chunking = chunking or ChunkingSettings()
        self.chunker = Chunker(self.chunking)
        self.reader = reader or ArticleReader()
        self.lock_wait_seconds = lock_wait_seconds
        self.on_wait = on_wait

    def update(self, articles_dir: Path, *, rebuild: bool = False,
               progress: Progress | None = None) -> IndexReport:
        """Index new and changed articles, drop removed ones; returns what changed.

        Raises:
            ArticlesDirNotFound, IndexLocked, IndexMismatch, IndexCorrupt, ModelNotFound.
            IndexWriteFailed: the disk filled up (or a write was refused); readers keep the
                last committed generation.
        """
        started = time.monotonic()
        scan_articles(articles_dir)  # a missing folder fails before any wait for the lock
        try:
            with writer_lock(self.index_dir, self.lock_wait_seconds, self.on_wait):
                # Scanned under the lock: after a wait, the folder may have changed.
                files = scan_articles(articles_dir)
                return self._update(articles_dir, files, rebuild, progress, started)
        except (OSError, sqlite3.OperationalError) as error:
            # Corrupt files are IndexCorrupt by now: what is left is the disk (full, I/O error,
            # a permission). The lock file's own creation included.
            raise self._write_failed(error) from error

    def _write_failed(self, error: Exception) -> IndexWriteFailed:
        """Say what went wrong and that readers still have the last committed generation."""
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
            where = f" ({error.filename})" if error.filename else ""
        else:
            reason, where = str(error), ""
        try:
            manifest = Manifest.load(self.index_dir)
            storage = storage_backend(manifest).open_reader(self.index_dir, manifest)
            try:
                kept = f"generation {storage.generation} is still the one answered from"
            finally:
                storage.close()
        except (IndexLayerError, OSError, sqlite3.Error):
            kept = "the previous index is untouched"
        return IndexWriteFailed(
            f"could not write the index at {self.index_dir}: {reason}{where}. Nothing was lost: {kept}. "
            f"Free some space (or fix the permission) and run `newsqa index` again.")

    def _update(self, articles_dir: Path, files: dict[str, Path], rebuild: bool,
                progress: Progress | None, started: float) -> IndexReport:
        manifest, fresh = self._manifest(rebuild)
        storage = storage_backend(manifest).open_writer(self.index_dir, manifest)
        try:
            reread = manifest.reader_version != self.reader.version
            if reread:
                log.info("the index was read by article reader %d, this is %d: reading every file again",
                         manifest.reader_version, self.reader.version)
            report = self._apply(storage, Path(articles_dir), files, progress, reread)
            report.reread = reread
            kind = storage.vector_index
            if fresh or reread or kind != manifest.vector_index:
                # The index type changes only when a merge crosses the size threshold; the
                # reader's version is recorded once every file has been read with it.
                manifest = replace(manifest, vector_index=kind, reader_version=self.reader.version)
                manifest.save(self.index_dir)
            # Also clears what a killed rebuild left behind.
            remove_unused(self.index_dir, manifest)
            storage.prune(KEEP_GENERATIONS)
            report.generation = storage.generation
        finally:
            storage.close()
        report.seconds = time.monotonic() - started
        return report

    # -- steps ---------------------------------------------------------------------
    def _manifest(self, rebuild: bool) -> tuple[Manifest, bool]:
        """The manifest to write into, and whether it is new (to be switched in at the end)."""
        broken = False
        try:
            current = Manifest.load(self.index_dir)
        except IndexNotFound:
            current = None
        except IndexCorrupt:
            if not rebuild:
                raise
            current, broken = None, True
        if current is not None and not rebuild:
            current.check_model(self.index_dir, self.encoder.name, self.chunking)
            if (current.storage, current.storage_uri) != (self.storage.name, self.storage.uri):
                where = f" at {current.storage_uri}" if current.storage_uri else ""
                raise IndexMismatch(f"the index at {self.index_dir} is stored in {current.storage}{where}, "
                                    f"not {self.storage.name}. Run `newsqa index --rebuild` to move it.")
            backend = getattr(self.encoder, "backend", "torch")
            if current.backend != backend:
                # Same model on another runtime: vectors agree to a cosine of ~0.99 and retrieval
                # scores are unchanged (docs/performance.md), so the index stays usable as is.
                log.info("index built with the %s backend, now adding with %s", current.backend, backend)
            return current, False
        replacing = current is not None or broken
        store, vectors = storage_names(replacing)
        if self.storage.name != "faiss-sqlite":  # a server's collections: the prefix, suffixed likewise
            store = self.storage.collection + (store[len("store"):-len(".sqlite")].replace("-", "__"))
        manifest = Manifest(
            model=self.encoder.name, dimension=self.encoder.dimension, chunking=self.chunking,
            store=store, vectors=vectors, backend=getattr(self.encoder, "backend", "torch"),
            storage=self.storage.name, storage_uri=self.storage.uri, reader_version=self.reader.version,
        )
        if not replacing:
            manifest.save(self.index_dir)  # an empty index is a valid index
            return manifest, False
        return manifest, True

    def _plan(self, store: IndexStorageWriter, articles_dir: Path, files: dict[str, Path],
              report: IndexReport, reread: bool) -> tuple[list[_Planned], list[str]]:
        """What to embed and what to remove. An unchanged file (same size and mtime) is not
        read, unless `reread`: then text that reads the same is kept as it is."""
        known = store.sources()
        planned: list[_Planned] = []
        for key, path in files.items():
            record = known.get(key)
            try:
                fingerprint = file_fingerprint(path)
                if not reread and record is not None and record.fingerprint == fingerprint:
                    report.unchanged += 1
                    continue
                article = self.reader.read(path, key=key, source=str(articles_dir / key))
                _check_storable(article)
            except ArticleError as error:
                report.skipped.append(SkippedArticle(str(articles_dir / key), str(error)))
                continue
            except OSError as error:
                report.skipped.append(SkippedArticle(str(articles_dir / key),
                                                     f"cannot read: {error.strerror or error}"))
                continue
            except Exception as error:  # noqa: BLE001 - one bad article never stops the run
                # The report gives the reason; the trace is for `-v` (a bug report).
                log.info("skipping %s: reading it failed", articles_dir / key, exc_info=True)
                report.skipped.append(SkippedArticle(str(articles_dir / key), f"cannot read: {_describe(error)}"))
                continue
            if record is not None and record.content_hash == article.content_hash:
                if record.fingerprint != fingerprint:
                    store.upsert_source(key, article.source, record.article_id, fingerprint)
                report.unchanged += 1
                continue
            planned.append(_Planned(key, article, fingerprint, record is None))
            report.problems.extend(ArticleProblem(article.source, problem) for problem in article.problems)
        # A file that could not be read this time is still in `files`: it keeps its old entry.
        removed = sorted(key for key in known if key not in files)
        return planned, removed

    def _apply(self, store: IndexStorageWriter, articles_dir: Path,
               files: dict[str, Path], progress: Progress | None, reread: bool) -> IndexReport:
        report = IndexReport()
        planned, removed = self._plan(store, articles_dir, files, report, reread)
        if not planned and not removed:
            return report
        recorded: set[str] = set()
        existing = store.article_ids_by_hash({p.article.content_hash for p in planned})
        to_embed: dict[str, _Planned] = {}
        for item in planned:
            if item.article.content_hash not in existing:
                to_embed.setdefault(item.article.content_hash, item)
        done = 0
        if progress:
            progress(0, len(to_embed))
        # Each batch is one commit; the first also carries removals and sources whose
        # content is indexed already (renames, duplicates).
        batches = [list(to_embed.values())[i:i + BATCH_ARTICLES]
                   for i in range(0, len(to_embed), BATCH_ARTICLES)] or [[]]
        for number, batch in enumerate(batches):
            embedded = []
            for group in range(0, len(batch), EMBED_GROUP):
                items = batch[group:group + EMBED_GROUP]
                embedded.extend(self._embed_or_skip(items, planned, report))
                done += len(items)
                if progress:
                    progress(done, len(to_embed))
            first_id = store.reserve_chunk_ids(sum(len(chunks) for _, chunks in embedded))
            store.begin()
            try:
                next_id = first_id
                for item, chunks in embedded:
                    article = item.article
                    article_id = store.add_article(article)
                    existing[article.content_hash] = article_id
                    store.add_chunks(article_id, article.text, next_id, chunks)
                    next_id += len(chunks)
                    report.chunks_added += len(chunks)
                for item in planned:
                    article_id = existing.get(item.article.content_hash)
                    if item.key in recorded or article_id is None:
                        continue
                    store.upsert_source(item.key, item.article.source, article_id, item.fingerprint)
                    recorded.add(item.key)
                    self._record(report, item, to_embed)
                if number == 0:
                    for key in removed:
                        store.delete_source(key)
                        report.removed.append(str(articles_dir / key))
                report.chunks_removed += store.delete_orphans()
                store.commit()
            except BaseException:
                store.rollback()
                raise
        return report

    @staticmethod
    def _record(report: IndexReport, item: _Planned, to_embed: dict[str, _Planned]) -> None:
        if not item.is_new:
            report.updated.append(item.article.source)
        elif to_embed.get(item.article.content_hash) is item:
            report.added.append(item.article.source)
        else:
            report.duplicates.append(item.article.source)

    def _embed_or_skip(self, items: list[_Planned], planned: list[_Planned],
                       report: IndexReport) -> list[tuple[_Planned, list[NewChunk]]]:
        """Chunk and embed `items` together; when that fails, one by one, and an article that
        still fails is skipped with the reason (with every other name of the same text)."""
        try:
            return list(zip(items, self._embed([item.article for item in items])))
        except Exception as error:  # noqa: BLE001 - one bad article never stops the run
            if len(items) > 1:  # find the article at fault
                return [pair for item in items for pair in self._embed_or_skip([item], planned, report)]
            article = items[0].article
            log.info("skipping %s: chunking or embedding failed", article.source, exc_info=True)
            report.skipped.extend(SkippedArticle(other.article.source, f"cannot index: {_describe(error)}")
                                  for other in planned if other.article.content_hash == article.content_hash)
            return []

    def _embed(self, articles: list[Article]) -> list[list[NewChunk]]:
        """Chunk and embed articles in one model batch: passage and pooled sentence vectors."""
        spans = [self.chunker.chunk(article.text) for article in articles]
        texts, relative = [], []
        for article, chunks in zip(articles, spans):
            for c in chunks:
                texts.append(article.text[c.start:c.end])
                relative.append([(s.start - c.start, s.end - c.start) for s in c.sentences])
        if not texts:
            return [[] for _ in articles]
        encoded = self.encoder.encode_passages(texts, relative)
        result: list[list[NewChunk]] = []
        row = 0
        for chunks in spans:
            result.append([
                NewChunk(
                    ordinal=n, start=c.start, end=c.end, vector=encoded.passages[row + n],
                    sentences=[(s.start, s.end, s.paragraph, encoded.sentences[row + n][i])
                               for i, s in enumerate(c.sentences)],
                )
                for n, c in enumerate(chunks)
            ])
            row += len(chunks)
        return result


def _describe(error: BaseException) -> str:
    """A one-line reason for a skip: the error's type and message."""
    message = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _check_storable(article: Article) -> None:
    """Refuse an article whose text SQLite could not store (lone surrogates: not UTF-8).

    Raises:
        ArticleError: naming the field that cannot be stored.
    """
    for name in ("title", "text", "published", "author", "url"):
        value = getattr(article, name)
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ArticleError(f"the {name} holds text that cannot be stored ({error.reason})") from None
