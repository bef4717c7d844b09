"""Who is asking: the CRM user behind a Slack user, linked before or now by a unique email."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.markup import mentioned_users, plain_text
from bot.slack.sending import Sender, api_error
from handlers.gateway import Gateway
from handlers.i18n import Translator
from handlers.reply import Reply

log = logging.getLogger(__name__)
# users.info look-ups for the names in a captured message: at most this many, this long in all.
MAX_NAME_LOOKUPS = 20
NAME_LOOKUP_SECONDS = 1.0


def slack_user(body: dict[str, Any]) -> str | None:
    """The Slack user id a request comes from."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if user is None and isinstance(body.get("event"), dict):
        user = body["event"].get("user")
    return str(user) if user else None


class Identity:
    """Slack user ids to CRM users, through the gateway."""

    def __init__(self, gateway: Gateway, client: AsyncWebClient, sender: Sender) -> None:
        self.gateway = gateway
        self.client = client
        self.sender = sender

    def lookup(self, slack_id: str) -> tuple[int, str] | None:
        person = self.gateway.identify(slack_id)
        return (person.user_id, person.locale) if person else None

    def _link_by_email(self, slack_id: str, email: str) -> tuple[int, str] | None:
        person = self.gateway.link_by_email(slack_id, email)
        return (person.user_id, person.locale) if person else None

    async def who(self, slack_id: str) -> tuple[int, Translator] | None:
        """The CRM user behind a Slack user: linked before, or linked now by a unique email."""
        found = await asyncio.to_thread(self.lookup, slack_id)
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

    def _linked(self, slack_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Slack id -> (handle, name) of the active crmbot users linked to these ids."""
        found = self.gateway.identify_many(slack_ids)
        return {k: (p.handle, p.name) for k, p in found.items()}

    def handles(self, slack_ids: list[str]) -> dict[str, str]:
        """Slack id -> crmbot handle, for the linked ones."""
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

    async def display_name(self, slack_id: str) -> str | None:
        """A Slack user's name as people read it (a Slack Connect guest's too), or None."""
        return await self._slack_name(slack_id)

    async def plain(self, text: str) -> str:
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

    async def refuse_unknown(self, body: dict[str, Any], slack_id: str) -> None:
        """Tell an unlinked person to ask an admin, and nothing else."""
        t = Translator("en")
        await self.sender.deliver(
            Reply(text=t("slack.unknown_user"), status="error"), t, body, slack_id
        )
