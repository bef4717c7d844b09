"""The outbound port: how reminders, digests and alerts reach people on any platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.reply import Reply


@dataclass(frozen=True)
class Address:
    """Where a message goes: a person (direct message) or a channel/group on one platform."""

    platform: str
    # The platform's id: a Slack user or channel id, a Telegram chat id, a console user handle.
    target: str
    channel: bool = False
    # A thread to answer in: a Slack message's ts, a Telegram message id (replied to).
    thread: str | None = None


class DeliveryFailed(Exception):
    """A message was not delivered; `retryable` says whether trying again later may work."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Notifier(Protocol):
    """One platform's way of sending a Reply that nobody asked for just now."""

    platform: str

    async def send(self, address: Address, reply: Reply) -> str:
        """Deliver `reply`; returns the platform's message id or raises DeliveryFailed."""
        ...
