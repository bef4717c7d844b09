"""The Telegram Notifier: reminders, digests and alerts sent to a chat through the bot."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.telegram.core import PLATFORM, Core
from bot.telegram.transport import deliver
from handlers.gateway import Gateway
from handlers.notify import Address, DeliveryFailed
from handlers.reply import Reply


class TelegramNotifier:
    """Sends a Reply to a Telegram chat id, through the same flood limiter as the bot."""

    platform = PLATFORM

    def __init__(self, bot: Any, gateway: Gateway) -> None:
        self.bot = bot
        self.core = Core(gateway)
        self._init_lock = asyncio.Lock()

    async def _ready(self) -> None:
        # The adapter usually initialised the shared bot already; initialize() is idempotent.
        async with self._init_lock:
            await self.bot.initialize()

    async def send(self, address: Address, reply: Reply) -> str:
        """Deliver `reply`; returns the last message id or raises DeliveryFailed."""
        if address.platform != PLATFORM:
            raise DeliveryFailed(f"not a Telegram address: {address.platform}", retryable=False)
        try:
            chat_id = int(address.target)
        except ValueError:
            raise DeliveryFailed("a Telegram chat id is a number", retryable=False) from None
        # Buttons work for the person in a private chat; in a group they are written out.
        who = None if address.channel else await asyncio.to_thread(self.core.who, chat_id)
        messages = await asyncio.to_thread(self.core.render, who, reply)
        try:
            await self._ready()
            # A thread here is the message to answer (the requester's, for a CSAT question).
            reply_to = int(address.thread) if address.thread and address.thread.isdigit() else None
            ids = await deliver(self.bot, chat_id, messages, reply_to=reply_to)
        except RetryAfter as exc:
            # The limiter already waited and retried; the caller may try again later.
            raise DeliveryFailed(f"rate limited: {exc.message}") from exc
        except Forbidden as exc:
            raise DeliveryFailed(
                f"blocked or not a member: {exc.message}", retryable=False
            ) from exc
        except BadRequest as exc:
            raise DeliveryFailed(f"refused: {exc.message}", retryable=False) from exc
        except (NetworkError, TelegramError) as exc:
            raise DeliveryFailed(f"network: {exc}") from exc
        return str(ids[-1]) if ids else ""

    async def react(self, chat: str, message: str, name: str, others: list[str]) -> None:
        """Set the bot's reaction on a message to `name` (a bot has one: the old one goes)."""
        del others
        try:
            await self._ready()
            await self.bot.set_message_reaction(int(chat), int(message), reaction=name)
        except TelegramError as exc:
            raise DeliveryFailed(f"reaction refused: {exc}", retryable=False) from exc
