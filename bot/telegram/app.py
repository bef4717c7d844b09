"""The Telegram adapter: PTB Application, handlers, the /log conversation, webhook, menu."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand, Message, MessageEntity, Update
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
from bot.telegram.core import PLATFORM, REPLY_BUTTON, STEP_BUTTON, Core, Who, locale_of
from bot.telegram.render import Outgoing
from bot.telegram.transport import (
    NO_PREVIEW,
    PerChatUpdates,
    deliver,
    markup,
    readable,
    webhook_secret,
)
from crm_core.models import InteractionKind
from crm_core.services.interactions import MAX_TEXT as MAX_NOTE
from crm_core.when import parse_day
from handlers import format as fmt
from handlers.grammar import take_kind
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Attachment, Button, Command, Field, File, Location, Photo, Reply

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# Commands the adapter answers itself; a verb with one of these menu names is typed instead.
OWN_COMMANDS = ("start", "link", "cancel")
_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
# A leading /word (any script) and the blanks after it.
_SLASH_WORD = re.compile(r"^/\S*\s*")
SHARE_WORDS = ("share", "分享")
CONVERSATION_TIMEOUT = 600.0
POLL_TIMEOUT = 30

# Steps of the /log conversation (and of a visit started by sending a location).
OFFER, CUSTOMER, KIND, TEXT, FOLLOW_UP, CONFIRM = range(6)
END = ConversationHandler.END
# Actions of conversation buttons (stored behind tokens like every other button).
A_VISIT, A_CUSTOMER, A_KIND, A_FOLLOW_UP, A_SAVE, A_CANCEL = (
    "tg.visit",
    "tg.customer",
    "tg.kind",
    "tg.follow_up",
    "tg.save",
    "tg.cancel",
)
STEP_ACTIONS = {
    OFFER: {A_VISIT},
    CUSTOMER: {A_CUSTOMER},
    KIND: {A_KIND},
    FOLLOW_UP: {A_FOLLOW_UP},
    CONFIRM: {A_SAVE},
}


class CrmContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus the staff member behind the update, looked up once per update."""

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application, chat_id, user_id)
        self.who: Who | None = None


@dataclass
class Draft:
    """A note being put together step by step (platform state until it is saved)."""

    step: int = CUSTOMER
    customer_id: int | None = None
    customer_name: str = ""
    kind: str | None = None
    text: str = ""
    follow_up: date | None = None
    location: tuple[float, float] | None = None


def menu_name(verb: Verb) -> str:
    """The [a-z0-9_] command under which a verb appears in Telegram's menu."""
    if verb.menu:
        return verb.menu
    name = verb.name.replace(" ", "_").lower()
    return name if _MENU_NAME.match(name) else ""


def message_line(message: Message) -> tuple[str, tuple[MessageEntity, ...]]:
    """A message's text and its entities; for a photo, document or voice note, its caption."""
    if message.text is not None:
        return message.text, message.entities
    return message.caption or "", message.caption_entities


def command_rest(message: Message) -> str:
    """What follows the leading /command (with its @botname) in a message, newlines kept."""
    text, entities = message_line(message)
    entity = next((e for e in entities if e.type == "bot_command" and e.offset == 0), None)
    if entity is None:
        # Telegram marks only [A-Za-z0-9_] commands: `/客户 华东物流` comes without an entity.
        return _SLASH_WORD.sub("", text, count=1).strip() if text.startswith("/") else text
    return text[entity.length :].strip()


def _slash_word(message: Message | None) -> str | None:
    text = message_line(message)[0] if message is not None else ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""


def command_word(message: Message | None) -> str | None:
    """The leading command of a message (or caption) without slash or @botname, lower case."""
    word = _slash_word(message)
    return None if word is None else word.split("@", 1)[0].lower()


def command_target(message: Message) -> str | None:
    """The @botname a leading /command is addressed to (`/客户@crm_bot`), if any."""
    word = _slash_word(message)
    return word.split("@", 1)[1] if word and "@" in word else None


class UnmarkedCommand(filters.MessageFilter):
    """A /command Telegram gave no bot_command entity (`/客户 华东物流`): a verb after a slash."""

    def __init__(self, registry: Registry, verb: str | None = None) -> None:
        super().__init__(name=f"UnmarkedCommand({verb or '*'})")
        self.registry = registry
        self.verb = verb

    def filter(self, message: Message) -> bool:
        """True for an unmarked slash line that starts with a verb (`verb`, when given)."""
        text = message.text
        if not text or not text.startswith("/"):
            return False
        if any(e.type == "bot_command" and e.offset == 0 for e in message.entities):
            return False
        if self.verb is not None:
            found = self.registry.get(command_word(message) or "")
            return found is not None and found.name == self.verb
        return self.registry.match(_SLASH_WORD.sub(_at_dropped, text, count=1)) is not None


def _at_dropped(match: re.Match[str]) -> str:
    """The /word without slash and @botname, followed by a space (for the verb matcher)."""
    return match.group(0)[1:].split("@", 1)[0].rstrip() + " "


def take_share(text: str) -> tuple[str, bool]:
    """Strip a leading or trailing `share` (the explicit ask to post in a group)."""
    words = text.split()
    if words and words[-1].lower() in SHARE_WORDS:
        return text[: text.rstrip().rfind(words[-1])].strip(), True
    if words and words[0].lower() in SHARE_WORDS:
        return text.strip()[len(words[0]) :].strip(), True
    return text, False


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The file of a photo, document or voice message, by its Telegram file id."""
    if message.photo:
        # The largest size: the one worth keeping.
        return (Photo(message.photo[-1].file_id),)
    if message.document is not None:
        doc = message.document
        return (File(doc.file_id, doc.file_name, doc.mime_type),)
    if message.voice is not None:
        return (File(message.voice.file_id, None, message.voice.mime_type or "audio/ogg"),)
    return ()


def delivery_of(update: Update) -> str:
    """What makes an update one delivery: its id, or for an edit the message and edit time.

    Telegram numbers an edit as a new update; the same edit delivered twice runs once.
    """
    edited = update.edited_message
    if edited is None:
        return str(update.update_id)
    stamp = int(edited.edit_date.timestamp()) if edited.edit_date else 0
    return f"edit:{edited.chat.id}:{edited.message_id}:{stamp}"


def thread_of(update: Update) -> int | None:
    """The forum topic an update came from (for a button, its message's), else None.

    Only topic messages: a reply thread in an ordinary group is not a topic, and sending
    into it would fail ("message thread not found").
    """
    message = update.message or update.edited_message
    if message is None and update.callback_query is not None:
        found = update.callback_query.message
        message = found if isinstance(found, Message) else None
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def _draft(context: CrmContext) -> Draft | None:
    data = context.chat_data
    draft = data.get("draft") if data is not None else None
    return draft if isinstance(draft, Draft) else None


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
        self.core = Core(app.dispatcher)
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
        except ValueError:
            return web.Response(status=400, text="not an update")
        if not isinstance(data, dict):
            return web.Response(status=400, text="not an update")
        update = readable(data, self.bot)
        if update is not None:
            await self.application.update_queue.put(update)
        # An update the library cannot read is acknowledged too (logged once, without its
        # text): an error status would make Telegram send it again and again.
        return web.Response(text="ok")

    # --- wiring ----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        a = self.application
        private = filters.ChatType.PRIVATE
        new = filters.UpdateType.MESSAGE
        a.add_handler(TypeHandler(Update, self._gate), group=-1)
        a.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._edited))
        a.add_handler(CommandHandler(["link", "start"], self._link))
        a.add_handler(self._conversation())
        a.add_handler(CommandHandler("cancel", self._nothing_to_cancel))
        a.add_handler(CommandHandler(list(self.verbs), self._verb_command))
        a.add_handler(CallbackQueryHandler(self._button, pattern=f"^{REPLY_BUTTON}"))
        a.add_handler(CallbackQueryHandler(self._stale_button))
        a.add_handler(MessageHandler(private & new & filters.TEXT, self._text))
        unmarked = UnmarkedCommand(self.registry)
        a.add_handler(MessageHandler(~private & new & unmarked, self._group_unmarked))
        media = filters.PHOTO | filters.Document.ALL | filters.VOICE
        a.add_handler(MessageHandler(new & media & filters.CAPTION, self._captioned))
        a.add_handler(MessageHandler(private & new & ~filters.TEXT, self._unsupported))
        a.add_error_handler(self._on_error)

    def _conversation(self) -> ConversationHandler[CrmContext]:
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        step = CallbackQueryHandler(self._step_button, pattern=f"^{STEP_BUTTON}")
        typed = filters.TEXT & ~filters.COMMAND & private
        other = ~filters.COMMAND & private
        with warnings.catch_warnings():
            # Tracking per chat and user (not per message) is the point: steps are messages.
            warnings.filterwarnings("ignore", message=".*per_message=False.*")
            return self._conversation_handler(step, typed, other, private)

    def _conversation_handler(
        self, step: CallbackQueryHandler[CrmContext, Any], typed: Any, other: Any, private: Any
    ) -> ConversationHandler[CrmContext]:
        return ConversationHandler(
            entry_points=[
                CommandHandler("log", self._log_start, filters=private),
                MessageHandler(private & UnmarkedCommand(self.registry, "log"), self._log_start),
                MessageHandler(filters.LOCATION & private, self._location),
            ],
            states={
                OFFER: [step, MessageHandler(other, self._offer_typed)],
                CUSTOMER: [step, MessageHandler(typed, self._customer_typed)],
                KIND: [step, MessageHandler(typed, self._kind_typed)],
                TEXT: [MessageHandler(typed, self._text_typed), step],
                FOLLOW_UP: [step, MessageHandler(typed, self._follow_up_typed)],
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

    async def _send(
        self, chat_id: int, messages: list[Outgoing], thread: int | None = None
    ) -> list[int]:
        return await deliver(self.bot, chat_id, messages, thread)

    async def _say(
        self,
        chat_id: int,
        who: Who | None,
        reply: Reply,
        prefix: str = REPLY_BUTTON,
        thread: int | None = None,
    ) -> list[int]:
        messages = await asyncio.to_thread(self.core.render, who, reply, prefix)
        return await self._send(chat_id, messages, thread)

    async def _ask(self, update: Update, who: Who, reply: Reply) -> None:
        """A conversation prompt; its buttons are step buttons."""
        assert update.effective_chat is not None
        await self._say(update.effective_chat.id, who, reply, STEP_BUTTON)

    # --- the gate: who may talk ------------------------------------------------------------

    async def _gate(self, update: Update, context: CrmContext) -> None:
        """Look the sender up; unknown people get only how to link, groups only commands."""
        user, chat = update.effective_user, update.effective_chat
        message, query = update.message or update.edited_message, update.callback_query
        if query is not None and chat is None:
            # A button on an inline message (not ours): stop the client's spinner all the same.
            await query.answer()
            raise ApplicationHandlerStop
        if user is None or chat is None or (message is None and query is None):
            raise ApplicationHandlerStop
        group = chat.type != ChatType.PRIVATE
        if group and message is not None and command_word(message) is None:
            # Privacy mode sends groups' commands only; anything else is not for us.
            raise ApplicationHandlerStop
        if group and message is not None and message.sender_chat is not None:
            # An anonymous admin (or a channel) has no account to act as: say so.
            await self._answer_once(update, message, "telegram.anonymous", user.language_code)
            raise ApplicationHandlerStop
        if user.is_bot:
            raise ApplicationHandlerStop
        context.who = await asyncio.to_thread(self.core.who, user.id)
        if context.who is not None:
            return
        if group:
            if query is not None:
                await query.answer()
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
            await self._say(chat.id, None, Reply(text=t("telegram.unlinked"), status="info"))
        raise ApplicationHandlerStop

    async def _answer_once(
        self, update: Update, message: Message, key: str, language: str | None
    ) -> None:
        """Answer a group command we cannot run (in its topic), once per delivery."""
        target = command_target(message)
        if target is not None and target.lower() != (self.bot.username or "").lower():
            return
        if not await asyncio.to_thread(self.core.claim, delivery_of(update)):
            return
        t = Translator(locale_of(language))
        reply = Reply(text=t(key, bot=self.bot.username), status="info")
        await self._say(message.chat.id, None, reply, thread=thread_of(update))

    # --- linking -------------------------------------------------------------------------

    async def _link(self, update: Update, context: CrmContext) -> None:
        """`/link CODE` (or `/start CODE` from a t.me link): tie this account to a staff member."""
        message, user, chat = update.message, update.effective_user, update.effective_chat
        assert message is not None and user is not None and chat is not None
        who = context.who
        t = who.t if who else Translator(locale_of(user.language_code))
        rest = command_rest(message)
        if not _private(update):
            reply = Reply(text=t("telegram.link_private"), status="error")
            await self._say(chat.id, None, reply, thread=thread_of(update))
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
        # A typed command (new or edited): one message logs at most one note, whatever happens.
        message = update.message or update.edited_message
        if message is not None and idempotency_key is None:
            idempotency_key = f"telegram:{chat.id}:{message.message_id}"
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
        reply, messages = await asyncio.to_thread(self.core.run, who, command)
        if reply.status == "duplicate":
            return None
        if message is not None and reply.status == "ok" and self._writes(text):
            await asyncio.to_thread(self.core.mark_wrote, chat.id, message.message_id)
        # In a forum group every answer goes back into the topic the command came from.
        thread = thread_of(update) if group else None
        if not group or reply.status == "error" or (share and reply.shareable):
            await self._send(chat.id, messages, thread)
            return reply
        # In a group the answer goes to the asker privately: it may hold customer data.
        t = who.t
        try:
            await self._send(user.id, messages)
            note = t("telegram.sent_privately")
        except Forbidden:
            note = t("telegram.open_private", bot=self.bot.username)
        await self._say(chat.id, None, Reply(text=note, status="info"), thread=thread)
        return reply

    def _writes(self, text: str) -> bool:
        """Whether a command line is one of the verbs that change the CRM."""
        found = self.registry.match(text)
        return found is not None and found[0].writes

    async def _edited(self, update: Update, context: CrmContext) -> None:
        """An edited message: its corrected command runs once, unless the original already
        changed the CRM (then running it again would write twice: say so instead)."""
        message, chat, who = update.edited_message, update.effective_chat, context.who
        assert message is not None and chat is not None and who is not None
        group = chat.type != ChatType.PRIVATE
        text = message_line(message)[0]
        if not text.strip() or (group and not self._for_us(message)):
            return  # a live location moving, a caption removed, or not our command
        key = None
        if command_word(message) in OWN_COMMANDS:
            key = "telegram.edit_send_again"
        elif _draft(context) is not None:
            key = "telegram.edit_in_steps"
        elif await asyncio.to_thread(self.core.wrote, chat.id, message.message_id):
            key = "telegram.edit_already_ran"
        if key is None:
            await self._dispatch(
                update,
                context,
                text=self._command_line(message),
                attachments=attachments_of(message),
            )
        elif await asyncio.to_thread(self.core.claim, delivery_of(update)):
            reply = Reply(text=who.t(key), status="info")
            await self._say(chat.id, None, reply, thread=thread_of(update))

    async def _verb_command(self, update: Update, context: CrmContext) -> None:
        """`/customer Acme` and every verb by its menu name."""
        message = update.message
        assert message is not None
        name = command_word(message) or ""
        verb = self.verbs.get(name)
        if verb is None:
            return
        rest = command_rest(message)
        await self._dispatch(update, context, text=f"{verb.name} {rest}".strip())

    async def _text(self, update: Update, context: CrmContext) -> None:
        """Plain text in a private chat is a command line (`log visit Acme: ...`)."""
        message = update.message
        assert message is not None and message.text is not None
        await self._dispatch(update, context, text=self._command_line(message))

    def _command_line(self, message: Message) -> str:
        """A message as a dispatcher line: `/new_customer X` -> `new customer X`."""
        text = message_line(message)[0]
        if not text.startswith("/"):
            return text
        # A verb by menu name, an alias Telegram did not mark (`/客户`), or an unknown
        # /command the dispatcher answers with the closest verb.
        word = command_word(message) or ""
        verb = self.verbs.get(word)
        return f"{verb.name if verb else word} {command_rest(message)}".strip()

    async def _group_unmarked(self, update: Update, context: CrmContext) -> None:
        """`/客户 华东物流` in a group: a command like `/customer`, unless meant for another bot."""
        message = update.message
        assert message is not None
        if self._for_us(message):
            await self._dispatch(update, context, text=self._command_line(message))

    def _for_us(self, message: Message) -> bool:
        """A group line that is one of our commands (not another bot's, not chatter)."""
        target = command_target(message)
        if target is not None and target.lower() != (self.bot.username or "").lower():
            return False
        word = command_word(message) or ""
        line = f"{word} {command_rest(message)}"
        return word in self.verbs or self.registry.match(line) is not None

    async def _captioned(self, update: Update, context: CrmContext) -> None:
        """A photo, document or voice note with a caption: the caption is the command, and
        the file goes with it (a logged note keeps a reference to it)."""
        message, chat = update.message, update.effective_chat
        assert message is not None and chat is not None
        if chat.type != ChatType.PRIVATE and not self._for_us(message):
            return
        await self._dispatch(
            update,
            context,
            text=self._command_line(message),
            attachments=attachments_of(message),
        )

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
        reply = Reply(text=who.t("telegram.no_cancel"))
        await self._say(update.effective_chat.id, None, reply, thread=thread_of(update))

    # --- the /log conversation -------------------------------------------------------------

    async def _claim(self, update: Update) -> bool:
        return await asyncio.to_thread(self.core.claim, update.update_id)

    def _kind_buttons(self, t: Translator) -> list[Button]:
        return [Button(fmt.kind(t, k.value), A_KIND, {"kind": k.value}) for k in InteractionKind]

    def _follow_up_buttons(self, t: Translator) -> list[Button]:
        return [
            Button(t("button.tomorrow"), A_FOLLOW_UP, {"when": "tomorrow"}),
            Button(t("button.next_week"), A_FOLLOW_UP, {"when": "next_week"}),
            Button(t("button.no_follow_up"), A_FOLLOW_UP, {"when": "none"}),
            self._cancel_button(t),
        ]

    def _cancel_button(self, t: Translator) -> Button:
        return Button(t("button.cancel"), A_CANCEL, {}, "danger")

    async def _log_start(self, update: Update, context: CrmContext) -> int:
        """`/log` alone starts the steps; `/log call Acme: ...` is logged at once."""
        message, who = update.message, context.who
        assert message is not None and who is not None
        rest = command_rest(message)
        if rest:
            await self._dispatch(update, context, text=f"log {rest}")
            return END
        if not await self._claim(update):
            return END
        draft = Draft()
        assert context.chat_data is not None
        context.chat_data["draft"] = draft
        await self._ask_customer(update, who, draft)
        return CUSTOMER

    async def _location(self, update: Update, context: CrmContext) -> int:
        """A shared location offers to log a visit there."""
        message, who = update.message, context.who
        assert message is not None and message.location is not None and who is not None
        if not await self._claim(update):
            return END
        loc = message.location
        draft = Draft(step=OFFER, kind=InteractionKind.visit.value)
        draft.location = (loc.latitude, loc.longitude)
        assert context.chat_data is not None
        context.chat_data["draft"] = draft
        t = who.t
        await self._ask(
            update,
            who,
            Reply(
                text=t("telegram.visit.offer"),
                buttons=[
                    Button(t("button.log_visit_here"), A_VISIT, {}, "primary"),
                    self._cancel_button(t),
                ],
            ),
        )
        return OFFER

    async def _ask_customer(self, update: Update, who: Who, draft: Draft) -> None:
        t = who.t
        recent = await asyncio.to_thread(self.core.recent_customers, who)
        draft.step = CUSTOMER
        buttons = [Button(name, A_CUSTOMER, {"id": cid, "name": name}) for cid, name in recent]
        key = "telegram.log.customer_ask" if recent else "telegram.log.customer_type"
        await self._ask(update, who, Reply(text=t(key), buttons=[*buttons, self._cancel_button(t)]))

    async def _ask_kind(self, update: Update, who: Who, draft: Draft) -> int:
        t = who.t
        draft.step = KIND
        buttons = [*self._kind_buttons(t), self._cancel_button(t)]
        text = t("telegram.log.kind_ask", customer=draft.customer_name)
        await self._ask(update, who, Reply(text=text, buttons=buttons))
        return KIND

    async def _ask_text(self, update: Update, who: Who, draft: Draft) -> int:
        draft.step = TEXT
        assert draft.kind is not None
        text = who.t(
            "telegram.log.text_ask",
            kind=fmt.kind(who.t, draft.kind),
            customer=draft.customer_name,
        )
        await self._ask(update, who, Reply(text=text))
        return TEXT

    async def _ask_follow_up(self, update: Update, who: Who, draft: Draft) -> int:
        t = who.t
        draft.step = FOLLOW_UP
        text = t("telegram.log.follow_up_ask")
        await self._ask(update, who, Reply(text=text, buttons=self._follow_up_buttons(t)))
        return FOLLOW_UP

    async def _ask_confirm(self, update: Update, who: Who, draft: Draft) -> int:
        t = who.t
        draft.step = CONFIRM
        assert draft.kind is not None
        fields = [
            Field(t("telegram.field.customer"), draft.customer_name),
            Field(t("telegram.field.kind"), fmt.kind(t, draft.kind)),
            Field(t("telegram.field.note"), draft.text),
            Field(
                t("telegram.field.follow_up"),
                draft.follow_up.isoformat() if draft.follow_up else t("card.none"),
            ),
        ]
        if draft.location:
            fields.append(
                Field(
                    t("telegram.field.location"),
                    f"{draft.location[0]:.5f}, {draft.location[1]:.5f}",
                )
            )
        buttons = [Button(t("button.save"), A_SAVE, {}, "primary"), self._cancel_button(t)]
        title = t("telegram.log.confirm_title")
        await self._ask(update, who, Reply(title=title, fields=fields, buttons=buttons))
        return CONFIRM

    async def _step_button(self, update: Update, context: CrmContext) -> int | None:
        """A tap on a conversation button: the step it belongs to moves on."""
        query, who, draft = update.callback_query, context.who, _draft(context)
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
            await self._mark(query, t("button.cancel"))
            return await self._cancel(update, context)
        if action not in STEP_ACTIONS.get(draft.step, set()):
            # A button of an earlier step, pressed again.
            await query.answer(t("error.button_expired"))
            return None
        await query.answer()
        await self._mark(query, self._choice(t, action, payload))
        if action == A_SAVE:
            # The dispatcher records this update with the note it writes.
            return await self._save(update, context, who, draft)
        if not await self._claim(update):
            return None
        if action == A_VISIT:
            await self._ask_customer(update, who, draft)
            return CUSTOMER
        if action == A_CUSTOMER:
            return await self._chose_customer(
                update, who, draft, int(payload["id"]), str(payload["name"])
            )
        if action == A_KIND:
            draft.kind = str(payload["kind"])
            return await self._ask_text(update, who, draft)
        draft.follow_up = self._follow_up_day(who, str(payload["when"]))
        return await self._ask_confirm(update, who, draft)

    def _choice(self, t: Translator, action: str, payload: dict[str, Any]) -> str:
        """What a tapped step button chose, in words, for the prompt it answered."""
        if action == A_CUSTOMER:
            return str(payload.get("name", ""))
        if action == A_KIND:
            return fmt.kind(t, str(payload.get("kind", "note")))
        if action == A_FOLLOW_UP:
            key = {"tomorrow": "button.tomorrow", "next_week": "button.next_week"}
            return t(key.get(str(payload.get("when")), "button.no_follow_up"))
        return t("button.save" if action == A_SAVE else "button.log_visit_here")

    async def _mark(self, query: Any, choice: str) -> None:
        """Replace a prompt's keyboard with the choice made, so old buttons cannot be reused."""
        message = query.message
        if not isinstance(message, Message):
            return
        text = f"{escape(message.text or '', quote=False)}\n→ <b>{escape(choice, quote=False)}</b>"
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            # Cosmetic only: the step goes on even when the old prompt cannot be edited.
            log.info("could not mark the chosen button: %s", exc)

    async def _chose_customer(
        self, update: Update, who: Who, draft: Draft, customer_id: int, name: str
    ) -> int:
        draft.customer_id, draft.customer_name = customer_id, name
        if draft.kind is None:
            return await self._ask_kind(update, who, draft)
        return await self._ask_text(update, who, draft)

    def _follow_up_day(self, who: Who, when: str) -> date | None:
        today = self.core.clock().astimezone(_zone(who)).date()
        if when == "tomorrow":
            return today + timedelta(days=1)
        if when == "next_week":
            # The Monday of next week: "next week" in a field rep's mouth.
            return today + timedelta(days=7 - today.weekday())
        return None

    async def _offer_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            t = who.t
            buttons = [
                Button(t("button.log_visit_here"), A_VISIT, {}, "primary"),
                self._cancel_button(t),
            ]
            await self._ask(update, who, Reply(text=t("telegram.visit.tap"), buttons=buttons))
        return None

    async def _customer_typed(self, update: Update, context: CrmContext) -> int | None:
        """A typed name at the customer step searches; one hit is taken, several are offered."""
        message, who, draft = update.message, context.who, _draft(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self._claim(update):
            return None
        t = who.t
        query = message.text.strip()
        hits = await asyncio.to_thread(self.core.search, who, query)
        if len(hits) == 1:
            return await self._chose_customer(update, who, draft, *hits[0])
        if not hits:
            reply = Reply(
                text=t("telegram.log.customer_none", query=query),
                buttons=[self._cancel_button(t)],
                status="info",
            )
        else:
            buttons = [Button(name, A_CUSTOMER, {"id": cid, "name": name}) for cid, name in hits]
            reply = Reply(
                text=t("telegram.log.customer_many", query=query),
                buttons=[*buttons, self._cancel_button(t)],
                status="info",
            )
        await self._ask(update, who, reply)
        return None

    async def _kind_typed(self, update: Update, context: CrmContext) -> int | None:
        message, who, draft = update.message, context.who, _draft(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self._claim(update):
            return None
        kind, rest = take_kind(message.text)
        if kind is None or rest:
            t = who.t
            buttons = [*self._kind_buttons(t), self._cancel_button(t)]
            await self._ask(
                update, who, Reply(text=t("telegram.log.kind_bad"), buttons=buttons, status="info")
            )
            return None
        draft.kind = kind.value
        return await self._ask_text(update, who, draft)

    async def _text_typed(self, update: Update, context: CrmContext) -> int | None:
        message, who, draft = update.message, context.who, _draft(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self._claim(update):
            return None
        text = message.text.strip()
        if len(text) > MAX_NOTE:
            reply = Reply(
                text=who.t("error.too_long", field="text", limit=MAX_NOTE), status="error"
            )
            await self._ask(update, who, reply)
            return None
        draft.text = text
        return await self._ask_follow_up(update, who, draft)

    async def _follow_up_typed(self, update: Update, context: CrmContext) -> int | None:
        """A typed day for the follow-up (`friday`, `2026-12-15`, `下周二`)."""
        message, who, draft = update.message, context.who, _draft(context)
        assert message is not None and message.text is not None and who is not None
        if draft is None or not await self._claim(update):
            return None
        t = who.t
        typed = message.text.strip()
        tz = _zone(who)
        now = self.core.clock()
        day = parse_day(typed, tz, now)
        problem = None
        if day is None:
            problem = t("error.date_invalid", value=typed)
        elif day < now.astimezone(tz).date():
            problem = t("telegram.log.follow_up_past", day=day.isoformat())
        if problem is not None or day is None:
            buttons = self._follow_up_buttons(t)
            await self._ask(update, who, Reply(text=problem or "", buttons=buttons, status="error"))
            return None
        draft.follow_up = day
        return await self._ask_confirm(update, who, draft)

    async def _confirm_typed(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            t = who.t
            buttons = [Button(t("button.save"), A_SAVE, {}, "primary"), self._cancel_button(t)]
            reply = Reply(text=t("telegram.log.confirm_tap"), buttons=buttons, status="info")
            await self._ask(update, who, reply)
        return None

    async def _step_unsupported(self, update: Update, context: CrmContext) -> int | None:
        who = context.who
        assert who is not None
        if await self._claim(update):
            await self._ask(update, who, Reply(text=who.t("telegram.log.type_text"), status="info"))
        return None

    async def _save(self, update: Update, context: CrmContext, who: Who, draft: Draft) -> int:
        """Save through the dispatcher like any typed `log`, then the follow-up."""
        assert draft.customer_id is not None and draft.kind is not None
        chat = update.effective_chat
        assert chat is not None
        attachments = (Location(*draft.location),) if draft.location else ()
        # The same card saved twice (a double tap) is one note.
        message = update.callback_query.message if update.callback_query else None
        key = f"telegram:{chat.id}:{message.message_id if message else update.update_id}"
        reply = await self._dispatch(
            update,
            context,
            text=f"log {draft.kind} #{draft.customer_id}: {draft.text}",
            attachments=attachments,
            idempotency_key=key,
        )
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        if reply is not None and reply.status == "ok" and draft.follow_up is not None:
            t = who.t
            text = t("telegram.follow_up_text", customer=draft.customer_name)
            problem = await asyncio.to_thread(
                self.core.follow_up, who, draft.customer_id, draft.follow_up, text
            )
            note = problem or t("telegram.follow_up_set", day=draft.follow_up.isoformat())
            await self._say(chat.id, None, Reply(text=note, status="error" if problem else "ok"))
        return END

    async def _cancel(self, update: Update, context: CrmContext) -> int:
        """`/cancel` (or the Cancel button) at any step: nothing is saved."""
        who, chat = context.who, update.effective_chat
        assert who is not None and chat is not None
        if context.chat_data is not None:
            context.chat_data.pop("draft", None)
        await self._say(chat.id, None, Reply(text=who.t("telegram.log.cancelled")))
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
        await self._say(chat.id, None, Reply(text=t("telegram.log.timeout", minutes=minutes)))

    # --- errors ----------------------------------------------------------------------------

    async def _on_error(self, update: object, context: CrmContext) -> None:
        """Log with traceback and a reference; apologise with it; keep serving."""
        ref = secrets.token_hex(4)
        log.error("telegram update failed (ref %s)", ref, exc_info=context.error)
        if not isinstance(update, Update):
            return
        who = context.who
        user = update.effective_user
        if who is None and user is not None and not user.is_bot:
            # The error handler gets a fresh context: look the sender up again, so a linked
            # person's failed group command is apologised for too (strangers' stay silent).
            try:
                who = await asyncio.to_thread(self.core.who, user.id)
            except SQLAlchemyError:
                log.warning("could not look up the sender for ref %s", ref)
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
                message_thread_id=thread_of(update),
            )
        except TelegramError:
            log.warning("could not send the apology for ref %s", ref)


def _zone(who: Who) -> ZoneInfo:
    try:
        return ZoneInfo(who.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


__all__ = ["PLATFORM", "ParseMode", "TelegramBot", "markup"]
