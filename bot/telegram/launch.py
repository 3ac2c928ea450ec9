"""Starting the bot from settings: webhook options, secrets kept out of the logs, and start-up
failures (bad token, unreachable Bot API) turned into one `BotStartFailed` with what to do."""

from __future__ import annotations

import logging
import re
import secrets

import httpcore  # noqa: F401 - creates the loggers protect_logs filters
import httpx  # noqa: F401
import telegram.ext  # noqa: F401
from telegram.error import InvalidToken, NetworkError, TelegramError

from ..app import NewsqaApp
from ..settings import Settings
from .app import NewsqaBot, WebhookConfig

# What Telegram accepts as a webhook secret token.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class BotStartFailed(Exception):
    """The bot could not start; the message says why and what to do."""


class RedactSecrets(logging.Filter):
    """Replaces secrets (the bot token, which httpx logs inside request URLs) in log records."""

    def __init__(self, *secrets_: str) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets_ if secret]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


# Libraries that may log the token (inside request URLs, in tracebacks): their loggers carry
# the filter themselves, so a handler added after start (or on one of them) never sees it.
REDACTED_LOGGERS = ("httpx", "httpcore", "telegram", "newsqa")


def protect_logs(redactor: RedactSecrets) -> None:
    """Redact the token from every log line; show the bot's own INFO lines (start, failures).

    A logger's filter only sees records logged on that very logger, so it goes on the root
    handlers present now and on every logger of `REDACTED_LOGGERS` and below (they are all
    created when their modules are imported, which is done at the top of this module).
    """
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for name in [*REDACTED_LOGGERS, *list(logging.root.manager.loggerDict)]:
        if name.split(".", 1)[0] in REDACTED_LOGGERS:
            logging.getLogger(name).addFilter(redactor)
    logging.getLogger("newsqa").setLevel(logging.INFO)


def webhook_config(settings: Settings, url: str | None, listen: str | None, port: int | None,
                   secret: str | None) -> WebhookConfig | None:
    """Webhook settings: flag > environment > default; None means long polling.

    Raises:
        ValueError: the URL or the secret is not one Telegram accepts.
    """
    url = url or settings.telegram_webhook_url
    if not url:
        return None
    if not re.match(r"https://[^/?#\s]", url, re.IGNORECASE):  # Telegram posts the updates (and the secret) to it
        raise ValueError(f"--webhook-url must be an https:// URL, not {url!r}")
    if secret is None and settings.telegram_webhook_secret is not None:
        secret = settings.telegram_webhook_secret.get_secret_value()
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise ValueError("the webhook secret may only hold A-Z, a-z, 0-9, _ and - (1-256 characters)")
    return WebhookConfig(
        url=url, listen=listen or settings.telegram_webhook_listen,
        port=port or settings.telegram_webhook_port,
        secret_token=secret or secrets.token_urlsafe(32),
    )


def run_bot(app: NewsqaApp, token: str, webhook: WebhookConfig | None) -> None:
    """Run the bot until Ctrl-C, with the token (and webhook secret) redacted from every log.

    Raises:
        BotStartFailed: Telegram rejected the token, or the Bot API cannot be reached.
    """
    settings = app.settings
    redactor = RedactSecrets(token, webhook.secret_token if webhook else "")
    protect_logs(redactor)
    try:
        NewsqaBot(settings, app).run(webhook)
    except InvalidToken:
        raise BotStartFailed(
            f"the Bot API at {settings.telegram_base_url} rejected TELEGRAM_BOT_TOKEN. Copy the token "
            f"again from @BotFather.") from None
    except NetworkError as error:
        raise BotStartFailed(
            f"cannot reach the Bot API at {settings.telegram_base_url}: {redactor.redact(str(error))}. "
            f"Check the network and TELEGRAM_BASE_URL.") from None
    except TelegramError as error:
        raise BotStartFailed(f"Telegram: {redactor.redact(str(error))}") from None
