"""The service desk's Slack events: reactions, messages in customer channels and tickets'
threads, CSAT presses. Each is translated into a handlers.desk call and its DeskAction
carried out (a line in the thread, the status reaction, a private note)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.identity import Identity
from bot.slack.sending import Sender, api_error
from handlers.desk import ChatMessage, DeskAction
from handlers.gateway import Gateway
from handlers.i18n import Translator

log = logging.getLogger(__name__)

# Message subtypes that are a person writing (others: joins, edits, bots, topic changes).
WRITTEN = (None, "thread_broadcast", "file_share")


def message_key(team: str, channel: str, ts: str) -> str:
    """A Slack message's key, as the "Create ticket" shortcut names it too."""
    return f"slack:{team}:{channel}:{ts}"


def permalink(body: dict[str, Any], channel: str, ts: str) -> str:
    """A message's link built from its ids (no API call on the event path)."""
    domain = str(body.get("team_domain") or "app")
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


class SlackDesk:
    """Reactions, channel messages and CSAT buttons, through the gateway's desk."""

    def __init__(
        self, gateway: Gateway, client: AsyncWebClient, identity: Identity, sender: Sender
    ) -> None:
        self.gateway = gateway
        self.desk = gateway.desk
        self.client = client
        self.identity = identity
        self.sender = sender

    async def _name(self, slack_id: str) -> str:
        return await self.identity.display_name(slack_id) or slack_id

    async def _fetch(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message a reaction is on: in the channel's history, else inside a thread."""
        try:
            resp = await self.client.conversations_history(
                channel=channel, latest=ts, inclusive=True, limit=1
            )
            for message in resp.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
            resp = await self.client.conversations_replies(channel=channel, ts=ts, limit=1)
            for message in resp.get("messages") or []:
                if message.get("ts") == ts:
                    return dict(message)
        except SlackApiError as exc:
            log.warning("could not read a reacted message: %s", api_error(exc))
        return None

    async def on_reaction(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A reaction: by staff, the ticket one opens a ticket, a status one sets it."""
        await ack()
        item = event.get("item") or {}
        reactor, reaction = str(event.get("user") or ""), str(event.get("reaction") or "")
        channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
        if item.get("type") != "message" or not (reactor and channel and ts):
            return
        action = await asyncio.to_thread(self.desk.reaction_action, reactor, reaction)
        if action is None:
            return
        key = message_key(str(body.get("team_id") or ""), channel, ts)
        if action != "ticket":
            done = await asyncio.to_thread(self.desk.react_status, reactor, key, action)
            if done is not None:
                await self.carry_out(done, channel, ts, reactor)
            return
        message = await self._fetch(channel, ts)
        if message is None:
            return
        author = str(message.get("user") or event.get("item_user") or "")
        thread = str(message.get("thread_ts") or ts)
        msg = ChatMessage(
            platform="slack",
            chat_id=channel,
            key=key,
            author_id=author,
            author_name=await self._name(author) if author else "",
            text=await self.identity.plain(str(message.get("text") or "")),
            link=permalink(body, channel, ts),
            where=f"{channel}:{thread}",
        )
        done = await asyncio.to_thread(self.desk.react_ticket, reactor, msg)
        await self.carry_out(done, channel, thread, reactor)

    async def on_message(self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A message in a channel crmbot is in: a customer channel's or a ticket thread's."""
        await ack()
        author, channel = str(event.get("user") or ""), str(event.get("channel") or "")
        ts = str(event.get("ts") or "")
        if event.get("subtype") not in WRITTEN or event.get("bot_id") or not author or not ts:
            return
        if event.get("channel_type") == "im" or channel.startswith("D"):
            return  # a direct message is a command line, not a customer's message
        team = str(body.get("team_id") or "")
        root = str(event.get("thread_ts") or "")
        thread_key = message_key(team, channel, root) if root and root != ts else None
        if not await asyncio.to_thread(self.desk.concerns, channel, thread_key):
            return
        # Slack retries an event it thinks was missed: one message is logged once.
        if not await asyncio.to_thread(self.gateway.claim, f"message:{channel}:{ts}"):
            return
        msg = ChatMessage(
            platform="slack",
            chat_id=channel,
            key=message_key(team, channel, ts),
            author_id=author,
            author_name=await self._name(author),
            text=await self.identity.plain(str(event.get("text") or "")),
            link=permalink(body, channel, ts),
            thread_key=thread_key,
            where=f"{channel}:{root or ts}",
        )
        done = await asyncio.to_thread(self.desk.message, msg)
        if done is not None:
            await self.carry_out(done, channel, root or ts, None)

    async def on_csat(self, body: dict[str, Any], slack_id: str, payload: dict[str, Any]) -> None:
        """A press on a CSAT button, by anyone: only the requester's first press counts."""
        reply = await asyncio.to_thread(self.desk.answer_csat, slack_id, payload)
        t = Translator(self.desk.settings.default_locale)
        await self.sender.deliver(reply, t, body, slack_id)

    async def carry_out(
        self, done: DeskAction, channel: str, thread: str, staff: str | None
    ) -> None:
        """Say the line in the thread, put the status reaction on, tell the staff member."""
        t = Translator(self.desk.settings.default_locale)
        if done.thread_reply is not None:
            await self.client.chat_postMessage(
                channel=channel, thread_ts=thread, text=done.thread_reply.text
            )
        if done.mirror and done.source_key:
            _, _, source_channel, source_ts = done.source_key.split(":", 3)
            await self._react(source_channel, source_ts, done.mirror, done.unmirror)
        if done.private is not None and staff:
            await self.sender.deliver(done.private, t, {}, staff)

    async def _react(self, channel: str, ts: str, name: str, others: list[str]) -> None:
        try:
            await self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if api_error(exc) != "already_reacted":
                log.warning("could not add the status reaction: %s", api_error(exc))
        for other in others:
            try:
                await self.client.reactions_remove(channel=channel, timestamp=ts, name=other)
            except SlackApiError as exc:
                if api_error(exc) != "no_reaction":
                    log.warning("could not take a status reaction off: %s", api_error(exc))
