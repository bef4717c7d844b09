"""The Slack side of the Notifier port: direct messages to people, posts to channels."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render
from bot.slack.sending import api_error
from handlers.i18n import Translator
from handlers.notify import Address, DeliveryFailed
from handlers.reply import Reply

# Errors that will not go away by trying again later.
PERMANENT = {
    "account_inactive",
    "channel_not_found",
    "invalid_auth",
    "is_archived",
    "missing_scope",
    "msg_too_long",
    "not_authed",
    "not_in_channel",
    "no_permission",
    "restricted_action",
    "token_revoked",
    "user_not_found",
    "user_disabled",
    "invalid_blocks",
}


class SlackNotifier:
    """Sends replies nobody asked for just now (reminders, digests) through the Web API."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, *, locale: str = "en") -> None:
        self.client = client
        self.t = Translator(locale)

    async def _channel(self, address: Address) -> str:
        if address.channel:
            return address.target
        opened = await self.client.conversations_open(users=address.target)
        return str(opened["channel"]["id"])

    async def send(self, address: Address, reply: Reply) -> str:
        """Post `reply` (split as needed); returns the first message's ts."""
        if address.platform != self.platform:
            raise DeliveryFailed(f"not a Slack address: {address.platform}", retryable=False)
        try:
            channel = await self._channel(address)
            image_id = None
            if reply.image:
                up = await self.client.files_upload_v2(
                    file=reply.image, filename="crmbot.png", title="crmbot.png"
                )
                image_id = str((up.get("files") or [up.get("file") or {}])[0]["id"])
            first = ""
            for message in render(reply, self.t, image_file_id=image_id):
                resp = await self.client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=address.thread,
                )
                first = first or str(resp.get("ts") or "")
            return first
        except SlackApiError as exc:
            error = api_error(exc)
            raise DeliveryFailed(error, retryable=error not in PERMANENT) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryFailed(type(exc).__name__, retryable=True) from exc

    async def react(self, channel: str, ts: str, name: str, others: list[str]) -> None:
        """Put reaction `name` on a message and take `others` off (a ticket's status)."""
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if api_error(exc) != "already_reacted":
                raise DeliveryFailed(api_error(exc), retryable=False) from exc
        for other in others:
            try:
                await self.client.reactions_remove(channel=channel, timestamp=ts, name=other)
            except SlackApiError as exc:
                if api_error(exc) != "no_reaction":
                    raise DeliveryFailed(api_error(exc), retryable=False) from exc
