"""Status reactions on tickets' source messages: a ticket whose status changed (by any command,
anywhere) gets its status's reaction on the Slack or Telegram message it was opened from.

A ticket's `mirror_due_at` is taken with one conditional UPDATE (the claim) before the reaction
is set, so two workers never both do it; a reaction that fails is not retried (it is cosmetic,
and the next status change sets it again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import Ticket, utcnow

log = logging.getLogger(__name__)
BATCH = 200


@dataclass(frozen=True)
class Mirror:
    """One ticket's status to show on its source message."""

    ticket_id: int
    platform: str
    source_key: str
    status: str


React = Callable[[Mirror], Awaitable[object]]


class MirrorJob:
    """Sets the status reactions that are due; safe in many processes."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        react: React,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.react = react
        self.clock = clock

    def _due(self) -> list[int]:
        with self.session_factory() as s:
            return list(
                s.scalars(
                    select(Ticket.id)
                    .where(Ticket.mirror_due_at <= self.clock())
                    .order_by(Ticket.mirror_due_at)
                    .limit(BATCH)
                )
            )

    def _claim(self, ticket_id: int) -> Mirror | None:
        with unit_of_work(self.session_factory) as s:
            taken = s.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.mirror_due_at.is_not(None))
                .values(mirror_due_at=None)
            )
            if int(getattr(taken, "rowcount", 0) or 0) != 1:
                return None
            row = s.execute(
                select(Ticket.source, Ticket.source_key, Ticket.status).where(
                    Ticket.id == ticket_id
                )
            ).one()
            if not row.source_key:
                return None
            return Mirror(ticket_id, row.source, row.source_key, str(row.status.value))

    async def run_once(self) -> int:
        """Claim and set each due reaction; how many were set."""
        done = 0
        for ticket_id in await asyncio.to_thread(self._due):
            mirror = await asyncio.to_thread(self._claim, ticket_id)
            if mirror is None:
                continue
            try:
                await self.react(mirror)
                done += 1
            except Exception as exc:
                log.warning(
                    "status reaction for ticket %s failed: %s", ticket_id, type(exc).__name__
                )
        return done
