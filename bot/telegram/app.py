"""The Telegram adapter: PTB Application, handlers, the /log conversation, webhook, menu."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import warnings
from typing import Any

from aiohttp import web
from telegram import BotCommand, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.bootstrap import App
from bot.telegram.conversation import (
    A_CANCEL,
    A_SAVE,
    A_VISIT,
    ASK,
    CONFIRM,
    END,
    OFFER,
    FormConversation,
    draft_of,
    mark,
)
from bot.telegram.core import PLATFORM, REPLY_BUTTON, STEP_BUTTON, Core, Who, locale_of
from bot.telegram.render import Outgoing
from bot.telegram.transport import NO_PREVIEW, PerChatUpdates, deliver, markup, webhook_secret
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Attachment, Button, Command, Reply

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# Commands the adapter answers itself; a verb with one of these menu names is typed instead.
OWN_COMMANDS = ("start", "link", "cancel")
_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
SHARE_WORDS = ("share", "分享")
CONVERSATION_TIMEOUT = 600.0
POLL_TIMEOUT = 30


class CrmContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus the staff member behind the update, looked up once per update."""

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id, user_id)
        self.who: Who | None = None


def menu_name(verb: Verb) -> str:
    """The [a-z0-9_] command under which a verb appears in Telegram's menu."""
    if verb.menu:
        return verb.menu
    name = verb.name.replace(" ", "_").lower()
    return name if _MENU_NAME.match(name) else ""


def command_rest(message: Message) -> str:
    """What follows the leading /command (with its @botname) in a message, newlines kept."""
    text = message.text or ""
    entity = next((e for e in message.entities if e.type == "bot_command" and e.offset == 0), None)
    if entity is None:
        return text.lstrip("/")
    return text[entity.length :].strip()


def command_word(message: Message | None) -> str | None:
    """The leading command of a message without slash or @botname, lower case."""
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    word = message.text[1:].split(maxsplit=1)[0] if len(message.text) > 1 else ""
    return word.split("@", 1)[0].lower()


def take_share(text: str) -> tuple[str, bool]:
    """Strip a leading or trailing `share` (the explicit ask to post in a group)."""
    words = text.split()
    if words and words[-1].lower() in SHARE_WORDS:
        return text[: text.rstrip().rfind(words[-1])].strip(), True
    if words and words[0].lower() in SHARE_WORDS:
        return text.strip()[len(words[0]) :].strip(), True
    return text, False


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


class TelegramBot:
    """The real python-telegram-bot Application wired to the dispatcher."""

    def __init__(
        self,
        app: App,
        bot: ExtBot[Any],
        *,
        webhook_url: str | None = None,
        conversation_timeout: float = CONVERSATION_TIMEOUT,
        poll_timeout: int = POLL_TIMEOUT,
    ) -> None:
        self.app = app
        self.core = Core(app.gateway(PLATFORM))
        self.registry: Registry = app.registry
        self.webhook_url = webhook_url
        self.secret = webhook_secret(app.settings) if webhook_url else ""
        self.conversation_timeout = conversation_timeout
        self.poll_timeout = poll_timeout
        builder = (
            Application.builder()
            .bot(bot)
            .context_types(ContextTypes(context=CrmContext))
            .concurrent_updates(PerChatUpdates())
        )
        if webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, CrmContext, Any, Any, Any, Any] = builder.build()
        self.verbs: dict[str, Verb] = {
            name: verb
            for verb in self.registry
            if (name := menu_name(verb)) and name not in OWN_COMMANDS
        }
        self.forms = FormConversation(self.core, self._ask, self._say)
        self._add_handlers()

    @property
    def bot(self) -> ExtBot[Any]:
        """The bot (shared with the notifier)."""
        bot: ExtBot[Any] = self.application.bot
        return bot

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, publish the command menu, then poll or register the webhook."""
        await self.application.initialize()
        await self.publish_commands()
        if self.webhook_url:
            await self.bot.set_webhook(
                self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            updater = self.application.updater
            assert updater is not None
            await updater.start_polling(
                timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES, poll_interval=0
            )
        await self.application.start()
        log.info("telegram bot @%s started (%s)", self.bot.username, self.mode)

    @property
    def mode(self) -> str:
        """`webhook` or `polling`."""
        return "webhook" if self.webhook_url else "polling"

    async def stop(self) -> None:
        """Stop taking updates, finish running handlers, close connections."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    def menu(self, locale: str) -> list[BotCommand]:
        """The command menu in one language, from the verb declarations."""
        t = Translator(locale)
        commands = [
            BotCommand(name, t(verb.help_key)[:256] or verb.name)
            for name, verb in self.verbs.items()
        ]
        commands += [
            BotCommand("link", t("telegram.menu.link")),
            BotCommand("cancel", t("telegram.menu.cancel")),
        ]
        return commands

    async def publish_commands(self) -> None:
        """set_my_commands in English (the default) and Chinese."""
        await self.bot.set_my_commands(self.menu("en"))
        await self.bot.set_my_commands(self.menu("zh"), language_code="zh")

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST of one update; a wrong or missing secret gets 403 and does nothing."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    # --- wiring ----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        a = self.application
        private = filters.ChatType.PRIVATE
        new = filters.UpdateType.MESSAGE
        a.add_handler(TypeHandler(Update, self._gate), group=-1)
        a.add_handler(CommandHandler(["link", "start"], self._link))
        a.add_handler(self._conversation())
        a.add_handler(CommandHandler("cancel", self._nothing_to_cancel))
        a.add_handler(CommandHandler(list(self.verbs), self._verb_command))
        a.add_handler(CallbackQueryHandler(self._button, pattern=f"^{REPLY_BUTTON}"))
        a.add_handler(CallbackQueryHandler(self._stale_button))
        a.add_handler(MessageHandler(private & new & filters.TEXT, self._text))
        a.add_handler(MessageHandler(private & new & ~filters.TEXT, self._unsupported))
        a.add_error_handler(self._on_error)

    def _conversation(self) -> ConversationHandler[CrmContext]:
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        step: CallbackQueryHandler[CrmContext, Any] = CallbackQueryHandler(
            self._step_button, pattern=f"^{STEP_BUTTON}"
        )
        typed = filters.TEXT & ~filters.COMMAND & private
        other = ~filters.COMMAND & private
        with warnings.catch_warnings():
            # Tracking per chat and user (not per message) is the point: steps are messages.
            warnings.filterwarnings("ignore", message=".*per_message=False.*")
            return ConversationHandler(
                entry_points=[
                    # Any command or line that answers with a form starts its steps.
                    CommandHandler(list(self.verbs), self._verb_command, filters=private),
                    MessageHandler(typed, self._text),
                    MessageHandler(filters.LOCATION & private, self._location),
                ],
                states={
                    OFFER: [step, MessageHandler(other, self._offer_typed)],
                    ASK: [step, MessageHandler(typed, self._step_typed)],
                    CONFIRM: [step, MessageHandler(other, self._confirm_typed)],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, self._timed_out)],
                },
                fallbacks=[
                    CommandHandler("cancel", self._cancel),
                    MessageHandler(other, self._step_unsupported),
                ],
                conversation_timeout=self.conversation_timeout,
                per_chat=True,
                per_user=True,
            )

    # --- sending ---------------------------------------------------------------------------

    async def _send(self, chat_id: int, messages: list[Outgoing]) -> list[int]:
        return await deliver(self.bot, chat_id, messages)

    async def _say(
        self, chat_id: int, who: Who | None, reply: Reply, prefix: str = REPLY_BUTTON
    ) -> list[int]:
        messages = await asyncio.to_thread(self.core.render, who, reply, prefix)
        return await self._send(chat_id, messages)

    async def _ask(self, update: Update, who: Who, reply: Reply) -> None:
        """A conversation prompt; its buttons are step buttons."""
        assert update.effective_chat is not None
        await self._say(update.effective_chat.id, who, reply, STEP_BUTTON)

    # --- the gate: who may talk ------------------------------------------------------------

    async def _gate(self, update: Update, context: CrmContext) -> None:
        """Look the sender up; unknown people get only how to link, groups only commands."""
        user, chat = update.effective_user, update.effective_chat
        message, query = update.message, update.callback_query
        if user is None or chat is None or user.is_bot or (message is None and query is None):
            raise ApplicationHandlerStop
        group = chat.type != ChatType.PRIVATE
        if group and message is not None and command_word(message) is None:
            # Privacy mode sends groups' commands only; anything else is not for us.
            raise ApplicationHandlerStop
        context.who = await asyncio.to_thread(self.core.who, user.id)
        if context.who is not None:
            return
        if group:
            if query is not None:
                await query.answer()
            raise ApplicationHandlerStop
        if command_word(message) in ("link", "start"):
            return
        t = Translator(locale_of(user.language_code))
        if query is not None:
            await query.answer(t("telegram.unlinked_short"), show_alert=True)
        else:
            await self._say(chat.id, None, Reply(text=t("telegram.unlinked"), status="info"))
        raise ApplicationHandlerStop

    # --- linking -------------------------------------------------------------------------

    async def _link(self, update: Update, context: CrmContext) -> None:
        """`/link CODE` (or `/start CODE` from a t.me link): tie this account to a staff member."""
        message, user, chat = update.message, update.effective_user, update.effective_chat
        assert message is not None and user is not None and chat is not None
        who = context.who
        t = who.t if who else Translator(locale_of(user.language_code))
        rest = command_rest(message)
        if not _private(update):
            await self._say(chat.id, None, Reply(text=t("telegram.link_private"), status="error"))
            return
        if who is not None and rest.startswith("@") and len(rest.split()) > 1:
            # `/link @account alice`: an admin linking someone by hand (the `link` verb).
            await self._dispatch(update, context, text=f"link {rest}")
            return
        if not rest:
            if command_word(message) == "start" and who is not None:
                await self._dispatch(update, context, text="help")
            else:
                key = "telegram.link_usage" if who is None else "telegram.already_linked"
                await self._say(chat.id, None, Reply(text=t(key, name=who.name if who else "")))
            return
        text = await asyncio.to_thread(self.core.link, user.id, rest, update.update_id, t.locale)
        if text is not None:
            await self._say(chat.id, None, Reply(text=text))

    # --- commands, text and buttons through the dispatcher ---------------------------------

    async def _dispatch(
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
        command = Command(
            who.user_id,
            PLATFORM,
            text=text,
            chat_id=str(chat.id),
            action=action,
            payload=payload or {},
            attachments=attachments,
            idempotency_key=idempotency_key,
            delivery_id=str(update.update_id),
        )
        reply, messages = await asyncio.to_thread(self.core.run, who, command)
        if reply.status == "duplicate":
            return None
        if reply.form is not None:
            if group:
                # Forms are filled in step by step in a private chat.
                note = who.t("telegram.form_private", bot=self.bot.username)
                await self._say(chat.id, None, Reply(text=note, status="info"))
                return None
            return reply
        if not group or reply.status == "error" or (share and reply.shareable):
            await self._send(chat.id, messages)
            return reply
        # In a group the answer goes to the asker privately: it may hold customer data.
        t = who.t
        try:
            await self._send(user.id, messages)
            note = t("telegram.sent_privately")
        except Forbidden:
            note = t("telegram.open_private", bot=self.bot.username)
        await self._say(chat.id, None, Reply(text=note, status="info"))
        return reply

    async def _verb_command(self, update: Update, context: CrmContext) -> int | None:
        """`/customer Acme` and every verb by its menu name; a form starts its steps."""
        message = update.message
        assert message is not None
        name = command_word(message) or ""
        verb = self.verbs.get(name)
        if verb is None:
            return END
        rest = command_rest(message)
        reply = await self._dispatch(update, context, text=f"{verb.name} {rest}".strip())
        return await self._form_from(update, context, reply)

    async def _text(self, update: Update, context: CrmContext) -> int | None:
        """Plain text in a private chat is a command line (`log visit Acme: ...`)."""
        message = update.message
        assert message is not None and message.text is not None
        text = message.text
        if text.startswith("/"):
            # An unknown /command: let the dispatcher suggest the closest verb.
            text = f"{command_word(message) or ''} {command_rest(message)}".strip()
        reply = await self._dispatch(update, context, text=text)
        return await self._form_from(update, context, reply)

    async def _unsupported(self, update: Update, context: CrmContext) -> None:
        """Stickers, photos and the like outside a conversation: say what works."""
        who = context.who
        assert who is not None and update.effective_chat is not None
        if not await asyncio.to_thread(self.core.claim, update.update_id):
            return
        await self._say(
            update.effective_chat.id, None, Reply(text=who.t("telegram.unsupported"), status="info")
        )

    async def _button(self, update: Update, context: CrmContext) -> None:
        """A Reply button: redeem its token, answer the query, run the stored action."""
        query, who = update.callback_query, context.who
        assert query is not None and who is not None
        token = (query.data or "")[len(REPLY_BUTTON) :]
        found = await asyncio.to_thread(self.core.redeem, who, token)
        if found is None:
            await query.answer(who.t("error.button_expired"))
            return
        await query.answer()
        action, payload = found
        await self._dispatch(update, context, action=action, payload=payload)

    async def _stale_button(self, update: Update, context: CrmContext) -> None:
        """Any other button (a finished conversation's, or forged data): it has expired."""
        query, who = update.callback_query, context.who
        assert query is not None and who is not None
        await query.answer(who.t("error.button_expired"))

    async def _nothing_to_cancel(self, update: Update, context: CrmContext) -> None:
        """`/cancel` outside a conversation; `/cancel #12` is the verb (a reminder)."""
        who, message = context.who, update.message
        assert who is not None and update.effective_chat is not None and message is not None
        rest = command_rest(message)
        if rest and self.registry.get("cancel") is not None:
            await self._dispatch(update, context, text=f"cancel {rest}")
            return
        await self._say(update.effective_chat.id, None, Reply(text=who.t("telegram.no_cancel")))

    # --- forms, step by step ---------------------------------------------------------------

    async def _claim(self, update: Update) -> bool:
        return await asyncio.to_thread(self.core.claim, update.update_id)

    async def _form_from(
        self, update: Update, context: CrmContext, reply: Reply | None
    ) -> int | None:
        """Start the conversation of a form a reply opened (private chats only)."""
        who = context.who
        if reply is None or reply.form is None or who is None:
            return END
        return await self.forms.begin(update, context, who, reply.form)

    async def _location(self, update: Update, context: CrmContext) -> int:
        """A shared location offers to log a visit there."""
        who = context.who
        assert who is not None
        if not await self._claim(update):
            return END
        return await self.forms.offer_visit(update, context, who)

    async def _step_button(self, update: Update, context: CrmContext) -> int | None:
        """A tap on a conversation button: the step it belongs to moves on."""
        query, who, draft = update.callback_query, context.who, draft_of(context)
        assert query is not None and who is not None
        t = who.t
        token = (query.data or "")[len(STEP_BUTTON) :]
        found = await asyncio.to_thread(self.core.redeem, who, token)
        if draft is None or found is None:
            await query.answer(t("error.button_expired"))
            return None
        action, payload = found
        if action == A_CANCEL:
            await query.answer()
            await mark(query, t("button.cancel"))
            return await self._cancel(update, context)
        if not self.forms.expects(draft, action, payload):
            # A button of an earlier step, pressed again.
            await query.answer(t("error.button_expired"))
            return None
        await query.answer()
        labels = {A_SAVE: t("button.save"), A_VISIT: t("button.log_visit_here")}
        await mark(query, labels.get(action) or str(payload.get("label") or ""))
        if action == A_SAVE:
            # The gateway records this update with what the form writes.
            return await self.forms.save(update, context, who, draft)
        if not await self._claim(update):
            return None
        return await self.forms.tapped(update, who, draft, action, payload)

    async def _step_typed(self, update: Update, context: CrmContext) -> int | None:
        """A typed answer to the step being asked."""
        message, who, draft = update.message, context.who, draft_of(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self._claim(update):
            return None
        return await self.forms.typed(update, who, draft, message.text)

    async def _offer_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            t = who.t
            buttons = [
                Button(t("button.log_visit_here"), A_VISIT, {}, "primary"),
                Button(t("button.cancel"), A_CANCEL, {}, "danger"),
            ]
            await self._ask(update, who, Reply(text=t("telegram.visit.tap"), buttons=buttons))
        return None

    async def _confirm_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            t = who.t
            buttons = [
                Button(t("button.save"), A_SAVE, {}, "primary"),
                Button(t("button.cancel"), A_CANCEL, {}, "danger"),
            ]
            reply = Reply(text=t("form.confirm_tap"), buttons=buttons, status="info")
            await self._ask(update, who, reply)
        return None

    async def _step_unsupported(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            await self._ask(update, who, Reply(text=who.t("form.type_text"), status="info"))
        return None

    async def _cancel(self, update: Update, context: CrmContext) -> int:
        """`/cancel` (or the Cancel button) at any step: nothing is saved."""
        who, chat = context.who, update.effective_chat
        assert who is not None and chat is not None
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        await self._say(chat.id, None, Reply(text=who.t("form.cancelled")))
        return END

    async def _timed_out(self, update: Update, context: CrmContext) -> None:
        """The conversation waited too long: say so, politely, and drop the draft."""
        chat = update.effective_chat
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        if chat is None or update.effective_user is None:
            return
        who = context.who or await asyncio.to_thread(self.core.who, update.effective_user.id)
        t = who.t if who else Translator("en")
        minutes = max(1, round(self.conversation_timeout / 60))
        await self._say(chat.id, None, Reply(text=t("form.timeout", minutes=minutes)))

    # --- errors ----------------------------------------------------------------------------

    async def _on_error(self, update: object, context: CrmContext) -> None:
        """Log with traceback and a reference; apologise with it; keep serving."""
        ref = secrets.token_hex(4)
        log.error("telegram update failed (ref %s)", ref, exc_info=context.error)
        if not isinstance(update, Update):
            return
        who = context.who
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
            await self.bot.send_message(
                chat.id,
                t("error.internal", ref=ref),
                parse_mode=None,
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError:
            log.warning("could not send the apology for ref %s", ref)


__all__ = ["PLATFORM", "ParseMode", "TelegramBot", "markup"]
