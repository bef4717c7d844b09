"""Sending each person's morning digest: at most once per local day, across restarts and workers.

The digest log row (unique on user and local date) is inserted and committed before the digest
is built and sent. A second worker's insert fails on the unique key, so it skips that person. A
worker killed after the insert and before the send loses that day's digest: we chose at most
once here, because the next morning brings a fresh one and a double digest is pure noise.
A retryable failure marks the row "retry" and a later tick reclaims it (conditional update).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import DigestLog, SchedulePrefs, User, utcnow
from crm_core.zones import zone
from schedules import sendlog
from schedules.quiet import QuietHours, WorkHours

log = logging.getLogger(__name__)

DEFAULT_TIME = time(8, 30)

# Builds and delivers one person's digest for a local day, or raises.
Send = Callable[[int, date], Awaitable[object]]


class DigestStats(sendlog.SendStats[int]):
    """What one run did: the people sent to."""


def digest_clock(minute: int | None, default: time) -> time:
    """The local time a person's digest goes out."""
    return default if minute is None else time(minute // 60, minute % 60)


class DigestDispatcher:
    """Finds people whose digest is due now in their zone, claims the day, sends."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send,
        *,
        clock: Callable[[], datetime] = utcnow,
        default_time: time = DEFAULT_TIME,
        work_hours: WorkHours | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.clock = clock
        self.default_time = default_time
        self.work_hours = work_hours or WorkHours()

    def due(self) -> list[tuple[int, date]]:
        """(user id, local date) of everyone whose digest is due and not yet claimed today."""
        now = self.clock()
        utc_day = now.date()
        out: list[tuple[int, date]] = []
        with self.session_factory() as s:
            users = s.execute(
                select(User.id, User.timezone, SchedulePrefs)
                .outerjoin(SchedulePrefs, SchedulePrefs.user_id == User.id)
                .where(User.active.is_(True))
            ).all()
            logged = {
                (uid, day): (status, attempts, claimed_at)
                for uid, day, status, attempts, claimed_at in s.execute(
                    select(
                        DigestLog.user_id,
                        DigestLog.local_date,
                        DigestLog.status,
                        DigestLog.attempts,
                        DigestLog.claimed_at,
                    ).where(
                        DigestLog.local_date.between(
                            utc_day - timedelta(days=1), utc_day + timedelta(days=1)
                        )
                    )
                )
            }
        for uid, zone_name, prefs in users:
            if prefs is not None and prefs.digest_off:
                continue
            local = now.astimezone(zone(zone_name))
            days = prefs.digest_days if prefs is not None else "weekdays"
            if days == "weekdays" and local.weekday() >= 5:
                continue
            at = digest_clock(prefs.digest_minute if prefs else None, self.default_time)
            # Quiet hours: never before the working day starts, never after it ends.
            if local.time() < max(at, self.work_hours.start) or local.time() >= self.work_hours.end:
                continue
            quiet = QuietHours.of(prefs.quiet_start, prefs.quiet_end) if prefs else None
            if quiet is not None and quiet.contains(now, zone(zone_name)):
                # The person's own quiet hours: it goes when they end, if the day is still on.
                continue
            seen = logged.get((uid, local.date()))
            if seen is not None and not sendlog.may_take(*seen, now):
                continue
            out.append((uid, local.date()))
        return out

    def claim(self, user_id: int, day: date) -> bool:
        """Take the day's digest for this person; False when another run has it."""
        key = {"user_id": user_id, "local_date": day}
        return sendlog.claim(self.session_factory, DigestLog, key, self.clock()) is not None

    def finish(self, user_id: int, day: date, exc: BaseException | None) -> str:
        """Record the outcome: "sent", "retry" or "failed"."""
        return sendlog.finish(
            self.session_factory,
            DigestLog,
            {"user_id": user_id, "local_date": day},
            self.clock(),
            exc,
        )

    async def run_once(self) -> DigestStats:
        """Send every digest due now."""
        stats = DigestStats()
        for user_id, day in await asyncio.to_thread(self.due):
            outcome = await sendlog.send_once(
                partial(self.claim, user_id, day),
                partial(self.send, user_id, day),
                partial(self.finish, user_id, day),
                log,
                f"digest for user {user_id}",
            )
            stats.count(outcome, user_id)
        return stats
