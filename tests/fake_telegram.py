"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot (aiohttp).

It speaks the HTTP protocol python-telegram-bot uses (`POST /bot<token>/<method>` with form,
multipart, JSON or query parameters; `{"ok": true, "result": ...}` or `{"ok": false,
"error_code": ..., "description": ...}` back) and is as strict as Telegram where a bot can go
wrong: HTML that Telegram's parser rejects (with its error texts), texts over 4096 UTF-16 code
units, empty texts, unknown chats and messages, stale callback queries, oversized callback
data, unchanged edits. A test can make the next call to a method fail, e.g. with a 429 and
`retry_after`, like Telegram's flood control, or a 5xx; make it hang (`delay_next`, a timeout
for the bot); or take the whole server down and up again on the same port (`outage`), so
connections are refused meanwhile.

Tests play the users: `say` queues a message update (with the entities a client would add),
`press` queues a button press; the bot receives them through `getUpdates` long polling or,
after `setWebhook`, by POST to its webhook. Everything the bot sends is kept, as Telegram
would show it (parsed text and entities), in `sent`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456789:AAFakeTokenForNewsqaTestsOnly_0123456789"
MAX_MESSAGE_UNITS = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_CHARS = 200
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note",
                "upload_video_note"}
# Telegram's HTML parse mode: supported tags and the entity each makes.
HTML_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
             "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
             "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre",
             "blockquote": "blockquote", "a": "text_link", "tg-emoji": "custom_emoji"}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id", "cache_time",
               "max_connections", "user_id"}
_JSON_PARAMS = {"reply_markup", "allowed_updates", "commands", "scope", "reply_parameters",
                "link_preview_options", "entities", "show_alert", "drop_pending_updates",
                "disable_notification", "protect_content", "disable_web_page_preview"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" reasons, worded as Telegram words them."""


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of an HTML-formatted message, following Telegram's parser.

    Telegram accepts only its tags (`HTML_TAGS`), needs every tag closed in order, and decodes
    only `&lt; &gt; &amp; &quot;` and numeric entities (other `&...;` stay as typed). A bare
    `<` starts a tag, so unescaped text such as `a < b` is rejected.
    """
    text: list[str] = []
    units = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    size = len(source)
    offset = lambda position: len(source[:position].encode())  # noqa: E731  (byte offsets, as Telegram reports)
    i = 0
    while i < size:
        char = source[i]
        if char == "&":
            match = _ENTITY.match(source, i)
            decoded = _decode_entity(match) if match else None
            if decoded is not None:
                text.append(decoded)
                units += utf16_len(decoded)
                i = match.end()
                continue
        if char != "<":
            text.append(char)
            units += utf16_len(char)
            i += 1
            continue
        begin = i
        i += 1
        if i < size and source[i] == "/":
            i += 1
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset(begin)}")
            start = i
            while i < size and not source[i].isspace() and source[i] != ">":
                i += 1
            name = source[start:i].lower()
            while i < size and source[i].isspace():
                i += 1
            if i >= size or source[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {offset(begin)}")
            i += 1
            tag, entity_start, attributes = stack.pop()
            if name and name != tag:
                raise EntityParseError(f'Unmatched end tag at byte offset {offset(begin)}, expected "</{tag}>", '
                                       f'found "</{name}>"')
            if units > entity_start:
                entity: dict[str, Any] = {"type": HTML_TAGS[tag], "offset": entity_start,
                                          "length": units - entity_start}
                if tag == "a":
                    if not re.match(r"(https?|tg)://", attributes.get("href", "")):
                        continue  # Telegram drops links it cannot open
                    entity["url"] = attributes["href"]
                entities.append(entity)
            continue
        start = i
        while i < size and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= size:
            raise EntityParseError(f"Unclosed start tag at byte offset {offset(begin)}")
        tag = source[start:i].lower()
        if tag not in HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset(begin)}')
        attributes: dict[str, str] = {}
        while True:
            while i < size and source[i].isspace():
                i += 1
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            if source[i] == ">":
                i += 1
                break
            start = i
            while i < size and not source[i].isspace() and source[i] not in "=>":
                i += 1
            name = source[start:i].lower()
            if not name:
                raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset(begin)}')
            while i < size and source[i].isspace():
                i += 1
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            if source[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    continue
                raise EntityParseError(f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                                       f"at byte offset {offset(begin)}")
            i += 1
            while i < size and source[i].isspace():
                i += 1
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            if source[i] in "\"'":
                end = source.find(source[i], i + 1)
                if end < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {offset(begin)}")
                value = _ENTITY.sub(lambda m: _decode_entity(m) or m[0], source[i + 1:end])
                i = end + 1
            else:
                start = i
                while i < size and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = source[start:i]
            attributes[name] = value
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset(begin)}')
        stack.append((tag, units, attributes))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(text), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _decode_entity(match: re.Match[str]) -> str | None:
    if match[1]:
        return _NAMED[match[1]]
    code = int(match[2]) if match[2] else int(match[3], 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace of a message; entities move with the text."""
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2:(offset + length) * 2].decode("utf-16-le")


class ApiError(Exception):
    """An error reply of the Bot API."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class SentMessage:
    """A message the bot sent, as Telegram keeps it (edits update it in place)."""

    message_id: int
    chat: dict[str, Any]
    text: str
    entities: list[dict[str, Any]]
    source: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to: int | None
    date: int = field(default_factory=lambda: int(time.time()))
    edits: int = 0

    @property
    def chat_id(self) -> int:
        return self.chat["id"]

    def buttons(self) -> dict[str, str]:
        """Inline button texts to their callback data."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return {button["text"]: button.get("callback_data", "") for row in rows for button in row}

    def styled(self, kind: str) -> list[str]:
        """The text covered by entities of one type (bold, blockquote, text_link...)."""
        return [_utf16_slice(self.text, e["offset"], e["length"]) for e in self.entities if e["type"] == kind]

    def links(self) -> list[str]:
        return [e["url"] for e in self.entities if e["type"] == "text_link"]

    def to_json(self, bot_user: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"message_id": self.message_id, "from": bot_user, "chat": self.chat,
                                "date": self.date, "text": self.text}
        if self.entities:
            data["entities"] = self.entities
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.edits:
            data["edit_date"] = int(time.time())
        return data


@dataclass(frozen=True)
class Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None


class FakeTelegram:
    """The fake Bot API server; `async with FakeTelegram() as server:` runs it on 127.0.0.1."""

    def __init__(self, token: str = TOKEN, username: str = "newsqa_test_bot") -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "newsqa",
                         "username": username, "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, int, str]] = []
        self.sent: list[SentMessage] = []
        self.actions: list[tuple[int, str]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: list[dict[str, str]] = []
        self.webhook: dict[str, Any] | None = None
        self.allowed_updates: list[str] = []
        self._pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1000)
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any] | SentMessage] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._deliveries: set[asyncio.Task[None]] = set()
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self.outages = 0
        self.port = 0

    # -- running ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What the bot's TELEGRAM_BASE_URL is set to."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> "FakeTelegram":
        self._changed = asyncio.Condition()
        await self._listen(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        await self._notify()
        for task in list(self._deliveries):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _listen(self, port: int) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening: open requests are cut off and new connections are refused (an outage).
        Updates said meanwhile are kept for after `restart`."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        self.outages += 1

    async def restart(self) -> None:
        """Listen again on the same port after `stop`."""
        if self._runner is None:
            await self._listen(self.port)

    @asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        """`async with server.outage():` the server refuses connections inside the block."""
        await self.stop()
        try:
            yield
        finally:
            await self.restart()

    # -- the users' side -------------------------------------------------------------------
    @staticmethod
    def user(user_id: int, first_name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "username": f"{first_name.lower()}{user_id}",
                "language_code": "en"}

    @staticmethod
    def group(chat_id: int = -1001234567890, title: str = "News readers") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title}

    def say(self, user: dict[str, Any], text: str, chat: dict[str, Any] | None = None,
            reply_to: SentMessage | dict[str, Any] | None = None) -> dict[str, Any]:
        """`user` sends `text` (to the bot privately unless `chat` is a group); returns the message."""
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"],
                        "username": user["username"]}
        message: dict[str, Any] = {"message_id": next(self._message_ids), "from": user, "chat": chat,
                                   "date": int(time.time()), "text": text}
        entities = self._client_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = (reply_to.to_json(self.bot_user) if isinstance(reply_to, SentMessage)
                                           else reply_to)
        self._chats[chat["id"]] = chat
        self._messages[(chat["id"], message["message_id"])] = message
        self.push({"message": message})
        return message

    def send_sticker(self, user: dict[str, Any]) -> dict[str, Any]:
        """A private message without text, as clients send stickers."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        message = {"message_id": next(self._message_ids), "from": user, "chat": chat, "date": int(time.time()),
                   "sticker": {"file_id": "CAACAgIAAxkBAAEB", "file_unique_id": "AgADAQAD", "type": "regular",
                               "width": 512, "height": 512, "is_animated": False, "is_video": False}}
        self._chats[chat["id"]] = chat
        self.push({"message": message})
        return message

    def press(self, user: dict[str, Any], message: SentMessage, button: str) -> str:
        """`user` presses the inline button labelled `button` under `message`; returns the query id."""
        buttons = message.buttons()
        assert button in buttons, f"no button {button!r} under message {message.message_id}: {list(buttons)}"
        return self.press_data(user, message, buttons[button])

    def press_data(self, user: dict[str, Any], message: SentMessage, data: str) -> str:
        """A button press carrying `data` (e.g. a button kept from an older message)."""
        query_id = str(next(self._query_ids))
        self.callback_answers[query_id] = {}
        self.push({"callback_query": {"id": query_id, "from": user, "message": message.to_json(self.bot_user),
                                      "chat_instance": f"ci{message.chat_id}", "data": data}})
        return query_id

    def push(self, body: dict[str, Any]) -> int:
        """Queue an update; returns its update_id."""
        update = {"update_id": next(self._update_ids), **body}
        self._pending.append(update)
        if self.webhook is not None:
            task = asyncio.get_running_loop().create_task(self._deliver())
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        asyncio.get_running_loop().create_task(self._notify())
        return update["update_id"]

    def fail_next(self, method: str, status: int = 429, description: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail, like Telegram's flood control by default."""
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        parameters = {"retry_after": retry_after} if retry_after else None
        for _ in range(times):
            self._failures[method.lower()].append(Failure(status, description or "Bad Request", parameters))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of `method` hang for `seconds` before they are handled
        (longer than the bot's read timeout, the bot sees a timeout and the call has no effect)."""
        for _ in range(times):
            self._delays[method.lower()].append(seconds)

    # -- watching the bot ------------------------------------------------------------------
    def messages_in(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 90.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every API call); returns its value.

        The timeout only stops a broken test from hanging; nothing asserts on time.
        """
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def reply(self, chat_id: int, number: int = 0, timeout: float = 90.0) -> SentMessage:
        """The bot's `number`-th message (from 0) in `chat_id`, once it has been sent."""
        return await self.wait_for(lambda: len(self.messages_in(chat_id)) > number
                                   and self.messages_in(chat_id)[number], timeout)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name.lower() == method.lower()]

    # -- HTTP ------------------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = getattr(self, "_api_" + method.lower(), None)
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await self._params(request)
            delays = self._delays.get(method.lower())
            if delays:
                await asyncio.sleep(delays.popleft())  # cancelled if the client gives up first
            self.calls.append((method, params))
            failures = self._failures.get(method.lower())
            if failures:
                failure = failures.popleft()
                raise ApiError(failure.status, failure.description, failure.parameters)
            body: dict[str, Any] = {"ok": True, "result": await handler(params)}
            status = 200
        except ApiError as error:
            self.errors.append((method, error.status, error.description))
            body = {"ok": False, "error_code": error.status, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            status = error.status
        finally:
            await self._notify()
        return web.json_response(body, status=status)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.can_read_body:
            raw.update({key: value for key, value in (await request.post()).items() if isinstance(value, str)})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and key in _INT_PARAMS:
                try:
                    value = int(value)
                except ValueError:
                    raise bad_request(f"wrong parameter {key}") from None
            elif isinstance(value, str) and key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise bad_request(f"can't parse {key} JSON object") from None
            params[key] = value
        return params

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params.get("chat_id"))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _client_entities(self, text: str) -> list[dict[str, Any]]:
        """The entities a Telegram client marks in a typed message: commands and @mentions."""
        entities = []
        for match in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@\w+)?|(?<!\w)@\w{5,32}", text):
            kind = "bot_command" if match[0].startswith("/") else "mention"
            if kind == "bot_command" and match.start() != 0:
                continue
            entities.append({"type": kind, "offset": utf16_len(text[:match.start()]),
                             "length": utf16_len(match[0])})
        return entities

    @staticmethod
    def _text(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        source = params.get("text", "")
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(source)
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif mode:
            raise bad_request(f"fake server supports only parse_mode HTML, not {params['parse_mode']!r}")
        else:
            text, entities = source, []
        text, entities = _strip(text, entities)
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_MESSAGE_UNITS:
            raise bad_request("message is too long")
        return text, entities

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise bad_request("BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, params: dict[str, Any]) -> SentMessage:
        found = self._messages.get((params.get("chat_id"), params.get("message_id")))
        if found is None:
            raise bad_request("message to edit not found")
        if not isinstance(found, SentMessage):
            raise bad_request("message can't be edited")
        return found

    async def _deliver(self) -> None:
        """Webhook mode: POST pending updates to the bot, oldest first, until it takes them."""
        while self._pending and self.webhook is not None and not self._closing:
            update = self._pending[0]
            headers = {"Content-Type": "application/json"}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
            try:
                async with ClientSession(timeout=ClientTimeout(total=10)) as session:
                    async with session.post(self.webhook["url"], data=json.dumps(update), headers=headers) as reply:
                        delivered = reply.status == 200
            except OSError:
                delivered = False
            if not delivered:
                await asyncio.sleep(0.2)
                continue
            if self._pending and self._pending[0] is update:
                self._pending.pop(0)

    # -- Bot API methods -------------------------------------------------------------------
    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use "
                                "deleteWebhook to delete the webhook first")
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"]
        offset = params.get("offset") or 0
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        timeout = max(0, min(int(params.get("timeout") or 0), 50))

        def ready() -> list[dict[str, Any]]:
            wanted = set(self.allowed_updates)
            self._pending = [u for u in self._pending if not wanted or (set(u) - {"update_id"}) & wanted]
            return self._pending[:int(params.get("limit") or 100)] or self._closing

        if timeout and not ready():
            try:
                await self.wait_for(ready, timeout)
            except asyncio.TimeoutError:
                pass
        updates = ready()
        return updates if isinstance(updates, list) else []

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url:
            return await self._api_deletewebhook(params)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"]
        self.webhook = {"url": url, "secret_token": secret}
        if self._pending:
            task = asyncio.get_running_loop().create_task(self._deliver())
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        text, entities = self._text(params)
        markup = self._markup(params)
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_to and (chat["id"], reply_to) not in self._messages and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        message = SentMessage(next(self._message_ids), chat, text, entities, params.get("text", ""),
                              params.get("parse_mode"), markup, reply_to)
        self.sent.append(message)
        self._messages[(chat["id"], message.message_id)] = message
        return message.to_json(self.bot_user)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._bot_message(params)
        text, entities = self._text(params)
        markup = self._markup(params)
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.source, message.parse_mode = params.get("text", ""), params.get("parse_mode")
        message.edits += 1
        return message.to_json(self.bot_user)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._bot_message(params)
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message.reply_markup = markup
        message.edits += 1
        return message.to_json(self.bot_user)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self.callback_answers or self.callback_answers[query_id]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > MAX_CALLBACK_ANSWER_CHARS:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {"text": params.get("text"), "show_alert": bool(params.get("show_alert"))}
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.actions.append((chat["id"], params["action"]))
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands = []
        return True
