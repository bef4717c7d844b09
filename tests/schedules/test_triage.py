"""The daily triage summary through the real scheduler wiring: in the team's zone, once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import Team, TriageSummaryLog, User
from crm_core.services.tickets import set_service_calendar
from handlers.notify import DeliveryFailed
from schedules.runner import SchedulerComponent
from schedules.triage import TriageDispatcher
from tests.conftest import FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier


def _calendar(testbot: TestBot, **values: str) -> None:
    with unit_of_work(testbot.session_factory) as s:
        admin = s.get(User, testbot.users["admin"])
        east = s.scalar(select(Team).where(Team.name == "East"))
        assert admin is not None and east is not None
        set_service_calendar(Ctx(s, admin), east, **values)


def _triage(sched: SchedulerComponent) -> TriageDispatcher:
    job = sched.jobs.triage
    assert job is not None
    return job


def _queue(testbot: TestBot, clock: FakeClock) -> None:
    """#1 urgent, nobody's, from Monday (breached); #2 waiting; #3 urgent, alice's, from 08:00."""
    assert clock() == datetime(2026, 11, 23, 15, tzinfo=UTC)  # Monday 10:00 in New York
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: printer jams on every label, priority urgent")
    testbot("alice", "ticket Acme: invoice address wrong, priority low")
    testbot("alice", "assign #2 to me")
    testbot("alice", "wait #2")
    clock.now = datetime(2026, 11, 24, 13, tzinfo=UTC)  # Tuesday 08:00 in New York
    testbot("alice", "ticket Acme: scanner offline, priority urgent, assign @alice")


async def test_posted_once_a_working_morning_in_the_team_zone(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    _calendar(testbot, timezone="America/New_York", triage_target="console:triage")
    _queue(testbot, clock)
    job = _triage(sched)
    # 08:00 in New York: before the summary's time.
    assert (await job.run_once()).sent == [] and notifier.to("triage") == []
    # 09:50: #1 is long past its first response, #3 has used 50 of its 60 minutes.
    clock.now = datetime(2026, 11, 24, 14, 50, tzinfo=UTC)
    stats = await job.run_once()
    assert len(stats.sent) == 1
    (summary,) = notifier.to("triage")
    assert summary.title == "Triage for East, 2026-11-24"
    assert summary.text == (
        "3 active tickets: 1 new, 1 unassigned, 1 waiting on the customer; "
        "1 breaching their SLA, 1 near breach."
    )
    (top,) = summary.sections
    assert [line.split(" · ")[0] for line in top.lines] == [
        "🚨 #1 printer jams on every label",
        "⏰ #3 scanner offline",
    ]
    assert "first response overdue" in top.lines[0] and not summary.ephemeral
    assert [b.payload for b in summary.buttons] == [{"text": "tickets team"}]
    # Later the same day, and again: nothing more.
    clock.now = datetime(2026, 11, 24, 20, tzinfo=UTC)
    assert (await job.run_once()).sent == [] and len(notifier.to("triage")) == 1
    # Wednesday morning: the next one. Saturday: none.
    clock.now = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert len((await job.run_once()).sent) == 1
    clock.now = datetime(2026, 11, 28, 15, tzinfo=UTC)
    assert (await job.run_once()).sent == []
    assert len(notifier.to("triage")) == 2
    assert sorted(d.isoformat() for (d,) in testbot.rows(select(TriageSummaryLog.local_date))) == [
        "2026-11-24",
        "2026-11-25",
    ]


async def test_holidays_no_channel_and_failures_retry(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    job = _triage(sched)
    # No triage channel: no summary.
    clock.now = datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert (await job.run_once()).sent == []
    _calendar(testbot, timezone="America/New_York", triage_target="console:triage", country="US")
    # Thanksgiving (Thursday 26 November) is off in the US calendar.
    clock.now = datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert (await job.run_once()).sent == []
    clock.now = datetime(2026, 11, 27, 15, tzinfo=UTC)
    notifier.failures.append(DeliveryFailed("slack down"))
    first = await job.run_once()
    assert (first.sent, first.retried) == ([], 1)
    again = await job.run_once()
    assert len(again.sent) == 1
    (summary,) = notifier.to("triage")
    assert summary.text == "No active tickets. Nothing to triage today."
    assert testbot.rows(select(TriageSummaryLog.status, TriageSummaryLog.attempts)) == [("sent", 2)]


async def test_a_claim_abandoned_mid_send_is_taken_again_after_the_lease(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A worker killed between claim and send leaves the day "sending": posted late, once."""
    _calendar(testbot, timezone="America/New_York", triage_target="console:triage")
    job = _triage(sched)
    clock.now = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)  # Tuesday 09:05 in New York
    ((team_id, day, _target),) = job.due()
    assert job.claim(team_id, day)  # ... and the worker dies before sending
    # Within the lease the claim holds: no second summary is started.
    clock.now += job.lease - timedelta(minutes=1)
    assert (await job.run_once()).sent == [] and notifier.to("triage") == []
    clock.now += timedelta(minutes=2)
    assert len((await job.run_once()).sent) == 1
    assert len(notifier.to("triage")) == 1
    assert testbot.rows(select(TriageSummaryLog.status, TriageSummaryLog.attempts)) == [("sent", 2)]
    # Done: later ticks leave it alone.
    clock.now += job.lease * 2
    assert (await job.run_once()).sent == [] and len(notifier.to("triage")) == 1


async def test_posted_in_the_team_managers_language(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A team's summary speaks its manager's language (their setting), like their digest."""
    _calendar(testbot, timezone="America/New_York", triage_target="console:triage")
    with unit_of_work(testbot.session_factory) as s:
        bob = s.get(User, testbot.users["bob"])
        assert bob is not None and bob.role.value == "manager"
        bob.locale = "zh"
    job = _triage(sched)
    clock.now = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)  # Tuesday 09:05 in New York
    assert len((await job.run_once()).sent) == 1
    (summary,) = notifier.to("triage")
    assert summary.title == "East 分诊汇总，2026-11-24"
    assert summary.text == "没有进行中的工单，今天无需分诊。"
    # A team with no active manager: the default language.
    with unit_of_work(testbot.session_factory) as s:
        bob = s.get(User, testbot.users["bob"])
        assert bob is not None
        bob.active = False
    clock.now = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert len((await job.run_once()).sent) == 1
    assert notifier.to("triage")[1].title == "Triage for East, 2026-11-25"
