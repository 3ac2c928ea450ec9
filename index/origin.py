"""Where an article file came from: a hidden sidecar beside it that remembers its URL.

`newsqa add URL` saves the page as a file in the articles folder and writes
`.<file name>.origin.json` next to it. The folder scan skips hidden files, and the reader
uses the sidecar to cite the URL instead of the file, and to decode the page with the
charset its server declared.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .atomic import atomic_write

SIDECAR_SUFFIX = ".origin.json"


@dataclass(frozen=True)
class ArticleOrigin:
    """The URL an article file was fetched from, and what its server said about it."""

    url: str
    charset: str | None = None
    content_type: str | None = None
    fetched_at: float = field(default_factory=time.time)

    @staticmethod
    def sidecar(article_path: Path) -> Path:
        """The hidden file that holds the origin of `article_path`."""
        return article_path.with_name(f".{article_path.name}{SIDECAR_SUFFIX}")

    @classmethod
    def load(cls, article_path: Path) -> "ArticleOrigin | None":
        """The origin recorded for `article_path`; None when there is none or it is unreadable."""
        try:
            data = json.loads(cls.sidecar(article_path).read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            origin = cls(**{key: value for key, value in data.items() if key in known})
        except (OSError, ValueError, TypeError):
            return None
        return origin if isinstance(origin.url, str) and origin.url else None

    def save(self, article_path: Path) -> None:
        """Write the sidecar atomically (before the article itself is put in place)."""
        atomic_write(self.sidecar(article_path), json.dumps(asdict(self)))
