"""The daily triage summary: each team's queue posted to its triage channel once a working day.

Due from TRIAGE_TIME in the team's own zone (its service calendar: the zone an admin set, else
its manager's) on the team's working days, until its business day ends. Like the digest, the
log row (unique on team and local date) is inserted and committed before the summary is built
and sent, so a second worker or a restart never posts it twice; a retryable failure marks the
row "retry" and a later tick reclaims it. A worker killed between claim and send leaves the row
"sending": after LEASE a later tick (of any worker) claims it again, so the summary comes late
rather than never; a send that takes longer than LEASE could be posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.models import ServiceCalendar, TriageSummaryLog, utcnow
from crm_core.services.tickets import calendar_for
from schedules import sendlog

log = logging.getLogger(__name__)

TRIAGE_TIME = time(9, 0)
# How long a claim holds before another run may take the day again (a send takes seconds).
LEASE = timedelta(minutes=10)

# Builds and posts one team's summary for a local day to its triage target, or raises.
Send = Callable[[int, date, str], Awaitable[object]]


class TriageStats(sendlog.SendStats[int]):
    """What one run did: the teams posted to."""


class TriageDispatcher:
    """Finds teams whose morning summary is due in their zone, claims the day, posts it."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send,
        *,
        clock: Callable[[], datetime] = utcnow,
        at: time = TRIAGE_TIME,
        lease: timedelta = LEASE,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.clock = clock
        self.at = at
        self.lease = lease

    def due(self) -> list[tuple[int, date, str]]:
        """(team id, local date, triage target) of each summary due now and not yet claimed."""
        now = self.clock()
        out: list[tuple[int, date, str]] = []
        with self.session_factory() as s:
            teams = s.execute(
                select(ServiceCalendar.team_id, ServiceCalendar.triage_target).where(
                    ServiceCalendar.triage_target.is_not(None)
                )
            ).all()
            around = (now.date() - timedelta(days=1), now.date() + timedelta(days=1))
            logged = {
                (team_id, day): (status, attempts, claimed_at)
                for team_id, day, status, attempts, claimed_at in s.execute(
                    select(
                        TriageSummaryLog.team_id,
                        TriageSummaryLog.local_date,
                        TriageSummaryLog.status,
                        TriageSummaryLog.attempts,
                        TriageSummaryLog.claimed_at,
                    ).where(TriageSummaryLog.local_date.between(*around))
                )
            }
            for team_id, target in teams:
                cal = calendar_for(s, team_id)
                local = now.astimezone(cal.zone)
                # A working day of the team's calendar (holidays and make-up days included),
                # from the summary's time (never before the day starts) to the day's end.
                if not cal.is_workday(local.date()):
                    continue
                if not max(self.at, cal.start) <= local.time() < cal.end:
                    continue
                seen = logged.get((team_id, local.date()))
                if seen is not None and not sendlog.may_take(*seen, now, lease=self.lease):
                    continue
                out.append((team_id, local.date(), str(target)))
        return out

    def claim(self, team_id: int, day: date) -> bool:
        """Take the day's summary for this team; False when another run has it."""
        key = {"team_id": team_id, "local_date": day}
        taken = sendlog.claim(
            self.session_factory, TriageSummaryLog, key, self.clock(), lease=self.lease
        )
        return taken is not None

    def finish(self, team_id: int, day: date, exc: BaseException | None) -> str:
        """Record the outcome: "sent", "retry" or "failed"."""
        return sendlog.finish(
            self.session_factory,
            TriageSummaryLog,
            {"team_id": team_id, "local_date": day},
            self.clock(),
            exc,
        )

    async def run_once(self) -> TriageStats:
        """Post every triage summary due now."""
        stats = TriageStats()
        for team_id, day, target in await asyncio.to_thread(self.due):
            outcome = await sendlog.send_once(
                partial(self.claim, team_id, day),
                partial(self.send, team_id, day, target),
                partial(self.finish, team_id, day),
                log,
                f"triage summary for team {team_id}",
            )
            stats.count(outcome, team_id)
        return stats
