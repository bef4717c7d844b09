"""Owner notices: each person told once that a customer was given to them or taken from them,
or that a campaign gave them tasks (the same claim over `campaign_notices` rows).

The notice row is written with the reassignment and claimed (pending -> sending, a conditional
UPDATE) in its own commit before the send, like the channel alerts: a second worker or a
restart never tells anyone twice; a worker killed mid-send drops that one message (at most
once: the history and the customer card still say who owns what).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import OwnerNotice, utcnow

log = logging.getLogger(__name__)

BATCH = 100

# Sends one notice by id, or raises.
Send = Callable[[int], Awaitable[object]]


class NoticeDispatcher:
    """Sends pending owner notices."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send,
        *,
        clock: Callable[[], datetime] = utcnow,
        model: Any = OwnerNotice,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.clock = clock
        # The notice table: any with id, status ("pending" -> "sending" -> "sent"/"failed") and
        # sent_at (OwnerNotice, CampaignNotice).
        self.model = model

    def pending(self) -> list[int]:
        """Notices not yet claimed, oldest first."""
        with self.session_factory() as s:
            m = self.model
            stmt = select(m.id).where(m.status == "pending")
            return list(s.scalars(stmt.order_by(m.id).limit(BATCH)))

    def claim(self, notice_id: int) -> bool:
        """Take this notice; False when another worker already has it."""
        with unit_of_work(self.session_factory) as s:
            taken = s.execute(
                update(self.model)
                .where(self.model.id == notice_id, self.model.status == "pending")
                .values(status="sending")
            )
            return bool(getattr(taken, "rowcount", 0) == 1)

    def finish(self, notice_id: int, ok: bool) -> None:
        """Record the outcome."""
        with unit_of_work(self.session_factory) as s:
            s.execute(
                update(self.model)
                .where(self.model.id == notice_id)
                .values(status="sent" if ok else "failed", sent_at=self.clock() if ok else None)
            )

    async def run_once(self) -> int:
        """Send every pending notice; returns how many went out."""
        sent = 0
        for notice_id in await asyncio.to_thread(self.pending):
            if not await asyncio.to_thread(self.claim, notice_id):
                continue
            ok = True
            try:
                await self.send(notice_id)
            except Exception as exc:
                ok = False
                log.warning(
                    "%s %s failed: %s", self.model.__tablename__, notice_id, type(exc).__name__
                )
            await asyncio.to_thread(self.finish, notice_id, ok)
            sent += ok
        return sent
