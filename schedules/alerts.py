"""Channel alerts: each deal won, lost or moved is posted once to each configured channel.

The alert row (unique on stage change and target) is committed before posting, so two workers
never post the same move twice; a worker killed in between drops that one post (at most once:
a missing channel post is cheaper than a duplicate one in front of the whole team).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import ChannelAlert, StageChange, utcnow

log = logging.getLogger(__name__)

# Moves older than this when first seen are history, not news (a fresh install, a long outage).
WINDOW = timedelta(hours=1)
BATCH = 100

# Posts one stage change to one target ("slack:C0123", "telegram:-100123"), or raises.
Post = Callable[[int, str], Awaitable[object]]


class AlertDispatcher:
    """Posts new stage changes to every configured target."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        post: Post,
        targets: Sequence[str],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.post = post
        self.targets = list(targets)
        self.clock = clock

    def pending(self, target: str) -> list[int]:
        """Stage changes not yet claimed for `target`, oldest first."""
        now = self.clock()
        with self.session_factory() as s:
            floor = s.scalar(
                select(func.max(ChannelAlert.stage_change_id)).where(ChannelAlert.target == target)
            )
            # A deal's first stage (its creation) is not a move.
            stmt = select(StageChange.id).where(
                StageChange.changed_at >= now - WINDOW, StageChange.from_stage.is_not(None)
            )
            if floor is not None:
                stmt = stmt.where(StageChange.id > floor)
            return list(s.scalars(stmt.order_by(StageChange.id).limit(BATCH)))

    def claim(self, change_id: int, target: str) -> bool:
        """Take this post; False when another worker already has it."""
        try:
            with unit_of_work(self.session_factory) as s:
                s.add(
                    ChannelAlert(
                        stage_change_id=change_id,
                        target=target,
                        status="sending",
                        created_at=self.clock(),
                    )
                )
            return True
        except IntegrityError:
            return False

    def finish(self, change_id: int, target: str, ok: bool) -> None:
        """Record the outcome."""
        with unit_of_work(self.session_factory) as s:
            s.execute(
                update(ChannelAlert)
                .where(ChannelAlert.stage_change_id == change_id, ChannelAlert.target == target)
                .values(status="sent" if ok else "failed", sent_at=self.clock() if ok else None)
            )

    async def run_once(self) -> int:
        """Post everything new; returns how many posts went out."""
        sent = 0
        for target in self.targets:
            for change_id in await asyncio.to_thread(self.pending, target):
                if not await asyncio.to_thread(self.claim, change_id, target):
                    continue
                ok = True
                try:
                    await self.post(change_id, target)
                except Exception as exc:
                    ok = False
                    log.warning(
                        "alert for stage change %s to %s failed: %s",
                        change_id,
                        target,
                        type(exc).__name__,
                    )
                await asyncio.to_thread(self.finish, change_id, target, ok)
                sent += ok
        return sent
