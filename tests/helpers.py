"""Helpers the tests share: paths, sample articles, checks of an index on disk, a bot run
against the fake Bot API, and processes of the real `newsqa` command. Fixtures are in
conftest.py; test modules import from here, never from each other."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fake_telegram import FakeTelegram, SentMessage
from newsqa.bot.app import NewsqaApp
from newsqa.bot.settings import Settings
from newsqa.bot.telegram import NewsqaBot, WebhookConfig
from newsqa.index import IndexReader, Manifest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = next(SEEDS.glob("*.txt"))
# The environment variables of the settings, which tests clear (the model's export cache is
# shared by all runs, like a machine's, and is kept).
SETTING_NAMES = tuple(field.alias for field in Settings.model_fields.values() if field.alias != "NEWSQA_CACHE_DIR")


# -- articles ------------------------------------------------------------------------------
PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}">
<title>Harbour bridge reopens | Port Elms Gazette</title>
<link rel="canonical" href="https://gazette.example/news/bridge-reopens">
<meta name="author" content="Ana Müller">
<meta property="article:published_time" content="2024-03-04T09:00:00Z">
<style>.menu {{ color: red }} /* STYLEMARKER */</style>
<script>var tracking = "SCRIPTMARKER";</script>
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World NAVMARKER</a></li></ul></nav>
<article><h1>Harbour bridge reopens after repairs</h1>
<p>The Harbour Bridge in Port Elms reopened on Monday after eight months of repairs costing 40 million dollars.</p>
<p>Mayor Ingrid Vasquez cut the ribbon at the ceremony, attended by residents of the café district.</p>
<p>Engineers said the new deck would last for at least fifty years, according to the city council.</p>
</article>
<aside><p>Most read: ASIDEMARKER celebrity gossip of the week</p></aside>
<footer><p>Copyright 2024 Port Elms Gazette FOOTERMARKER. All rights reserved.</p></footer>
</body></html>
"""
MARKERS = ("STYLEMARKER", "SCRIPTMARKER", "NAVMARKER", "ASIDEMARKER", "FOOTERMARKER", "Copyright", "Home")


def html_page(charset: str = "utf-8") -> bytes:
    return PAGE.format(charset=charset).encode("utf-8" if charset == "utf-8" else "cp1252")


STORY = """Harbour bridge reopens after repairs

The Harbour Bridge in Port Elms reopened on Monday after eight months of repairs costing 40 million dollars.

Mayor Ingrid Vasquez cut the ribbon at the ceremony, which was attended by several hundred residents.
"""
LATIN1_STORY = """Café owners protest new terrace rules in Zürich

The association of café owners in Zürich said on Tuesday that the new terrace rules would cost its members dearly.

Its president, Françoise Dupré-Müller, called the decision "a blow to the façade of the old town".
"""
TOWNS = ["Aldmoor", "Brackwell", "Corriston", "Dunhaven", "Elsworth", "Farrowby", "Glenmarsh", "Hollin",
         "Ivybridge", "Jarrow", "Kestwick", "Lindale"]
SUBJECTS = ["a new library", "the harbour wall", "a cycling lane", "the market hall", "a school roof",
            "the river footbridge", "a bus depot", "the town museum"]


def generated_article(n: int) -> str:
    """A short, distinct news story; its key fact is who opened what in which town."""
    town, subject = TOWNS[n % len(TOWNS)], SUBJECTS[n % len(SUBJECTS)]
    return (f"{town} council story number {n}\n\n"
            f"The council of {town} voted {n + 3} to {n % 4} on Tuesday to fund {subject}, at a cost "
            f"of {n * 7 + 11} thousand pounds.\n\n"
            f"Councillor Person{n} Smithson said the work would start in week {n % 50 + 1} of the year.\n")


def write_titled_articles(folder: Path, articles: Mapping[str, tuple[str, str]]) -> Path:
    """Write `articles` (file name -> (title, body)) as Markdown with a front-matter title."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, body) in articles.items():
        (folder / name).write_text(f"---\ntitle: {title}\n---\n{body}\n")
    return folder


def write_articles(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"story-{n:03d}.txt").write_text(generated_article(n))


QUIZ_QUESTION = "Where did the harbour council meet on Tuesday?"


def write_quiz_and_report(folder: Path) -> None:
    """Three quiz pages that only restate `QUIZ_QUESTION` (retrieved first, never quoted) and
    the report that answers it (retrieved fourth): "the old customs house of Kingsport"."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(3):
        (folder / f"quiz-{n}.txt").write_text(f"Quiz {n}\n\n{QUIZ_QUESTION}\n")
    (folder / "report.txt").write_text("Council report\n\nThe harbour council met on Tuesday in the old customs "
                                       "house of Kingsport, officials said. Members approved a new ferry line.\n")


# -- an index on disk ---------------------------------------------------------------------
def assert_consistent(index_dir: Path) -> tuple[int, int]:
    """Each article once, each chunk once, and the live FAISS ids are exactly the stored chunks."""
    storage = IndexReader(index_dir).snapshot.storage
    db = storage.documents.db
    chunk_ids = storage.documents.chunk_ids()
    assert db.execute("SELECT count(*) FROM chunk_text").fetchone()[0] == len(chunk_ids)
    assert db.execute("SELECT count(*) FROM (SELECT article_id, ordinal FROM chunks "
                      "GROUP BY article_id, ordinal HAVING count(*) > 1)").fetchone()[0] == 0
    live = storage.vectors.live_ids().tolist()
    assert len(live) == len(set(live)), "a chunk id is in two segments"
    assert set(live) == chunk_ids
    return storage.stats().articles, len(chunk_ids)


def vector_files_are_all_needed(index_dir: Path) -> None:
    """No leftovers: every file in the vector folder belongs to a kept generation."""
    folder = index_dir / Manifest.load(index_dir).vectors
    needed: set[str] = set()
    for gen in folder.glob("gen-*.json"):
        state = json.loads(gen.read_text())
        needed |= {gen.name, *(f"{s}.faiss" for s in state["segments"])}
        needed |= {state["deleted"]} if state.get("deleted") else set()
    assert {p.name for p in folder.iterdir()} == needed


# -- the Telegram bot -----------------------------------------------------------------------
EXAMPLE = "who led the Chinese delegation?"
# Seed questions and a word their best answer quotes.
SEED_QUESTIONS = {EXAMPLE: "Li Hongzhong", "when is Victory Day?": "Victory Day",
                  "who leads the Russian military delegation?": "Shoigu"}
ACME = """Acme <Widgets> & Sons plans "big" hiring in Lyon

Acme <Widgets> & Sons reported on Monday that third-quarter profit doubled as orders for its gizmos rose.

Chief executive Ada Quill said Acme <Widgets> & Sons would hire 300 engineers in Lyon next year because \
demand > supply, and her memo marked the plan <b>urgent</b> &amp; final.

The company, founded in 1921, makes industrial gizmos and employs 4,000 people across France.
"""
ACME_QUOTE = ("Chief executive Ada Quill said Acme <Widgets> & Sons would hire 300 engineers in Lyon next year "
              "because demand > supply, and her memo marked the plan <b>urgent</b> &amp; final.")
ACME_TITLE = 'Acme <Widgets> & Sons plans "big" hiring in Lyon'


@asynccontextmanager
async def running_bot(settings: Settings, encoder, webhook: WebhookConfig | None = None,
                      **options: object) -> AsyncIterator[NewsqaBot]:
    bot = NewsqaBot(settings, NewsqaApp(settings, encoder), **options)
    polling = {} if webhook else {"timeout": 5}
    async with bot.serving(bot.build(), webhook, **polling):
        yield bot


async def reply_to(server: FakeTelegram, message: dict) -> SentMessage:
    """The bot's reply quoting `message` (the bot quotes in groups)."""
    chat_id = message["chat"]["id"]
    return await server.wait_for(lambda: next(
        (m for m in server.messages_in(chat_id) if m.reply_to == message["message_id"]), None))


async def ask(server: FakeTelegram, user: dict, text: str) -> SentMessage:
    """Ask in a private chat and wait for the bot's next message there."""
    count = len(server.messages_in(user["id"]))
    server.say(user, text)
    return await server.reply(user["id"], count)


# -- the newsqa command in its own process ----------------------------------------------------
class Lines:
    """Lines from a process's stream, read by a thread so a test can wait with a timeout."""

    def __init__(self, stream) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def until(self, predicate, timeout: float = 180) -> list[str]:
        seen, deadline = [], time.monotonic() + timeout
        while True:
            seen.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.01)))
            if predicate(seen[-1]):
                return seen


def spawn(*args: str, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsqa.bot", *args], cwd=ROOT, env=dict(os.environ),
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)


class PageHandler(BaseHTTPRequestHandler):
    """A test site's request handler: `send_page` answers with a whole body; nothing is logged."""

    def send_page(self, body: bytes, content_type: str = "text/plain; charset=utf-8", status: int = 200,
                  headers: Mapping[str, str] | None = None) -> None:
        """Answer with `status`, `headers` and `body` (a 304 Not Modified carries no content)."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_site(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering with `handler`; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
