"""The docs keep up with the code: `.env.example` sets exactly the settings, README names every
module (tests/test_docs_settings.py checks every setting is documented)."""

from __future__ import annotations

from helpers import ROOT
from newsqa.bot.settings import Settings

SETTINGS = [field.alias for field in Settings.model_fields.values()]
MODULES = sorted(path.relative_to(ROOT).as_posix() for package in ("index", "retrieval", "bot")
                 for path in (ROOT / package).rglob("*.py") if path.name not in ("__init__.py", "__main__.py"))


def test_settings_are_read_from_their_documented_names():
    assert len(SETTINGS) == len(set(SETTINGS)) > 10
    assert all(name.startswith(("NEWSQA_", "TELEGRAM_")) for name in SETTINGS)


def test_env_example_sets_only_real_settings():
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert sorted(names) == sorted(SETTINGS)


def test_readme_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [module for module in MODULES if f"`{module}`" not in readme]
    assert missing == [], f"README.md does not name {missing}"
