"""The periodic jobs inside `crmbot serve`: APScheduler 3's AsyncIOScheduler, in-memory jobs.

The database is the source of truth, so the job store is in memory: a restart simply starts
the jobs again, and each job's first run happens at start (that is how reminders that came due
while the bot was down go out at once, marked late).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work
from crm_core.models import utcnow
from crm_core.services.deliveries import forget_deliveries_before
from schedules.alerts import AlertDispatcher
from schedules.backups import BackupDispatcher
from schedules.care import CareSweep
from schedules.csat import CsatAsker
from schedules.digests import DigestDispatcher
from schedules.mirror import MirrorJob
from schedules.notices import NoticeDispatcher
from schedules.reminders import ReminderDispatcher
from schedules.scores import ScoreTrainer
from schedules.segments import SegmentSweep
from schedules.sla import SlaSweep
from schedules.triage import TriageDispatcher
from schedules.webhooks import WebhookDispatcher
from schedules.weekly import WeeklyDispatcher

log = logging.getLogger(__name__)

# Processed platform deliveries older than this are forgotten (Telegram retries for 24 hours).
KEEP_DELIVERIES = timedelta(days=2)
# How long `stop` waits for a run in flight (a batch of sends) before cancelling it.
STOP_WAIT = 30.0


async def run_reminders(dispatcher: ReminderDispatcher) -> None:
    """Job: deliver due reminders."""
    stats = await dispatcher.run_once()
    if stats.sent or stats.failed or stats.retried:
        log.info(
            "reminders: %s sent, %s retried, %s failed, %s held",
            stats.sent,
            stats.retried,
            stats.failed,
            stats.held,
        )


async def run_digests(dispatcher: DigestDispatcher) -> None:
    """Job: send digests due now."""
    stats = await dispatcher.run_once()
    if stats.sent or stats.failed:
        log.info("digests: %s sent, %s failed", len(stats.sent), stats.failed)


async def run_weekly(dispatcher: WeeklyDispatcher) -> None:
    """Job: send the managers' weekly reports due now."""
    stats = await dispatcher.run_once()
    if stats.sent or stats.failed:
        log.info("weekly reports: %s sent, %s failed", len(stats.sent), stats.failed)


async def run_alerts(dispatcher: AlertDispatcher) -> None:
    """Job: post deal moves to the team channels."""
    await dispatcher.run_once()


async def run_notices(dispatcher: NoticeDispatcher) -> None:
    """Job: tell owners about customers given to or taken from them."""
    await dispatcher.run_once()


async def run_campaign_notices(dispatcher: NoticeDispatcher) -> None:
    """Job: tell owners a campaign gave them tasks."""
    await dispatcher.run_once()


async def run_webhooks(dispatcher: WebhookDispatcher) -> None:
    """Job: post owed webhook events."""
    stats = await dispatcher.run_once()
    if stats.sent or stats.failed or stats.retried:
        log.info(
            "webhooks: %s sent, %s retried, %s failed", stats.sent, stats.retried, stats.failed
        )


async def run_sla(sweep: SlaSweep) -> None:
    """Job: SLA warnings, breaches and unassigned tickets."""
    stats = await sweep.run_once()
    if stats.sent or stats.failed:
        log.info("SLA notices: %s sent, %s failed", stats.sent, stats.failed)


async def run_csat(asker: CsatAsker) -> None:
    """Job: CSAT questions to the requesters of resolved tickets."""
    stats = await asker.run_once()
    if stats.sent or stats.failed:
        log.info("CSAT questions: %s sent, %s failed", stats.sent, stats.failed)


async def run_mirror(job: MirrorJob) -> None:
    """Job: status reactions on tickets' source messages."""
    await job.run_once()


async def run_segments(sweep: SegmentSweep) -> None:
    """Job: keep segments' daily counts; tell followers which customers entered."""
    stats = await sweep.run_once()
    if stats.pings or stats.failed:
        log.info("segment pings: %s sent, %s failed", stats.pings, stats.failed)


async def run_triage(dispatcher: TriageDispatcher) -> None:
    """Job: post each team's morning triage summary once it is due."""
    stats = await dispatcher.run_once()
    if stats.sent or stats.failed:
        log.info("triage summaries: %s sent, %s failed", len(stats.sent), stats.failed)


async def run_backups(dispatcher: BackupDispatcher) -> None:
    """Job: write the day's backup once it is due (one worker of all)."""
    stats = await dispatcher.run_once()
    for path in stats.written:
        log.info("backup written to %s; %s old backups removed", path, len(stats.removed))


async def run_care(sweep: CareSweep) -> None:
    """Job: the monthly tier review, tier-change pings and care-date pings."""
    stats = await sweep.run_once()
    if stats.reviewed or stats.tier_pings or stats.care_pings or stats.failed:
        log.info(
            "care: reviews %s, %s tier pings, %s care pings, %s failed",
            stats.reviewed,
            len(stats.tier_pings),
            len(stats.care_pings),
            stats.failed,
        )


async def run_scores(trainer: ScoreTrainer) -> None:
    """Job: train the day's deal-score model once it is due (one worker of all)."""
    row = await trainer.run_once()
    if row is not None:
        log.info("score model trained: %s won, %s lost, %s s", row.won, row.lost, row.seconds)


def housekeeping(
    session_factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
) -> int:
    """Job: forget processed platform deliveries older than two days."""
    with unit_of_work(session_factory) as s:
        return forget_deliveries_before(s, clock() - KEEP_DELIVERIES)


@dataclass
class Jobs:
    """What the scheduler runs, and how often."""

    # None: no chat platform to deliver on, so due reminders and digests wait in the database.
    reminders: ReminderDispatcher | None
    digests: DigestDispatcher | None
    alerts: AlertDispatcher | None
    session_factory: sessionmaker[Session]
    reminder_seconds: float = 20
    digest_seconds: float = 60
    alert_seconds: float = 30
    weekly: WeeklyDispatcher | None = None
    notices: NoticeDispatcher | None = None
    notice_seconds: float = 20
    campaign_notices: NoticeDispatcher | None = None
    webhooks: WebhookDispatcher | None = None
    webhook_seconds: float = 10
    sla: SlaSweep | None = None
    sla_seconds: float = 60
    csat: CsatAsker | None = None
    csat_seconds: float = 30
    mirror: MirrorJob | None = None
    mirror_seconds: float = 10
    backups: BackupDispatcher | None = None
    backup_seconds: float = 60
    care: CareSweep | None = None
    care_seconds: float = 60
    scores: ScoreTrainer | None = None
    score_seconds: float = 60
    segments: SegmentSweep | None = None
    segment_seconds: float = 300
    triage: TriageDispatcher | None = None


class SchedulerComponent:
    """A `serve` component: starts and stops the AsyncIOScheduler and its jobs."""

    name = "scheduler"

    def __init__(self, jobs: Jobs, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.jobs = jobs
        self.clock = clock
        self.scheduler: AsyncIOScheduler | None = None

    def _add(self, scheduler: AsyncIOScheduler, func: Any, seconds: float, *args: Any) -> None:
        scheduler.add_job(
            func,
            "interval",
            seconds=seconds,
            args=list(args),
            id=func.__name__,
            next_run_time=datetime.now().astimezone(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(seconds)),
        )

    async def start(self) -> None:
        """Start the jobs; each runs once now, then on its interval."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        j = self.jobs
        if j.reminders is not None:
            self._add(scheduler, run_reminders, j.reminder_seconds, j.reminders)
        if j.digests is not None:
            self._add(scheduler, run_digests, j.digest_seconds, j.digests)
        if j.weekly is not None:
            # Checked as often as digests: it is due on Monday mornings only.
            self._add(scheduler, run_weekly, j.digest_seconds, j.weekly)
        if j.alerts is not None and j.alerts.targets:
            self._add(scheduler, run_alerts, j.alert_seconds, j.alerts)
        if j.notices is not None:
            self._add(scheduler, run_notices, j.notice_seconds, j.notices)
        if j.campaign_notices is not None:
            self._add(scheduler, run_campaign_notices, j.notice_seconds, j.campaign_notices)
        if j.webhooks is not None:
            self._add(scheduler, run_webhooks, j.webhook_seconds, j.webhooks)
        if j.sla is not None:
            self._add(scheduler, run_sla, j.sla_seconds, j.sla)
        if j.triage is not None:
            # Checked as often as digests: due once a working morning per team.
            self._add(scheduler, run_triage, j.digest_seconds, j.triage)
        if j.csat is not None:
            self._add(scheduler, run_csat, j.csat_seconds, j.csat)
        if j.mirror is not None:
            self._add(scheduler, run_mirror, j.mirror_seconds, j.mirror)
        if j.backups is not None:
            self._add(scheduler, run_backups, j.backup_seconds, j.backups)
        if j.care is not None:
            self._add(scheduler, run_care, j.care_seconds, j.care)
        if j.scores is not None:
            self._add(scheduler, run_scores, j.score_seconds, j.scores)
        if j.segments is not None:
            self._add(scheduler, run_segments, j.segment_seconds, j.segments)
        self._add(scheduler, housekeeping, 24 * 3600, j.session_factory, self.clock)
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        """Stop taking new runs, let the runs in flight finish (up to STOP_WAIT), then stop."""
        if self.scheduler is None:
            return
        self.scheduler.pause()
        for _ in range(int(STOP_WAIT / 0.05)):
            if not self.scheduler._executors["default"]._pending_futures:
                break
            await asyncio.sleep(0.05)
        self.scheduler.shutdown(wait=False)
        self.scheduler = None
