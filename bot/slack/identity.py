"""Who is asking: the CRM user behind a Slack user, linked before or now by a unique email."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.sending import Sender, api_error
from handlers.gateway import Gateway
from handlers.i18n import Translator
from handlers.reply import Reply

log = logging.getLogger(__name__)


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

    async def refuse_unknown(self, body: dict[str, Any], slack_id: str) -> None:
        """Tell an unlinked person to ask an admin, and nothing else."""
        t = Translator("en")
        await self.sender.deliver(
            Reply(text=t("slack.unknown_user"), status="error"), t, body, slack_id
        )
