"""The front matter of an article file: a `---` block of YAML `key: value` lines at its top.

One codec for both sides: the feed poller writes it (`render_front_matter`), the article
reader parses it (`split_front_matter`). Blocks are YAML (PyYAML), so quoted titles with
escapes ("... of \\"assault weapons\\"") read as their authors meant; a hand-written block
that is not valid YAML (`title: Breaking: storm hits`) is still read line by line. Blocks as
static site generators write them (Jekyll, Hugo: lists of tags, folded titles, `publishDate`)
are front matter too, never indexed text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import yaml

from .dates import iso_date

# `---` at the very top of a text or Markdown file, a `key: value` line, then the rest of the
# block up to the next `---` line: more keys, indented lines (a list, a folded value), `- item`
# lines, comments and blank lines; a line of prose ends the match (a `---` rule, not a block).
_KEY = r"[A-Za-z_][\w-]*[ \t]*:"
_BLOCK = re.compile(
    rf"\A\ufeff?---[ \t]*\n({_KEY}.*\n"
    rf"(?:(?:{_KEY}.*|[ \t].*|-(?:[ \t].*)?|#.*|)\n){{0,200}}"  # each kind by its first character
    r")---[ \t]*(?:\n|\Z)"
)
_KEY_LINE = re.compile(_KEY)
# A list value (tags, authors) gives at most this many items, each cut to this many
# characters: YAML aliases can nest a list of a dozen lines into billions of items.
_MAX_ITEMS = 50
_MAX_ITEM_CHARS = 1000
# The keys read (case aside), by the article field they fill.
FRONT_MATTER_KEYS = {
    "title": "title", "author": "author", "authors": "author",
    "date": "published", "published": "published", "publishdate": "published", "published_at": "published",
    "pubdate": "published", "date_published": "published", "datepublished": "published",
    "url": "url", "source": "url", "canonical_url": "url", "canonical": "url", "link": "url",
}


@dataclass(frozen=True)
class FrontMatter:
    """A file's front matter: the article fields it gives (title, published as YYYY-MM-DD,
    author, url), the text after it, and what in it could not be read (for the index report)."""

    fields: dict[str, str]
    body: str
    problems: tuple[str, ...] = ()


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """The article fields of a leading front-matter block (title, published as YYYY-MM-DD,
    author, url), and the text after it; ({}, raw) when there is no block."""
    front = read_front_matter(raw)
    return front.fields, front.body


def read_front_matter(raw: str) -> FrontMatter:
    """`split_front_matter`, and a problem for a publication date that is no calendar day (the
    article is then undated: never hidden by an as-of day, never preferred as recent)."""
    text = raw.replace("\r\n", "\n")
    match = _BLOCK.match(text)
    if not match:
        return FrontMatter({}, raw)
    block = match.group(1)
    loose = dict(_loose(line) for line in block.splitlines() if _KEY_LINE.match(line))
    try:
        parsed = yaml.safe_load(block)
    except (yaml.YAMLError, ValueError):  # ValueError: a timestamp no calendar has (2023-13-45)
        parsed = None
    meta: dict[str, str] = {}
    unread_dates: list[str] = []
    for key, value in (parsed if isinstance(parsed, dict) else loose).items():
        name = FRONT_MATTER_KEYS.get(str(key).strip().lower())
        if name is None or name in meta:
            continue
        if isinstance(value, dict):  # `author: {name: ..., email: ...}`
            value = value.get("name")
        if isinstance(value, list):  # its scalar items only: a nested list is no title or name
            value = [item if isinstance(item, date) else str(item)[:_MAX_ITEM_CHARS]
                     for item in value[:_MAX_ITEMS] if isinstance(item, (str, int, float, date))]
        elif not isinstance(value, (str, date)):  # a number or YAML boolean: the text as written
            value = loose.get(str(key).strip())
        if name == "published":
            written = value[0] if isinstance(value, list) and value else value
            value = iso_date(written)
            if value is None and _text(written):
                unread_dates.append(f"{key}: {_text(loose.get(str(key).strip()) or written)[:80]}")
        else:
            value = _text(value)
        if value:
            meta[name] = value
    problems = () if "published" in meta or not unread_dates else (
        f"front matter '{unread_dates[0]}' is not a date newsqa can read (e.g. 2024-03-04); indexed as undated",)
    return FrontMatter(meta, text[match.end():], problems)


def render_front_matter(fields: dict[str, str | None]) -> str:
    """A front-matter block of `fields` (empty ones left out), each value one JSON string,
    which YAML reads back as written."""
    lines = [f"{key}: {json.dumps(' '.join(value.split()), ensure_ascii=False)}"
             for key, value in fields.items() if value and value.strip()]
    return "\n".join(["---", *lines, "---", ""])


def _loose(line: str) -> tuple[str, str]:
    """`key: value` of a line as written, quotes around the value dropped (for a block YAML
    refuses, and for values YAML would turn into numbers or booleans)."""
    key, _, value = line.partition(":")
    return key.strip(), value.strip().strip("'\"").strip()


def _text(value: object) -> str:
    """A YAML value as text: a list of scalars joined ("A, B"), a scalar as written."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return " ".join(str(value).split())
