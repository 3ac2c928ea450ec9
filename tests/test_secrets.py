"""The bot token never shows: not in logs (even at DEBUG, even while the Bot API fails), not in
error messages, not in any file the bot or the indexer writes; and `.env` stays out of git."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import ROOT, SETTING_NAMES
from fake_telegram import TOKEN, FakeTelegram

SECRET_PART = TOKEN.split(":", 1)[1]
# `newsqa -v bot` with the root logger at DEBUG (the CLI's basicConfig keeps a handler that
# is already there), so every library's debug lines go through the bot's redaction.
DEBUG_BOT = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from newsqa.bot.cli import cli
    cli(["-v", "bot"])
""")


def test_the_token_is_in_no_log_line_and_no_saved_file(tmp_path, seed_index, articles):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    env = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}

    async def scenario() -> tuple[str, str]:
        async with FakeTelegram() as server:
            env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url,
                        "NEWSQA_ARTICLES_DIR": str(articles), "NEWSQA_INDEX_DIR": str(index),
                        "NEWSQA_BOT_STATE_FILE": str(tmp_path / "state.sqlite"), "NEWSQA_ADMIN_USERS": "77"})
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", DEBUG_BOT, cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                logs = asyncio.create_task(process.stderr.read())
                admin = server.user(77, "Root")
                server.fail_next("sendMessage", status=502, description="Bad Gateway")
                server.say(admin, "who led the Chinese delegation?")
                answer = await server.reply(77, 0, timeout=240)
                card = answer.buttons()
                async with server.outage():  # failing requests log their URLs and tracebacks
                    await asyncio.sleep(2)
                server.press(admin, answer, "Context")
                await server.reply(77, 1)
                (articles / "extra.txt").write_text("Ferry service resumes on the northern route\n\n"
                                                    "The ferry between Skarn and Lowe resumed on Friday.\n")
                server.say(admin, "/reindex")
                report = await server.reply(77, 3)
                assert "1 added" in report.text and card
                process.send_signal(signal.SIGINT)
                await asyncio.wait_for(process.wait(), 60)
                return (await logs).decode(), answer.text
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    logs, answer = asyncio.run(scenario())
    assert "Li Hongzhong" in answer
    assert " DEBUG " in logs and "bot<redacted>/getUpdates" in logs  # URLs were logged, redacted
    assert "Traceback" in logs  # failures were logged in full
    assert TOKEN not in logs and SECRET_PART not in logs
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "state.sqlite" for path in written) and any(path.parent == index for path in written)
    for path in written:
        data = path.read_bytes()
        for form in (SECRET_PART.encode(), SECRET_PART.encode("utf-16-le")):
            assert form not in data, f"the token is in {path}"


def test_dot_env_is_ignored_by_git_and_the_example_is_not():
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0
    assert subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=ROOT).returncode == 1
