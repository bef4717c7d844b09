"""Sending to a chat: a Reply rendered with its buttons' tokens, through the flood limiter."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

from bot.telegram.commands import delivery_of
from bot.telegram.core import REPLY_BUTTON, STEP_BUTTON, Core, Who
from bot.telegram.render import Outgoing
from bot.telegram.transport import deliver
from handlers.reply import Reply


class Sender:
    """Messages out, for every part of the adapter; and the claim of an update handled once."""

    def __init__(self, core: Core, bot: ExtBot[Any]) -> None:
        self.core = core
        self.bot = bot

    async def send(
        self, chat_id: int, messages: list[Outgoing], thread: int | None = None
    ) -> list[int]:
        """Send rendered messages (into a forum topic, when given); their ids."""
        return await deliver(self.bot, chat_id, messages, thread)

    async def say(
        self,
        chat_id: int,
        who: Who | None,
        reply: Reply,
        prefix: str = REPLY_BUTTON,
        thread: int | None = None,
    ) -> list[int]:
        """Send a reply; its buttons work for `who` (without one they are written out)."""
        messages = await asyncio.to_thread(self.core.render, who, reply, prefix)
        return await self.send(chat_id, messages, thread)

    async def ask(self, update: Update, who: Who, reply: Reply) -> None:
        """A conversation prompt; its buttons are step buttons."""
        assert update.effective_chat is not None
        await self.say(update.effective_chat.id, who, reply, STEP_BUTTON)

    async def claim(self, update: Update) -> bool:
        """Record an update handled outside the dispatcher; False when it was seen before."""
        return await asyncio.to_thread(self.core.claim, delivery_of(update))
