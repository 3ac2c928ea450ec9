"""The Milvus storage backend: passages, articles, sources and the commit record in Milvus
collections (Milvus Lite in a file inside the index folder, or a Milvus server/cluster).

Collections, all named `<prefix>_<role>` (the prefix is the manifest's `store`):
- `passages`: one row per passage: its dense vector (HNSW, inner product), its porter-stemmed
  words (Milvus's BM25 function over a `standard`-tokenised VARCHAR makes the sparse vector),
  the article id, the publication day (the `as_of` filter), offsets, and the sentences'
  offsets and float16 vectors (what the quote picker needs), plus `gen`, the generation
  that wrote it.
- `articles`: metadata and text of each article (text in parts of at most `TEXT_PART` chars),
  with `gen` too; `sources`: the registry the incremental indexer compares against;
  `meta`: the commit record (`state`), id counters and the writers' claims on the lease
  (`milvus_lease.py`).

Versioned rows keep readers consistent: a batch writes rows with the next generation (no
reader looks past the committed one), then one upsert of `state` switches; articles the batch
retires are listed in `state` (readers filter them out) until their rows are deleted.
Stemming is done here (the same porter stems as FTS5's index), so the server's analyzer and
Milvus Lite's (which only knows the `standard` and `jieba` tokenizers) find the same words.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .articles import Article
from .dates import PublishedWindow, iso_date
from .errors import IndexCorrupt, IndexLocked, StorageUnavailable
from .manifest import Manifest
from .milvus_lease import LEASE_SECONDS, MilvusLease
from .store import NewChunk, SourceRecord, StoredChunk, StoredSentence, StoreStats
from .text import WORD, keyword_terms, stem_words
from .vectors import VectorHits

log = logging.getLogger(__name__)
# pymilvus logs every failed call with a traceback (and Milvus Lite's missing MVCC call as a
# warning) before raising; we raise `StorageUnavailable` with the reason, which is enough.
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
# Milvus Lite serves gRPC inside this process and logs each call it does not implement
# (AllocTimestamp, which pymilvus tries first and then does without) with a traceback.
logging.getLogger("grpc._server").setLevel(logging.CRITICAL)

NAME = "milvus"
# Milvus Lite's database file inside the index folder (when no server URI is set).
LITE_FILE = "milvus.db"
# Article text is kept in parts: a VARCHAR holds at most 65,535 bytes (4 per char at worst).
TEXT_PART = 16_000
PARTS_PER_ARTICLE = 4096
# Rows per query page: Milvus caps offset + limit of one query at 16,384.
PAGE = 16_000
# What the commit record counts (the committed articles, sources and passages), for `stats`
# and IDF weights without a count query.
COUNTS = ("articles", "sources", "passages")
# HNSW: M and efConstruction as Milvus documents for ~384-dim text embeddings; ef at query
# time at least this (recall against exact search: benchmarks/milvus_scale.py).
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
MIN_EF = 64
VECTOR_INDEX = "HNSW,M16,efc200"
_ANALYZER = {"tokenizer": "standard"}

_token: str | None = None


def configure(token: str | None) -> None:
    """The token for a Milvus server (from the settings; never written to the manifest)."""
    global _token
    _token = token or None


def _import_pymilvus():
    try:
        import pymilvus
    except ImportError as error:  # the optional extra is not installed
        raise IndexCorrupt("the index is stored in Milvus, but pymilvus is not installed: "
                           "pip install 'newsqa[milvus]'") from error
    return pymilvus


def _unavailable(uri: str, error: BaseException) -> StorageUnavailable:
    return StorageUnavailable(f"Milvus at {uri} is unavailable: {' '.join(str(error).split())[:300]}")


def _guarded(method):
    """Milvus and connection errors become `StorageUnavailable` (the faces say so and retry)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            if self.conn.failed:
                # A restarted server has its collections released: load them again first.
                self.conn.load()
                self.conn.failed = False
            return method(self, *args, **kwargs)
        except (StorageUnavailable, IndexLocked, IndexCorrupt):
            raise
        except Exception as error:
            pymilvus = _import_pymilvus()
            if isinstance(error, (pymilvus.MilvusException, ConnectionError, OSError, TimeoutError)) \
                    or type(error).__module__.startswith(("grpc", "pymilvus")):
                self.conn.failed = True
                raise _unavailable(self.conn.uri, error) from error
            raise

    return wrapper


# Milvus Lite files this process holds, with how many connections use each: Lite serves one
# process (each process would run its own server over the same files), so the first
# connection takes an flock on `<file>.lock` and the last one releases it.
_lite_holds: dict[str, list] = {}
_lite_guard = threading.Lock()


def _hold_lite(path: str) -> None:
    """Take this process's hold on a Milvus Lite file.

    Raises:
        IndexLocked: another process (a bot, an indexer) has it open.
    """
    with _lite_guard:
        if path in _lite_holds:
            _lite_holds[path][1] += 1
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handle = open(path + ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise IndexLocked(f"Milvus Lite at {path} is open in another process (a bot or an indexer); "
                              f"Milvus Lite serves one process: stop that one, or use a Milvus server "
                              f"(NEWSQA_MILVUS_URI) for several") from None
        _lite_holds[path] = [handle, 1]


def _release_lite(path: str) -> None:
    with _lite_guard:
        hold = _lite_holds.get(path)
        if hold is None:
            return
        hold[1] -= 1
        if hold[1] == 0:
            del _lite_holds[path]
            try:  # stop this process's Lite server over the file, so another process may open it
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(path)
            except Exception:  # noqa: BLE001 - not Lite's layout: the server goes at exit
                log.debug("could not stop the Milvus Lite server of %s", path, exc_info=True)
            hold[0].close()  # closing the file releases the flock


class MilvusConnection:
    """One client and the collection names of an index; shared by a reader's snapshots."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        pymilvus = _import_pymilvus()
        self.lite = not manifest.storage_uri
        self.uri = manifest.storage_uri or str(Path(directory).absolute() / LITE_FILE)
        self.prefix = manifest.store
        self.dimension = manifest.dimension
        self.closed = False
        if self.lite:
            _hold_lite(self.uri)
        try:
            self.client = pymilvus.MilvusClient(uri=self.uri, token=_token or "", timeout=10)
        except Exception as error:  # noqa: BLE001 - any failure to connect is "unavailable"
            if self.lite:
                _release_lite(self.uri)
            raise _unavailable(self.uri, error) from error
        self.lock = threading.RLock()
        # Set when a call failed: the next one loads the collections again (see `_guarded`).
        self.failed = False

    def name(self, role: str) -> str:
        return f"{self.prefix}_{role}"

    def exists(self) -> bool:
        return self.client.has_collection(self.name("meta"))

    def load(self) -> None:
        """Load the collections for search and query (they are released after a restart)."""
        for role in ("passages", "articles", "sources", "meta"):
            self.client.load_collection(self.name(role))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass
        if self.lite:
            _release_lite(self.uri)

    # -- schema --------------------------------------------------------------------
    def create(self) -> None:
        """Create the four collections (idempotent)."""
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        if not c.has_collection(self.name("passages")):
            s = c.create_schema(auto_id=False)
            s.add_field("id", DataType.INT64, is_primary=True)
            s.add_field("article_id", DataType.INT64)
            s.add_field("gen", DataType.INT64)
            s.add_field("ordinal", DataType.INT64)
            s.add_field("start", DataType.INT64)
            s.add_field("end", DataType.INT64)
            s.add_field("published", DataType.VARCHAR, max_length=16)
            s.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                        enable_match=True, analyzer_params=_ANALYZER)
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dimension)
            s.add_field("sentences", DataType.VARCHAR, max_length=65535)
            s.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                    input_field_names=["terms"], output_field_names=["sparse"]))
            index = c.prepare_index_params()
            index.add_index("dense", index_type="HNSW", metric_type="IP", params=HNSW_PARAMS)
            # k1 and b as FTS5's bm25() uses them.
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                            params={"bm25_k1": 1.2, "bm25_b": 0.75})
            c.create_collection(self.name("passages"), schema=s, index_params=index,
                                consistency_level="Strong")
        if not c.has_collection(self.name("articles")):
            s = self._schema_with_placeholder(DataType.INT64)
            s.add_field("article_id", DataType.INT64)
            s.add_field("part", DataType.INT64)
            s.add_field("gen", DataType.INT64)
            s.add_field("content_hash", DataType.VARCHAR, max_length=128)
            s.add_field("title", DataType.VARCHAR, max_length=65535)
            s.add_field("published", DataType.VARCHAR, max_length=64)
            s.add_field("author", DataType.VARCHAR, max_length=4096)
            s.add_field("url", DataType.VARCHAR, max_length=8192)
            s.add_field("added_at", DataType.DOUBLE)
            s.add_field("text", DataType.VARCHAR, max_length=65535)
            self._create_with_placeholder("articles", s)
        for role in ("sources", "meta"):
            if c.has_collection(self.name(role)):
                continue
            s = self._schema_with_placeholder(DataType.VARCHAR)
            if role == "sources":
                s.add_field("source", DataType.VARCHAR, max_length=65535)
                s.add_field("article_id", DataType.INT64)
                s.add_field("fingerprint", DataType.VARCHAR, max_length=512)
                s.add_field("indexed_at", DataType.DOUBLE)
            else:
                s.add_field("value", DataType.VARCHAR, max_length=65535)
            self._create_with_placeholder(role, s)

    def _schema_with_placeholder(self, key_type):
        from pymilvus import DataType

        s = self.client.create_schema(auto_id=False)
        if key_type == DataType.VARCHAR:
            s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=8192)
        else:
            s.add_field("key", DataType.INT64, is_primary=True)
        # Milvus requires a vector field in every collection; these never search it.
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        return s

    def _create_with_placeholder(self, role: str, schema) -> None:
        index = self.client.prepare_index_params()
        index.add_index("_v", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self.name(role), schema=schema, index_params=index,
                                      consistency_level="Strong")

    def drop(self) -> None:
        for role in ("passages", "articles", "sources", "meta"):
            if self.client.has_collection(self.name(role)):
                self.client.drop_collection(self.name(role))

    # -- meta ----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.client.query(self.name("meta"), ids=[key], output_fields=["value"])
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.client.upsert(self.name("meta"), [{"key": key, "value": value, "_v": [0.0, 0.0]}])

    def state(self) -> dict:
        """The commit record: generation, retired article ids, time of the last commit, and
        how many articles, sources and passages it holds (`COUNTS`; not in older indexes)."""
        raw = self.get_meta("state")
        return json.loads(raw) if raw else {"generation": 0, "retired": [], "updated_at": None,
                                            **dict.fromkeys(COUNTS, 0)}

    def query_all(self, role: str, filter: str, fields: list[str]) -> list[dict]:
        """Every row matching `filter` (one query when they fit in one, else page by page)."""
        rows = self.client.query(self.name(role), filter=filter, output_fields=fields, limit=PAGE)
        if len(rows) < PAGE:
            return rows
        rows = []
        iterator = self.client.query_iterator(self.name(role), batch_size=PAGE, filter=filter,
                                              output_fields=fields)
        try:
            while True:
                page = iterator.next()
                if not page:
                    break
                rows.extend(page)
        finally:
            iterator.close()
        return rows


def _counted(conn: MilvusConnection, visible: str) -> tuple[int, int, int]:
    """Articles, sources and passages by count queries (Milvus Lite reads every matching row
    to count it: the commit record keeps these counts, this is for an index written before)."""
    def count(role: str, filter: str) -> int:
        return int(conn.client.query(conn.name(role), filter=filter, output_fields=["count(*)"])[0]["count(*)"])

    return (count("articles", f"part == 0 and {visible}"), count("sources", 'key != ""'),
            count("passages", visible))


def _descending(text: str) -> tuple[int, ...]:
    """A sort key that orders strings from the greatest down."""
    return tuple(-ord(c) for c in text) + (1,)


def _visible(state: dict) -> str:
    """Rows of the committed generation, without the articles it retired."""
    clause = f"gen <= {int(state['generation'])}"
    if state.get("retired"):
        clause += f" and article_id not in {[int(i) for i in state['retired']]}"
    return clause


def _window_filter(window: PublishedWindow | None) -> str:
    """Passages of articles published inside `window`; undated ones ("") always."""
    if window is None or window.is_open:
        return ""
    bounds = []
    if window.since is not None:
        bounds.append(f'published >= "{window.since}"')
    if window.until is not None:
        bounds.append(f'published <= "{window.until}"')
    return f' and (published == "" or ({" and ".join(bounds)}))'


def _encode_sentences(sentences: Sequence[tuple[int, int, int, np.ndarray]]) -> str:
    offsets = [[int(s), int(e), int(p)] for s, e, p, _ in sentences]
    vectors = np.vstack([v for *_, v in sentences]).astype(np.float16) if sentences else np.zeros(0, np.float16)
    return json.dumps({"o": offsets, "v": base64.b64encode(vectors.tobytes()).decode("ascii")})


def _decode_sentences(raw: str, dimension: int) -> tuple[StoredSentence, ...]:
    data = json.loads(raw)
    vectors = np.frombuffer(base64.b64decode(data["v"]), np.float16).astype(np.float32)
    vectors = vectors.reshape(len(data["o"]), dimension) if data["o"] else vectors
    return tuple(StoredSentence(s, e, p, vectors[n]) for n, (s, e, p) in enumerate(data["o"]))


def stemmed_text(text: str) -> str:
    """The words of `text` as the keyword index keeps them (FTS5's porter stems)."""
    return " ".join(stem_words(WORD.findall(text)))


class MilvusStorage:
    """One committed generation, read-only (an `IndexStorage`)."""

    def __init__(self, conn: MilvusConnection, state: dict) -> None:
        self.conn = conn
        self.state = state
        self._visible = _visible(state)
        self._counts: dict[str, int] = {}
        self._total: int | None = None

    @property
    def generation(self) -> int:
        return int(self.state["generation"])

    @_guarded
    def vector_search(self, vectors: np.ndarray, k: int,
                      window: PublishedWindow | None = None) -> list[VectorHits]:
        vectors = np.asarray(vectors, np.float32)
        if k <= 0 or not len(vectors):
            return [VectorHits(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in vectors]
        with self.conn.lock:
            results = self.conn.client.search(
                self.conn.name("passages"), data=vectors.tolist(), anns_field="dense", limit=k,
                filter=self._visible + _window_filter(window),
                search_params={"metric_type": "IP", "params": {"ef": max(MIN_EF, k)}})
        return [VectorHits(np.array([hit["id"] for hit in hits], np.int64),
                           np.array([hit["distance"] for hit in hits], np.float32)) for hits in results]

    @_guarded
    def keyword_search(self, query: str, k: int, window: PublishedWindow | None = None,
                       title_weight: float = 0.0) -> list[tuple[int, float]]:
        # The title is not a keyword field here (yet): `title_weight` is not applied.
        terms = keyword_terms(query)
        if not terms or k <= 0:
            return []
        with self.conn.lock:
            results = self.conn.client.search(
                self.conn.name("passages"), data=[" ".join(stem_words(terms[:64]))], anns_field="sparse",
                limit=k, filter=self._visible + _window_filter(window),
                search_params={"metric_type": "BM25"})
        # Milvus Lite reports BM25 as a negative distance; higher magnitude is the better match.
        return [(int(hit["id"]), abs(float(hit["distance"]))) for hit in results[0]]

    @_guarded
    def chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        ids = sorted({int(i) for i in chunk_ids})
        if not ids:
            return {}
        with self.conn.lock:
            rows = self.conn.client.query(
                self.conn.name("passages"), filter=f"id in {ids} and {self._visible}",
                output_fields=["id", "article_id", "ordinal", "start", "end", "dense", "sentences"])
            articles = self._articles({int(r["article_id"]) for r in rows})
        found: dict[int, StoredChunk] = {}
        for r in rows:
            article = articles.get(int(r["article_id"]))
            if article is None:
                continue
            text = article["text"]
            found[int(r["id"])] = StoredChunk(
                int(r["id"]), int(r["article_id"]), int(r["ordinal"]), int(r["start"]), int(r["end"]),
                text[r["start"]:r["end"]], text, article["title"], article["source"],
                article["published"] or None, article["author"] or None, article["url"] or None,
                np.asarray(r["dense"], np.float32), _decode_sentences(r["sentences"], self.conn.dimension))
        return found

    def _articles(self, article_ids: set[int]) -> dict[int, dict]:
        """Articles (text joined from its parts, first source name) by id."""
        if not article_ids:
            return {}
        ids = sorted(article_ids)
        rows = self.conn.query_all(
            "articles", f"article_id in {ids} and {self._visible}",
            ["article_id", "part", "title", "published", "author", "url", "text"])
        parts: dict[int, list[dict]] = {}
        for row in rows:
            parts.setdefault(int(row["article_id"]), []).append(row)
        sources: dict[int, str] = {}
        for row in self.conn.query_all("sources", f"article_id in {ids}", ["article_id", "source"]):
            aid = int(row["article_id"])
            sources[aid] = min(sources.get(aid, row["source"]), row["source"])
        found = {}
        for aid, pieces in parts.items():
            pieces.sort(key=lambda row: row["part"])
            found[aid] = dict(pieces[0], text="".join(p["text"] for p in pieces), source=sources.get(aid, ""))
        return found

    @_guarded
    def term_chunk_counts(self, stems: Sequence[str]) -> tuple[int, dict[str, int]]:
        with self.conn.lock:
            if self._total is None:
                self._total = self.state["passages"] if "passages" in self.state else self._count(self._visible)
            for stem in {s for s in stems if s} - set(self._counts):
                if not WORD.fullmatch(stem):
                    continue
                self._counts[stem] = self._count(f'{self._visible} and TEXT_MATCH(terms, "{stem}")')
        return self._total, {s: self._counts[s] for s in stems if self._counts.get(s)}

    @_guarded
    def chunk_ids_after(self, after: int) -> list[int]:
        with self.conn.lock:
            rows = self.conn.query_all("passages", f"id > {int(after)} and {self._visible}", ["id"])
        return sorted(int(r["id"]) for r in rows)

    @_guarded
    def last_chunk_id(self) -> int:
        # Ids only grow and are never reused, and none is above the id counter: look down from
        # it in windows that double (the first one holds the answer unless the newest
        # articles were deleted), instead of reading every passage id.
        with self.conn.lock:
            top = int(self.conn.get_meta("next_chunk_id") or "1") - 1
            window = 1024
            while top > 0:
                low = max(0, top - window)
                rows = self.conn.query_all("passages", f"id > {low} and id <= {top} and {self._visible}", ["id"])
                if rows:
                    return max(int(r["id"]) for r in rows)
                top, window = low, window * 2
        return 0

    def _count(self, filter: str) -> int:
        rows = self.conn.client.query(self.conn.name("passages"), filter=filter, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _listed(self, order, offset: int, limit: int) -> list[tuple[str, str, str | None]]:
        """A page of (title, source, published) in `order` (a sort key of a row holding
        article_id, published and added_at): the sort reads those three small fields of every
        committed article (Milvus queries have no ORDER BY); titles and sources are read for
        the page only."""
        with self.conn.lock:
            keys = self.conn.query_all("articles", f"part == 0 and {self._visible}",
                                       ["article_id", "published", "added_at"])
            keys.sort(key=order)
            sources: dict[int, str] = {}
            listed: list[int] = []
            position = 0
            # An article whose sources a newer generation removed is not listed (source rows
            # are not versioned): read further down the order until the page is full.
            while len(listed) < offset + limit and position < len(keys):
                ids = [int(k["article_id"]) for k in keys[position:position + offset + limit - len(listed)]]
                position += len(ids)
                for row in self.conn.query_all("sources", f"article_id in {ids}", ["article_id", "source"]):
                    aid = int(row["article_id"])
                    sources[aid] = min(sources.get(aid, row["source"]), row["source"])
                listed.extend(aid for aid in ids if aid in sources)
            page = listed[offset:offset + limit]
            if not page:
                return []
            titles = {int(r["article_id"]): r for r in self.conn.query_all(
                "articles", f"part == 0 and article_id in {page} and {self._visible}",
                ["article_id", "title", "published"])}
        return [(titles[aid]["title"], sources[aid], titles[aid]["published"] or None) for aid in page]

    @_guarded
    def list_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        return self._listed(lambda k: (-k["added_at"], -int(k["article_id"])), offset, limit)

    @_guarded
    def latest_articles(self, offset: int = 0, limit: int = 20) -> list[tuple[str, str, str | None]]:
        # Dated first, newest publication first; then undated; ties newest added first.
        return self._listed(lambda k: (not k["published"], _descending(k["published"] or ""),
                                       -k["added_at"], -int(k["article_id"])), offset, limit)

    @_guarded
    def stats(self) -> StoreStats:
        if all(key in self.state for key in COUNTS):  # kept by each commit: no count queries
            articles, sources, chunks = (int(self.state[key]) for key in COUNTS)
        else:
            with self.conn.lock:
                articles, sources, chunks = _counted(self.conn, self._visible)
        updated = self.state.get("updated_at")
        return StoreStats(articles=articles, sources=sources, chunks=chunks, generation=self.generation,
                          updated_at=float(updated) if updated else None)

    @_guarded
    def latest_generation(self) -> int:
        with self.conn.lock:
            return int(self.conn.state()["generation"])

    def shares_files_with(self, other: object) -> bool:
        return isinstance(other, MilvusStorage) and other.conn is self.conn

    def close(self) -> None:
        self.conn.close()


class MilvusWriter:
    """The builder's read-write access (an `IndexStorageWriter`); holds the lease while open."""

    def __init__(self, directory: Path, manifest: Manifest, lease_seconds: float = LEASE_SECONDS) -> None:
        self.conn = MilvusConnection(directory, manifest)
        self.lease = MilvusLease(self.conn, lease_seconds)
        self._leased = False
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    @_guarded
    def _open(self) -> None:
        self.conn.create()
        self.conn.load()
        self.lease.acquire()
        self._leased = True
        self._state = self.conn.state()
        committed = int(self._state["generation"])
        # A killed run's rows (written past the committed generation) and deletions it left.
        self.conn.client.delete(self.conn.name("passages"), filter=f"gen > {committed}")
        self.conn.client.delete(self.conn.name("articles"), filter=f"gen > {committed}")
        self._finish_retired()
        self._sources = self._load_sources()
        self._pending: int | None = None

    def _load_sources(self) -> dict[str, SourceRecord]:
        """Sources whose article is committed (a killed run's new ones point nowhere: dropped)."""
        visible = _visible(self._state)
        hashes = {int(r["article_id"]): r["content_hash"]
                  for r in self.conn.query_all("articles", f"part == 0 and {visible}", ["article_id", "content_hash"])}
        records = {}
        for r in self.conn.query_all("sources", 'key != ""', ["key", "source", "article_id", "fingerprint"]):
            aid = int(r["article_id"])
            if aid in hashes:
                records[r["key"]] = SourceRecord(r["key"], r["source"], aid, hashes[aid], r["fingerprint"])
        self._hashes = hashes
        return records

    def _finish_retired(self) -> None:
        retired = [int(i) for i in self._state.get("retired") or []]
        if not retired:
            return
        self.conn.client.delete(self.conn.name("passages"), filter=f"article_id in {retired}")
        self.conn.client.delete(self.conn.name("articles"), filter=f"article_id in {retired}")
        self._state = dict(self._state, retired=[])
        self.conn.set_meta("state", json.dumps(self._state))

    @property
    def generation(self) -> int:
        return int(self._state["generation"])

    @property
    def vector_index(self) -> str:
        return VECTOR_INDEX

    def sources(self) -> dict[str, SourceRecord]:
        return dict(self._sources)

    def article_ids_by_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        wanted = set(hashes)
        return {h: aid for aid, h in self._hashes.items() if h in wanted}

    @_guarded
    def _next(self, key: str, count: int) -> int:
        first = int(self.conn.get_meta(key) or "1")
        self.conn.set_meta(key, str(first + count))
        return first

    def reserve_chunk_ids(self, count: int) -> int:
        return self._next("next_chunk_id", count)

    @_guarded
    def begin(self) -> None:
        if not self.lease.renew():  # it lapsed: claim again, and go on only if nobody wrote since
            self.lease.acquire()
            if int(self.conn.state()["generation"]) != self.generation:
                self.lease.release()
                self._leased = False
                raise IndexLocked(f"this indexer's lease on the Milvus index {self.conn.prefix!r} lapsed and another "
                                  f"indexer changed the index meanwhile; nothing was written: run the indexer again")
        self._pending = self.generation + 1
        self._sources_before = dict(self._sources)  # what a rollback restores
        self._source_changes: dict[str, SourceRecord | None] = {}
        self._new_hashes: dict[int, str] = {}
        self._published: dict[int, str] = {}
        self._added_chunks = 0
        self._orphan_chunks = 0

    @_guarded
    def add_article(self, article: Article) -> int:
        article_id = self._next("next_article_id", 1)
        text = article.text
        parts = [text[i:i + TEXT_PART] for i in range(0, len(text), TEXT_PART)] or [""]
        if len(parts) > PARTS_PER_ARTICLE:
            raise IndexCorrupt(f"{article.source}: the article is too long for the Milvus store")
        now = time.time()
        self.conn.client.insert(self.conn.name("articles"), [
            {"key": article_id * PARTS_PER_ARTICLE + n, "_v": [0.0, 0.0], "article_id": article_id, "part": n,
             "gen": self._pending, "content_hash": article.content_hash, "title": article.title,
             "published": article.published or "", "author": article.author or "", "url": article.url or "",
             "added_at": now, "text": part}
            for n, part in enumerate(parts)])
        self._new_hashes[article_id] = article.content_hash
        self._published[article_id] = iso_date(article.published) or ""
        return article_id

    @_guarded
    def add_chunks(self, article_id: int, text: str, first_id: int, chunks: Sequence[NewChunk]) -> None:
        if not chunks:
            return
        published = self._published.get(article_id, "")
        self._added_chunks += len(chunks)
        self.conn.client.insert(self.conn.name("passages"), [
            {"id": first_id + n, "article_id": article_id, "gen": self._pending, "ordinal": c.ordinal,
             "start": c.start, "end": c.end, "published": published,
             "terms": stemmed_text(text[c.start:c.end]), "dense": np.asarray(c.vector, np.float32).tolist(),
             "sentences": _encode_sentences(c.sentences)}
            for n, c in enumerate(chunks)])

    def upsert_source(self, key: str, source: str, article_id: int, fingerprint: str) -> None:
        content_hash = self._hashes.get(article_id) or self._new_hashes.get(article_id, "")
        record = SourceRecord(key, source, article_id, content_hash, fingerprint)
        if self._pending is None:  # outside a batch (an unchanged file's new fingerprint)
            self._write_sources({key: record})
        else:
            self._source_changes[key] = record
        self._sources[key] = record

    def delete_source(self, key: str) -> None:
        self._source_changes[key] = None
        self._sources.pop(key, None)

    @_guarded
    def _write_sources(self, changes: dict[str, SourceRecord | None]) -> None:
        gone = [key for key, record in changes.items() if record is None]
        if gone:
            self.conn.client.delete(self.conn.name("sources"), ids=gone)
        rows = [{"key": r.key, "_v": [0.0, 0.0], "source": r.source, "article_id": r.article_id,
                 "fingerprint": r.fingerprint, "indexed_at": time.time()} for r in changes.values() if r]
        if rows:
            self.conn.client.upsert(self.conn.name("sources"), rows)

    @_guarded
    def delete_orphans(self) -> int:
        referenced = {r.article_id for r in self._sources.values()}
        orphans = [aid for aid in self._hashes if aid not in referenced]
        self._orphans = orphans
        if not orphans:
            self._orphan_chunks = 0
            return 0
        rows = self.conn.client.query(self.conn.name("passages"),
                                      filter=f"article_id in {orphans}", output_fields=["count(*)"])
        self._orphan_chunks = int(rows[0]["count(*)"])
        return self._orphan_chunks

    @_guarded
    def commit(self) -> int:
        # Sources first (a killed run's point at uncommitted articles: dropped at the next
        # open), then the one upsert of `state` that switches readers; then the retired rows go.
        self._write_sources(self._source_changes)
        orphans = getattr(self, "_orphans", [])
        if all(key in self._state for key in COUNTS):
            articles, passages = int(self._state["articles"]), int(self._state["passages"])
        else:  # an index written before the commit record kept counts: count once
            articles, _, passages = _counted(self.conn, _visible(self._state))
        self._state = {"generation": self._pending, "retired": orphans, "updated_at": time.time(),
                       "articles": articles + len(self._new_hashes) - len(orphans), "sources": len(self._sources),
                       "passages": passages + self._added_chunks - self._orphan_chunks}
        self.conn.set_meta("state", json.dumps(self._state))
        self._hashes.update(self._new_hashes)
        for aid in orphans:
            self._hashes.pop(aid, None)
        self._pending, self._orphans = None, []
        self._finish_retired()
        return self.generation

    @_guarded
    def rollback(self) -> None:
        if self._pending is None:
            return
        for role in ("passages", "articles"):
            self.conn.client.delete(self.conn.name(role), filter=f"gen == {self._pending}")
        self._pending = None
        self._sources = self._sources_before

    @_guarded
    def prune(self, keep_generations: int) -> None:
        """Drop the collections of indexes this one replaced (a rebuild's old prefix)."""
        base = self.conn.prefix.split("__")[0]
        roles = ("_passages", "_articles", "_sources", "_meta")
        for name in self.conn.client.list_collections():
            if not name.endswith(roles) or not name.startswith(base):
                continue
            prefix = name.rsplit("_", 1)[0]
            if prefix != self.conn.prefix and (prefix == base or prefix.startswith(base + "__")):
                self.conn.client.drop_collection(name)

    def close(self) -> None:
        try:
            if self._leased:
                self.lease.release()
        except Exception:  # noqa: BLE001 - our claim lapses by itself
            log.warning("could not release the Milvus lease", exc_info=True)
        self.conn.close()


class MilvusBackend:
    """Opens Milvus storage (a `StorageBackend`)."""

    name = NAME

    def open_reader(self, directory: Path, manifest: Manifest,
                    previous: MilvusStorage | None = None) -> MilvusStorage:
        conn = previous.conn if previous is not None else MilvusConnection(directory, manifest)
        try:
            with conn.lock:
                if not conn.exists():
                    raise IndexCorrupt(f"the Milvus collections {manifest.store}_* are missing at {conn.uri}")
                if previous is None:
                    conn.load()
                state = conn.state()
        except (IndexCorrupt, StorageUnavailable):
            if previous is None:
                conn.close()
            raise
        except Exception as error:  # noqa: BLE001 - connection or server failure
            if previous is None:
                conn.close()
            raise _unavailable(conn.uri, error) from error
        return MilvusStorage(conn, state)

    def open_writer(self, directory: Path, manifest: Manifest) -> MilvusWriter:
        return MilvusWriter(directory, manifest)
