"""Customer care on a clock: the monthly tier review, tier-change pings and care-date pings.

Each happens once across workers and restarts:
- the review of a month is a `tier_reviews` row (unique on the month) inserted before it runs,
  like the daily backup; it runs on the first tick of the month (UTC) for rules that were in
  force when the month began, and its downgrades and upgrades commit with the row's "sent";
- a tier change is pinged after a conditional UPDATE pending -> sending, like owner notices;
- a care date's ping is a `care_pings` row (unique on care date, record and date) inserted
  before the send, like digests, on the owner's local lead day, within their working hours.
A worker killed mid-send drops that one ping (at most once: the digest lists it anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import CarePing, SchedulePrefs, TierChange, TierProgram, TierReview, utcnow
from crm_core.services import care, tiers
from crm_core.services.care import Coming
from crm_core.stages import Pipeline
from crm_core.zones import zone
from schedules import sendlog
from schedules.quiet import QuietHours, WorkHours, next_free

log = logging.getLogger(__name__)

BATCH = 200

# Sends one tier change's ping by id, or raises.
SendTier = Callable[[int], Awaitable[object]]
# Sends one care date's ping to the owner (by id), or raises.
SendCare = Callable[[Coming, int], Awaitable[object]]


@dataclass
class CareStats:
    """What one run did."""

    reviewed: list[str] = field(default_factory=list)
    tier_pings: list[int] = field(default_factory=list)
    care_pings: list[tuple[int, int]] = field(default_factory=list)
    failed: int = 0


def month_start(now: datetime) -> datetime:
    """Midnight UTC on the first of `now`'s month."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class CareSweep:
    """Runs the due review, then sends owed tier and care pings; safe in many processes."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        pipeline: Pipeline,
        send_tier: SendTier | None,
        send_care: SendCare | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        work_hours: WorkHours | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.pipeline = pipeline
        self.send_tier = send_tier
        self.send_care = send_care
        self.clock = clock
        self.work_hours = work_hours or WorkHours()

    # --- the monthly review ---

    def review_due(self) -> str | None:
        """The month whose review is owed now, or None."""
        now = self.clock()
        period = tiers.review_period(now)
        with self.session_factory() as s:
            prog = s.get(TierProgram, tiers.PROGRAM_ID)
            if prog is None or not prog.levels or prog.updated_at > month_start(now):
                # Rules set during this month are reviewed from the next one.
                return None
            row = s.scalar(select(TierReview).where(TierReview.period == period))
        if row is not None and not sendlog.may_take(row.status, row.attempts, row.claimed_at, now):
            return None
        return period

    def review(self) -> str | None:
        """Claim and run the owed review; returns its month when this run did it."""
        period = self.review_due()
        if period is None:
            return None
        key = {"period": period}
        if sendlog.claim(self.session_factory, TierReview, key, self.clock()) is None:
            return None
        error: BaseException | None = None
        try:
            with unit_of_work(self.session_factory) as s:
                changed = tiers.review(s, self.pipeline, self.clock())
            log.info("tier review %s: %s customers changed tier", period, changed)
        except Exception as exc:
            error = exc
            log.warning("tier review %s failed: %s", period, type(exc).__name__)
        sendlog.finish(self.session_factory, TierReview, {"period": period}, self.clock(), error)
        return period if error is None else None

    # --- tier-change pings ---

    def pending_changes(self) -> list[int]:
        """Tier changes waiting for their ping, oldest first."""
        with self.session_factory() as s:
            stmt = select(TierChange.id).where(TierChange.status == "pending")
            return list(s.scalars(stmt.order_by(TierChange.id).limit(BATCH)))

    def claim_change(self, change_id: int) -> bool:
        """Take one tier change's ping; False when another worker has it."""
        with unit_of_work(self.session_factory) as s:
            taken = s.execute(
                update(TierChange)
                .where(TierChange.id == change_id, TierChange.status == "pending")
                .values(status="sending")
            )
            return bool(getattr(taken, "rowcount", 0) == 1)

    def finish_change(self, change_id: int, ok: bool) -> None:
        """Record a tier ping's outcome."""
        with unit_of_work(self.session_factory) as s:
            s.execute(
                update(TierChange)
                .where(TierChange.id == change_id)
                .values(status="sent" if ok else "failed", sent_at=self.clock() if ok else None)
            )

    # --- care-date pings ---

    def due_care(self) -> list[tuple[Coming, int]]:
        """Care pings due now: on the owner's lead day, within their working and free hours."""
        now = self.clock()
        with self.session_factory() as s:
            found = care.due_pings(s, self.pipeline, now)
            prefs = {p.user_id: p for p in s.scalars(select(SchedulePrefs))}
        out = []
        for coming, owner in found:
            p = prefs.get(owner.id)
            quiet = QuietHours.of(p.quiet_start, p.quiet_end) if p is not None else None
            if next_free(now, zone(owner.timezone), self.work_hours, quiet) > now:
                continue
            out.append((coming, owner.id))
        return out

    def _care_key(self, coming: Coming) -> dict[str, object]:
        return {
            "care_id": coming.item.care.id,
            "entity_id": coming.item.entity_id,
            "day": coming.day,
        }

    def _finish_care(self, key: dict[str, object], exc: BaseException | None) -> str:
        return sendlog.finish(self.session_factory, CarePing, key, self.clock(), exc)

    async def run_once(self) -> CareStats:
        """Review when owed, then every owed ping (none without a way to send them)."""
        stats = CareStats()
        period = await asyncio.to_thread(self.review)
        if period is not None:
            stats.reviewed.append(period)
        if self.send_tier is None or self.send_care is None:
            # No chat platform: the tier changes stay pending, the care dates unclaimed.
            return stats
        send_tier, send_care = self.send_tier, self.send_care
        for change_id in await asyncio.to_thread(self.pending_changes):
            if not await asyncio.to_thread(self.claim_change, change_id):
                continue
            ok = True
            try:
                await send_tier(change_id)
            except Exception as exc:
                ok = False
                stats.failed += 1
                log.warning("tier ping %s failed: %s", change_id, type(exc).__name__)
            await asyncio.to_thread(self.finish_change, change_id, ok)
            if ok:
                stats.tier_pings.append(change_id)
        for coming, owner_id in await asyncio.to_thread(self.due_care):
            key = self._care_key(coming)
            outcome = await sendlog.send_once(
                partial(sendlog.claim, self.session_factory, CarePing, key, self.clock()),
                partial(send_care, coming, owner_id),
                partial(self._finish_care, key),
                log,
                "care ping",
            )
            if outcome == "sent":
                stats.care_pings.append((coming.item.care.id, coming.item.entity_id))
            elif outcome is not None:
                stats.failed += 1
        return stats
