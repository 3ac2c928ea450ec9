"""Getting a message to the user: split to Telegram's limit, HTML with a plain-text fallback,
resent after network failures, and the "typing…" status while an answer is worked out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from telegram import Chat, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ContextTypes

from .formatting import RichText

log = logging.getLogger(__name__)

# Telegram shows "typing…" for 5 seconds; renew it a little sooner while answering takes.
TYPING_REFRESH_SECONDS = 4.5
# A message that fails on the network (5xx, timeout, refused connection) is sent again after
# these waits: 15 s in all, about what a Bot API restart takes. A timed-out send may have
# arrived, so a rare duplicate is possible; a lost answer is not (it is logged when all fail).
SEND_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 7.5)

Send = Callable[[str | None, str], Awaitable[Message]]


class Delivery:
    """Sends, replies and edits with retries and the plain-text fallback."""

    def __init__(self, send_backoff: Sequence[float] = SEND_BACKOFF_SECONDS) -> None:
        self.send_backoff = tuple(send_backoff)

    @asynccontextmanager
    async def typing(self, chat: Chat) -> AsyncIterator[None]:
        """Show "typing…" in `chat` until the block ends."""
        async def keep_typing() -> None:
            while True:
                try:
                    await chat.send_action(ChatAction.TYPING)
                except TelegramError as error:
                    log.debug("typing action failed: %s", error)
                await asyncio.sleep(TYPING_REFRESH_SECONDS)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()

    async def reply(self, message: Message, text: RichText,
                    markup: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Reply with `text`, split to Telegram's limit; plain text if the HTML is refused."""
        pieces = text.split()
        sent = []
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            sent.append(await self._with_fallback(
                lambda mode, body: message.reply_text(body, parse_mode=mode, reply_markup=markup if last else None,
                                                      do_quote=None if number == 0 else False),
                piece, message.chat_id))
        return sent

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: RichText,
                   markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self._with_fallback(
            lambda mode, body: context.bot.send_message(chat_id, body, parse_mode=mode, reply_markup=markup),
            text, chat_id)

    async def edit(self, message: Message | None, text: RichText, markup: InlineKeyboardMarkup | None) -> None:
        """Replace a message's text and buttons; unchanged content is not an error."""
        if message is None:
            return
        text = text.trim()
        try:
            await self._with_fallback(
                lambda mode, body: message.get_bot().edit_message_text(
                    body, chat_id=message.chat.id, message_id=message.message_id, parse_mode=mode,
                    reply_markup=markup),
                text, message.chat.id)
        except BadRequest as error:
            reason = str(error).casefold()
            if "message is not modified" in reason:
                return
            if "message to edit not found" not in reason and "can't be edited" not in reason:
                raise
            await self._with_fallback(  # too old or deleted: send the page as a new message
                lambda mode, body: message.get_bot().send_message(
                    message.chat.id, body, parse_mode=mode, reply_markup=markup),
                text, message.chat.id)

    async def _with_fallback(self, send: Send, text: RichText, chat_id: int) -> Message:
        try:
            return await self._retrying(send, ParseMode.HTML, text.html(), chat_id)
        except BadRequest as error:
            if "can't parse entities" not in str(error).casefold():
                raise
            log.warning("Telegram refused the HTML (%s); sending plain text", error)
            return await self._retrying(send, None, text.plain(), chat_id)

    async def _retrying(self, send: Send, mode: str | None, body: str, chat_id: int) -> Message:
        """`send(mode, body)`, sent again after network failures (5xx, timeouts, refused
        connections) with backoff; 429s are waited out by the rate limiter below this."""
        for attempt, wait in enumerate((*self.send_backoff, None), 1):
            try:
                return await send(mode, body)
            except BadRequest:
                raise  # a BadRequest is a NetworkError in python-telegram-bot, but resending cannot help
            except NetworkError as error:
                if wait is None:
                    log.error("could not deliver a message to chat %s after %d tries: %s", chat_id, attempt, error)
                    raise
                log.warning("sending to chat %s failed (%s); trying again in %g s", chat_id, error, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")
