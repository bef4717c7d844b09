"""Running the Slack adapter under `crmbot serve`: HTTP mode on /slack/events, or Socket Mode."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.bootstrap import App
from bot.runtime import Runtime, ServeError
from bot.slack.app import SlackAdapter
from bot.slack.notifier import SlackNotifier
from bot.slack.sending import web_client

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def configured(app: App) -> bool:
    """Slack runs when a bot token is set."""
    return app.settings.slack_bot_token is not None


def make_notifier(app: App) -> SlackNotifier | None:
    """The Slack notifier, when Slack is configured."""
    token = app.settings.slack_bot_token
    if token is None:
        return None
    return SlackNotifier(
        web_client(token.get_secret_value(), app.settings.slack_api_url),
        locale=app.settings.default_locale,
    )


class SlackComponent:
    """The Slack adapter as a `serve` component: Socket Mode with an app token, else HTTP."""

    name = "slack"

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.app.settings
        token = settings.slack_bot_token
        if token is None:
            raise ServeError("Slack is not configured: set SLACK_BOT_TOKEN (see .env.example).")
        self.app_token = settings.slack_app_token
        secret = settings.slack_signing_secret
        if self.app_token is None and secret is None:
            raise ServeError(
                "Slack HTTP mode needs SLACK_SIGNING_SECRET (Basic Information page of the app), "
                "or set SLACK_APP_TOKEN for Socket Mode."
            )
        client = web_client(token.get_secret_value(), settings.slack_api_url)
        self.adapter = SlackAdapter(
            runtime.app,
            client,
            signing_secret=secret.get_secret_value() if secret else None,
            socket_mode=self.app_token is not None,
        )
        self.socket: AsyncSocketModeHandler | None = None
        if self.app_token is None:
            runtime.web.router.add_post(EVENTS_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """One signed request from Slack: Bolt verifies, acks and dispatches it."""
        bolt_response = await self.adapter.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def start(self) -> None:
        """Open the adapter's HTTP sessions; connect Socket Mode's websocket in that mode."""
        await self.adapter.open()
        if self.app_token is not None:
            self.socket = AsyncSocketModeHandler(
                self.adapter.bolt, self.app_token.get_secret_value()
            )
            try:
                await self.socket.connect_async()  # type: ignore[no-untyped-call]
            except BaseException:
                # serve never stops a part whose start failed or was given up (Socket Mode
                # retries a refused token forever): close the sessions opened above.
                self.socket = None
                await self.adapter.close()
                raise
            log.info("slack: socket mode connected")
        else:
            log.info("slack: HTTP mode on %s", EVENTS_PATH)

    async def stop(self) -> None:
        """Close the websocket and the Web API client's connections."""
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        await self.adapter.close()
