"""The Bot API connection: the bot object, flood limits, per-chat ordering, sending messages."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, BaseUpdateProcessor, ExtBot
from telegram.request import HTTPXRequest

from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.render import Outgoing
from crm_core.settings import Settings

log = logging.getLogger(__name__)
JSONDict = dict[str, Any]

# Telegram's published flood limits.
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# "About one message a second" in one private chat, with a short burst for a split reply.
CHAT_BURST = 3
# A 429 is retried after its retry_after this many times before the send fails.
MAX_RETRIES = 3
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class FloodLimiter(AIORateLimiter):
    """PTB's limiter (30/s overall, 20/min a group, retry_after honoured) plus ~1/s a chat."""

    def __init__(self, *, chat_burst: int = CHAT_BURST, **kwargs: Any) -> None:
        kwargs.setdefault("overall_max_rate", OVERALL_PER_SECOND)
        kwargs.setdefault("overall_time_period", 1)
        kwargs.setdefault("group_max_rate", GROUP_PER_MINUTE)
        kwargs.setdefault("group_time_period", 60)
        kwargs.setdefault("max_retries", MAX_RETRIES)
        super().__init__(**kwargs)
        self._chat_burst = chat_burst
        self._chat_limiters: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chat_limiters) > 1024:
            # Forget idle chats so the table stays small on a busy bot.
            for key, limiter in list(self._chat_limiters.items()):
                if limiter.has_capacity(self._chat_burst):
                    del self._chat_limiters[key]
        if chat_id not in self._chat_limiters:
            self._chat_limiters[chat_id] = AsyncLimiter(self._chat_burst, self._chat_burst)
        return self._chat_limiters[chat_id]

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Wait for the chat's own budget (private chats), then PTB's limits and retries."""
        chat_id = data.get("chat_id")
        if isinstance(chat_id, int) and chat_id > 0 and self._chat_burst:
            async with self._chat_limiter(chat_id):
                pass
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


class PerChatUpdates(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat run in order, each
    inside `around()` (the database connection its handlers share)."""

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        around: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._around = around or nullcontext

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run one update's handlers, after earlier updates of the same chat."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._around():
                await coroutine
            return
        key = chat.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._around():
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def api_root(settings: Settings) -> str:
    """The Bot API server root without a trailing slash."""
    return settings.telegram_api_url.rstrip("/")


def bot_token(settings: Settings) -> str:
    """The configured bot token (callers check it is set)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    return settings.telegram_bot_token.get_secret_value()


def webhook_secret(settings: Settings) -> str:
    """The webhook secret: the configured one, or one derived from the bot token.

    Derived with HMAC so every worker agrees without configuration and the token cannot be
    recovered from it; hex digits are within Telegram's secret_token alphabet.
    """
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    key = bot_token(settings).encode()
    return hmac.new(key, b"crmbot telegram webhook", hashlib.sha256).hexdigest()


def _shape(data: dict[str, Any]) -> str:
    """An update's field names (never its values: they hold message text)."""
    parts = []
    for key in sorted(data):
        inner = data[key]
        fields = ",".join(sorted(inner)) if isinstance(inner, dict) else ""
        parts.append(f"{key}({fields})" if fields else key)
    return " ".join(parts)


def readable(data: dict[str, Any], bot: ExtBot[Any] | None = None) -> Update | None:
    """The update, or None when the library cannot read it (logged once, without its text).

    An older self-hosted Bot API server can send updates python-telegram-bot rejects; one of
    them must not stop everything after it.
    """
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # whatever the parser raises, the update is skipped and logged
        log.warning(
            "skipped Telegram update %s that could not be read (%s); fields: %s",
            data.get("update_id"),
            type(exc).__name__,
            _shape(data),
        )
        return None


class UpdatesRequest(HTTPXRequest):
    """getUpdates that skips updates the library cannot read instead of failing every poll.

    An unreadable update is handed on as an empty one with its id, so the offset moves past it
    (PTB would otherwise fetch and fail on it forever, logging its raw text each time). Used
    only as the bot's get_updates_request, so every result here is a list of updates.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """The Bot API's answer, with unreadable updates emptied."""
        answer = HTTPXRequest.parse_json_payload(payload)
        result = answer.get("result")
        if not isinstance(result, list):
            return answer
        kept: list[JSONDict] = []
        for data in result:
            if isinstance(data, dict) and readable(data) is not None:
                kept.append(data)
            elif isinstance(data, dict) and isinstance(data.get("update_id"), int):
                kept.append({"update_id": data["update_id"]})
        return {**answer, "result": kept}


def make_bot(settings: Settings, *, limiter: FloodLimiter | None = None) -> ExtBot[Any]:
    """A bot on the configured API server, its requests passing through the flood limiter."""
    root = api_root(settings)
    return ExtBot(
        bot_token(settings),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(connection_pool_size=64, pool_timeout=10.0),
        get_updates_request=UpdatesRequest(connection_pool_size=1),
        rate_limiter=limiter or FloodLimiter(),
    )


def markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Keyboard rows of (label, callback data) as Telegram's markup."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def deliver(
    bot: ExtBot[Any],
    chat_id: int | str,
    messages: list[Outgoing],
    thread_id: int | None = None,
    reply_to: int | None = None,
) -> list[int]:
    """Send rendered messages in order (into a forum topic, given its thread; the first in
    reply to a message, given one); their ids."""
    ids: list[int] = []
    for n, out in enumerate(messages):
        replying = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None and n == 0
            else None
        )
        if out.photo is not None:
            sent = await bot.send_photo(
                chat_id,
                out.photo,
                caption=out.caption or None,
                reply_markup=markup(out.keyboard),
                message_thread_id=thread_id,
                reply_parameters=replying,
            )
        else:
            sent = await bot.send_message(
                chat_id,
                out.html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(out.keyboard),
                link_preview_options=NO_PREVIEW,
                message_thread_id=thread_id,
                reply_parameters=replying,
            )
        ids.append(sent.message_id)
    return ids
