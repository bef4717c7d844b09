"""Who is writing: the staff member behind a Telegram account, and linking with a code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CallbackContext, ExtBot

from bot.telegram.commands import command_rest, command_target, command_word, delivery_of, thread_of
from bot.telegram.core import Core, Who, locale_of
from bot.telegram.desk import CSAT_PREFIX, TelegramDesk
from bot.telegram.sending import Sender
from handlers.i18n import Translator
from handlers.reply import Reply


class CrmContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus the staff member behind the update, looked up once per update."""

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id, user_id)
        self.who: Who | None = None


# Runs a command line for the sender (the listeners' dispatch).
Dispatch = Callable[..., Awaitable[Any]]


def private(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


class Gate:
    """The first look at every update, and `/link CODE`."""

    def __init__(self, core: Core, sender: Sender, dispatch: Dispatch) -> None:
        self.core = core
        self.sender = sender
        self.dispatch = dispatch
        self.desk = TelegramDesk(core, sender)

    async def gate(self, update: Update, context: CrmContext) -> None:
        """Look the sender up; unknown people get only how to link, groups only commands."""
        user, chat = update.effective_user, update.effective_chat
        message, query = update.message or update.edited_message, update.callback_query
        if update.message_reaction is not None:
            await self.desk.on_reaction(update)
            raise ApplicationHandlerStop
        if query is not None and (query.data or "").startswith(CSAT_PREFIX):
            # A satisfaction question: pressed by a customer's person, who has no account.
            await self.desk.on_csat(update)
            raise ApplicationHandlerStop
        if query is not None and chat is None:
            # A button on an inline message (not ours): stop the client's spinner all the same.
            await query.answer()
            raise ApplicationHandlerStop
        if user is None or chat is None or (message is None and query is None):
            raise ApplicationHandlerStop
        group = chat.type != ChatType.PRIVATE
        if group and message is not None and command_word(message) is None:
            # Privacy mode sends groups' commands only; where the bot is an admin (a customer
            # group) it sees every message: the desk's, or not for us.
            if update.message is not None:
                await self.desk.on_message(update)
            raise ApplicationHandlerStop
        if group and message is not None and message.sender_chat is not None:
            # An anonymous admin (or a channel) has no account to act as: say so.
            await self._answer_once(update, message, "telegram.anonymous", user.language_code)
            raise ApplicationHandlerStop
        if user.is_bot:
            raise ApplicationHandlerStop
        keep = self._straight_to_run(update, context)
        context.who = await asyncio.to_thread(self.core.who, user.id, keep=keep)
        if context.who is not None:
            return
        if group:
            if query is not None:
                await query.answer()
            elif update.message is not None and await self.desk.outsider(update):
                pass  # a customer's person: told only how to open a ticket
            elif message is not None and command_word(message) == "link":
                language = user.language_code
                await self._answer_once(update, message, "telegram.link_in_group", language)
            raise ApplicationHandlerStop
        if command_word(message) in ("link", "start"):
            return
        t = Translator(locale_of(user.language_code))
        if query is not None:
            await query.answer(t("telegram.unlinked_short"), show_alert=True)
        else:
            await self.sender.say(chat.id, None, Reply(text=t("telegram.unlinked"), status="info"))
        raise ApplicationHandlerStop

    @staticmethod
    def _straight_to_run(update: Update, context: CrmContext) -> bool:
        """Whether the update goes from here straight to `Core.run` (a typed command or line
        with no form under way): only then may its look-up's connection wait for the command.
        Buttons, edits, form steps, /link and /cancel first claim, redeem or answer Telegram."""
        message = update.message
        if message is None or (message.text is None and message.caption is None):
            return False
        if command_word(message) in ("link", "start", "cancel"):
            return False
        data = context.chat_data
        return data is None or data.get("draft") is None

    async def _answer_once(
        self, update: Update, message: Message, key: str, language: str | None
    ) -> None:
        """Answer a group command we cannot run (in its topic), once per delivery."""
        target = command_target(message)
        if target is not None and target.lower() != (self.sender.bot.username or "").lower():
            return
        if not await asyncio.to_thread(self.core.claim, delivery_of(update)):
            return
        t = Translator(locale_of(language))
        reply = Reply(text=t(key, bot=self.sender.bot.username), status="info")
        await self.sender.say(message.chat.id, None, reply, thread=thread_of(update))

    async def link(self, update: Update, context: CrmContext) -> None:
        """`/link CODE` (or `/start CODE` from a t.me link): tie this account to a staff member."""
        message, user, chat = update.message, update.effective_user, update.effective_chat
        assert message is not None and user is not None and chat is not None
        who = context.who
        t = who.t if who else Translator(locale_of(user.language_code))
        rest = command_rest(message)
        if not private(update):
            reply = Reply(text=t("telegram.link_private"), status="error")
            await self.sender.say(chat.id, None, reply, thread=thread_of(update))
            return
        if who is not None and rest.startswith("@") and len(rest.split()) > 1:
            # `/link @account alice`: an admin linking someone by hand (the `link` verb).
            await self.dispatch(update, context, text=f"link {rest}")
            return
        if not rest:
            if command_word(message) == "start" and who is not None:
                await self.dispatch(update, context, text="help")
            else:
                key = "telegram.link_usage" if who is None else "telegram.already_linked"
                await self.sender.say(
                    chat.id, None, Reply(text=t(key, name=who.name if who else ""))
                )
            return
        text = await asyncio.to_thread(self.core.link, user.id, rest, update.update_id, t.locale)
        if text is not None:
            await self.sender.say(chat.id, None, Reply(text=text))
