"""The index manifest: a small JSON file that says what an index directory holds.

It names the document store and vector folder in use, so a full rebuild can be written
beside the old one and switched in with one atomic rename of this file.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .atomic import atomic_write
from .chunking import ChunkingSettings
from .errors import IndexCorrupt, IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """Declared keys of an index directory; round-trips through `manifest.json`."""

    model: str
    dimension: int
    chunking: ChunkingSettings
    store: str = "store.sqlite"
    vectors: str = "vectors"
    # The storage backend (index/backend.py) that holds the passages and vectors.
    storage: str = "faiss-sqlite"
    # Where that storage lives when it is a server ("" : inside the index folder).
    storage_uri: str = ""
    # The embedding backend that built the index (indexes from before backends were torch's).
    backend: str = "torch"
    # The FAISS index type of the largest vector segment ("SQfp16" exhaustive, or e.g.
    # "IVF1024,SQ8"); "Flat" (float32 exhaustive) in indexes written before float16 codes.
    vector_index: str = "Flat"
    # The article reader's version (`articles.READER_VERSION`) the stored text was read with
    # (0: from before it was recorded); another version re-reads every file.
    reader_version: int = 0
    format_version: int = FORMAT_VERSION
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["chunking"] = self.chunking.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "Manifest":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["chunking"] = ChunkingSettings(**dict(values.get("chunking") or {}))
        return cls(**values)

    def save(self, directory: Path) -> None:
        """Write atomically: readers see the old manifest or the new one, never half."""
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / MANIFEST_NAME, json.dumps(self.to_dict(), indent=2))

    def check_model(self, directory: Path, model: str, chunking: ChunkingSettings | None = None) -> None:
        """The one check that an index fits the settings asked for: same model (and chunking,
        when given); the backend may differ (an index stays usable with the other runtime).

        Raises:
            IndexMismatch: built with another model or chunking; it needs a rebuild.
        """
        if self.model != model:
            built, asked = f"model {self.model!r}", f"{model!r}"
        elif chunking is not None and self.chunking != chunking:
            built, asked = str(self.chunking), str(chunking)
        else:
            return
        raise IndexMismatch(f"the index at {directory} was built with {built}, not {asked}. "
                            f"Run `newsqa index --rebuild` to rebuild it.")

    @classmethod
    def load(cls, directory: Path) -> "Manifest":
        """Read the manifest of the index at `directory`.

        Raises:
            IndexNotFound: no manifest there.
            IndexCorrupt: unreadable JSON, unknown format version or missing keys.
        """
        path = Path(directory) / MANIFEST_NAME
        if not path.exists():
            raise IndexNotFound(f"no index at {directory}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls.from_dict(data)
        except (OSError, ValueError, TypeError) as error:
            raise IndexCorrupt(f"manifest {path} is unreadable: {error}") from error
        if manifest.format_version != FORMAT_VERSION:
            raise IndexCorrupt(
                f"index format {manifest.format_version} is not supported (expected {FORMAT_VERSION})"
            )
        return manifest
