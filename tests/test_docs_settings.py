"""Every setting is documented: named in README's settings table and in `.env.example`."""

from __future__ import annotations

import pytest

from helpers import ROOT
from newsqa.bot.settings import Settings

NAMES = [field.alias for field in Settings.model_fields.values()]


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_named(document):
    text = (ROOT / document).read_text(encoding="utf-8")
    marker = "| `{}` |" if document == "README.md" else "{}="
    assert [name for name in NAMES if marker.format(name) not in text] == []
