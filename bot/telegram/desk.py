"""The service desk's Telegram updates: a customer group's messages and replies (the bot is
an admin there, so it sees every message and its reactions), staff reactions, CSAT presses and
commands from people with no account. Each is translated into a handlers.desk call and its
DeskAction carried out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Message, ReactionTypeEmoji, ReplyParameters, Update
from telegram.error import Forbidden, TelegramError

from bot.telegram.commands import delivery_of, thread_of
from bot.telegram.core import PLATFORM, Core
from bot.telegram.sending import Sender
from handlers.desk import ChatMessage, DeskAction
from handlers.i18n import Translator

log = logging.getLogger(__name__)
CSAT_PREFIX = "csat:"


def message_key(chat_id: int, message_id: int) -> str:
    """A Telegram message's key, as `/ticket` in reply names it too."""
    return f"telegram:{chat_id}:{message_id}"


def link_of(message: Message) -> str | None:
    """The t.me address of a message, where its chat has one."""
    chat = message.chat
    if chat.username:
        return f"https://t.me/{chat.username}/{message.message_id}"
    if str(chat.id).startswith("-100"):
        return f"https://t.me/c/{str(chat.id)[4:]}/{message.message_id}"
    return None


class TelegramDesk:
    """Customer groups, reactions and CSAT buttons, through the gateway's desk."""

    def __init__(self, core: Core, sender: Sender) -> None:
        self.core = core
        self.sender = sender
        self.desk = core.gateway.desk

    @property
    def t(self) -> Translator:
        """What customers read: the deployment's language."""
        return Translator(self.desk.settings.default_locale)

    async def on_message(self, update: Update) -> None:
        """A group message that is no command: logged on its ticket, or (auto) a ticket."""
        message, user = update.message, update.effective_user
        if message is None or user is None or user.is_bot or message.sender_chat is not None:
            return
        chat_id = message.chat.id
        quoted = message.reply_to_message
        root = quoted.message_id if quoted and quoted.forum_topic_created is None else None
        thread_key = message_key(chat_id, root) if root is not None else None
        if not await asyncio.to_thread(self.desk.concerns, str(chat_id), thread_key):
            return
        if not await asyncio.to_thread(self.core.claim, delivery_of(update)):
            return
        msg = ChatMessage(
            platform=PLATFORM,
            chat_id=str(chat_id),
            key=message_key(chat_id, message.message_id),
            author_id=str(user.id),
            author_name=user.full_name,
            text=message.text or message.caption or "",
            link=link_of(message),
            thread_key=thread_key,
            where=f"{chat_id}:{root or message.message_id}",
        )
        done = await asyncio.to_thread(self.desk.message, msg)
        if done is not None:
            await self.carry_out(done, chat_id, root or message.message_id, None)

    async def on_reaction(self, update: Update) -> None:
        """A staff member's new reaction on a ticket's source message sets its status.

        A reaction update carries no message text, so in Telegram a ticket is opened with
        `/ticket` in reply (or by an auto group), not by a reaction.
        """
        changed = update.message_reaction
        if changed is None or changed.user is None:
            return  # an anonymous admin's reaction: nobody to act as
        old = {r.emoji for r in changed.old_reaction if isinstance(r, ReactionTypeEmoji)}
        new = [r.emoji for r in changed.new_reaction if isinstance(r, ReactionTypeEmoji)]
        reactor = str(changed.user.id)
        key = message_key(changed.chat.id, changed.message_id)
        for emoji in new:
            if emoji in old:
                continue
            action = await asyncio.to_thread(self.desk.reaction_action, reactor, emoji)
            if action is None or action == "ticket":
                continue
            done = await asyncio.to_thread(self.desk.react_status, reactor, key, action)
            if done is not None:
                await self.carry_out(done, changed.chat.id, changed.message_id, changed.user.id)
            return

    async def on_csat(self, update: Update) -> None:
        """A press on a CSAT button, by anyone: only the requester's first press counts."""
        query = update.callback_query
        assert query is not None
        _, _, rest = (query.data or "").partition(CSAT_PREFIX)
        q, _, s = rest.partition(":")
        payload: dict[str, Any] = {"q": int(q), "s": int(s)} if q.isdigit() and s.isdigit() else {}
        reply = await asyncio.to_thread(self.desk.answer_csat, str(query.from_user.id), payload)
        # A pop-up only the presser sees: nothing about the ticket is shown to the group.
        await query.answer(reply.text[:200], show_alert=True)

    async def outsider(self, update: Update) -> bool:
        """A command from someone with no account in a customer group: how to open a ticket,
        once per delivery. False when the chat is no customer group."""
        chat = update.effective_chat
        if chat is None or not await asyncio.to_thread(self.desk.is_customer_chat, str(chat.id)):
            return False
        if await asyncio.to_thread(self.core.claim, delivery_of(update)):
            await self.sender.say(chat.id, None, self.desk.outsider(), thread=thread_of(update))
        return True

    async def carry_out(
        self, done: DeskAction, chat_id: int, reply_to: int, staff: int | None
    ) -> None:
        """Say the line in reply, set the status reaction, tell the staff member privately."""
        bot = self.sender.bot
        try:
            if done.thread_reply is not None:
                said = await bot.send_message(
                    chat_id,
                    done.thread_reply.text,
                    reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True),
                )
                if done.ticket_id is not None:
                    # Telegram keeps no threads: a reply to this line must find the ticket.
                    key = message_key(chat_id, said.message_id)
                    await asyncio.to_thread(self.desk.remember, done.ticket_id, key)
            if done.mirror and done.source_key:
                _, chat, mid = done.source_key.split(":", 2)
                # A bot has one reaction of its own on a message: setting it replaces the old.
                await bot.set_message_reaction(int(chat), int(mid), reaction=done.mirror)
        except TelegramError as exc:
            log.warning("desk action in a Telegram group failed: %s", type(exc).__name__)
        if done.private is not None and staff is not None:
            try:
                await self.sender.say(staff, None, done.private)
            except Forbidden:
                log.info("could not tell a staff member privately (no private chat yet)")
