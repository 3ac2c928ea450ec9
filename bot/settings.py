"""All configuration, read in one place.

Precedence: command-line flag > environment variable > `.env` file > default.
Every name here is public contract, documented in `.env.example` and the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newsqa.index import DEFAULT_MODEL


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

    @field_validator("allowed_users", "admin_users", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> object:
        """Accept "123, 456" as well as a list."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`, with flag values (None = not given) on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
