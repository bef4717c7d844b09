"""Forms as modals: opening any declared form, its type-ahead, its submit; the log shortcuts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.forms import PREFIX, Origin, form_view, read_state
from bot.slack.identity import Identity, slack_user
from bot.slack.sending import Sender, api_error, response_url
from handlers.gateway import Gateway
from handlers.i18n import Translator
from handlers.reply import Command, OpenForm, Reply, SourceLink

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Slack caps external_select options at 100; a short list reads better.
MAX_OPTIONS = 20
# A ticket's subject prefilled from the message it is made from: its start, on one line.
SUBJECT_PREFILL = 120


def built_permalink(channel: str, ts: str, body: dict[str, Any]) -> str:
    """A message's link from its ids, for when chat.getPermalink has not answered (yet)."""
    domain = (body.get("team") or {}).get("domain") or "app"
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


class Modals:
    """The listeners that open and submit forms."""

    def __init__(
        self,
        gateway: Gateway,
        client: AsyncWebClient,
        identity: Identity,
        sender: Sender,
        publish_home: Callable[[str, int], Awaitable[None]],
    ) -> None:
        self.gateway = gateway
        self.client = client
        self.identity = identity
        self.sender = sender
        self.publish_home = publish_home

    async def open_form(
        self, body: dict[str, Any], t: Translator, opened: OpenForm, origin: Origin | None = None
    ) -> dict[str, Any]:
        """Open a declared form as a modal (the trigger id of this request is valid 3 s)."""
        form = self.gateway.form(opened.name)
        if form is None:
            raise LookupError(f"no form {opened.name!r}")
        resp = await self.client.views_open(
            trigger_id=body["trigger_id"], view=form_view(form, t, opened, origin)
        )
        view = resp.get("view")
        return view if isinstance(view, dict) else {}

    async def _open_log(self, body: dict[str, Any]) -> None:
        slack_id = slack_user(body) or ""
        me = await self.identity.who(slack_id)
        if me is None:
            await self.identity.refuse_unknown(body, slack_id)
            return
        await self.open_form(body, me[1], OpenForm("log", {"kind": "call"}))

    async def on_home_log(self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]) -> None:
        """The Home tab's "Log interaction" button."""
        await ack()
        await self._open_log(body)

    async def on_global_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """The global shortcut "Log interaction"."""
        await ack()
        await self._open_log(body)

    async def on_message_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """ "Log to CRM" on a message: the modal prefilled with it, or "already logged"."""
        await ack()
        await self._capture(
            body,
            self.gateway.captured,
            lambda text: OpenForm("log", {"kind": "chat", "notes": text}),
        )

    async def on_ticket_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """ "Create ticket" on a message: the ticket form prefilled, or "already ticket #N"."""
        await ack()
        await self._capture(
            body,
            self.gateway.captured_ticket,
            lambda text: OpenForm(
                "ticket",
                {
                    "subject": " ".join(text.split())[:SUBJECT_PREFILL],
                    "description": text,
                    "priority": "normal",
                },
            ),
        )

    async def _capture(
        self,
        body: dict[str, Any],
        already_of: Callable[[int, str], Reply | None],
        opened_for: Callable[[str], OpenForm],
    ) -> None:
        """A message shortcut: the form prefilled with the message, keyed by it, or what it
        already became (one note, one ticket per message)."""
        slack_id = slack_user(body) or ""
        me = await self.identity.who(slack_id)
        if me is None:
            await self.identity.refuse_unknown(body, slack_id)
            return
        user_id, t = me
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        ts = str(message.get("ts") or "")
        team = str((body.get("team") or {}).get("id") or "")
        key = f"slack:{team}:{channel}:{ts}"
        already = await asyncio.to_thread(already_of, user_id, key)
        if already is not None:
            await self.sender.deliver(already, t, body, slack_id)
            return
        # Open first: the trigger id is valid for 3 seconds and chat.getPermalink can take longer.
        # The modal carries a link built from the ids until the real permalink replaces it.
        origin = Origin(
            link=built_permalink(channel, ts, body),
            key=key,
            response_url=response_url(body),
            channel=channel,
        )
        text = await self.identity.plain(str(message.get("text") or ""))
        opened = opened_for(text)
        view = await self.open_form(body, t, opened, origin)
        link = await self._permalink(channel, ts)
        if link is None or link == origin.link:
            return
        origin.link = link
        form = self.gateway.form(opened.name)
        assert form is not None
        try:
            # Same blocks and ids: Slack keeps what the person typed meanwhile.
            await self.client.views_update(
                view_id=view["id"], hash=view.get("hash"), view=form_view(form, t, opened, origin)
            )
        except SlackApiError as exc:
            # Submitted or closed already (or edited meanwhile): the built link stays.
            log.info("modal not updated with the permalink: %s", api_error(exc))

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(resp["permalink"])
        except SlackApiError as exc:
            log.info("chat.getPermalink failed: %s", api_error(exc))
            return None

    async def on_record_options(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """Type-ahead for a record field: the customers this person may see."""
        slack_id = slack_user(body) or ""
        found = await asyncio.to_thread(self.identity.lookup, slack_id)
        if found is None:
            await ack(options=[])
            return
        query = str(body.get("value") or "")
        choices = await asyncio.to_thread(
            self.gateway.customer_choices, found[0], query, MAX_OPTIONS
        )
        options = [
            {
                "text": {"type": "plain_text", "text": c.label[:75], "emoji": True},
                "value": str(c.id),
            }
            for c in choices
        ]
        await ack(options=options)

    async def on_form_submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """A modal's submit: errors on their fields, or close it and show what was done."""
        slack_id = slack_user(body) or ""
        found = await asyncio.to_thread(self.identity.lookup, slack_id)
        form = self.gateway.form(str(view.get("callback_id") or "")[len(PREFIX) :])
        if found is None or form is None:
            first = form.fields[0].name if form else "customer"
            await ack(
                response_action="errors",
                errors={first: Translator("en")("slack.unknown_user")},
            )
            return
        user_id, locale = found
        t = Translator(locale)
        origin = Origin.load(view.get("private_metadata"))
        state = (view.get("state") or {}).get("values") or {}
        values = read_state(form, state, origin.settled())
        # One note per captured message, else per modal: a resubmitted view never logs twice.
        key = origin.key or (f"slack:view:{view['id']}" if view.get("id") else None)
        command = Command(
            user_id,
            PLATFORM,
            chat_id=origin.channel,
            idempotency_key=key,
            attachments=(SourceLink(origin.link),) if origin.link else (),
            delivery_id=f"view:{view['id']}" if view.get("id") else None,
        )
        submitted = await asyncio.to_thread(self.gateway.submit, form, command, values)
        if submitted.errors:
            await ack(response_action="errors", errors=submitted.errors)
            return
        await ack()
        reply = submitted.reply
        if reply is not None and reply.status == "duplicate":
            # The same submission again: say which note holds it, so nobody logs it by hand.
            reply = await asyncio.to_thread(self.gateway.captured, user_id, key) if key else None
        if reply is None:
            return
        target = {"response_url": origin.response_url} if origin.response_url else {}
        await self.sender.deliver(reply, t, target, slack_id)
        if reply.status in ("ok", "info"):
            # A form writes: the Home tab shows the person's own data.
            await self.publish_home(slack_id, user_id)
