"""Delivering reminders: on time, late, once, retried, held in quiet hours, recurring, DST."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, ProcessedDelivery, Reminder, ReminderStatus
from crm_core.text import simplified_only
from handlers.notify import DeliveryFailed
from schedules.reminders import ReminderDispatcher
from schedules.runner import SchedulerComponent, housekeeping
from tests.conftest import FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier


def _reminders(testbot: TestBot) -> list[Reminder]:
    return testbot.query(select(Reminder).order_by(Reminder.id))


def _add(
    testbot: TestBot, who: str, due: datetime, *, explicit: bool = True, text: str = "x"
) -> int:
    with unit_of_work(testbot.session_factory) as s:
        r = Reminder(
            owner_id=testbot.users[who],
            due_at=due,
            text=text,
            status=ReminderStatus.pending,
            explicit_time=explicit,
        )
        s.add(r)
        s.flush()
        return r.id


async def test_due_reminder_is_delivered_once_with_buttons(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Not before its time; at its time once, with Done/Snooze/Cancel; never again."""
    assert testbot("alice", "remind me in 2h call Dana").status == "ok"
    assert (await sched.jobs.reminders.run_once()).sent == 0
    clock.advance(hours=2)
    stats = await sched.jobs.reminders.run_once()
    assert stats.sent == 1 and notifier.sent[0][0].target == "alice"
    ping = notifier.sent[0][1]
    assert ping.title == "Reminder #1" and ping.text.startswith("call Dana")
    assert "Late" not in ping.text
    labels = [b.label for b in ping.buttons]
    assert labels == ["Done", "1 hour later", "Tomorrow 9:00", "Pick a time", "Cancel"]
    (r,) = _reminders(testbot)
    assert r.status == ReminderStatus.sent and r.sent_at == clock.now and not r.late
    clock.advance(hours=1)
    assert (await sched.jobs.reminders.run_once()).sent == 0
    assert len(notifier.sent) == 1


async def test_overdue_while_down_is_delivered_at_start_marked_late(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A reminder that came due while nothing ran goes out at the next run, marked late."""
    testbot("alice", "remind me today 4pm send the contract")
    clock.advance(hours=19)  # next morning 10:00 UTC
    await sched.jobs.reminders.run_once()
    (ping,) = notifier.to("alice")
    assert "Late: this was due at 2026-11-23 16:00" in ping.text
    assert _reminders(testbot)[0].late


async def test_snooze_and_done_from_the_ping(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """The ping's Snooze brings it back an hour later; Done ends it."""
    testbot("alice", "remind me in 1h call Dana")
    clock.advance(hours=1)
    await sched.jobs.reminders.run_once()
    ping = notifier.sent[-1][1]
    snoozed = testbot.press("alice", ping.buttons[1])
    assert snoozed.status == "ok" and "2026-11-23 17:00" in snoozed.text
    assert _reminders(testbot)[0].status == ReminderStatus.pending
    clock.advance(minutes=59)
    assert (await sched.jobs.reminders.run_once()).sent == 0
    clock.advance(minutes=1)
    assert (await sched.jobs.reminders.run_once()).sent == 1
    done = testbot.press("alice", notifier.sent[-1][1].buttons[0])
    assert done.status == "ok" and _reminders(testbot)[0].status == ReminderStatus.done
    clock.advance(days=1)
    assert (await sched.jobs.reminders.run_once()).sent == 0


async def test_recurring_reminder_schedules_its_next_time(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Every Monday: each delivery creates the next one; cancel stops the series."""
    reply = testbot("alice", "remind me every monday 9am pipeline review")
    assert "2026-11-30 09:00" in reply.text and "every" in reply.text.lower()
    clock.now = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)
    await sched.jobs.reminders.run_once()
    first, second = _reminders(testbot)
    assert first.status == ReminderStatus.sent
    assert second.status == ReminderStatus.pending
    assert second.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert second.series_id == first.id and second.recurrence == first.recurrence
    cancelled = testbot("alice", f"cancel #{first.id}")
    assert "repeats" in cancelled.text
    assert [r.status for r in _reminders(testbot)] == [ReminderStatus.cancelled] * 2
    clock.now = datetime(2026, 12, 7, 9, 1, tzinfo=UTC)
    assert (await sched.jobs.reminders.run_once()).sent == 0


async def test_done_before_it_fires_keeps_the_series_going_once(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """`done` the day before: the next Monday is made at once, and only once, even when the
    scheduler runs at and after the done one's time; done on the next, once sent, adds none."""
    testbot("alice", "remind me every monday 9am pipeline review")
    clock.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert testbot("alice", "done #1").status == "ok"
    first, second = _reminders(testbot)
    assert first.status == ReminderStatus.done
    assert second.status == ReminderStatus.pending and second.series_id == first.id
    assert second.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert "#2 2026-12-07" in " ".join(testbot("alice", "reminders").items)
    clock.now = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)
    assert (await sched.jobs.reminders.run_once()).sent == 0
    assert len(_reminders(testbot)) == 2
    clock.now = datetime(2026, 12, 7, 9, 0, 5, tzinfo=UTC)
    assert (await sched.jobs.reminders.run_once()).sent == 1
    assert len(_reminders(testbot)) == 3  # the scheduler made the one after
    assert testbot("alice", "done #2").status == "ok"
    assert [r.status for r in _reminders(testbot)] == [
        ReminderStatus.done,
        ReminderStatus.done,
        ReminderStatus.pending,
    ]


async def test_done_while_a_delivery_holds_its_claim_makes_one_next(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A worker claimed the reminder, then the person marks it done: the done makes the next
    one; the worker's claim is gone, so it neither marks it sent nor makes a second next."""
    testbot("alice", "remind me every monday 9am pipeline review")
    clock.now = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)
    worker = ReminderDispatcher(testbot.session_factory, sched.jobs.reminders.deliver, clock=clock)
    claimed, _ = worker.claim()
    assert len(claimed) == 1
    assert testbot("alice", "done #1").status == "ok"
    assert not worker.mark_sent(claimed[0])
    rows = _reminders(testbot)
    assert [r.status for r in rows] == [ReminderStatus.done, ReminderStatus.pending]


async def test_recurring_across_dst_keeps_local_time(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A daily 9:00 in New York stays 9:00 local when the clocks go back (UTC moves)."""
    testbot.add_user("nyc", timezone="America/New_York")
    clock.now = datetime(2026, 10, 30, 18, 0, tzinfo=UTC)
    assert testbot("nyc", "remind me every day 9am standup").status == "ok"
    (r,) = _reminders(testbot)
    assert r.due_at == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)  # EDT
    clock.now = datetime(2026, 10, 31, 13, 0, 10, tzinfo=UTC)
    await sched.jobs.reminders.run_once()
    nxt = _reminders(testbot)[-1]
    assert nxt.due_at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # EST after the change


async def test_quiet_hours_hold_untimed_reminders_but_not_timed_ones(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Outside working hours only explicitly timed reminders go out; others wait for 08:00."""
    late_evening = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    timed = _add(testbot, "alice", late_evening, explicit=True)
    untimed = _add(testbot, "alice", late_evening, explicit=False)
    clock.now = late_evening
    stats = await sched.jobs.reminders.run_once()
    assert stats.sent == 1 and stats.held == 1 and stats.ids == [timed]
    held = testbot.query(select(Reminder).where(Reminder.id == untimed))[0]
    assert held.status == ReminderStatus.pending
    assert held.next_attempt_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert held.attempts == 0
    clock.now = datetime(2026, 11, 24, 7, 59, tzinfo=UTC)
    assert (await sched.jobs.reminders.run_once()).sent == 0
    clock.now = datetime(2026, 11, 24, 8, 0, 5, tzinfo=UTC)
    stats = await sched.jobs.reminders.run_once()
    assert stats.ids == [untimed]
    assert "Late" not in notifier.sent[-1][1].text


async def test_failures_are_retried_with_backoff_then_reported(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Retryable failures wait 1, 5, 15, 60 minutes; after the fifth the owner is told."""
    rid = _add(testbot, "alice", clock.now)
    notifier.failures = [DeliveryFailed("rate limited") for _ in range(5)]
    waits = [1, 5, 15, 60]
    for wait in waits:
        stats = await sched.jobs.reminders.run_once()
        assert stats.retried == 1
        clock.advance(minutes=wait - 1)
        assert (await sched.jobs.reminders.run_once()).retried == 0  # too early
        clock.advance(minutes=1)
    stats = await sched.jobs.reminders.run_once()
    assert stats.failed == 1
    (r,) = _reminders(testbot)
    assert r.status == ReminderStatus.failed and r.attempts == 5 and r.last_error == "rate limited"
    (report,) = notifier.to("alice")
    assert f"Reminder #{rid} could not be delivered" in report.text
    actions = testbot.query(select(AuditEntry.action).where(AuditEntry.entity_id == rid))
    assert "reminder.failed" in actions
    assert "not delivered" in " ".join(testbot("alice", "reminders").items)


async def test_a_permanent_failure_is_not_retried(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """`retryable=False` fails at once."""
    _add(testbot, "alice", clock.now)
    notifier.failures = [DeliveryFailed("blocked the bot", retryable=False)]
    assert (await sched.jobs.reminders.run_once()).failed == 1
    assert _reminders(testbot)[0].status == ReminderStatus.failed


async def test_two_dispatchers_never_send_the_same_reminder(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """Two dispatchers on one database, run together, deliver each reminder exactly once."""
    for i in range(120):
        _add(testbot, "alice", clock.now - timedelta(seconds=i))
    mine = sched.jobs.reminders
    other = ReminderDispatcher(
        testbot.session_factory, mine.deliver, clock=clock, batch=7, report=mine.report
    )
    mine.batch = 11
    a, b = await asyncio.gather(mine.run_once(), other.run_once())
    assert a.sent + b.sent == 120
    assert sorted(a.ids + b.ids) == sorted({*a.ids, *b.ids})
    assert len(notifier.sent) == 120


async def test_a_crashed_claim_comes_back_after_the_lease(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A worker that claimed and died: nobody sends it during the lease, then it is resent."""
    _add(testbot, "alice", clock.now)
    crashed = ReminderDispatcher(testbot.session_factory, sched.jobs.reminders.deliver, clock=clock)
    claimed, _ = crashed.claim()
    assert len(claimed) == 1
    assert (await sched.jobs.reminders.run_once()).sent == 0
    clock.advance(minutes=4)
    assert (await sched.jobs.reminders.run_once()).sent == 0
    clock.advance(minutes=2)
    assert (await sched.jobs.reminders.run_once()).sent == 1
    assert "Sent again after an interruption" in notifier.sent[0][1].text
    assert not crashed.mark_sent(claimed[0])  # the dead worker's claim is no longer valid


async def test_scheduler_component_runs_the_jobs_at_start(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """The real AsyncIOScheduler runs the reminder and digest jobs at once when it starts."""
    _add(testbot, "alice", clock.now - timedelta(hours=1))
    await sched.start()
    try:
        for _ in range(300):
            if len(notifier.sent) == 6:  # the reminder and five digests (Monday 15:00)
                break
            await asyncio.sleep(0.02)
    finally:
        await sched.stop()
    pings = [a.target for a, r in notifier.sent if (r.title or "").startswith("Reminder")]
    assert pings == ["alice"]
    assert len([r for _, r in notifier.sent if (r.title or "").startswith("Digest")]) == 5


def test_housekeeping_forgets_deliveries_older_than_two_days(
    testbot: TestBot, clock: FakeClock
) -> None:
    """The daily job keeps two days of processed platform deliveries."""
    with unit_of_work(testbot.session_factory) as s:
        for days in (3, 1):
            s.add(
                ProcessedDelivery(
                    platform="slack",
                    delivery_id=f"d{days}",
                    received_at=clock.now - timedelta(days=days),
                )
            )
    assert housekeeping(testbot.session_factory, clock) == 1
    assert testbot.query(select(ProcessedDelivery.delivery_id)) == ["d1"]


async def test_personal_quiet_hours_hold_untimed_reminders_until_they_end(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """`quiet 07:00-10:00`: an untimed reminder due at 08:00 waits for 10:00; a timed one goes."""
    assert testbot("alice", "quiet 07:00-10:00").status == "ok"
    morning = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    timed = _add(testbot, "alice", morning, explicit=True)
    untimed = _add(testbot, "alice", morning, explicit=False)
    other = _add(testbot, "carol", morning, explicit=False)
    clock.now = morning
    stats = await sched.jobs.reminders.run_once()
    assert sorted(stats.ids) == sorted([timed, other]) and stats.held == 1
    held = testbot.query(select(Reminder).where(Reminder.id == untimed))[0]
    assert held.next_attempt_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert held.attempts == 0
    clock.now = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)
    assert (await sched.jobs.reminders.run_once()).ids == [untimed]


async def test_quiet_hours_over_midnight_in_the_persons_zone(
    testbot: TestBot, sched: SchedulerComponent, clock: FakeClock
) -> None:
    """20:00-08:00 in Taipei spans midnight; the held reminder goes at 08:00 Taipei the next day
    (the working day there has begun too)."""
    testbot("alice", "timezone Asia/Taipei")
    testbot("alice", "quiet 18:00-09:00")
    evening = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # 18:30 in Taipei
    untimed = _add(testbot, "alice", evening, explicit=False)
    clock.now = evening
    assert (await sched.jobs.reminders.run_once()).held == 1
    held = testbot.query(select(Reminder).where(Reminder.id == untimed))[0]
    assert held.next_attempt_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 Taipei


async def test_a_traditional_readers_ping_is_traditional(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    """A zh-TW user's reminder ping: title, buttons and repeat rule in Traditional characters."""
    testbot.add_user("mei", locale="zh-TW", timezone="Asia/Taipei")
    assert testbot("mei", "提醒我 每周一 上午9点 打电话给王芳").status == "ok"
    clock.advance(days=8)
    assert (await sched.jobs.reminders.run_once()).sent == 1
    ping = notifier.sent[-1][1]
    words = " ".join([ping.title or "", ping.text, *(b.label for b in ping.buttons)])
    assert ping.title == "提醒 #1，每週一 09:00"
    assert simplified_only(words) <= simplified_only("打电话给王芳")
