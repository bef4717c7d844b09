"""The Slack adapter: Bolt listeners turning Slack requests into Commands, Replies into blocks."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.bootstrap import App
from bot.slack.blocks import ACTION_PREFIX, SHARE, TOO_LONG, decode_button, render
from bot.slack.home import LOG_ACTION, home_view
from bot.slack.markup import mentioned_users, mentions_as_handles, plain_text, unescape
from bot.slack.modals import (
    CALLBACK,
    Checked,
    LogForm,
    Origin,
    check_log_form,
    customer_options,
    log_view,
)
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import CrmError
from crm_core.models import Customer, Deal, InteractionKind, User
from crm_core.services.captures import captured_note
from crm_core.services.followups import add_follow_up
from crm_core.services.identities import active_user_by_email, link_identity, user_for
from handlers import format as fmt
from handlers.i18n import Translator
from handlers.reply import RUN, Button, Command, Reply, SourceLink

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/crm"
GLOBAL_SHORTCUT = "log_interaction"
MESSAGE_SHORTCUT = "log_message"
FIELD = "customer"
# users.info look-ups for the names in a captured message: at most this many, this long in all.
MAX_NAME_LOOKUPS = 20
NAME_LOOKUP_SECONDS = 1.0
Listener = Callable[[AsyncAck, dict[str, Any], dict[str, Any]], Awaitable[None]]


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries dropped connections."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def api_error(exc: SlackApiError) -> str:
    """The Web API's error code (`channel_not_found`), or the HTTP status when there is none."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


def _response_url(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    if isinstance(url, str) and url:
        return url
    urls = body.get("response_urls") or []
    return str(urls[0]["response_url"]) if urls and urls[0].get("response_url") else None


def _built_permalink(channel: str, ts: str, body: dict[str, Any]) -> str:
    """A message's link from its ids, for when chat.getPermalink has not answered (yet)."""
    domain = (body.get("team") or {}).get("domain") or "app"
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _slack_user(body: dict[str, Any]) -> str | None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if user is None and isinstance(body.get("event"), dict):
        user = body["event"].get("user")
    return str(user) if user else None


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
        self.client = client
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
        b.action(LOG_ACTION)(self._guarded(self.on_home_log))
        b.shortcut(GLOBAL_SHORTCUT)(self._guarded(self.on_global_shortcut))
        b.shortcut(MESSAGE_SHORTCUT)(self._guarded(self.on_message_shortcut))
        b.options(FIELD)(self._guarded(self.on_customer_options))
        b.view(CALLBACK)(self._guarded(self.on_log_submit))
        b.event("app_home_opened")(self._guarded(self.on_home_opened))
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

    # -- identity ---------------------------------------------------------------------------

    def _lookup(self, slack_id: str) -> tuple[int, str] | None:
        with unit_of_work(self.crm.session_factory) as session:
            user = user_for(session, PLATFORM, slack_id)
            return (user.id, user.locale) if user else None

    def _link_by_email(self, slack_id: str, email: str) -> tuple[int, str] | None:
        with unit_of_work(self.crm.session_factory) as session:
            user = active_user_by_email(session, email)
            if user is None:
                return None
            link_identity(session, PLATFORM, slack_id, user, actor_label="slack")
            return user.id, user.locale

    def _linked(self, slack_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Slack id -> (handle, name) of the active crmbot users linked to these ids."""
        out: dict[str, tuple[str, str]] = {}
        with unit_of_work(self.crm.session_factory) as session:
            for slack_id in slack_ids:
                user = user_for(session, PLATFORM, slack_id)
                if user is not None:
                    out[slack_id] = (user.external_id, user.name)
        return out

    def _handles(self, slack_ids: list[str]) -> dict[str, str]:
        return {k: handle for k, (handle, _) in self._linked(slack_ids).items()}

    async def _slack_name(self, slack_id: str) -> str | None:
        try:
            info = await self.client.users_info(user=slack_id)
        except SlackApiError as exc:
            # Slack Connect users of another org, deleted users: the id stays.
            log.info("users.info for a mention failed: %s", api_error(exc))
            return None
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.info("users.info for a mention failed: %s", type(exc).__name__)
            return None
        user = info.get("user") or {}
        profile = user.get("profile") or {}
        for name in (profile.get("real_name"), user.get("real_name"), profile.get("display_name")):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    async def _plain(self, text: str) -> str:
        """A Slack message's text as a note: names for mentions, plain links, channels, entities."""
        ids = mentioned_users(text)[:MAX_NAME_LOOKUPS]
        linked = await asyncio.to_thread(self._linked, ids)
        names = {k: name for k, (_, name) in linked.items()}
        others = [i for i in ids if i not in names]
        if others:
            # Bounded: the modal must open within the trigger's 3 seconds.
            tasks = [asyncio.ensure_future(self._slack_name(i)) for i in others]
            done, pending = await asyncio.wait(tasks, timeout=NAME_LOOKUP_SECONDS)
            for task in pending:
                task.cancel()
            for slack_id, task in zip(others, tasks, strict=True):
                if task in done and (name := task.result()):
                    names[slack_id] = name
        return plain_text(text, names)

    async def who(self, slack_id: str) -> tuple[int, Translator] | None:
        """The CRM user behind a Slack user: linked before, or linked now by a unique email."""
        found = await asyncio.to_thread(self._lookup, slack_id)
        if found is None:
            try:
                info = await self.client.users_info(user=slack_id)
            except SlackApiError as exc:
                log.warning("users.info failed for an unlinked user: %s", api_error(exc))
                return None
            profile = (info.get("user") or {}).get("profile") or {}
            email = profile.get("email")
            if not isinstance(email, str) or (info.get("user") or {}).get("deleted"):
                return None
            found = await asyncio.to_thread(self._link_by_email, slack_id, email)
            if found is None:
                return None
            log.info("linked a Slack user to CRM user %s by email", found[0])
        return found[0], Translator(found[1])

    async def refuse_unknown(self, body: dict[str, Any], slack_id: str) -> None:
        """Tell an unlinked person to ask an admin, and nothing else."""
        t = Translator("en")
        await self.deliver(Reply(text=t("slack.unknown_user"), status="error"), t, body, slack_id)

    # -- sending ------------------------------------------------------------------------------

    async def upload(self, image: bytes) -> str:
        """Upload a PNG privately and return its file id for an image block."""
        resp = await self.client.files_upload_v2(
            file=image, filename="crmbot.png", title="crmbot.png"
        )
        files = resp.get("files") or [resp.get("file") or {}]
        return str(files[0]["id"])

    async def deliver(
        self,
        reply: Reply,
        t: Translator,
        body: dict[str, Any],
        slack_id: str,
        *,
        share: dict[str, Any] | None = None,
        public: bool = False,
    ) -> None:
        """Send a reply where the request came from (response_url), else as a direct message.

        A response_url expires (30 minutes, 5 uses); when it fails the rest goes by DM.
        """
        if reply.status == "duplicate":
            return
        image_id = await self.upload(reply.image) if reply.image else None
        url = _response_url(body)
        public = public or not reply.ephemeral
        dm: str | None = None
        for message in render(reply, t, share=None if public else share, image_file_id=image_id):
            if url and dm is None:
                failed = await self._respond(url, message.text, message.blocks, public=public)
                if failed is None:
                    continue
                log.warning("response_url failed (%s); answering by direct message", failed)
                dm = await self._dm(slack_id)
            await self.client.chat_postMessage(
                channel=dm or slack_id, text=message.text, blocks=message.blocks
            )

    async def _respond(
        self, url: str, text: str, blocks: list[dict[str, Any]], *, public: bool
    ) -> str | None:
        """Post to a response_url; None when it took it, else why not (for the log)."""
        try:
            resp = await AsyncWebhookClient(url, timeout=10).send(
                text=text,
                blocks=blocks,
                response_type="in_channel" if public else "ephemeral",
                replace_original=False,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            return type(exc).__name__
        return f"http {resp.status_code}" if resp.status_code >= 400 else None

    async def _dm(self, slack_id: str) -> str:
        """The app's direct-message channel with a person."""
        opened = await self.client.conversations_open(users=slack_id)
        return str(opened["channel"]["id"])

    async def dispatch(self, command: Command) -> Reply:
        """Run the dispatcher in a worker thread: a slow query never blocks the event loop."""
        return await asyncio.to_thread(self.crm.dispatcher.dispatch, command)

    def _writes(self, text: str) -> bool:
        found = self.crm.registry.match(text)
        return found is not None and found[0].writes

    async def publish_home(self, slack_id: str, user_id: int) -> None:
        """Publish the person's App Home tab as it is now."""
        view = await asyncio.to_thread(home_view, self.crm, user_id)
        await self.client.views_publish(user_id=slack_id, view=view)

    async def _after(self, text: str, reply: Reply, slack_id: str, user_id: int) -> None:
        # The Home tab shows the person's own data: refresh it after every change they make.
        if reply.status in ("ok", "info") and self._writes(text):
            await self.publish_home(slack_id, user_id)

    # -- listeners ----------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]) -> None:
        """`/crm <anything the console takes>`; `/crm log` alone opens the modal."""
        await ack()
        slack_id = str(body["user_id"])
        me = await self.who(slack_id)
        if me is None:
            await self.refuse_unknown(body, slack_id)
            return
        user_id, t = me
        # Slack escapes &, < and > in command text; mentions (<@U1|name>) arrive as real brackets.
        raw = str(body.get("text") or "")
        text = unescape(raw).strip() or "help"
        found = self.crm.registry.match(text)
        if mentioned_users(raw) and (found is None or found[0].name != "link"):
            # `remind @bob ...` arrives as `<@UBOB|bob>`: the grammar names people by @handle.
            # `link` keeps the mention: the Slack id is what it links.
            handles = await asyncio.to_thread(self._handles, mentioned_users(raw))
            text = unescape(mentions_as_handles(raw, handles.get)).strip()
            found = self.crm.registry.match(text)
        if found is not None and found[0].name == "log" and not found[1]:
            origin = Origin(response_url=_response_url(body), channel=body.get("channel_id"))
            await self.client.views_open(
                trigger_id=body["trigger_id"], view=log_view(t, origin=origin)
            )
            return
        command = Command(
            user_id,
            PLATFORM,
            text=text,
            chat_id=body.get("channel_id"),
            delivery_id=f"command:{body['trigger_id']}" if body.get("trigger_id") else None,
        )
        reply = await self.dispatch(command)
        await self.deliver(reply, t, body, slack_id, share={"text": text})
        await self._after(text, reply, slack_id, user_id)

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A pressed button: re-run its command as the presser (permissions are checked again)."""
        await ack()
        slack_id = str(body["user"]["id"])
        me = await self.who(slack_id)
        if me is None:
            await self.refuse_unknown(body, slack_id)
            return
        user_id, t = me
        decoded = decode_button(str(action.get("value") or ""))
        if decoded is None:
            await self.deliver(
                Reply(text=t("error.button_expired"), status="error"), t, body, slack_id
            )
            return
        kind, payload = decoded
        if kind == TOO_LONG:
            picks = payload.get("pick") or {}
            refs = ", ".join(f"{k} #{v}" for k, v in picks.items()) or "—"
            await self.deliver(
                Reply(text=t("slack.button_too_long", refs=refs), status="error"), t, body, slack_id
            )
            return
        channel = (body.get("channel") or {}).get("id")
        command = Command(
            user_id,
            PLATFORM,
            chat_id=channel,
            action=RUN if kind == SHARE else kind,
            payload=payload,
            delivery_id=f"action:{slack_id}:{ts}" if (ts := action.get("action_ts")) else None,
        )
        reply = await self.dispatch(command)
        await self.deliver(reply, t, body, slack_id, share=payload, public=kind == SHARE)
        await self._after(str(payload.get("text") or ""), reply, slack_id, user_id)

    async def _open_log(
        self,
        body: dict[str, Any],
        *,
        text: str = "",
        kind: InteractionKind = InteractionKind.call,
        origin: Origin | None = None,
    ) -> None:
        slack_id = _slack_user(body) or ""
        me = await self.who(slack_id)
        if me is None:
            await self.refuse_unknown(body, slack_id)
            return
        await self.client.views_open(
            trigger_id=body["trigger_id"], view=log_view(me[1], text=text, kind=kind, origin=origin)
        )

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

    def _already(self, user_id: int, key: str) -> Reply | None:
        with unit_of_work(self.crm.session_factory) as session:
            user = session.get(User, user_id)
            assert user is not None
            t = Translator(user.locale)
            ctx = Ctx(session, user, self.crm.pipeline, clock=self.crm.dispatcher.clock)
            note = captured_note(ctx, key)
            if note is None:
                return None
            customer = session.get(Customer, note.customer_id)
            assert customer is not None
            # A note from the modal alone has no message to point back to.
            return Reply(
                text=t(
                    "slack.already_logged" if note.link else "slack.already_logged_form",
                    id=note.id,
                    customer=customer.name,
                    when=fmt.local_time(note.occurred_at, ctx.tz),
                    link=note.link or "",
                ),
                buttons=[Button.run(t("button.open"), f"customer #{customer.id}")],
                status="info",
            )

    async def on_message_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """ "Log to CRM" on a message: the modal prefilled with it, or "already logged"."""
        await ack()
        slack_id = _slack_user(body) or ""
        me = await self.who(slack_id)
        if me is None:
            await self.refuse_unknown(body, slack_id)
            return
        user_id, t = me
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        ts = str(message.get("ts") or "")
        team = str((body.get("team") or {}).get("id") or "")
        key = f"slack:{team}:{channel}:{ts}"
        already = await asyncio.to_thread(self._already, user_id, key)
        if already is not None:
            await self.deliver(already, t, body, slack_id)
            return
        # Open first: the trigger id is valid for 3 seconds and chat.getPermalink can take longer.
        # The modal carries a link built from the ids until the real permalink replaces it.
        origin = Origin(
            link=_built_permalink(channel, ts, body),
            key=key,
            response_url=_response_url(body),
            channel=channel,
        )
        text = await self._plain(str(message.get("text") or ""))
        opened = await self.client.views_open(
            trigger_id=body["trigger_id"],
            view=log_view(t, text=text, kind=InteractionKind.chat, origin=origin),
        )
        link = await self._permalink(channel, ts)
        if link is None or link == origin.link:
            return
        origin.link = link
        view = opened.get("view") or {}
        try:
            # Same blocks and ids: Slack keeps what the person typed meanwhile.
            await self.client.views_update(
                view_id=view["id"],
                hash=view.get("hash"),
                view=log_view(t, text=text, kind=InteractionKind.chat, origin=origin),
            )
        except SlackApiError as exc:
            # Submitted or closed already (or edited meanwhile): the built link stays.
            log.info("log modal not updated with the permalink: %s", api_error(exc))

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(resp["permalink"])
        except SlackApiError as exc:
            log.info("chat.getPermalink failed: %s", api_error(exc))
            return None

    async def on_customer_options(
        self, ack: AsyncAck, body: dict[str, Any], _: dict[str, Any]
    ) -> None:
        """Type-ahead for the customer field: the customers this person may see."""
        slack_id = _slack_user(body) or ""
        found = await asyncio.to_thread(self._lookup, slack_id)
        if found is None:
            await ack(options=[])
            return
        options = await asyncio.to_thread(
            customer_options, self.crm, found[0], str(body.get("value") or "")
        )
        await ack(options=options)

    async def on_log_submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """The modal's submit: errors on their fields, or close it and log the interaction."""
        slack_id = _slack_user(body) or ""
        found = await asyncio.to_thread(self._lookup, slack_id)
        if found is None:
            await ack(
                response_action="errors",
                errors={"customer": Translator("en")("slack.unknown_user")},
            )
            return
        user_id, locale = found
        t = Translator(locale)
        form = LogForm.from_state((view.get("state") or {}).get("values") or {})
        checked = await asyncio.to_thread(check_log_form, self.crm, user_id, form)
        if checked.errors:
            await ack(response_action="errors", errors=checked.errors)
            return
        await ack()
        origin = Origin.load(view.get("private_metadata"))
        # One note per captured message, else per modal: a resubmitted view never logs twice.
        key = origin.key or (f"slack:view:{view['id']}" if view.get("id") else None)
        command = Command(
            user_id,
            PLATFORM,
            text=checked.line,
            chat_id=origin.channel,
            idempotency_key=key,
            attachments=(SourceLink(origin.link),) if origin.link else (),
            delivery_id=f"view:{view['id']}" if view.get("id") else None,
        )
        reply = await self.dispatch(command)
        if reply.status == "duplicate":
            # The same submission again: say which note holds it, so nobody logs it by hand.
            already = await asyncio.to_thread(self._already, user_id, key) if key else None
            if already is None:
                return
            reply = already
        if reply.status == "ok" and form.follow_up is not None and checked.customer_id:
            reply.items.append(await asyncio.to_thread(self._follow_up, user_id, checked, form))
        target = {"response_url": origin.response_url} if origin.response_url else {}
        await self.deliver(reply, t, target, slack_id)
        await self._after(checked.line, reply, slack_id, user_id)

    def _follow_up(self, user_id: int, checked: Checked, form: LogForm) -> str:
        assert form.follow_up is not None and checked.customer_id is not None
        with unit_of_work(self.crm.session_factory) as session:
            user = session.get(User, user_id)
            customer = session.get(Customer, checked.customer_id)
            assert user is not None and customer is not None
            t = Translator(user.locale)
            ctx = Ctx(session, user, self.crm.pipeline, clock=self.crm.dispatcher.clock)
            deal = session.get(Deal, checked.deal_id) if checked.deal_id else None
            text = t("slack.follow_up_text", customer=customer.name)
            try:
                reminder = add_follow_up(ctx, customer, form.follow_up, text, deal=deal)
            except CrmError as exc:
                session.rollback()
                return t(exc.key, **exc.params)
            return t("slack.follow_up_set", when=fmt.local_time(reminder.due_at, ctx.tz))

    async def on_home_opened(self, ack: AsyncAck, _: dict[str, Any], event: dict[str, Any]) -> None:
        """Publish the Home tab when someone opens it."""
        await ack()
        if event.get("tab") not in (None, "home"):
            return
        slack_id = str(event.get("user") or "")
        me = await self.who(slack_id)
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
        )
        slack_id = _slack_user(body)
        try:
            locale = "en"
            if slack_id:
                found = await asyncio.to_thread(self._lookup, slack_id)
                locale = found[1] if found else "en"
            t = Translator(locale)
            if slack_id:
                await self.deliver(
                    Reply(text=t("slack.error", ref=ref), status="error"), t, body, slack_id
                )
        except Exception:
            log.exception("could not apologise to the user (ref %s)", ref)
