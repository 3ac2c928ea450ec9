"""All configuration, read in one place.

Precedence: command-line flag > environment variable > `.env` file > default.
Every name here is public contract, documented in `.env.example` and the README.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newsqa.index import DEFAULT_MODEL

log = logging.getLogger(__name__)
# Variables with these prefixes are newsqa's: one it does not know is a misspelt setting.
SETTING_PREFIXES = ("NEWSQA_", "TELEGRAM_")
# Variables with those prefixes that are read elsewhere on purpose (tests, benchmarks).
NOT_SETTINGS = frozenset({"NEWSQA_EVAL_DIR"})


class Settings(BaseSettings):
    """newsqa settings; construct with keyword overrides for command-line flags."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True)

    articles_dir: Path = Field(Path("seeds"), alias="NEWSQA_ARTICLES_DIR")
    index_dir: Path = Field(Path("data/index"), alias="NEWSQA_INDEX_DIR")
    embedding_model: str = Field(DEFAULT_MODEL, alias="NEWSQA_EMBEDDING_MODEL")
    max_article_bytes: int = Field(5_000_000, alias="NEWSQA_MAX_ARTICLE_BYTES", gt=0)
    fetch_timeout: float = Field(20.0, alias="NEWSQA_FETCH_TIMEOUT", gt=0)

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_BASE_URL")
    allowed_users: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="NEWSQA_ALLOWED_USERS")
    admin_users: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="NEWSQA_ADMIN_USERS")
    # The Telegram bot (`newsqa bot`): flood control, button state, optional webhook mode.
    questions_per_minute: int = Field(10, alias="NEWSQA_QUESTIONS_PER_MINUTE", ge=0)
    # Everything else a user can make the bot do (buttons, /sources, /stats, /help...).
    actions_per_minute: int = Field(30, alias="NEWSQA_ACTIONS_PER_MINUTE", ge=0)
    # Follow-ups ("and the Russian one?"): a chat's last questions are forgotten after this many
    # minutes of silence (0: every message is a question of its own).
    context_minutes: float = Field(30.0, alias="NEWSQA_CONTEXT_MINUTES", ge=0)
    bot_state_file: Path | None = Field(None, alias="NEWSQA_BOT_STATE_FILE")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_listen: str = Field("0.0.0.0", alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_port: int = Field(8443, alias="TELEGRAM_WEBHOOK_PORT", gt=0, lt=65536)
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    # Whether the bot's /add may fetch from private, loopback, link-local and reserved addresses.
    fetch_allow_private: bool = Field(False, alias="NEWSQA_FETCH_ALLOW_PRIVATE")
    # Speed: embedding runtime (auto = int8 ONNX for the bundled model, torch otherwise) and
    # where the exported ONNX model is cached.
    embedding_backend: Literal["auto", "onnx", "torch"] = Field("auto", alias="NEWSQA_EMBEDDING_BACKEND")
    cache_dir: Path | None = Field(None, alias="NEWSQA_CACHE_DIR")
    # Following news feeds: how often `newsqa watch` and `newsqa bot` poll them (seconds),
    # whether robots.txt is honoured for article pages, and how many days feed articles are
    # kept (unset: forever).
    feed_interval: float = Field(900.0, alias="NEWSQA_FEED_INTERVAL", gt=0)
    respect_robots: bool = Field(True, alias="NEWSQA_RESPECT_ROBOTS")
    feed_retention_days: int | None = Field(None, alias="NEWSQA_FEED_RETENTION_DAYS", ge=1)
    feeds_file: Path | None = Field(None, alias="NEWSQA_FEEDS_FILE")
    # Followed topics (/follow): topics per chat, a topic's length, alert messages per chat an hour.
    follow_max_topics: int = Field(20, alias="NEWSQA_FOLLOW_MAX_TOPICS", ge=0)
    follow_max_chars: int = Field(200, alias="NEWSQA_FOLLOW_MAX_CHARS", gt=0)
    follow_pushes_per_hour: int = Field(10, alias="NEWSQA_FOLLOW_PUSHES_PER_HOUR", ge=0)

    # Where the index keeps passages: local FAISS + SQLite files, or Milvus (Milvus Lite in a
    # file inside the index folder when NEWSQA_MILVUS_URI is empty; a server otherwise).
    backend: Literal["local", "milvus"] = Field("local", alias="NEWSQA_BACKEND")
    milvus_uri: str = Field("", alias="NEWSQA_MILVUS_URI")
    milvus_token: SecretStr | None = Field(None, alias="NEWSQA_MILVUS_TOKEN")
    milvus_collection: str = Field("newsqa", alias="NEWSQA_MILVUS_COLLECTION", pattern=r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")

    @field_validator("allowed_users", "admin_users", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        """Accept "123, 456" as well as a list."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("bot_state_file", "telegram_webhook_url", "telegram_webhook_secret", "cache_dir",
                     "feed_retention_days", "feeds_file", "milvus_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`NAME=` in `.env` (as in `.env.example`) means "not set"."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def bot_state_path(self) -> Path:
        """Where the bot keeps answered questions for its buttons: beside the index, not in it
        (a rebuild clears the index folder)."""
        return self.bot_state_file or self.index_dir.parent / "bot-state.sqlite"

    @property
    def feeds_path(self) -> Path:
        """The followed feeds and their HTTP state: beside the index, not in it (a rebuild clears
        the index folder)."""
        return self.feeds_file or self.index_dir.parent / "feeds.sqlite"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, with flag values (None = not given) on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def unknown_setting_names(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> list[str]:
    """`NEWSQA_*` and `TELEGRAM_*` names in the environment or `.env` that are no setting
    (pydantic-settings ignores them silently: a misspelt NEWSQA_ALLOWED_USERS would let
    everyone in)."""
    from dotenv import dotenv_values

    names = set(os.environ if environ is None else environ)
    if env_file is not None and env_file.is_file():
        names |= {name for name in dotenv_values(env_file) if name}
    known = {str(field.alias).upper() for field in Settings.model_fields.values()} | NOT_SETTINGS
    return sorted(name for name in names if name.upper().startswith(SETTING_PREFIXES) and name.upper() not in known)


def warn_about_unknown_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> None:
    """Log a warning for each unknown `NEWSQA_*` / `TELEGRAM_*` variable, with the setting it
    most looks like."""
    known = sorted(str(field.alias) for field in Settings.model_fields.values())
    for name in unknown_setting_names(environ, env_file):
        prefix = next(p for p in SETTING_PREFIXES if name.upper().startswith(p))
        # Compared without the shared prefix, which would make every name look alike.
        rests = {k[len(prefix):]: k for k in known if k.startswith(prefix)}
        close = difflib.get_close_matches(name.upper()[len(prefix):], list(rests), n=1, cutoff=0.6)
        hint = f"; did you mean {rests[close[0]]}?" if close else " (see README, Settings)"
        log.warning("%s is not a newsqa setting and is ignored%s", name, hint)
