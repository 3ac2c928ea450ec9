"""The application layer (`app`, `settings`) and its two faces: the `newsqa` CLI (`cli/`)
and the Telegram bot (`telegram/`). Faces call the application layer, never each other;
only `newsqa bot` starts the Telegram face."""

from .app import AddResult, IndexInfo, NewsqaApp
from .settings import Settings, load_settings

__all__ = ["AddResult", "IndexInfo", "NewsqaApp", "Settings", "load_settings"]
