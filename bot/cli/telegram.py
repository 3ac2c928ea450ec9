"""`newsqa bot`: run the Telegram bot, with long polling or a webhook."""

from __future__ import annotations

import click

from .output import app_of


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
    app = app_of(ctx)
    settings = app.settings
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise click.ClickException(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and put its token in .env "
            "(see README, “Telegram bot”).")
    # Not a cycle: python-telegram-bot loads only for this command, so
    # `newsqa ask` and the other commands never pay for it.
    from ..telegram.launch import BotStartFailed, run_bot, webhook_config

    try:
        webhook = webhook_config(settings, webhook_url, webhook_listen, webhook_port, webhook_secret)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    try:
        run_bot(app, token, webhook)
    except BotStartFailed as error:
        raise click.ClickException(str(error)) from None
