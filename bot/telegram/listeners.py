"""Commands, text and buttons: each runs through the gateway as the sender and is answered."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError

from bot.telegram.commands import (
    OWN_COMMANDS,
    attachments_of,
    command_rest,
    command_target,
    command_word,
    delivery_of,
    message_line,
    quoted_of,
    take_share,
    thread_of,
)
from bot.telegram.conversation import END, FormConversation, draft_of
from bot.telegram.core import PLATFORM, REPLY_BUTTON, Core
from bot.telegram.identity import CrmContext
from bot.telegram.sending import Sender
from bot.telegram.transport import NO_PREVIEW
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Attachment, Command, Reply

log = logging.getLogger(__name__)


class Listeners:
    """The handlers outside a conversation, and the one error handler."""

    def __init__(
        self,
        core: Core,
        sender: Sender,
        registry: Registry,
        verbs: dict[str, Verb],
        forms: FormConversation,
    ) -> None:
        self.core = core
        self.sender = sender
        self.registry = registry
        self.verbs = verbs
        self.forms = forms

    async def dispatch(
        self,
        update: Update,
        context: CrmContext,
        *,
        text: str = "",
        action: str | None = None,
        payload: dict[str, Any] | None = None,
        attachments: tuple[Attachment, ...] = (),
        idempotency_key: str | None = None,
    ) -> Reply | None:
        """Run a command for the sender and show the reply where the chat's rules allow."""
        who, chat, user = context.who, update.effective_chat, update.effective_user
        assert who is not None and chat is not None and user is not None
        group = chat.type != ChatType.PRIVATE
        share = False
        if group and action is None:
            text, share = take_share(text)
        # A typed command (new or edited): one message logs at most one note, whatever happens.
        message = update.message or update.edited_message
        if message is not None and idempotency_key is None:
            idempotency_key = f"telegram:{chat.id}:{message.message_id}"
        if message is not None and (quoted := quoted_of(message)) is not None:
            attachments = (*attachments, quoted)
        command = Command(
            who.user_id,
            PLATFORM,
            text=text,
            chat_id=str(chat.id),
            action=action,
            payload=payload or {},
            attachments=attachments,
            idempotency_key=idempotency_key,
            delivery_id=delivery_of(update),
        )
        # A typed write is remembered for its message (an edit of it will not write again),
        # in the unit of work that runs it.
        wrote = (
            (chat.id, message.message_id) if message is not None and self._writes(text) else None
        )
        reply, messages = await asyncio.to_thread(self.core.run, who, command, wrote=wrote)
        if reply.status == "duplicate":
            return None
        if reply.form is not None:
            if group:
                # Forms are filled in step by step in a private chat.
                note = who.t("telegram.form_private", bot=self.sender.bot.username)
                await self.sender.say(chat.id, None, Reply(text=note, status="info"))
                return None
            return reply
        # In a forum group every answer goes back into the topic the command came from.
        thread = thread_of(update) if group else None
        if not group or reply.status == "error" or (share and reply.shareable):
            await self.sender.send(chat.id, messages, thread)
            return reply
        # In a group the answer goes to the asker privately: it may hold customer data.
        t = who.t
        try:
            await self.sender.send(user.id, messages)
            note = t("telegram.sent_privately")
        except Forbidden:
            note = t("telegram.open_private", bot=self.sender.bot.username)
        await self.sender.say(chat.id, None, Reply(text=note, status="info"), thread=thread)
        return reply

    def _writes(self, text: str) -> bool:
        """Whether a command line is one of the verbs that change the CRM."""
        found = self.registry.match(text)
        return found is not None and found[0].writes

    async def on_edited(self, update: Update, context: CrmContext) -> None:
        """An edited message: its corrected command runs once, unless the original already
        changed the CRM (then running it again would write twice: say so instead)."""
        message, chat, who = update.edited_message, update.effective_chat, context.who
        assert message is not None and chat is not None and who is not None
        group = chat.type != ChatType.PRIVATE
        text = message_line(message)[0]
        if not text.strip() or (group and not self.for_us(message)):
            return  # a live location moving, a caption removed, or not our command
        key = None
        if command_word(message) in OWN_COMMANDS:
            key = "telegram.edit_send_again"
        elif draft_of(context) is not None:
            key = "telegram.edit_in_steps"
        elif await asyncio.to_thread(self.core.wrote, chat.id, message.message_id):
            key = "telegram.edit_already_ran"
        if key is None:
            await self.dispatch(
                update,
                context,
                text=self.command_line(message),
                attachments=attachments_of(message),
            )
        elif await asyncio.to_thread(self.core.claim, delivery_of(update)):
            reply = Reply(text=who.t(key), status="info")
            await self.sender.say(chat.id, None, reply, thread=thread_of(update))

    async def on_verb(self, update: Update, context: CrmContext) -> int | None:
        """`/customer Acme` and every verb by its menu name; a form starts its steps."""
        message = update.message
        assert message is not None
        name = command_word(message) or ""
        verb = self.verbs.get(name)
        if verb is None:
            return END
        rest = command_rest(message)
        reply = await self.dispatch(update, context, text=f"{verb.name} {rest}".strip())
        return await self.form_from(update, context, reply)

    async def on_text(self, update: Update, context: CrmContext) -> int | None:
        """Plain text in a private chat is a command line (`log visit Acme: ...`)."""
        message = update.message
        assert message is not None and message.text is not None
        reply = await self.dispatch(update, context, text=self.command_line(message))
        return await self.form_from(update, context, reply)

    def command_line(self, message: Message) -> str:
        """A message as a dispatcher line: `/new_customer X` -> `new customer X`."""
        text = message_line(message)[0]
        if not text.startswith("/"):
            return text
        # A verb by menu name, an alias Telegram did not mark (`/客户`), or an unknown
        # /command the dispatcher answers with the closest verb.
        word = command_word(message) or ""
        verb = self.verbs.get(word)
        return f"{verb.name if verb else word} {command_rest(message)}".strip()

    async def on_group_unmarked(self, update: Update, context: CrmContext) -> None:
        """`/客户 华东物流` in a group: a command like `/customer`, unless meant for another bot."""
        message = update.message
        assert message is not None
        if self.for_us(message):
            await self.dispatch(update, context, text=self.command_line(message))

    def for_us(self, message: Message) -> bool:
        """A group line that is one of our commands (not another bot's, not chatter)."""
        target = command_target(message)
        if target is not None and target.lower() != (self.sender.bot.username or "").lower():
            return False
        word = command_word(message) or ""
        line = f"{word} {command_rest(message)}"
        return word in self.verbs or self.registry.match(line) is not None

    async def on_captioned(self, update: Update, context: CrmContext) -> None:
        """A photo, document or voice note with a caption: the caption is the command, and
        the file goes with it (a logged note keeps a reference to it)."""
        message, chat = update.message, update.effective_chat
        assert message is not None and chat is not None
        if chat.type != ChatType.PRIVATE and not self.for_us(message):
            return
        await self.dispatch(
            update,
            context,
            text=self.command_line(message),
            attachments=attachments_of(message),
        )

    async def on_unsupported(self, update: Update, context: CrmContext) -> None:
        """Stickers, photos and the like outside a conversation: say what works."""
        who = context.who
        assert who is not None and update.effective_chat is not None
        if not await asyncio.to_thread(self.core.claim, update.update_id):
            return
        await self.sender.say(
            update.effective_chat.id, None, Reply(text=who.t("telegram.unsupported"), status="info")
        )

    async def on_button(self, update: Update, context: CrmContext) -> int | None:
        """A Reply button: redeem its token, answer the query, run the stored action; a reply
        that opens a form (a card's Edit) starts its steps."""
        query, who = update.callback_query, context.who
        assert query is not None and who is not None
        token = (query.data or "")[len(REPLY_BUTTON) :]
        found = await asyncio.to_thread(self.core.redeem, who, token)
        if found is None:
            await query.answer(who.t("error.button_expired"))
            return END
        await query.answer()
        action, payload = found
        reply = await self.dispatch(update, context, action=action, payload=payload)
        return await self.form_from(update, context, reply)

    async def on_stale_button(self, update: Update, context: CrmContext) -> None:
        """Any other button (a finished conversation's, or forged data): it has expired."""
        query, who = update.callback_query, context.who
        assert query is not None and who is not None
        await query.answer(who.t("error.button_expired"))

    async def on_cancel(self, update: Update, context: CrmContext) -> None:
        """`/cancel` outside a conversation; `/cancel #12` is the verb (a reminder)."""
        who, message = context.who, update.message
        assert who is not None and update.effective_chat is not None and message is not None
        rest = command_rest(message)
        if rest and self.registry.get("cancel") is not None:
            await self.dispatch(update, context, text=f"cancel {rest}")
            return
        reply = Reply(text=who.t("telegram.no_cancel"))
        await self.sender.say(update.effective_chat.id, None, reply, thread=thread_of(update))

    async def form_from(
        self, update: Update, context: CrmContext, reply: Reply | None
    ) -> int | None:
        """Start the conversation of a form a reply opened (private chats only)."""
        who = context.who
        if reply is None or reply.form is None or who is None:
            return END
        return await self.forms.begin(update, context, who, reply.form)

    async def on_error(self, update: object, context: CrmContext) -> None:
        """Log with traceback and a reference; apologise with it; keep serving."""
        ref = secrets.token_hex(4)
        log.error(
            "telegram update failed (ref %s)", ref, exc_info=context.error, extra={"ref": ref}
        )
        if not isinstance(update, Update):
            return
        who = context.who
        user = update.effective_user
        if who is None and user is not None and not user.is_bot:
            # The error handler gets a fresh context: look the sender up again, so a linked
            # person's failed group command is apologised for too (strangers' stay silent).
            who = await asyncio.to_thread(self.core.who_if_reachable, user.id)
        t = who.t if who else Translator("en")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
        except TelegramError:
            pass  # already answered, or too old to answer: the apology below still goes out
        chat = update.effective_chat
        if chat is None or (who is None and chat.type != ChatType.PRIVATE):
            return
        try:
            await self.sender.bot.send_message(
                chat.id,
                t("error.internal", ref=ref),
                parse_mode=None,
                link_preview_options=NO_PREVIEW,
                message_thread_id=thread_of(update),
            )
        except TelegramError:
            log.warning("could not send the apology for ref %s", ref, extra={"ref": ref})
