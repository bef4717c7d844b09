"""Delivering due reminders: claim atomically, deliver, mark sent; retry with backoff.

The delivery guarantee, and its one trade-off:

- A claim is a token and a lease written in one short transaction (PostgreSQL: the candidate
  rows are locked with FOR UPDATE SKIP LOCKED so workers never wait on each other; SQLite: a
  conditional UPDATE ... WHERE status='pending' AND the row is unclaimed, which SQLite runs one
  writer at a time). Two workers can never hold the same reminder.
- Each reminder is marked sent in its own commit right after its send returns, and only by the
  worker still holding the claim. A worker that dies between batches (the idle time between
  ticks, where it spends nearly all its life) holds nothing: no loss, no repeat.
- A worker killed while a send is in flight leaves that one reminder claimed; after the lease
  (5 minutes) another worker sends it again, marked as possibly repeated. We chose
  at-least-once for that window (one reminder per killed worker, the width of one UPDATE)
  because a reminder that never comes is worse than one that comes twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.audit import record
from crm_core.db import on_postgres, unit_of_work
from crm_core.models import Reminder, ReminderStatus, SchedulePrefs, User, utcnow
from crm_core.services.reminders import next_in_series
from crm_core.zones import zone
from schedules.quiet import QuietHours, WorkHours, next_free

log = logging.getLogger(__name__)

BATCH = 200
LEASE = timedelta(minutes=5)
# Later than this after its time, a reminder is shown as late (the bot was down or busy).
LATE_AFTER = timedelta(minutes=2)
# Waits between attempts; after the last one the reminder is failed and the failure reported.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
# One run drains at most this many batches, so a job never holds the scheduler for long.
MAX_BATCHES = 50


@dataclass(frozen=True)
class Due:
    """A claimed reminder on its way out: plain data, no session attached."""

    id: int
    owner_id: int
    due_at: datetime
    text: str
    customer_id: int | None
    deal_id: int | None
    late: bool
    # A previous worker claimed it and vanished: it may have been delivered already.
    resent: bool
    attempt: int
    recurrence: str | None
    token: str


# Delivers a reminder or raises; an exception with `retryable = False` is not retried.
Deliver = Callable[[Due], Awaitable[object]]
# Told once when a reminder finally failed: the reminder and the reason.
Report = Callable[[Due, str], Awaitable[object]]


@dataclass
class RunStats:
    """What one run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    lost: int = 0
    ids: list[int] = field(default_factory=list)


class ReminderDispatcher:
    """Claims due reminders and hands them to `deliver`; safe to run in many processes."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        deliver: Deliver,
        *,
        clock: Callable[[], datetime] = utcnow,
        work_hours: WorkHours | None = None,
        report: Report | None = None,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        backoff: tuple[timedelta, ...] = BACKOFF,
        owner_ids: Collection[int] | None = None,
    ) -> None:
        self.session_factory = session_factory
        # Only these people's reminders (the console delivers to the person at the keyboard and
        # leaves everyone else's to `serve`); None claims everyone's.
        self.owner_ids = None if owner_ids is None else frozenset(owner_ids)
        self.deliver = deliver
        self.clock = clock
        self.work_hours = work_hours or WorkHours()
        self.report = report
        self.batch = batch
        self.lease = lease
        self.backoff = backoff

    @property
    def max_attempts(self) -> int:
        """Attempts before a reminder is given up."""
        return len(self.backoff) + 1

    def claim(self) -> tuple[list[Due], int]:
        """Claim up to one batch of due reminders; returns them and how many were held back."""
        now = self.clock()
        unclaimed = or_(Reminder.claimed_until.is_(None), Reminder.claimed_until < now)
        due_now: tuple[ColumnElement[bool], ...] = (
            Reminder.status == ReminderStatus.pending,
            Reminder.due_at <= now,
            or_(Reminder.next_attempt_at.is_(None), Reminder.next_attempt_at <= now),
            unclaimed,
        )
        if self.owner_ids is not None:
            due_now = (*due_now, Reminder.owner_id.in_(self.owner_ids))
        with unit_of_work(self.session_factory) as s:
            candidates = select(Reminder.id).where(*due_now).order_by(Reminder.due_at, Reminder.id)
            candidates = candidates.limit(self.batch)
            if on_postgres(self.session_factory):
                candidates = candidates.with_for_update(skip_locked=True)
            ids = list(s.scalars(candidates))
            if not ids:
                return [], 0
            token = secrets.token_hex(16)
            s.execute(
                update(Reminder)
                .where(Reminder.id.in_(ids), Reminder.status == ReminderStatus.pending, unclaimed)
                .values(
                    claim_token=token,
                    claimed_until=now + self.lease,
                    attempts=Reminder.attempts + 1,
                ),
                execution_options={"synchronize_session": False},
            )
            rows = s.execute(
                select(Reminder, User.timezone, SchedulePrefs.quiet_start, SchedulePrefs.quiet_end)
                .join(User, User.id == Reminder.owner_id)
                .outerjoin(SchedulePrefs, SchedulePrefs.user_id == User.id)
                .where(Reminder.claim_token == token)
                .order_by(Reminder.due_at, Reminder.id)
            ).all()
            out: list[Due] = []
            held = 0
            for r, zone_name, quiet_start, quiet_end in rows:
                tz = zone(zone_name)
                free = next_free(now, tz, self.work_hours, QuietHours.of(quiet_start, quiet_end))
                if not r.explicit_time and free > now:
                    # Quiet hours (the team's working day, the person's own): wait for them
                    # to end, without using up an attempt.
                    r.next_attempt_at = free
                    r.attempts -= 1
                    r.claim_token = None
                    r.claimed_until = None
                    held += 1
                    continue
                late = now - (r.next_attempt_at or r.due_at) > LATE_AFTER
                if late and not r.late:
                    r.late = True
                out.append(
                    Due(
                        id=r.id,
                        owner_id=r.owner_id,
                        due_at=r.due_at,
                        text=r.text,
                        customer_id=r.customer_id,
                        deal_id=r.deal_id,
                        late=r.late,
                        resent=r.attempts > 1 and r.last_error is None,
                        attempt=r.attempts,
                        recurrence=r.recurrence,
                        token=token,
                    )
                )
            return out, held

    def mark_sent(self, due: Due) -> bool:
        """Record a delivery (and schedule a recurring reminder's next time); False if the claim
        was lost to another worker."""
        now = self.clock()
        with unit_of_work(self.session_factory) as s:
            done = s.execute(
                update(Reminder)
                .where(Reminder.id == due.id, Reminder.claim_token == due.token)
                .values(
                    status=ReminderStatus.sent,
                    sent_at=now,
                    claim_token=None,
                    claimed_until=None,
                    next_attempt_at=None,
                    last_error=None,
                ),
                execution_options={"synchronize_session": False},
            )
            if int(getattr(done, "rowcount", 0) or 0) != 1:
                log.warning("reminder %s: claim lost before it was marked sent", due.id)
                return False
            if due.recurrence:
                self._schedule_next(s, due, now)
        return True

    def _schedule_next(self, s: Session, due: Due, now: datetime) -> None:
        r = s.get(Reminder, due.id)
        if r is None:
            return
        follow = next_in_series(s, r, now)
        if follow is None:
            log.warning("reminder %s: no next occurrence made (unreadable or one waiting)", due.id)
            return
        record(s, None, "reminder.recur", follow, None, actor_label="scheduler")

    def mark_failed(self, due: Due, exc: BaseException) -> str:
        """Record a failed attempt: "retry" (with backoff), "failed" (given up) or "lost"."""
        now = self.clock()
        reason = (getattr(exc, "reason", None) or type(exc).__name__)[:200]
        retryable = bool(getattr(exc, "retryable", True))
        final = not retryable or due.attempt >= self.max_attempts
        values: dict[str, object] = {
            "claim_token": None,
            "claimed_until": None,
            "last_error": reason,
        }
        if final:
            values["status"] = ReminderStatus.failed
            values["next_attempt_at"] = None
        else:
            values["next_attempt_at"] = now + self.backoff[due.attempt - 1]
        with unit_of_work(self.session_factory) as s:
            result = s.execute(
                update(Reminder)
                .where(Reminder.id == due.id, Reminder.claim_token == due.token)
                .values(values),
                execution_options={"synchronize_session": False},
            )
            if int(getattr(result, "rowcount", 0) or 0) != 1:
                return "lost"
            if final:
                r = s.get(Reminder, due.id)
                if r is not None:
                    record(s, None, "reminder.failed", r, None, actor_label="scheduler")
        return "failed" if final else "retry"

    async def run_once(self, max_batches: int = MAX_BATCHES) -> RunStats:
        """Claim and deliver batches until nothing is due (or `max_batches`)."""
        stats = RunStats()
        for _ in range(max_batches):
            batch, held = await asyncio.to_thread(self.claim)
            stats.held += held
            if not batch:
                break
            for due in batch:
                await self._deliver_one(due, stats)
            if len(batch) + held < self.batch:
                break
        return stats

    async def _deliver_one(self, due: Due, stats: RunStats) -> None:
        try:
            await self.deliver(due)
        except Exception as exc:
            # The reason only: the reminder's text is the user's and stays out of logs.
            outcome = await asyncio.to_thread(self.mark_failed, due, exc)
            log.warning(
                "reminder %s attempt %s failed (%s): %s",
                due.id,
                due.attempt,
                outcome,
                type(exc).__name__,
            )
            if outcome == "retry":
                stats.retried += 1
            elif outcome == "failed":
                stats.failed += 1
                if self.report is not None:
                    try:
                        await self.report(due, str(getattr(exc, "reason", type(exc).__name__)))
                    except Exception:
                        log.exception("reporting the failure of reminder %s failed", due.id)
            else:
                stats.lost += 1
            return
        if await asyncio.to_thread(self.mark_sent, due):
            stats.sent += 1
            stats.ids.append(due.id)
        else:
            stats.lost += 1
