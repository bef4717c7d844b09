"""The SLA sweep through the real scheduler wiring: warnings, breaches, triage, exactly once."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.models import Team, TicketAlert, User
from crm_core.services.tickets import set_service_calendar
from handlers.notify import DeliveryFailed
from schedules.runner import SchedulerComponent
from schedules.sla import SlaSweep
from tests.conftest import FakeClock, TestBot
from tests.schedules.conftest import FakeNotifier


def _triage(testbot: TestBot, target: str = "console:triage") -> None:
    with unit_of_work(testbot.session_factory) as s:
        admin = s.get(User, testbot.users["admin"])
        east = s.scalar(select(Team).where(Team.name == "East"))
        assert admin is not None and east is not None
        set_service_calendar(Ctx(s, admin), east, triage_target=target)


def _sweep(sched: SchedulerComponent) -> SlaSweep:
    sweep = sched.jobs.sla
    assert sweep is not None
    return sweep


async def test_unassigned_warning_breach_each_once(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    _triage(testbot)
    testbot("alice", "new customer Acme")
    # Monday 15:00 UTC, urgent: first response due 16:00, resolution 4 business hours.
    testbot("alice", "ticket Acme: printer jams on every label, priority urgent")
    sweep = _sweep(sched)
    await sweep.run_once()
    (unassigned,) = notifier.to("triage")
    assert unassigned.text.startswith("🎫 Ticket #1 for Acme (urgent) has no assignee yet")
    assert [b.label for b in unassigned.buttons] == ["Open", "Take it"]
    assert (await sweep.run_once()).sent == 0
    testbot("alice", "assign #1 to me")
    clock.advance(minutes=45)
    await sweep.run_once()
    (warning,) = notifier.to("alice")
    assert warning.text == (
        "⏰ Ticket #1 for Acme (urgent) is near its SLA: first response due in 15m."
    )
    assert (await sweep.run_once()).sent == 0
    clock.advance(minutes=20)
    stats = await sweep.run_once()
    assert sorted(o.target for o in stats.owed) == [
        "console:triage",
        f"user:{testbot.users['alice']}",
    ]
    breach = notifier.to("alice")[-1]
    assert (
        breach.text
        == "🚨 Ticket #1 for Acme (urgent) breached its SLA: first response overdue by 5m."
    )
    assert notifier.to("triage")[-1].text == breach.text
    for _ in range(3):
        assert (await sweep.run_once()).sent == 0
    # Waiting on the customer: the clock pauses and nothing more comes, whatever the time.
    testbot("alice", "wait #1")
    clock.advance(days=3)
    assert (await sweep.run_once()).sent == 0
    assert len(notifier.sent) == 4
    kinds = testbot.rows(select(TicketAlert.kind, TicketAlert.status).order_by(TicketAlert.id))
    assert kinds == [
        ("unassigned", "sent"),
        ("response_warn", "sent"),
        ("response_breach", "sent"),
        ("response_breach", "sent"),
    ]


async def test_without_triage_the_team_managers_hear_and_failures_retry(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: scanner offline, priority urgent")
    sweep = _sweep(sched)
    notifier.failures.append(DeliveryFailed("rate limited"))
    first = await sweep.run_once()
    assert (first.sent, first.failed) == (0, 1)
    assert notifier.to("bob") == []
    # The failed notice is retried on a later run, not lost and not doubled.
    clock.advance(minutes=2)
    assert (await sweep.run_once()).sent == 1
    (told,) = notifier.to("bob")
    assert "has no assignee yet" in told.text
    assert (await sweep.run_once()).sent == 0


async def test_a_claim_left_by_a_dead_worker_is_taken_again_after_the_lease(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier, clock: FakeClock
) -> None:
    _triage(testbot)
    testbot("alice", "new customer Acme")
    testbot("alice", "ticket Acme: scanner offline, priority urgent")
    sweep = _sweep(sched)
    # A worker claimed the notice and died before sending: the row stays "sending".
    with testbot.session_factory.begin() as s:
        s.add(
            TicketAlert(
                ticket_id=1,
                kind="unassigned",
                target="console:triage",
                status="sending",
                attempts=1,
                claimed_at=clock.now,
            )
        )
    assert (await sweep.run_once()).sent == 0
    assert notifier.sent == []
    # A restarted worker (a new sweep) takes it once the lease is over, marked as a repeat.
    clock.advance(minutes=6)
    restarted = SlaSweep(testbot.session_factory, sweep.send, clock=clock)
    assert (await restarted.run_once()).sent == 1
    (again,) = notifier.to("triage")
    assert again.text.endswith("(This may repeat an earlier notice.)")
    assert (await restarted.run_once()).sent == 0
    assert testbot.rows(select(TicketAlert.status, TicketAlert.attempts)) == [("sent", 2)]
