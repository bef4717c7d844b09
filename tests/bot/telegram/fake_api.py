"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp) that records every call.

It speaks enough of the Bot API for python-telegram-bot: getMe, getUpdates (long polling that
honours offset), sendMessage, editMessageText, answerCallbackQuery, sendPhoto, setMyCommands,
setWebhook, deleteWebhook. Like the real server it rejects HTML it cannot parse and texts over
4,096 characters, and it can answer the next call of a method with a 429 (retry_after).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import count
from typing import Any

from aiohttp import web

BOT_ID = 777
BOT_USERNAME = "crm_test_bot"
# Tags Telegram's HTML parse mode accepts.
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
JSON_FIELDS = {
    "reply_markup", "commands", "scope", "allowed_updates", "entities", "link_preview_options",
    "offset", "limit", "timeout", "chat_id", "message_id", "show_alert", "drop_pending_updates",
    "cache_time", "max_connections", "reply_parameters", "message_thread_id",
}  # fmt: skip


class _Checker(HTMLParser):
    """Parses Telegram HTML the way the Bot API does: known tags, properly nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(source: str) -> tuple[str, str | None]:
    """The plain text of Telegram HTML, and the parse error, if any."""
    checker = _Checker()
    checker.feed(source)
    checker.close()
    if checker.stack and checker.error is None:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    return "".join(checker.text), checker.error


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    # What the server answered (the sent message), once it has.
    result: Any = None


class FakeBotApi:
    """The server, its recorded calls, and the updates waiting for getUpdates."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = count(1)
        self._message_ids = count(100)
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._changed = asyncio.Event()
        self.chat_types: dict[int, str] = {}
        # Forum supergroups (topics), and those whose General topic is closed.
        self.forums: set[int] = set()
        self.closed_general: set[int] = set()
        # The parameters of the latest getUpdates (allowed_updates, offset).
        self.last_poll: dict[str, Any] = {}
        # getUpdates calls answered, those in flight, and those refused because another was in
        # flight (the real server answers 409 Conflict: only one bot instance may poll).
        self.polls = 0
        self.polling = 0
        self.conflicts = 0
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The API root (what TELEGRAM_API_URL is set to)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close the server."""
        if self.runner is not None:
            await self.runner.cleanup()

    # --- test controls ---------------------------------------------------------------------

    def fail_next(self, method: str, status: int = 429, **parameters: Any) -> None:
        """Answer the next call of `method` with an error (429 with retry_after by default)."""
        self._failures.setdefault(method, []).append((status, parameters))

    def push(self, update: dict[str, Any], update_id: int | None = None) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        uid = update_id if update_id is not None else next(self._update_ids)
        self.updates.append({"update_id": uid, **update})
        self._new_update.set()
        return uid

    def next_update_id(self) -> int:
        """A fresh update id (for updates posted to a webhook)."""
        return next(self._update_ids)

    def of(self, method: str) -> list[Call]:
        """Recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """sendMessage and sendPhoto calls, to one chat or all."""
        return [
            c
            for c in self.calls
            if c.method in ("sendMessage", "sendPhoto")
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self, method: str, n: int = 1, *, timeout: float = 10.0, chat_id: int | None = None
    ) -> list[Call]:
        """Wait until `method` was called at least `n` times (to `chat_id`); returns the calls."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [
                c for c in self.of(method) if chat_id is None or c.params.get("chat_id") == chat_id
            ]
            if len(calls) >= n:
                return calls
            left = deadline - time.monotonic()
            if left <= 0:
                seen = [(c.method, c.params.get("text")) for c in self.calls]
                raise AssertionError(f"{method} x{n} not called within {timeout}s; calls: {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))

    async def quiet(self, seconds: float = 0.3) -> None:
        """Let the bot run a little (to show that nothing more happens)."""
        await asyncio.sleep(seconds)

    # --- the API ---------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            params.update(body or {})
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                if key in JSON_FIELDS:
                    try:
                        params[key] = json.loads(value)
                        continue
                    except ValueError:
                        pass
                params[key] = value
            else:
                params[key] = value.file.read()  # an uploaded file: keep its bytes
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params)
        if method != "getUpdates":
            self.calls.append(call)
            self._changed.set()
        queued = self._failures.get(method)
        if queued:
            status, parameters = queued.pop(0)
            description = {429: "Too Many Requests: retry later", 403: "Forbidden: bot was blocked"}
            return _error(status, description.get(status, "Bad Request"), parameters)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method} is not faked")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        call.result = result
        return web.json_response({"ok": True, "result": result})

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "CRM",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _setMessageReaction(self, params: dict[str, Any]) -> bool:
        return True

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]] | web.Response:
        if self.polling:
            self.conflicts += 1
            return _error(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        self.polling += 1
        try:
            return await self._poll(params)
        finally:
            self.polling -= 1
            self.polls += 1

    async def _poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.last_poll = params
        offset = int(params.get("offset") or 0)
        # Confirmed updates are gone for good, as on the real server.
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            wait = min(float(params.get("timeout") or 0), 0.5)
            try:
                await asyncio.wait_for(self._new_update.wait(), wait)
            except TimeoutError:
                return []
        return list(self.updates)

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        cid = int(chat_id)
        kind = self.chat_types.get(cid, "private" if cid > 0 else "group")
        return {"id": cid, "type": kind}

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(params["chat_id"]),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "CRM"},
            **extra,
        }

    def _text_of(self, params: dict[str, Any]) -> str | web.Response:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            text, problem = parse_html(text)
            if problem:
                return _error(400, f"Bad Request: can't parse entities: {problem}")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        return text

    def _thread_problem(self, params: dict[str, Any]) -> web.Response | None:
        """Like Telegram: a thread only in a forum; nothing in a forum's closed General."""
        cid = int(params["chat_id"])
        thread = params.get("message_thread_id")
        if thread is not None and cid not in self.forums:
            return _error(400, "Bad Request: message thread not found")
        if thread is None and cid in self.closed_general:
            return _error(400, "Bad Request: TOPIC_CLOSED")
        return None

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        text = self._text_of(params)
        if isinstance(text, web.Response):
            return text
        if problem := self._thread_problem(params):
            return problem
        extra: dict[str, Any] = {"text": text}
        if params.get("reply_markup"):
            extra["reply_markup"] = params["reply_markup"]
        return self._message(params, **extra)

    async def _editMessageText(self, params: dict[str, Any]) -> Any:
        text = self._text_of(params)
        if isinstance(text, web.Response):
            return text
        return self._message(params, text=text, message_id=int(params["message_id"]))

    async def _sendPhoto(self, params: dict[str, Any]) -> Any:
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo:
            return _error(400, "Bad Request: photo is missing")
        if problem := self._thread_problem(params):
            return problem
        size = {"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}
        return self._message(params, photo=[size])


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
