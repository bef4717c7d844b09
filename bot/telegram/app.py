"""The Telegram adapter: the PTB Application, its lifecycle (polling or webhook) and menu."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.bootstrap import App
from bot.telegram.commands import OWN_COMMANDS, UnmarkedCommand, menu_name
from bot.telegram.conversation import FormConversation
from bot.telegram.core import PLATFORM, REPLY_BUTTON, Core
from bot.telegram.identity import CrmContext, Gate
from bot.telegram.listeners import Listeners
from bot.telegram.sending import Sender
from bot.telegram.transport import PerChatUpdates, markup, readable, webhook_secret
from handlers.i18n import Translator
from handlers.registry import Registry, Verb

log = logging.getLogger(__name__)

# Reactions arrive only where the bot is an admin (customer groups: see README).
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MESSAGE_REACTION,
]
CONVERSATION_TIMEOUT = 600.0
POLL_TIMEOUT = 30


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
            .concurrent_updates(PerChatUpdates(around=self.core.holding))
        )
        if webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, CrmContext, Any, Any, Any, Any] = builder.build()
        self.verbs: dict[str, Verb] = {
            name: verb
            for verb in self.registry
            if (name := menu_name(verb)) and name not in OWN_COMMANDS
        }
        self.sender = Sender(self.core, self.bot)
        self.forms = FormConversation(self.core, self.sender, conversation_timeout)
        self.listeners = Listeners(self.core, self.sender, self.registry, self.verbs, self.forms)
        self.gate = Gate(self.core, self.sender, self.listeners.dispatch)
        # Private chats whose own menu this process set: chat id -> its locale (None: none).
        self._chat_menus: dict[int, str | None] = {}
        self._add_handlers()

    @property
    def bot(self) -> ExtBot[Any]:
        """The bot (shared with the notifier)."""
        bot: ExtBot[Any] = self.application.bot
        return bot

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, *, poll: bool = True) -> None:
        """Connect, publish the command menu, then poll or register the webhook.

        With `poll=False` a polling bot starts without taking updates: in a fleet one worker
        polls (`start_polling`, when it wins the lock) and every worker sends and handles.
        """
        await self.application.initialize()
        await self.publish_commands()
        if self.webhook_url:
            await self.bot.set_webhook(
                self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
        elif poll:
            await self.start_polling()
        await self.application.start()
        log.info("telegram bot @%s started (%s)", self.bot.username, self.mode)

    async def start_polling(self) -> None:
        """Take updates by long polling (one process of all may: Telegram refuses a second)."""
        updater = self.application.updater
        assert updater is not None
        if not updater.running:
            await updater.start_polling(
                timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES, poll_interval=0
            )

    async def stop_polling(self) -> None:
        """Stop taking updates; the updates already taken are still handled."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()

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

    async def chat_menu(self, update: Update, context: CrmContext) -> None:
        """Give a Traditional Chinese reader's private chat the zh-Hant menu.

        Telegram picks a menu by the app's two-letter language only (`zh` is the Simplified
        one), so a zh-Hant user's chat gets its own (BotCommandScopeChat); set again when their
        `語言` changes (seen on their next update), taken back when it is no longer zh-Hant.
        """
        chat, who = update.effective_chat, context.who
        if chat is None or who is None or chat.type != ChatType.PRIVATE:
            return
        wanted = who.locale if who.locale == "zh-Hant" else None
        if chat.id in self._chat_menus and self._chat_menus[chat.id] == wanted:
            return
        scope = BotCommandScopeChat(chat.id)
        try:
            if wanted is not None:
                await self.bot.set_my_commands(self.menu(wanted), scope=scope)
            elif self._chat_menus.get(chat.id) is not None:
                await self.bot.delete_my_commands(scope=scope)
        except TelegramError:
            # The menu is a convenience: the command itself still runs; tried again next time.
            log.warning("could not set the command menu of chat %s", chat.id, exc_info=True)
            return
        self._chat_menus[chat.id] = wanted

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
        a, on = self.application, self.listeners
        private = filters.ChatType.PRIVATE
        new = filters.UpdateType.MESSAGE
        a.add_handler(TypeHandler(Update, self.gate.gate), group=-2)
        # A group of its own: only the first matching handler of a group runs.
        a.add_handler(TypeHandler(Update, self.chat_menu), group=-1)
        a.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on.on_edited))
        a.add_handler(CommandHandler(["link", "start"], self.gate.link))
        typed = filters.TEXT & ~filters.COMMAND & private & new
        # Any command or line that answers with a form starts its steps.
        a.add_handler(
            self.forms.handler(
                [
                    CommandHandler(list(self.verbs), on.on_verb, filters=private & new),
                    MessageHandler(typed, on.on_text),
                    # A card's button may open a form (Edit): its steps start like a command's.
                    CallbackQueryHandler(on.on_button, pattern=f"^{REPLY_BUTTON}"),
                ]
            )
        )
        a.add_handler(CommandHandler("cancel", on.on_cancel))
        a.add_handler(CommandHandler(list(self.verbs), on.on_verb))
        a.add_handler(CallbackQueryHandler(on.on_button, pattern=f"^{REPLY_BUTTON}"))
        a.add_handler(CallbackQueryHandler(on.on_stale_button))
        a.add_handler(MessageHandler(private & new & filters.TEXT, on.on_text))
        unmarked = UnmarkedCommand(self.registry)
        a.add_handler(MessageHandler(~private & new & unmarked, on.on_group_unmarked))
        media = filters.PHOTO | filters.Document.ALL | filters.VOICE
        a.add_handler(MessageHandler(new & media & filters.CAPTION, on.on_captioned))
        a.add_handler(MessageHandler(private & new & ~filters.TEXT, on.on_unsupported))
        a.add_error_handler(on.on_error)


__all__ = ["PLATFORM", "ParseMode", "TelegramBot", "markup"]
