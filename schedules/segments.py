"""Segments over time: each day's member count, and a ping to followers when customers enter.

A follower hears of each customer once: the entry row (follow, customer) is inserted in its own
commit before the ping, and the insert skips rows that exist, so of two workers (or a restart)
only the one whose insert took the row sends it. A worker killed between claim and send leaves
its rows "sending": once the claim is older than the lease (5 minutes) a later sweep takes them
again with a conditional UPDATE (one worker wins) and pings them, if the customer is still in
the follower's view. As with reminders, that window is at-least-once: a worker killed after
the send but before marking it sent means one repeated ping, which beats one never sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import CrmError
from crm_core.marketing import segments as svc
from crm_core.models import Segment, SegmentEntry, User, utcnow
from crm_core.stages import DEFAULT_STAGES, Pipeline

log = logging.getLogger(__name__)

# Sends one ping: (user id, segment id, ids of the customers it lists, how many entered in all),
# or raises. A big entry (a whole import) lists only the first few and counts the rest.
Send = Callable[[int, int, list[int], int], Awaitable[object]]

# Rows per claim insert (4 parameters a row, far under PostgreSQL's 65,535) and per status update.
CLAIM_CHUNK = 500
# Customers a ping lists by name; the rest are counted ("and 120 more").
PING_LISTS = 20
# A claim still "sending" after this long belongs to a worker that died: it is taken again.
LEASE = timedelta(minutes=5)


@dataclass
class SweepStats:
    """What one run did."""

    counted: int = 0
    pings: int = 0
    entered: int = 0
    failed: int = 0
    unreadable: list[int] = field(default_factory=list)
    # Follows or counted views that failed unexpectedly (logged; the sweep went on).
    errors: int = 0


class SegmentSweep:
    """Keeps daily counts and pings followers about customers that entered their segments."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send | None,
        *,
        pipeline: Pipeline | None = None,
        clock: Callable[[], datetime] = utcnow,
        claim_chunk: int = CLAIM_CHUNK,
        ping_lists: int = PING_LISTS,
        lease: timedelta = LEASE,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.pipeline = pipeline or Pipeline(DEFAULT_STAGES)
        self.clock = clock
        self.claim_chunk = claim_chunk
        self.ping_lists = ping_lists
        self.lease = lease

    def _ctx(self, s: Session, user_id: int) -> Ctx | None:
        user = s.get(User, user_id)
        if user is None or not user.active:
            return None
        return Ctx(s, user, self.pipeline, clock=self.clock)

    def count_all(self, stats: SweepStats | None = None) -> int:
        """Keep today's count of each segment in its saver's and followers' books."""
        with self.session_factory() as s:
            views = svc.counted_views(s)
        kept = 0
        for segment_id, user_id in views:
            try:
                kept += self._count_one(segment_id, user_id)
            except Exception as exc:
                # One view's failure must not stop the others' counts nor the pings after them.
                log.warning(
                    "segment %s count for user %s failed: %s",
                    segment_id,
                    user_id,
                    type(exc).__name__,
                )
                if stats is not None:
                    stats.errors += 1
        return kept

    def _count_one(self, segment_id: int, user_id: int) -> int:
        with unit_of_work(self.session_factory) as s:
            ctx = self._ctx(s, user_id)
            segment = s.get(Segment, segment_id)
            if ctx is None or segment is None:
                return 0
            try:
                return int(svc.record_count(ctx, segment))
            except CrmError:
                # Filters that no longer read (a custom field removed): nothing to count.
                s.rollback()
                return 0

    def _insert(self, s: Session) -> Any:
        dialect = s.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(SegmentEntry)

    def entered(self, ctx: Ctx, follow_id: int, segment: Segment) -> list[int]:
        """Members of the follower's view the follow has not seen yet (not yet claimed)."""
        members = set(svc.member_ids(ctx, segment))
        seen = ctx.session.scalars(
            select(SegmentEntry.customer_id).where(SegmentEntry.follow_id == follow_id)
        )
        return sorted(members - set(seen))

    def claim(self, follow_id: int, segment_id: int, user_id: int) -> list[int]:
        """Customers newly in the follower's view of the segment, claimed by this worker."""
        with unit_of_work(self.session_factory) as s:
            ctx = self._ctx(s, user_id)
            segment = s.get(Segment, segment_id)
            if ctx is None or segment is None:
                return []
            new = self.entered(ctx, follow_id, segment)
            now = self.clock()
            claimed = self._reclaim(ctx, follow_id, segment, now)
            # In chunks: one multi-row VALUES for a whole import would pass the parameter limit.
            for start in range(0, len(new), self.claim_chunk):
                rows = [
                    {"follow_id": follow_id, "customer_id": c, "status": "sending", "at": now}
                    for c in new[start : start + self.claim_chunk]
                ]
                stmt = (
                    self._insert(s)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(SegmentEntry.customer_id)
                )
                claimed.extend(int(c) for c in s.scalars(stmt))
            return sorted(claimed)

    def _reclaim(self, ctx: Ctx, follow_id: int, segment: Segment, now: datetime) -> list[int]:
        """Stale claims (their worker died before the ping) of customers still in the view."""
        s = ctx.session
        expired = (
            SegmentEntry.follow_id == follow_id,
            SegmentEntry.status == "sending",
            SegmentEntry.at < now - self.lease,
        )
        stale = set(s.scalars(select(SegmentEntry.customer_id).where(*expired)))
        if not stale:
            return []
        # Only what the follower may still see: access may have changed since the claim.
        wanted = sorted(stale & set(svc.member_ids(ctx, segment)))
        taken: list[int] = []
        for start in range(0, len(wanted), self.claim_chunk):
            chunk = wanted[start : start + self.claim_chunk]
            # Conditional on the old claim time: of two workers only one update matches the row.
            stmt = (
                update(SegmentEntry)
                .where(*expired, SegmentEntry.customer_id.in_(chunk))
                .values(at=now)
                .returning(SegmentEntry.customer_id)
            )
            taken.extend(int(c) for c in s.scalars(stmt))
        return taken

    def finish(self, follow_id: int, customer_ids: list[int], ok: bool) -> None:
        """Record how the ping went."""
        with unit_of_work(self.session_factory) as s:
            for start in range(0, len(customer_ids), self.claim_chunk):
                s.execute(
                    update(SegmentEntry)
                    .where(
                        SegmentEntry.follow_id == follow_id,
                        SegmentEntry.customer_id.in_(
                            customer_ids[start : start + self.claim_chunk]
                        ),
                    )
                    .values(status="sent" if ok else "failed")
                )

    async def run_once(self) -> SweepStats:
        """Count, then ping every follower about the customers that entered since last time."""
        stats = SweepStats()
        stats.counted = await asyncio.to_thread(self.count_all, stats)
        send = self.send
        if send is None:
            # No chat platform: nothing is claimed, so the entries are pinged once one is set.
            return stats
        with self.session_factory() as s:
            follows = svc.follows(s)
        for follow_id, segment_id, user_id in follows:
            try:
                await self._ping(send, stats, follow_id, segment_id, user_id)
            except Exception as exc:
                # One follow's failure (a database error) must not starve the follows after it.
                stats.errors += 1
                log.warning("segment follow %s failed: %s", follow_id, type(exc).__name__)
        return stats

    async def _ping(
        self, send: Send, stats: SweepStats, follow_id: int, segment_id: int, user_id: int
    ) -> None:
        try:
            entered = await asyncio.to_thread(self.claim, follow_id, segment_id, user_id)
        except CrmError:
            stats.unreadable.append(segment_id)
            return
        if not entered:
            return
        ok = True
        try:
            await send(user_id, segment_id, entered[: self.ping_lists], len(entered))
        except Exception as exc:
            ok = False
            stats.failed += 1
            log.warning("segment ping %s failed: %s", follow_id, type(exc).__name__)
        await asyncio.to_thread(self.finish, follow_id, entered, ok)
        stats.pings += ok
        stats.entered += len(entered) if ok else 0
