"""Routing a message for a person to a platform: their linked accounts and the notifiers we have."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import Identity, User
from handlers.notify import Address, DeliveryFailed, Notifier
from handlers.reply import Reply

log = logging.getLogger(__name__)

# Preferred platforms first; the console needs no linked account (its target is the handle).
ORDER = ("slack", "telegram", "console")
CONSOLE = "console"


class NotifierHub:
    """Sends a Reply to a person through the first of their platforms that works."""

    def __init__(
        self, session_factory: sessionmaker[Session], notifiers: Sequence[Notifier]
    ) -> None:
        self.session_factory = session_factory
        rank = {name: i for i, name in enumerate(ORDER)}
        self.notifiers = sorted(notifiers, key=lambda n: rank.get(n.platform, len(ORDER)))
        self.by_platform = {n.platform: n for n in self.notifiers}

    def addresses(self, user_id: int) -> list[Address]:
        """Where this person can be reached, best first."""
        with self.session_factory() as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                return []
            linked = {
                platform: target
                for platform, target in s.execute(
                    select(Identity.platform, Identity.platform_user_id).where(
                        Identity.user_id == user_id
                    )
                ).all()
            }
            handle = user.external_id
        out = []
        for n in self.notifiers:
            if n.platform == CONSOLE:
                out.append(Address(CONSOLE, handle))
            elif n.platform in linked:
                out.append(Address(n.platform, linked[n.platform]))
        return out

    async def send_to_user(self, user_id: int, reply: Reply) -> str:
        """Deliver to the person; raises DeliveryFailed when no route worked."""
        routes = self.addresses(user_id)
        if not routes:
            raise DeliveryFailed("no linked chat account", retryable=False)
        last: DeliveryFailed | None = None
        retryable = False
        for address in routes:
            try:
                return await self.by_platform[address.platform].send(address, reply)
            except DeliveryFailed as exc:
                log.warning(
                    "delivery to user %s on %s failed: %s", user_id, address.platform, exc.reason
                )
                last = exc
                retryable = retryable or exc.retryable
        assert last is not None
        raise DeliveryFailed(last.reason, retryable=retryable)

    async def send_to(self, address: Address, reply: Reply) -> str:
        """Deliver to one address (a team channel); raises DeliveryFailed."""
        notifier = self.by_platform.get(address.platform)
        if notifier is None:
            raise DeliveryFailed(f"{address.platform} is not configured", retryable=False)
        return await notifier.send(address, reply)
