"""How `crmbot serve` runs Telegram: its notifier, and the adapter as a component."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.bootstrap import App
from bot.runtime import Component, Runtime
from bot.telegram.app import TelegramBot
from bot.telegram.core import PLATFORM
from bot.telegram.notifier import TelegramNotifier
from bot.telegram.transport import make_bot

DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
# The lock whose holder polls Telegram for updates.
POLLING_LOCK = "telegram-polling"


def configured(app: App) -> bool:
    """Telegram runs when its bot token is set."""
    return app.settings.telegram_bot_token is not None


def webhook_path(url: str) -> str:
    """The path of the public webhook URL, served on the shared HTTP server."""
    return urlsplit(url).path or DEFAULT_WEBHOOK_PATH


def notifier(app: App) -> TelegramNotifier | None:
    """The Telegram notifier, when a token is configured."""
    if not configured(app):
        return None
    return TelegramNotifier(make_bot(app.settings), app.gateway(PLATFORM))


class TelegramComponent:
    """The adapter under `serve`: long polling, or the webhook route on the shared server."""

    name = "telegram"

    def __init__(self, runtime: Runtime) -> None:
        app = runtime.app
        shared = next((n for n in runtime.notifiers if isinstance(n, TelegramNotifier)), None)
        # One bot (and so one flood limiter) for replies and notifications alike.
        bot = shared.bot if shared is not None else make_bot(app.settings)
        url = app.settings.telegram_webhook_url
        self.bot = TelegramBot(app, bot, webhook_url=url)
        if url:
            runtime.web.router.add_post(webhook_path(url), self.bot.webhook)

        # Long polling runs in one worker of a fleet (a lock in the database); webhooks in all.
        self.poller: Component | None = None
        if not url and runtime.elect is not None:
            self.poller = runtime.elect(POLLING_LOCK, self.bot.start_polling, self.bot.stop_polling)

    async def start(self) -> None:
        """Connect and start taking updates (polling: once this worker holds the lock)."""
        await self.bot.start(poll=self.poller is None)
        if self.poller is not None:
            await self.poller.start()

    async def stop(self) -> None:
        """Stop taking updates and close connections."""
        if self.poller is not None:
            await self.poller.stop()
        await self.bot.stop()


def component(runtime: Runtime) -> TelegramComponent:
    """Build the component (serve's builder)."""
    return TelegramComponent(runtime)
