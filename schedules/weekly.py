"""The weekly manager report: Monday morning in each manager's zone, once per week and target.

Like the digest, the log row (unique on manager, local Monday and target) is inserted and
committed before the report is built and sent, so a second worker or a restart never sends it
twice; a retryable failure marks the row "retry" and a later tick reclaims it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import Role, User, WeeklyReportLog, utcnow
from crm_core.zones import zone
from schedules import sendlog
from schedules.quiet import WorkHours

log = logging.getLogger(__name__)

DM = "dm"

# Builds and delivers one manager's report for a local Monday to a target ("dm" or a channel).
Send = Callable[[int, date, str], Awaitable[object]]


class WeeklyStats(sendlog.SendStats[tuple[int, str]]):
    """What one run did: the (manager, target) reports sent."""


class WeeklyDispatcher:
    """Finds managers whose Monday report is due in their zone, claims it, sends it."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send,
        *,
        channels: Sequence[str] = (),
        clock: Callable[[], datetime] = utcnow,
        at: time = time(8, 30),
        work_hours: WorkHours | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.targets = [DM, *channels]
        self.clock = clock
        self.at = at
        self.work_hours = work_hours or WorkHours()

    def due(self) -> list[tuple[int, date, str]]:
        """(manager id, local Monday, target) of every report due now and not yet claimed."""
        now = self.clock()
        out: list[tuple[int, date, str]] = []
        with self.session_factory() as s:
            managers = s.execute(
                select(User.id, User.timezone).where(
                    User.active.is_(True), User.role == Role.manager, User.team_id.is_not(None)
                )
            ).all()
            around = (now.date() - timedelta(days=1), now.date() + timedelta(days=1))
            logged = {
                (uid, day, target): (status, attempts, claimed_at)
                for uid, day, target, status, attempts, claimed_at in s.execute(
                    select(
                        WeeklyReportLog.user_id,
                        WeeklyReportLog.week_start,
                        WeeklyReportLog.target,
                        WeeklyReportLog.status,
                        WeeklyReportLog.attempts,
                        WeeklyReportLog.claimed_at,
                    ).where(WeeklyReportLog.week_start.between(*around))
                )
            }
        for uid, zone_name in managers:
            local = now.astimezone(zone(zone_name))
            # Monday morning: from the report time (never before work starts) to the day's end.
            if local.weekday() != 0:
                continue
            if local.time() < max(self.at, self.work_hours.start):
                continue
            if local.time() >= self.work_hours.end:
                continue
            for target in self.targets:
                seen = logged.get((uid, local.date(), target))
                if seen is not None and not sendlog.may_take(*seen, now):
                    continue
                out.append((uid, local.date(), target))
        return out

    def claim(self, user_id: int, monday: date, target: str) -> bool:
        """Take this week's report to this target; False when another run has it."""
        key = {"user_id": user_id, "week_start": monday, "target": target}
        return sendlog.claim(self.session_factory, WeeklyReportLog, key, self.clock()) is not None

    def finish(self, user_id: int, monday: date, target: str, exc: BaseException | None) -> str:
        """Record the outcome: "sent", "retry" or "failed"."""
        return sendlog.finish(
            self.session_factory,
            WeeklyReportLog,
            {"user_id": user_id, "week_start": monday, "target": target},
            self.clock(),
            exc,
        )

    async def run_once(self) -> WeeklyStats:
        """Send every weekly report due now."""
        stats = WeeklyStats()
        for user_id, monday, target in await asyncio.to_thread(self.due):
            outcome = await sendlog.send_once(
                partial(self.claim, user_id, monday, target),
                partial(self.send, user_id, monday, target),
                partial(self.finish, user_id, monday, target),
                log,
                f"weekly report for user {user_id}",
            )
            stats.count(outcome, (user_id, target))
        return stats
