"""Settings that fail open and the token's reach (issue 17): a misspelt `NEWSQA_*` / `TELEGRAM_*`
variable is warned about, the bot logs who may use it at start, the token filter sits on the
loggers of the HTTP libraries, and a webhook URL must be https."""

from __future__ import annotations

import asyncio
import logging

import pytest
from click.testing import CliRunner

from fake_telegram import FakeTelegram
from newsqa.bot.cli import cli
from test_bot import bot_settings, running_bot  # noqa: F401  (bot_settings is a fixture)

SETTINGS_LOGGER = "newsqa.bot.settings"


@pytest.mark.parametrize(("where", "name", "hint"), [
    ("env", "NEWSQA_ALLOWED_USER", "did you mean NEWSQA_ALLOWED_USERS?"),
    ("env", "newsqa_admin_user", "did you mean NEWSQA_ADMIN_USERS?"),
    ("dotenv", "TELEGRAM_BOT_TOKN", "did you mean TELEGRAM_BOT_TOKEN?"),
    ("env", "NEWSQA_FROBNICATE", "(see README, Settings)"),
])
def test_an_unknown_setting_is_warned_about(cli_env, monkeypatch, caplog, where, name, hint):
    if where == "env":
        monkeypatch.setenv(name, "5")
    else:
        (cli_env["articles"].parent / ".env").write_text(f"{name}=5\n")  # the cwd of cli_env
    with caplog.at_level(logging.WARNING, logger=SETTINGS_LOGGER):
        result = CliRunner().invoke(cli, ["stats", "--json"], catch_exceptions=False)
    assert result.exit_code == 1  # no index yet; the warning comes first either way
    warnings = [r.getMessage() for r in caplog.records if r.name == SETTINGS_LOGGER]
    assert warnings == [f"{name} is not a newsqa setting and is ignored{'; ' if 'did' in hint else ' '}{hint}"]


def test_known_settings_give_no_warning(cli_env, monkeypatch, caplog):
    monkeypatch.setenv("NEWSQA_ALLOWED_USERS", "5")
    monkeypatch.setenv("newsqa_admin_users", "6")  # settings are case-insensitive
    with caplog.at_level(logging.WARNING, logger=SETTINGS_LOGGER):
        CliRunner().invoke(cli, ["stats"], catch_exceptions=False)
    assert [r for r in caplog.records if r.name == SETTINGS_LOGGER] == []


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, "access: open to everyone (NEWSQA_ALLOWED_USERS is empty); 0 admins"),
    ({"allowed_users": "1,2", "admin_users": "3"},
     "access: only 2 allowed users and 1 admin (NEWSQA_ALLOWED_USERS); everyone else is refused"),
])
def test_the_bot_logs_its_access_mode_at_start(bot_settings, encoder, caplog, overrides, expected):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server, **overrides), encoder):
            pass

    with caplog.at_level(logging.INFO, logger="newsqa.bot.telegram_bot"):
        asyncio.run(scenario())
    assert expected in [r.getMessage() for r in caplog.records]


def test_the_token_filter_sits_on_the_http_and_telegram_loggers():
    """A handler added after start, or records from a library's child logger (httpcore.http11,
    telegram.ext.Updater), still never carry the token."""
    import io

    from newsqa.bot.telegram_cli import REDACTED_LOGGERS, RedactSecrets, protect_logs

    secret = "123456:SECRET-token-for-the-filter-test"
    redactor = RedactSecrets(secret)
    late = logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    names = ("httpx", "httpcore.http11", "httpcore.connection", "telegram.ext.Updater", "telegram.Bot")
    levels = {name: logging.getLogger(name).level for name in names}
    protect_logs(redactor)
    root.addHandler(late)  # added after the bot started: it has no filter of its own
    try:
        for name in names:
            logger = logging.getLogger(name)
            logger.setLevel(logging.DEBUG)
            logger.debug("POST https://api.telegram.org/bot%s/getUpdates", secret)
            try:
                raise ConnectionError(f"cannot reach /bot{secret}/getMe")
            except ConnectionError:
                logger.exception("network error")
        written = late.stream.getvalue()
        assert written.count("<redacted>") == 10 and secret not in written
    finally:
        root.removeHandler(late)
        for name in [*REDACTED_LOGGERS, *list(logging.root.manager.loggerDict)]:
            logging.getLogger(name).removeFilter(redactor)
        for handler in root.handlers:
            handler.removeFilter(redactor)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
