"""The files of an index directory: which names an index (or a rebuild beside it) uses, and
removing what no manifest names.

An index directory holds `manifest.json` (naming the files in use), `.lock`, and the
storage's files: `store.sqlite` (+ WAL) and the `vectors/` folder, or `store-<id>.sqlite`
and `vectors-<id>` for a rebuild written beside the old index and switched in by the
manifest.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from .manifest import Manifest

LOCK_NAME = ".lock"
# Files and folders an index directory holds (suffixed ones come from rebuilds).
_INDEX_FILE = re.compile(r"^(store(-[0-9a-f]{8})?\.sqlite(-wal|-shm|-journal)?|vectors(-[0-9a-f]{8})?"
                         r"|manifest\.json\.tmp)$")


def storage_names(replacing: bool) -> tuple[str, str]:
    """Names of the document store and vector folder of a new index: plain for the first
    one, suffixed when it is built beside an index it replaces."""
    suffix = "-" + uuid.uuid4().hex[:8] if replacing else ""
    return f"store{suffix}.sqlite", f"vectors{suffix}"


def remove_unused(index_dir: Path, manifest: Manifest) -> None:
    """Delete files the manifest does not name: an old index after a rebuild is switched
    in, or a half-built one from a rebuild that was killed. Readers still on the old
    files keep their open handles; new ones follow the manifest."""
    keep = {manifest.store, manifest.vectors}
    for path in index_dir.iterdir():
        # Only names an index uses: the index folder may hold other files.
        if (path.name in keep or path.name.startswith(manifest.store)
                or not _INDEX_FILE.match(path.name)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
