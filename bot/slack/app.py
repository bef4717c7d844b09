"""The Slack adapter: Bolt listeners turning Slack requests into Commands, Replies into blocks."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import App
from bot.slack.blocks import ACTION_PREFIX, SHARE, TOO_LONG, decode_button
from bot.slack.desk import SlackDesk
from bot.slack.forms import PREFIX, Origin, record_fields
from bot.slack.home import LOG_ACTION, home_view
from bot.slack.identity import Identity, slack_user
from bot.slack.markup import mentioned_users, mentions_as_handles, unescape
from bot.slack.modals import Modals
from bot.slack.sending import RESPOND_SECONDS, Sender, http_session, response_url
from handlers.desk import CSAT_ACTION
from handlers.i18n import Translator
from handlers.reply import RUN, Command, Reply

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/crm"
GLOBAL_SHORTCUT = "log_interaction"
MESSAGE_SHORTCUT = "log_message"
TICKET_SHORTCUT = "create_ticket"
# Slack caps external_select options at 100; a short list reads better.
MAX_OPTIONS = 20
Listener = Callable[[AsyncAck, dict[str, Any], dict[str, Any]], Awaitable[None]]


class SlackAdapter:
    """One Bolt app wired to the CRM: slash command, buttons, modal, shortcuts, App Home."""

    def __init__(
        self,
        crm: App,
        client: AsyncWebClient,
        *,
        signing_secret: str | None,
        socket_mode: bool = False,
    ) -> None:
        self.crm = crm
        self.gateway = crm.gateway(PLATFORM)
        self.client = client
        self.sender = Sender(client)
        self.identity = Identity(self.gateway, client, self.sender)
        self.modals = Modals(self.gateway, client, self.identity, self.sender, self.publish_home)
        # Slack ids that opened the Home tab while this process ran: only their Home is worth
        # rebuilding after a write (it costs as much as the command). Opening the tab always
        # publishes afresh, so someone this process has not seen still never sees a stale Home.
        self.home_viewers: set[str] = set()
        self.desk = SlackDesk(self.gateway, client, self.identity, self.sender)
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            # Socket Mode requests arrive over an authenticated websocket: nothing to sign.
            request_verification_enabled=not socket_mode,
            process_before_response=False,
            name="crmbot",
        )
        b = self.bolt
        b.command(COMMAND)(self._guarded(self.on_command))
        b.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._guarded(self.on_button))
        b.action(LOG_ACTION)(self._guarded(self.modals.on_home_log))
        b.shortcut(GLOBAL_SHORTCUT)(self._guarded(self.modals.on_global_shortcut))
        b.shortcut(MESSAGE_SHORTCUT)(self._guarded(self.modals.on_message_shortcut))
        b.shortcut(TICKET_SHORTCUT)(self._guarded(self.modals.on_ticket_shortcut))
        records = record_fields(crm.registry.forms())
        b.options(re.compile("^(" + "|".join(map(re.escape, sorted(records))) + ")$"))(
            self._guarded(self.modals.on_record_options)
        )
        b.view(re.compile("^" + re.escape(PREFIX)))(self._guarded(self.modals.on_form_submit))
        b.event("app_home_opened")(self._guarded(self.on_home_opened))
        b.event("reaction_added")(self._guarded(self.desk.on_reaction))
        b.event("message")(self._guarded(self.desk.on_message))
        # Last, so they only see what nothing above took: Bolt would answer 404 and Slack would
        # show the person an error (a link button, an action id from an older release).
        anything = re.compile(".*")
        b.action(anything)(self.on_other)
        b.shortcut(anything)(self.on_other)
        b.view(anything)(self.on_other)
        b.options(anything)(self.on_other_options)
        # An event nothing listens to (a subscription added in the app's settings): a 404 would
        # make Slack retry it and, in time, switch the event subscription off.
        b.event(anything)(self.on_other)
        b.error(self.on_error)

    async def open(self) -> None:
        """Keep HTTP sessions open for the Web API and response_urls while serving.

        slack_sdk opens a session (and a connection) per call when it is given none: a reply
        cost a TCP connection to each host it went to, and its setup's CPU. Each session keeps
        at most CRMBOT_SLACK_HTTP_CONNECTIONS open (aiohttp's default, 100, was nobody's choice).
        """
        connections = self.crm.settings.slack_http_connections
        if self.client.session is None or self.client.session.closed:
            self.client.session = http_session(self.client.timeout, connections)
        if self.sender.session is None or self.sender.session.closed:
            self.sender.session = http_session(RESPOND_SECONDS, connections)

    async def close(self) -> None:
        """Close the sessions `open` made."""
        for session in (self.client.session, self.sender.session):
            if session is not None and not session.closed:
                await session.close()
        self.client.session = None
        self.sender.session = None

    def _guarded(self, handler: Listener) -> Listener:
        """Failures after the ack go to on_error here: Bolt would lose an ack made just before."""

        async def run(ack: AsyncAck, body: dict[str, Any], payload: dict[str, Any]) -> None:
            try:
                await handler(ack, body, payload)
            except Exception as exc:
                if ack.response is None:
                    raise  # not acknowledged yet: Bolt answers 500 and calls on_error
                await self.on_error(exc, body)

        return run

    # -- sending ------------------------------------------------------------------------------

    async def dispatch(self, command: Command) -> Reply:
        """Run the dispatcher in a worker thread: a slow query never blocks the event loop."""
        return await asyncio.to_thread(self.gateway.dispatch, command)

    def _writes(self, text: str) -> bool:
        found = self.crm.registry.match(text)
        return found is not None and found[0].writes

    async def publish_home(self, slack_id: str, user_id: int) -> None:
        """Publish the person's App Home tab as it is now."""
        view = await asyncio.to_thread(home_view, self.gateway, user_id)
        await self.client.views_publish(user_id=slack_id, view=view)

    async def _after(
        self, text: str, reply: Reply, slack_id: str, user_id: int, *, from_home: bool = False
    ) -> None:
        # The Home tab shows the person's own data: refresh it after a change they make when
        # they are looking at it (a button on Home) or opened it while this process ran.
        if not (from_home or slack_id in self.home_viewers):
            return
        if reply.status in ("ok", "info") and self._writes(text):
            await self.publish_home(slack_id, user_id)

    # -- listeners ----------------------------------------------------------------------------

    async def _run_as(
        self, slack_id: str, command: Callable[[int], Command]
    ) -> tuple[int, Translator, Reply] | None:
        """Identify the sender and run their command in one unit of work; someone not linked
        yet is linked by their email first (None: nobody to act as, nothing ran)."""
        done = await asyncio.to_thread(self.gateway.dispatch_as, slack_id, command)
        if done is not None:
            person, reply = done
            return person.user_id, person.t, reply
        me = await self.identity.who(slack_id)
        if me is None:
            return None
        return me[0], me[1], await self.dispatch(command(me[0]))

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]) -> None:
        """`/crm <anything the console takes>`; `/crm log` alone opens the modal."""
        await ack()
        slack_id = str(body["user_id"])
        # Slack escapes &, < and > in command text; mentions (<@U1|name>) arrive as real brackets.
        raw = str(body.get("text") or "")
        text = unescape(raw).strip() or "help"
        if mentioned_users(raw):
            found = self.crm.registry.match(text)
            if found is None or found[0].name != "link":
                # `remind @bob ...` arrives as `<@UBOB|bob>`: the grammar names people by
                # @handle. `link` keeps the mention: the Slack id is what it links.
                handles = await asyncio.to_thread(self.identity.handles, mentioned_users(raw))
                text = unescape(mentions_as_handles(raw, handles.get)).strip()

        def command(user_id: int) -> Command:
            return Command(
                user_id,
                PLATFORM,
                text=text,
                chat_id=body.get("channel_id"),
                delivery_id=f"command:{body['trigger_id']}" if body.get("trigger_id") else None,
            )

        done = await self._run_as(slack_id, command)
        if done is None:
            await self._refuse(body, slack_id, body.get("channel_id"))
            return
        user_id, t, reply = done
        if reply.form is not None:
            origin = Origin(response_url=response_url(body), channel=body.get("channel_id"))
            await self.modals.open_form(body, t, reply.form, origin)
            return
        await self.sender.deliver(reply, t, body, slack_id, share={"text": text})
        await self._after(text, reply, slack_id, user_id)

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A pressed button: re-run its command as the presser (permissions are checked again)."""
        await ack()
        slack_id = str(body["user"]["id"])
        decoded = decode_button(str(action.get("value") or ""))
        if decoded is not None and decoded[0] == CSAT_ACTION:
            # A satisfaction question: pressed by a customer's person, who has no account.
            await self.desk.on_csat(body, slack_id, decoded[1])
            return
        channel = (body.get("channel") or {}).get("id")
        if decoded is None or decoded[0] == TOO_LONG:
            me = await self.identity.who(slack_id)
            if me is None:
                await self._refuse(body, slack_id, channel)
                return
            t = me[1]
            if decoded is None:
                reply = Reply(text=t("error.button_expired"), status="error")
            else:
                picks = decoded[1].get("pick") or {}
                refs = ", ".join(f"{k} #{v}" for k, v in picks.items()) or "—"
                reply = Reply(text=t("slack.button_too_long", refs=refs), status="error")
            await self.sender.deliver(reply, t, body, slack_id)
            return
        kind, payload = decoded

        def command(user_id: int) -> Command:
            return Command(
                user_id,
                PLATFORM,
                chat_id=channel,
                action=RUN if kind == SHARE else kind,
                payload=payload,
                delivery_id=f"action:{slack_id}:{ts}" if (ts := action.get("action_ts")) else None,
            )

        done = await self._run_as(slack_id, command)
        if done is None:
            await self._refuse(body, slack_id, channel)
            return
        user_id, t, reply = done
        if reply.form is not None:
            origin = Origin(response_url=response_url(body), channel=channel)
            await self.modals.open_form(body, t, reply.form, origin)
            return
        await self.sender.deliver(reply, t, body, slack_id, share=payload, public=kind == SHARE)
        from_home = (body.get("view") or {}).get("type") == "home"
        await self._after(
            str(payload.get("text") or ""), reply, slack_id, user_id, from_home=from_home
        )

    async def _refuse(self, body: dict[str, Any], slack_id: str, channel: object) -> None:
        """Someone with no account: in a customer channel, only how to open a ticket (they
        never see CRM data); elsewhere, ask an admin."""
        if isinstance(channel, str) and await asyncio.to_thread(
            self.gateway.desk.is_customer_chat, channel
        ):
            t = Translator(self.gateway.desk.settings.default_locale)
            await self.sender.deliver(self.gateway.desk.outsider(), t, body, slack_id)
            return
        await self.identity.refuse_unknown(body, slack_id)

    async def on_home_opened(self, ack: AsyncAck, _: dict[str, Any], event: dict[str, Any]) -> None:
        """Publish the Home tab when someone opens it."""
        await ack()
        if event.get("tab") not in (None, "home"):
            return
        slack_id = str(event.get("user") or "")
        me = await self.identity.who(slack_id)
        if me is None:
            t = Translator("en")
            await self.client.views_publish(
                user_id=slack_id,
                view={
                    "type": "home",
                    "blocks": [
                        {
                            "type": "section",
                            "text": {"type": "mrkdwn", "text": t("slack.unknown_user")},
                        }
                    ],
                },
            )
            return
        self.home_viewers.add(slack_id)
        await self.publish_home(slack_id, me[0])

    async def on_other(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """An action, shortcut, view or event crmbot has no use for: acknowledged, nothing done."""
        await ack()
        log.info("ignored a Slack %s request nothing listens to", body.get("type"))

    async def on_other_options(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Type-ahead for a field that is not crmbot's: no options."""
        await ack(options=[])
        log.info("ignored a Slack options request for action %s", body.get("action_id"))

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """The one error handler: log with traceback and a reference, apologise, keep serving."""
        ref = secrets.token_hex(4)
        # Never the body: it carries note text and customer data.
        log.error(
            "slack listener failed (ref %s, request type %s)",
            ref,
            body.get("type") or body.get("command"),
            exc_info=error,
            extra={"ref": ref, "platform": "slack"},
        )
        slack_id = slack_user(body)
        try:
            locale = "en"
            if slack_id:
                found = await asyncio.to_thread(self.identity.lookup, slack_id)
                locale = found[1] if found else "en"
            t = Translator(locale)
            if slack_id:
                await self.sender.deliver(
                    Reply(text=t("slack.error", ref=ref), status="error"), t, body, slack_id
                )
        except Exception:
            log.exception("could not apologise to the user (ref %s)", ref, extra={"ref": ref})
