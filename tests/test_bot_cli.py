"""`newsqa bot` from the command line: clear errors without tracebacks, and the real process
answering over the fake Bot API server without ever logging its token."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import SETTING_NAMES
from fake_telegram import TOKEN, FakeTelegram
from newsqa.bot.cli import cli

NEWSQA = Path(sys.executable).with_name("newsqa")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("env", "args", "code", "message"), [
    ({}, [], 1, "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather"),
    ({"TELEGRAM_BOT_TOKEN": "  "}, [], 1, "TELEGRAM_BOT_TOKEN is not set"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN}, ["--webhook-url", "ftp://example.org/hook"], 2, "must be an https:// URL"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN}, ["--webhook-url", "http://example.org/hook"], 2, "must be an https:// URL"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "http://example.org/hook"}, [], 2,
     "must be an https:// URL"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN}, ["--webhook-url", "https:///hook"], 2, "must be an https:// URL"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN}, ["--webhook-url", "https://example.org/hook", "--webhook-secret", "a b"], 2,
     "the webhook secret may only hold"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "NEWSQA_QUESTIONS_PER_MINUTE": "many"}, [], 1,
     "invalid setting NEWSQA_QUESTIONS_PER_MINUTE: Input should be a valid integer"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:{port}/bot"}, [], 1,
     "cannot reach the Bot API at http://127.0.0.1:"),
])
def test_bot_command_errors_are_one_line(cli_env, monkeypatch, env, args, code, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(port=_closed_port()))
    result = CliRunner().invoke(cli, ["bot", *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output and TOKEN not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


def _bot_env(tmp_path: Path, token: str, index: Path, articles: Path) -> dict[str, str]:
    """The environment of a bot process (TELEGRAM_BASE_URL is added once the fake server runs)."""
    env = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}
    env.update(TELEGRAM_BOT_TOKEN=token, NEWSQA_INDEX_DIR=str(index),
               NEWSQA_ARTICLES_DIR=str(articles), NEWSQA_BOT_STATE_FILE=str(tmp_path / "state.sqlite"))
    return env


async def _start(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(str(NEWSQA), *args, "bot", env=env, cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def test_rejected_token_exits_with_one_line_and_no_traceback(tmp_path, seed_index, articles):
    wrong = "987654321:AAWrongTokenThatTelegramDoesNotKnow_000"

    async def scenario() -> tuple[int, str, str]:
        async with FakeTelegram() as server:
            env = dict(_bot_env(tmp_path, wrong, seed_index, articles), TELEGRAM_BASE_URL=server.base_url)
            process = await _start(env, tmp_path)
            try:
                out, err = await asyncio.wait_for(process.communicate(), 120)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            return process.returncode, (out + err).decode(), server.base_url

    code, output, base_url = asyncio.run(scenario())
    assert code == 1
    assert output.strip() == (f"Error: the Bot API at {base_url} rejected TELEGRAM_BOT_TOKEN. "
                              f"Copy the token again from @BotFather.")
    assert wrong not in output and "987654321" not in output


def _ask_once(env: dict[str, str], cwd: Path, user_id: int, *args: str) -> tuple[int, str, str]:
    """Start `newsqa bot`, ask it the example question over the fake Bot API, stop it with
    Ctrl-C: its exit code, its answer and its stderr."""

    async def scenario() -> tuple[int, str, str]:
        async with FakeTelegram() as server:
            process = await _start(dict(env, TELEGRAM_BASE_URL=server.base_url), cwd, *args)
            try:
                logs = asyncio.create_task(process.stderr.read())
                user = server.user(user_id)
                server.say(user, "who led the Chinese delegation?")
                answer = await server.reply(user["id"], timeout=240)
                process.send_signal(signal.SIGINT)
                await asyncio.wait_for(process.wait(), 60)
                return process.returncode, answer.text, (await logs).decode()
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    return asyncio.run(scenario())


def test_newsqa_bot_process_answers_and_never_logs_its_token(tmp_path, seed_index, articles):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    code, answer, logs = _ask_once(_bot_env(tmp_path, TOKEN, index, articles), tmp_path, 4242, "-v")
    assert "Li Hongzhong" in answer
    assert code == 0
    assert "answers from 1 article" in logs and "HTTP Request: POST" in logs
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs
    assert "bot<redacted>/getUpdates" in logs


def test_a_bot_building_its_index_logs_each_skipped_file(tmp_path, articles):
    folder = tmp_path / "news"
    shutil.copytree(articles, folder)
    (folder / "broken.txt").write_bytes(b"\x00\x01 not text")
    (folder / "misdated.md").write_text("---\npublished: 31/31/2024\n---\nThe ferry runs hourly.\n")
    code, answer, logs = _ask_once(_bot_env(tmp_path, TOKEN, tmp_path / "index", folder), tmp_path, 4343)
    assert code == 0 and "Li Hongzhong" in answer  # the rest was indexed
    assert f"skipped {folder / 'broken.txt'}: binary file" in logs  # without -v: a warning
    assert f"indexed with a problem: {folder / 'misdated.md'}: front matter 'published: 31/31/2024'" in logs
