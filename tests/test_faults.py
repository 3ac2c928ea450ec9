"""Faults. On the Telegram side, 5xx, timeouts and refused connections: the real bot runs against
the fake Bot API server, which fails, hangs or goes down on command; the bot must back off,
keep polling and answer by itself once the server is back. On the disk side, a full disk
during indexing (a real small tmpfs) and an index beyond repair. Waits are hang guards only."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_telegram import FakeTelegram
from newsqa.bot.cli import cli
from newsqa.index.builder import BATCH_ARTICLES
from helpers import EXAMPLE, Lines, ask, assert_consistent, running_bot, spawn, vector_files_are_all_needed, write_articles

LOGGER = "newsqa.bot.telegram"
# Short backoff so the tests stay cheap; the shipped one is SEND_BACKOFF_SECONDS.
FAST_BACKOFF = (0.1, 0.2)


def test_bot_rides_out_5xx_timeouts_and_an_outage(bot_settings, encoder):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder,
                                                         send_backoff=FAST_BACKOFF):
            ann = server.user(1101)
            # Replies that meet 502/500 are sent again.
            server.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text
            assert [e[:2] for e in server.errors] == [("sendMessage", 502), ("sendMessage", 502)]

            # Failing getUpdates calls do not stop polling (the bot waits longer after each).
            server.fail_next("getUpdates", status=500, description="Internal Server Error", times=2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text  # on the poll already open
            await server.wait_for(lambda: sum(1 for e in server.errors if e[:2] == ("getUpdates", 500)) == 2)
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text

            # A reply that hangs past the bot's read timeout (5 s) is sent again, once.
            server.delay_next("sendMessage", 30)
            before = len(server.messages_in(ann["id"]))
            assert "Li Hongzhong" in (await ask(server, ann, EXAMPLE)).text
            assert len(server.messages_in(ann["id"])) == before + 1

            # The server goes away (open long poll cut, connections refused), then comes back
            # on the same port: a question asked meanwhile is answered without any help.
            async with server.outage():
                count = len(server.messages_in(ann["id"]))
                server.say(ann, "when is Victory Day?")
                await asyncio.sleep(3)
            assert "Victory Day" in (await server.reply(ann["id"], count)).text
            assert server.outages == 1
            assert "Li Hongzhong" in (await ask(server, server.user(1102), EXAMPLE)).text

    asyncio.run(scenario())


def test_a_reply_that_cannot_be_delivered_is_logged_and_the_bot_goes_on(bot_settings, encoder, caplog):
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server), encoder,
                                                         send_backoff=FAST_BACKOFF):
            # Every try of the answer fails, and so does the "something went wrong" after it.
            server.fail_next("sendMessage", status=500, description="Internal Server Error",
                             times=len(FAST_BACKOFF) + 2)
            server.say(server.user(1201), EXAMPLE)
            await server.wait_for(lambda: len(server.errors) == len(FAST_BACKOFF) + 2)
            for _ in range(200):  # the error handler logs right after the last failed call
                if any("could not tell the user" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
            assert "Li Hongzhong" in (await ask(server, server.user(1202), EXAMPLE)).text

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(LOGGER + ".")]
    assert any(m.startswith("could not deliver a message to chat 1201 after 3 tries: Internal Server Error")
               for m in messages), messages
    assert sum("sending to chat 1201 failed" in m for m in messages) == 2
    assert any("could not tell the user" in m for m in messages)


# -- the disk fills up, the index is beyond repair -----------------------------------------
def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def small_disk(tmp_path):
    """A 320 KB tmpfs: room for an index of a few articles, not of a couple of hundred."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: needs root with CAP_SYS_ADMIN (as CI runs); "
                    f"`mount` said: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_a_full_disk_keeps_the_last_generation_and_says_so(cli_env, monkeypatch, small_disk):
    index = small_disk / "index"
    monkeypatch.setenv("NEWSQA_INDEX_DIR", str(index))
    articles = cli_env["articles"]
    write_articles(articles, 3)
    assert run("index").exit_code == 0
    before = json.loads(run("stats", "--json").stdout)

    write_articles(articles, 200)
    result = run("index")
    assert result.exit_code == 1
    said = re.match(rf"Error: could not write the index at {re.escape(str(index))}: database or disk is full\. "
                    rf"Nothing was lost: generation (\d+) is still the one answered from\.", result.output)
    assert said is not None, result.output
    assert "Traceback" not in result.output
    # Readers have the last committed generation: the one before the run (here, as no batch of
    # 64 articles fits the disk) or one of its whole batches, never a half-written one.
    after = json.loads(run("stats", "--json").stdout)
    assert after["generation"] == int(said[1]) >= before["generation"]
    assert (after["articles"] - before["articles"]) % BATCH_ARTICLES == 0
    assert_consistent(index)
    answer = json.loads(run("ask", "--json", "-k", "1", "What did the council of Aldmoor vote to fund?").stdout)
    assert "a new library" in answer["answers"][0]["quote"]

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)  # space freed
    assert run("index").exit_code == 0
    assert assert_consistent(index)[0] == 201  # 200 stories and the seed
    vector_files_are_all_needed(index)


def _lose_vectors(index: Path) -> None:
    shutil.rmtree(index / "vectors")


def _garble_generations(index: Path) -> None:
    for path in (index / "vectors").iterdir():
        path.write_bytes(b"\x00garbage")


def _garble_everything(index: Path) -> None:
    for path in index.rglob("*"):
        if path.is_file() and path.name != ".lock":
            path.write_bytes(b"\x00garbage" * 100)


@pytest.mark.parametrize("breaker", [_lose_vectors, _garble_generations, _garble_everything])
def test_rebuild_recreates_an_index_beyond_repair(cli_env, breaker):
    assert run("index").exit_code == 0
    breaker(cli_env["index"])
    broken = run("ask", EXAMPLE)
    assert broken.exit_code == 1 and "newsqa index --rebuild" in broken.output, broken.output
    rebuilt = run("index", "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "1 added" in rebuilt.output
    assert "Li Hongzhong" in run("ask", EXAMPLE).stdout
    assert assert_consistent(cli_env["index"]) == (1, 6)  # 1 article, 6 chunks at 1000/200


def test_watch_rides_out_a_full_disk(cli_env, monkeypatch, small_disk):
    index = small_disk / "index"
    monkeypatch.setenv("NEWSQA_INDEX_DIR", str(index))
    articles = cli_env["articles"]
    write_articles(articles, 3)
    watcher = spawn("watch", "--debounce", "0.2")
    err, out = Lines(watcher.stderr), Lines(watcher.stdout)
    try:
        assert "4 added" in out.until(lambda line: line.startswith("Indexed"))[-1]
        err.until(lambda line: line.startswith("Watching"))
        write_articles(articles, 200)
        failed = err.until(lambda line: "could not write the index" in line)[-1]
        assert "database or disk is full" in failed and "still watching" in failed
        assert watcher.poll() is None
        subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
        (articles / "one-more.txt").write_text("Ferry service resumes on the northern route\n\n"
                                               "The ferry between Skarn and Lowe resumed on Friday.\n")
        assert "0 added" not in out.until(lambda line: "Indexed" in line and "added" in line)[-1]
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    finally:
        watcher.kill()
    assert assert_consistent(index)[0] == 202


# -- a full disk met by faiss and by SQLite's open, in a private mount namespace ---------------
FULL_DISK = textwrap.dedent('''
    import json, os, subprocess, sys
    from pathlib import Path
    from click.testing import CliRunner
    from helpers import write_articles
    from newsqa.bot.cli import cli

    disk, articles = Path(sys.argv[1]), Path(sys.argv[2])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    index = disk / "index"
    os.environ["NEWSQA_INDEX_DIR"] = str(index)

    def run(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def fill(leave):
        stat = os.statvfs(disk)
        with open(disk / "filler", "ab") as handle:
            handle.write(bytes(max(stat.f_bavail * stat.f_frsize - leave, 0)))

    def leftovers():
        return sorted(p.name for p in index.rglob("*") if p.name.endswith(".tmp"))

    print("first:", run("index").exit_code)
    before = json.loads(run("stats", "--json").stdout)["generation"]
    # faiss meets the full disk: SQLite's small writes fit in what is left, a segment does not
    # (16-48 KiB left works with float16 segments: fewer fails SQLite first, more fits the segment).
    write_articles(articles, 64)
    fill(leave=32 * 1024)
    result = run("index")
    print("faiss:", result.exit_code, result.output.strip().replace(str(index), "INDEX"))
    print("temporaries left:", leftovers())
    print("still answers:", "Li Hongzhong" in run("ask", "-k", "1", "who led the Chinese delegation?").stdout)
    print("generation kept:", json.loads(run("stats", "--json").stdout)["generation"] == before)
    # SQLite cannot even open the store for writing: no room for its write-ahead log.
    fill(leave=0)
    (articles / "one-more.txt").write_text("Ferry resumes on the north route\\n\\nThe ferry resumed on Friday.\\n")
    result = run("index")
    print("sqlite:", result.exit_code, result.output.strip().replace(str(index), "INDEX"))
    print("temporaries left:", leftovers())
    (disk / "filler").unlink()  # space freed
    result = run("index")
    print("after:", result.exit_code, "65 added" in result.stdout)
''')


def _private_mount_namespace() -> list[str]:
    """`unshare` arguments for a private mount namespace (root, else a user namespace), or a skip
    that says exactly what is missing."""
    if shutil.which("unshare") is None:
        pytest.skip("needs the `unshare` command (util-linux)")
    tried = []
    for args in (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]):
        probe = subprocess.run([*args, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/mnt"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return args
        tried.append(f"`{' '.join(args)}`: {probe.stderr.strip()}")
    pytest.skip("cannot mount a tmpfs in a private mount namespace (needs root with CAP_SYS_ADMIN, or "
                "unprivileged user namespaces); " + "; ".join(tried))


def test_a_full_disk_met_by_faiss_or_by_sqlite_says_nothing_was_lost_and_cleans_up(tmp_path, articles):
    """faiss reports a full disk as a RuntimeError and SQLite's open as a "disk I/O error" or
    "database or disk is full": both are the write-failed error, never "rebuild the index", and no
    temporary file stays behind. A 16 MB tmpfs in a mount namespace of the test's own."""
    unshare = _private_mount_namespace()
    disk = tmp_path / "disk"
    disk.mkdir()
    env = {**os.environ, "NEWSQA_ARTICLES_DIR": str(articles),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([*unshare, sys.executable, "-c", FULL_DISK, str(disk), str(articles)],
                            capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "first: 0"
    assert re.fullmatch(r"faiss: 1 Error: could not write the index at INDEX: No space left on device "
                        r"\(INDEX/vectors/seg-\d+\.faiss\.tmp\)\. Nothing was lost: generation \d+ is still the one "
                        r"answered from\. Free some space \(or fix the permission\) and run `newsqa index` again\.",
                        lines[1]), lines[1]
    assert lines[2:5] == ["temporaries left: []", "still answers: True", "generation kept: True"]
    assert re.fullmatch(r"sqlite: 1 Error: could not write the index at INDEX: (disk I/O error|database or disk is "
                        r"full)\. Nothing was lost: generation \d+ is still the one answered from\. Free some space "
                        r"\(or fix the permission\) and run `newsqa index` again\.", lines[5]), lines[5]
    assert lines[6:] == ["temporaries left: []", "after: 0 True"]


def test_watch_survives_any_index_layer_error(cli_env):
    """A broken index (here, garbage in manifest.json) is reported with its remedy; the watcher
    keeps watching and indexes the next change once the index is rebuilt."""
    watcher = spawn("watch", "--debounce", "0.2")
    err, out = Lines(watcher.stderr), Lines(watcher.stdout)
    try:
        assert "1 added" in out.until(lambda line: line.startswith("Indexed"))[-1]
        err.until(lambda line: line.startswith("Watching"))
        (cli_env["index"] / "manifest.json").write_text("{not json")
        (cli_env["articles"] / "one.txt").write_text("Ferry resumes on the north route\n\n"
                                                     "The ferry resumed on Friday.\n")
        failed = err.until(lambda line: line.startswith("Indexing failed"))[-1]
        assert "newsqa index --rebuild" in failed and "still watching" in failed
        assert watcher.poll() is None
        assert run("index", "--rebuild").exit_code == 0
        (cli_env["articles"] / "two.txt").write_text("Bridge reopens in Port Elms\n\nThe bridge reopened on Monday.\n")
        out.until(lambda line: "Indexed" in line and "0 unchanged" not in line or "1 added" in line)
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    finally:
        watcher.kill()


def test_the_bot_survives_index_layer_errors(bot_settings, encoder, articles):
    """/reindex on a broken index or a vanished articles folder replies with the error; the bot
    goes on answering from the generation it has."""
    async def scenario() -> None:
        async with FakeTelegram() as server, running_bot(bot_settings(server, admin_users="1801"), encoder) as bot:
            admin = server.user(1801)
            (bot.settings.index_dir / "manifest.json").write_text("{not json")
            for broken in ("index", "folder"):
                if broken == "folder":
                    shutil.rmtree(articles)
                count = len(server.messages_in(admin["id"]))
                server.say(admin, "/reindex")
                failed = await server.reply(admin["id"], count + 1)
                assert failed.text.startswith("Reindex failed: "), failed.text
                assert "Li Hongzhong" in (await ask(server, admin, EXAMPLE)).text

    asyncio.run(scenario())
