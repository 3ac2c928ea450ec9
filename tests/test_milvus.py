"""The Milvus backend against a Milvus Lite server on 127.0.0.1 that stops mid-run: the library
raises StorageUnavailable, the CLI says so, the bot answers "temporarily unavailable" and
recovers by itself when the server is back; a second indexer is refused by the lease, two
racing indexers never both write, and a crashed indexer's lease lapses."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from milvus_lite.adapter.grpc.server import start_server_in_thread
from pydantic import SecretStr

from fake_telegram import TOKEN, FakeTelegram
from helpers import EXAMPLE, SEEDS, SETTING_NAMES, ask, generated_article, running_bot
from newsqa.bot.cli import cli
from newsqa.bot.settings import Settings
from newsqa.index import (ChunkingSettings, IndexBuilder, IndexLocked, IndexReader, Manifest, StorageChoice,
                          StorageUnavailable)
from newsqa.index.milvus_lease import CLAIM_PREFIX
from newsqa.index.milvus_storage import MilvusConnection, MilvusWriter
from newsqa.retrieval import QuestionAnswerer


class LiteServer:
    """A Milvus Lite gRPC server over `data_dir`, stopped and started again on one port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = self.db = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server, self.db, _ = start_server_in_thread(data_dir=str(self.data_dir), host="127.0.0.1",
                                                         port=self.port)

    def stop(self) -> None:
        self.server.stop(grace=0).wait()
        self.db.close()


@contextmanager
def lite_server(tmp_path: Path):
    server = LiteServer(tmp_path / "milvus-server.db")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _until_answered(answerer: QuestionAnswerer, question: str, seconds: float = 30.0):
    """The answer once the server takes calls again (gRPC reconnects with a back-off)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return answerer.ask(question)
        except StorageUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_server_stopped_mid_run_is_a_clear_error_and_answers_resume(tmp_path, encoder, monkeypatch):
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        storage = StorageChoice("milvus", server.uri, "failtest")
        IndexBuilder(index, encoder, storage=storage).update(SEEDS)
        assert Manifest.load(index).storage_uri == server.uri
        answerer = QuestionAnswerer(IndexReader(index), encoder)
        assert "Li Hongzhong" in answerer.ask(EXAMPLE).answers[0].quote

        server.stop()
        with pytest.raises(StorageUnavailable, match=f"Milvus at {server.uri} is unavailable"):
            answerer.ask(EXAMPLE)
        assert answerer.reader.refresh() is False  # keeps its snapshot, does not raise
        for name in SETTING_NAMES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("NEWSQA_INDEX_DIR", str(index))
        monkeypatch.setenv("NEWSQA_ARTICLES_DIR", str(SEEDS))
        monkeypatch.setenv("NEWSQA_BACKEND", "milvus")
        monkeypatch.setenv("NEWSQA_MILVUS_URI", server.uri)
        for args in (["stats"], ["ask", EXAMPLE]):
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 1
            assert f"Milvus at {server.uri} is unavailable" in result.output
        with pytest.raises(StorageUnavailable):
            IndexBuilder(index, encoder, storage=storage).update(SEEDS)

        server.start()
        assert "Li Hongzhong" in _until_answered(answerer, EXAMPLE).answers[0].quote


def test_the_bot_says_temporarily_unavailable_and_recovers(tmp_path, encoder, monkeypatch):
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        IndexBuilder(index, encoder, storage=StorageChoice("milvus", server.uri, "bottest")).update(SEEDS)

        async def scenario() -> None:
            async with FakeTelegram() as telegram:
                settings = Settings(articles_dir=SEEDS, index_dir=index, telegram_bot_token=SecretStr(TOKEN),
                                    telegram_base_url=telegram.base_url, bot_state_file=tmp_path / "state.sqlite",
                                    backend="milvus", milvus_uri=server.uri)
                async with running_bot(settings, encoder):
                    ann = telegram.user(301)
                    assert "Li Hongzhong" in (await ask(telegram, ann, EXAMPLE)).text
                    server.stop()
                    assert "temporarily unavailable" in (await ask(telegram, ann, EXAMPLE)).text
                    server.start()
                    for _ in range(60):
                        reply = await ask(telegram, ann, EXAMPLE)
                        if "Li Hongzhong" in reply.text:
                            break
                        assert "temporarily unavailable" in reply.text
                        await asyncio.sleep(0.5)
                    assert "Li Hongzhong" in reply.text
                    assert telegram.errors == []

        asyncio.run(scenario())


def test_a_second_indexer_is_refused_while_the_lease_is_held(tmp_path, encoder):
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        storage = StorageChoice("milvus", server.uri, "leasetest")
        IndexBuilder(index, encoder, storage=storage).update(SEEDS)
        holder = MilvusWriter(index, Manifest.load(index))
        try:
            with pytest.raises(IndexLocked, match="another indexer is writing the Milvus index"):
                MilvusWriter(index, Manifest.load(index))
        finally:
            holder.close()
        MilvusWriter(index, Manifest.load(index)).close()  # released: the next one gets it


def test_switching_backends_needs_a_rebuild_and_the_rebuild_moves_the_index(tmp_path, articles, encoder):
    index = tmp_path / "index"
    IndexBuilder(index, encoder).update(articles)
    milvus = IndexBuilder(index, encoder, storage=StorageChoice("milvus"))
    with pytest.raises(Exception, match="Run `newsqa index --rebuild` to move it"):
        milvus.update(articles)
    report = milvus.update(articles, rebuild=True)
    assert len(report.added) == 1
    assert Manifest.load(index).storage == "milvus"
    assert not list(index.glob("store*.sqlite"))  # the local files went with the switch
    answer = QuestionAnswerer(IndexReader(index), encoder).ask(EXAMPLE)
    assert "Li Hongzhong" in answer.answers[0].quote


def test_milvus_lite_refuses_a_second_process_clearly(tmp_path, articles, encoder):
    index = tmp_path / "index"
    IndexBuilder(index, encoder, storage=StorageChoice("milvus")).update(articles)
    reader = IndexReader(index)  # this process holds the Lite file
    script = ("import sys; from pathlib import Path; from newsqa.index import IndexReader, IndexLocked\n"
              "try:\n    IndexReader(Path(sys.argv[1]))\nexcept IndexLocked as error:\n    print(error)\n")
    other = subprocess.run([sys.executable, "-c", script, str(index)], capture_output=True, text=True, timeout=120)
    assert "is open in another process" in other.stdout and "NEWSQA_MILVUS_URI" in other.stdout
    reader.snapshot.storage.close()
    again = subprocess.run([sys.executable, "-c", script, str(index)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout == ""


def _empty_milvus_index(index: Path, uri: str = "", prefix: str = "leaserace") -> Manifest:
    """A manifest for an empty Milvus index (the writer creates its collections)."""
    manifest = Manifest(model="synthetic", dimension=8, chunking=ChunkingSettings(), store=prefix,
                        storage="milvus", storage_uri=uri)
    index.mkdir(parents=True, exist_ok=True)
    manifest.save(index)
    return manifest


def _claims(index: Path) -> list[dict]:
    conn = MilvusConnection(index, Manifest.load(index))
    try:
        rows = conn.client.query(conn.name("meta"), filter=f'key like "{CLAIM_PREFIX}%"', output_fields=["value"])
        return [json.loads(row["value"]) for row in rows]
    finally:
        conn.close()


def test_two_indexers_racing_for_the_lease_never_both_win(tmp_path):
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        manifest = _empty_milvus_index(index, server.uri)
        MilvusWriter(index, manifest).close()  # the collections exist: the race is only for the lease
        for round in range(4):
            _race_once(index, manifest, round)


def _race_once(index: Path, manifest: Manifest, round: int) -> None:
    """Two indexers (two clients of one server) start together: one holds, one is refused."""
    start = threading.Barrier(2)
    won: list[MilvusWriter] = []
    refused: list[IndexLocked] = []

    def indexer() -> None:
        start.wait()
        try:
            won.append(MilvusWriter(index, manifest))
        except IndexLocked as error:
            refused.append(error)

    threads = [threading.Thread(target=indexer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(won) == 1 and len(refused) == 1, (round, won, refused)
    message = str(refused[0])
    assert "another indexer is writing the Milvus index 'leaserace'" in message
    assert f"pid {os.getpid()}" in message and "held by the indexer on" in message
    assert len(_claims(index)) == 1  # the loser took its claim back
    won[0].close()
    assert _claims(index) == []  # and the winner released its own


def test_a_crashed_indexers_lease_lapses(tmp_path):
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        _empty_milvus_index(index, server.uri)
        script = ("import sys, time; from pathlib import Path\n"
                  "from newsqa.index import Manifest\nfrom newsqa.index.milvus_storage import MilvusWriter\n"
                  "index = Path(sys.argv[1])\nwriter = MilvusWriter(index, Manifest.load(index), lease_seconds=1.0)\n"
                  "print('holding', flush=True)\ntime.sleep(600)\n")
        crashed = subprocess.Popen([sys.executable, "-c", script, str(index)], stdout=subprocess.PIPE, text=True)
        try:
            assert crashed.stdout.readline().strip() == "holding"
        finally:
            crashed.send_signal(signal.SIGKILL)
            crashed.wait(timeout=60)
        [left] = _claims(index)  # the killed indexer never released its claim
        assert left["pid"] == crashed.pid and left["ticket"] == 1
        time.sleep(max(0.0, left["expires"] - time.time()) + 0.2)
        writer = MilvusWriter(index, Manifest.load(index))  # the expired claim does not block
        try:
            [mine] = _claims(index)  # and it is gone
            assert mine["pid"] == os.getpid()
        finally:
            writer.close()


def test_an_index_whose_commit_record_has_no_counts_is_counted_then_kept(tmp_path, articles, encoder):
    index = tmp_path / "index"
    builder = IndexBuilder(index, encoder, storage=StorageChoice("milvus"))
    builder.update(articles)
    counted = IndexReader(index).snapshot.stats()
    conn = MilvusConnection(index, Manifest.load(index))
    try:  # the commit record as an index written before it kept counts
        state = conn.state()
        conn.set_meta("state", json.dumps({k: state[k] for k in ("generation", "retired", "updated_at")}))
    finally:
        conn.close()
    older = IndexReader(index).snapshot
    assert older.stats() == counted  # counted by queries
    assert older.term_chunk_counts([])[0] == counted.chunks
    (articles / "extra.txt").write_text(generated_article(1))
    report = builder.update(articles)
    assert len(report.added) == 1, report
    newer = IndexReader(index).snapshot.stats()
    assert (newer.articles, newer.sources) == (counted.articles + 1, counted.sources + 1)
    assert newer.chunks == len(IndexReader(index).snapshot.chunk_ids_after(0)) > counted.chunks


def test_a_lapsed_lease_is_claimed_again_unless_another_indexer_wrote_meanwhile(tmp_path):
    with lite_server(tmp_path) as server:
        index = tmp_path / "index"
        manifest = _empty_milvus_index(index, server.uri)
        slow = MilvusWriter(index, manifest, lease_seconds=0.5)  # a long first scan of the articles...
        try:
            time.sleep(0.7)
            slow.begin()  # ...nobody came meanwhile: it claims again and goes on
            slow.commit()
            [claim] = _claims(index)
            assert claim["ticket"] is not None and claim["pid"] == os.getpid()
            time.sleep(0.7)
            other = MilvusWriter(index, manifest)  # the lapsed claim does not block
            other.begin()
            other.commit()
            other.close()
            with pytest.raises(IndexLocked, match="another indexer changed the index meanwhile"):
                slow.begin()
            assert _claims(index) == []
        finally:
            slow.close()
