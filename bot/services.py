"""Wiring shared by the CLI and the Telegram bot: settings in, index and answerer out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property

from newsqa.index import (
    ArticleReader,
    IndexBuilder,
    IndexMismatch,
    IndexNotFound,
    IndexReader,
    IndexReport,
    TextEncoder,
    load_encoder,
)
from newsqa.retrieval import QuestionAnswerer

from .settings import Settings

log = logging.getLogger(__name__)

# How long `newsqa index` waits for another indexer before giving up.
LOCK_WAIT_SECONDS = 600.0


class NewsqaServices:
    """Builds each heavy part once, lazily: the encoder, the index reader, the answerer."""

    def __init__(self, settings: Settings, encoder: TextEncoder | None = None) -> None:
        self.settings = settings
        if encoder is not None:  # an encoder already loaded (the bot's tests share one)
            self.encoder = encoder

    @cached_property
    def encoder(self) -> TextEncoder:
        return load_encoder(self.settings.embedding_model, self.settings.embedding_backend,
                            self.settings.cache_dir)

    def builder(self, on_wait: Callable[[], None] | None = None) -> IndexBuilder:
        return IndexBuilder(
            self.settings.index_dir, self.encoder,
            reader=ArticleReader(max_bytes=self.settings.max_article_bytes),
            lock_wait_seconds=LOCK_WAIT_SECONDS, on_wait=on_wait,
        )

    def build_index(self, *, rebuild: bool = False,
                    progress: Callable[[int, int], None] | None = None,
                    on_wait: Callable[[], None] | None = None) -> IndexReport:
        """Bring the index in line with the articles folder (waits for another indexer first;
        `on_wait` is called once if it has to)."""
        return self.builder(on_wait).update(self.settings.articles_dir, rebuild=rebuild, progress=progress)

    def open_reader(self, on_missing: Callable[[], None] | None = None) -> IndexReader:
        """The index reader; builds the index first when there is none and `on_missing` is given.

        Raises:
            IndexNotFound: no index and no permission to build one.
            IndexMismatch: the index was built with another model.
        """
        try:
            reader = IndexReader(self.settings.index_dir)
        except IndexNotFound:
            if on_missing is None:
                raise
            on_missing()
            reader = IndexReader(self.settings.index_dir)
        model = reader.snapshot.manifest.model
        if model != self.settings.embedding_model:
            raise IndexMismatch(
                f"the index at {self.settings.index_dir} was built with model {model!r}, not "
                f"{self.settings.embedding_model!r}. Run `newsqa index --rebuild` to rebuild it."
            )
        return reader

    def answerer(self, reader: IndexReader) -> QuestionAnswerer:
        return QuestionAnswerer(reader, self.encoder)
