"""`newsqa bot`: run the Telegram bot, with long polling or a webhook."""

from __future__ import annotations

import logging
import re
import secrets

import click
from telegram.error import InvalidToken, NetworkError, TelegramError

from .services import NewsqaServices
from .telegram_bot import NewsqaBot, WebhookConfig

# What Telegram accepts as a webhook secret token.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


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
    created when their modules are imported, which is done here first).
    """
    import httpcore  # noqa: F401 - creates its loggers
    import httpx  # noqa: F401
    import telegram.ext  # noqa: F401

    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for name in [*REDACTED_LOGGERS, *list(logging.root.manager.loggerDict)]:
        if name.split(".", 1)[0] in REDACTED_LOGGERS:
            logging.getLogger(name).addFilter(redactor)
    logging.getLogger("newsqa").setLevel(logging.INFO)


@click.command("bot")
@click.option("--webhook-url", default=None,
              help="Public HTTPS URL Telegram posts updates to; without it the bot uses long polling "
                   "[env TELEGRAM_WEBHOOK_URL].")
@click.option("--webhook-listen", default=None,
              help="Address the webhook server listens on [env TELEGRAM_WEBHOOK_LISTEN; default 0.0.0.0].")
@click.option("--webhook-port", type=click.IntRange(1, 65535), default=None,
              help="Port the webhook server listens on [env TELEGRAM_WEBHOOK_PORT; default 8443].")
@click.option("--webhook-secret", default=None,
              help="Secret Telegram sends with every update (A-Z, a-z, 0-9, _ and -) "
                   "[env TELEGRAM_WEBHOOK_SECRET; default: a random one per run].")
@click.pass_context
def bot(ctx: click.Context, webhook_url: str | None, webhook_listen: str | None, webhook_port: int | None,
        webhook_secret: str | None) -> None:
    """Run the Telegram bot until Ctrl-C (needs TELEGRAM_BOT_TOKEN).

    Private chats: every message is a question. Groups: /ask, an @mention, or a reply
    to the bot. Builds the index first if there is none.

    \b
    Example:
      TELEGRAM_BOT_TOKEN=123456:ABC-your-token newsqa bot
      newsqa bot --webhook-url https://bot.example.org/newsqa --webhook-port 8443
    """
    services = ctx.find_object(NewsqaServices)
    settings = services.settings
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise click.ClickException(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env "
            "(see README, “Telegram bot”).")
    webhook = _webhook(settings, webhook_url, webhook_listen, webhook_port, webhook_secret)
    redactor = RedactSecrets(token, webhook.secret_token if webhook else "")
    protect_logs(redactor)
    try:
        NewsqaBot(settings, services).run(webhook)
    except InvalidToken:
        raise click.ClickException(
            f"the Bot API at {settings.telegram_base_url} rejected TELEGRAM_BOT_TOKEN. Copy the token "
            f"again from @BotFather.") from None
    except NetworkError as error:
        raise click.ClickException(
            f"cannot reach the Bot API at {settings.telegram_base_url}: {redactor.redact(str(error))}. "
            f"Check the network and TELEGRAM_BASE_URL.") from None
    except TelegramError as error:
        raise click.ClickException(f"Telegram: {redactor.redact(str(error))}") from None


def _webhook(settings, url: str | None, listen: str | None, port: int | None,
             secret: str | None) -> WebhookConfig | None:
    """Webhook settings: flag > environment > default; None means long polling."""
    url = url or settings.telegram_webhook_url
    if not url:
        return None
    if not re.match(r"https://[^/?#\s]", url, re.IGNORECASE):  # Telegram posts the updates (and the secret) to it
        raise click.UsageError(f"--webhook-url must be an https:// URL, not {url!r}")
    if secret is None and settings.telegram_webhook_secret is not None:
        secret = settings.telegram_webhook_secret.get_secret_value()
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise click.UsageError("the webhook secret may only hold A-Z, a-z, 0-9, _ and - (1-256 characters)")
    return WebhookConfig(
        url=url, listen=listen or settings.telegram_webhook_listen,
        port=port or settings.telegram_webhook_port,
        secret_token=secret or secrets.token_urlsafe(32),
    )
