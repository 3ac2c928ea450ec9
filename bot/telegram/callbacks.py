"""The callback-data codec of the bot's buttons, written and parsed only here.

Telegram gives a button 64 bytes of `callback_data`: an answer button carries the short
key of a stored question (`state.QuestionStore`) and the answer's index, a /sources or
/latest button the page number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MORE, CONTEXT, SOURCES, LATEST, UNFOLLOW = "more", "ctx", "src", "lat", "unf"
# Patterns python-telegram-bot routes button presses by.
MORE_PATTERN, CONTEXT_PATTERN, SOURCES_PATTERN = rf"^{MORE}:", rf"^{CONTEXT}:", rf"^{SOURCES}:"
LATEST_PATTERN = rf"^{LATEST}:"
UNFOLLOW_PATTERN = rf"^{UNFOLLOW}:"
_ANSWER = re.compile(rf"(?:{MORE}|{CONTEXT}):([\w-]{{1,16}}):(\d{{1,3}})")


@dataclass(frozen=True)
class AnswerButton:
    """A More/Back or Context button: which stored question, which of its answers."""

    key: str
    index: int


def more_data(key: str, index: int) -> str:
    return f"{MORE}:{key}:{index}"


def context_data(key: str, index: int) -> str:
    return f"{CONTEXT}:{key}:{index}"


def sources_data(page: int) -> str:
    return f"{SOURCES}:{page}"


def parse_answer_button(data: str | None) -> AnswerButton | None:
    """The question key and answer index of a More/Context button; None when malformed."""
    match = _ANSWER.fullmatch(data or "")
    return AnswerButton(match[1], int(match[2])) if match else None


def parse_sources_page(data: str | None) -> int | None:
    """The page a /sources button turns to; None when malformed."""
    try:
        return max(0, int((data or "").split(":")[1]))
    except (IndexError, ValueError):
        return None


def latest_data(page: int) -> str:
    return f"{LATEST}:{page}"


def parse_latest_page(data: str | None) -> int | None:
    """The page a /latest button turns to; None when malformed."""
    number = (data or "").removeprefix(f"{LATEST}:")
    return int(number) if (data or "").startswith(f"{LATEST}:") and number.isdigit() else None


def unfollow_data(follow_id: int) -> str:
    return f"{UNFOLLOW}:{follow_id}"


def parse_unfollow(data: str | None) -> int | None:
    """The follow a "Stop following" button stops; None when malformed."""
    number = (data or "").removeprefix(f"{UNFOLLOW}:")
    return int(number) if (data or "").startswith(f"{UNFOLLOW}:") and number.isdigit() and len(number) < 19 else None
