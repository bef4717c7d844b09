"""Ticket services: opening once per source message, access, the lifecycle, SLA due times, audit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import (
    AuditEntry,
    Customer,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_core.services.customers import create_customer
from crm_core.services.tickets import (
    assign_ticket,
    clocks,
    close_ticket,
    get_ticket,
    list_tickets,
    open_ticket,
    record_feedback,
    reopen_ticket,
    reply_ticket,
    resolve_ticket,
    satisfaction,
    set_priority,
    set_service_calendar,
    wait_ticket,
)
from crm_core.services.users import add_user

MON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, opening time in UTC


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = MON

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def desk(session_factory: sessionmaker[Session]) -> Callable[..., object]:
    """alice, carol (East reps), bob (East manager), dave (West rep), admin; alice's Acme."""
    with unit_of_work(session_factory) as s:
        for handle, role, team in (
            ("alice", "rep", "East"),
            ("carol", "rep", "East"),
            ("bob", "manager", "East"),
            ("dave", "rep", "West"),
            ("admin", "admin", None),
        ):
            add_user(s, handle, handle.title(), role=role, team=team)
        s.flush()
        alice = s.scalar(select(User).where(User.external_id == "alice"))
        assert alice is not None
        create_customer(Ctx(s, alice, clock=lambda: MON), "Acme")
    return lambda: None


@contextmanager
def as_user(
    factory: sessionmaker[Session], handle: str, clock: Callable[[], datetime] = lambda: MON
) -> Iterator[Ctx]:
    """A unit of work acting as `handle`."""
    with unit_of_work(factory) as s:
        user = s.scalar(select(User).where(User.external_id == handle))
        assert user is not None
        yield Ctx(s, user, clock=clock)


def _user(ctx: Ctx, handle: str) -> User:
    user = ctx.session.scalar(select(User).where(User.external_id == handle))
    assert user is not None
    return user


def _acme(ctx: Ctx) -> Customer:
    acme = ctx.session.scalar(select(Customer).where(Customer.name == "Acme"))
    assert acme is not None
    return acme


def test_the_same_source_message_twice_makes_one_ticket(
    session_factory: sessionmaker[Session], desk: object
) -> None:
    for _ in range(2):
        with as_user(session_factory, "alice") as ctx:
            ticket, created = open_ticket(
                ctx,
                _acme(ctx),
                "Printer jams",
                source="slack",
                source_key="slack:C1:1700000000.000100",
                source_link="https://x.slack.com/archives/C1/p1700000000000100",
                source_text="the printer jams on every label",
            )
    with session_factory() as s:
        assert s.scalar(select(Ticket.id)) == ticket.id
        assert len(s.scalars(select(Ticket)).all()) == 1
        assert [e.kind for e in s.scalars(select(TicketEvent))] == ["created"]
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "tickets")
        ).all() == ["ticket.create"]
    assert created is False


def test_access_follows_the_customer_and_the_assignee(
    session_factory: sessionmaker[Session], desk: object
) -> None:
    with as_user(session_factory, "alice") as ctx:
        tid = open_ticket(ctx, _acme(ctx), "Printer jams")[0].id
    with as_user(session_factory, "dave") as ctx:
        with pytest.raises(NotFound):
            get_ticket(ctx, tid)
        with pytest.raises(NotFound):
            reply_ticket(ctx, tid, "on it")
    with as_user(session_factory, "bob") as ctx:
        assert get_ticket(ctx, tid).id == tid
        # Handed to alice's teammate: carol sees it though Acme is not hers.
        assign_ticket(ctx, tid, _user(ctx, "carol"))
    with as_user(session_factory, "carol") as ctx:
        assert get_ticket(ctx, tid).assignee_id == _user(ctx, "carol").id
        assert [t.id for t in list_tickets(ctx, "mine")[0]] == [tid]
    # A rep cannot give a ticket to another team's rep.
    with as_user(session_factory, "alice") as ctx, pytest.raises(PermissionDenied):
        assign_ticket(ctx, tid, _user(ctx, "dave"))


def test_lifecycle_sla_due_times_pause_and_audit(
    session_factory: sessionmaker[Session], desk: object
) -> None:
    clock = Clock()
    with as_user(session_factory, "alice", clock) as ctx:
        ticket, _ = open_ticket(ctx, _acme(ctx), "Printer jams", priority=TicketPriority.high)
        tid = ticket.id
        # High: first response in 4 business hours, resolution in 24.
        assert ticket.status == TicketStatus.new
        assert ticket.response_due_at == MON + timedelta(hours=4)
        assert ticket.resolution_due_at == datetime(2026, 11, 25, 15, tzinfo=UTC)
        # Unassigned: the triage channel hears at once; then the 75 % warning at 12:00.
        assert ticket.next_alert_at == MON
    clock.now = MON + timedelta(hours=1)
    with as_user(session_factory, "alice", clock) as ctx:
        ticket = reply_ticket(ctx, tid, "Looking at it")
        assert (ticket.status, ticket.first_response_at) == (TicketStatus.open, clock.now)
        assert ticket.response_due_at is None
    clock.now = MON + timedelta(hours=2)
    with as_user(session_factory, "alice", clock) as ctx:
        ticket = wait_ticket(ctx, tid)
        assert ticket.resolution_due_at is None and ticket.next_alert_at is None
        assert clocks(ctx.session, ticket, MON + timedelta(days=3)).resolution.paused
    clock.now = datetime(2026, 11, 24, 9, tzinfo=UTC)  # the next morning: 2 h ran, 22 h left
    with as_user(session_factory, "alice", clock) as ctx:
        ticket, kind = reopen_ticket(ctx, tid)
        assert kind == "resume"
        assert ticket.resolution_due_at == datetime(2026, 11, 26, 13, tzinfo=UTC)
        ticket, changed = set_priority(ctx, tid, TicketPriority.urgent)
        # Urgent: 4 h from creation, 2 of them already ran: 2 h from now.
        assert changed and ticket.resolution_due_at == clock.now + timedelta(hours=2)
    clock.now += timedelta(hours=1)
    with as_user(session_factory, "alice", clock) as ctx:
        ticket = resolve_ticket(ctx, tid, "Replaced the roller")
        assert ticket.resolved_at == clock.now and ticket.next_alert_at is None
        state = clocks(ctx.session, ticket, clock.now + timedelta(days=5))
        assert state.resolution.stopped and state.resolution.elapsed == 3 * 3600
        assert not state.resolution.breached
        with pytest.raises(Invalid):
            resolve_ticket(ctx, tid, "again")
    with as_user(session_factory, "alice", clock) as ctx:
        ticket, kind = reopen_ticket(ctx, tid, "It jams again")
        assert (
            kind == "reopen" and ticket.status == TicketStatus.open and ticket.resolved_at is None
        )
    with session_factory() as s:
        kinds = s.scalars(select(TicketEvent.kind).order_by(TicketEvent.id)).all()
        assert kinds == ["created", "reply", "wait", "resume", "priority", "resolve", "reopen"]
        actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "tickets")
            .order_by(AuditEntry.id)
        ).all()
        assert actions == [
            "ticket.create",
            "ticket.reply",
            "ticket.wait",
            "ticket.resume",
            "ticket.priority",
            "ticket.resolve",
            "ticket.reopen",
        ]


def test_team_calendar_zone_and_holidays_count(
    session_factory: sessionmaker[Session], desk: object
) -> None:
    with as_user(session_factory, "admin") as ctx:
        east = ctx.session.scalar(select(Team).where(Team.name == "East"))
        assert east is not None
        set_service_calendar(ctx, east, timezone="America/New_York", country="US")
    # Wednesday before Thanksgiving, 18:00 in New York: Thursday is off.
    start = datetime(2026, 11, 25, 23, tzinfo=UTC)
    with as_user(session_factory, "alice", lambda: start) as ctx:
        ticket, _ = open_ticket(ctx, _acme(ctx), "Label printer", priority=TicketPriority.urgent)
        assert ticket.response_due_at == datetime(2026, 11, 27, 15, tzinfo=UTC)
    with as_user(session_factory, "dave") as ctx, pytest.raises(PermissionDenied):
        set_service_calendar(ctx, east, timezone="UTC")


def test_feedback_ranges_and_scores(session_factory: sessionmaker[Session], desk: object) -> None:
    with as_user(session_factory, "alice") as ctx:
        acme = _acme(ctx)
        for kind, score in (("nps", 9), ("nps", 10), ("nps", 3), ("csat", 4), ("csat", 5)):
            record_feedback(ctx, acme, kind, score, "fast fix")
        with pytest.raises(Invalid):
            record_feedback(ctx, acme, "csat", 6)
        with pytest.raises(Invalid):
            record_feedback(ctx, acme, "nps", -1)
        sat = satisfaction(ctx.session, [acme.id])
        assert (sat.csat_mean, sat.csat_count, sat.nps, sat.nps_count) == (4.5, 2, 33, 3)
    with as_user(session_factory, "dave") as ctx, pytest.raises(NotFound):
        record_feedback(ctx, _acme(ctx), "csat", 5)


def test_closing_a_closed_ticket_says_it_is_closed(
    session_factory: sessionmaker[Session], desk: object
) -> None:
    """Not "is not resolved" (rev12 fault 3): the ticket is closed already."""
    with as_user(session_factory, "alice") as ctx:
        ticket, _ = open_ticket(ctx, _acme(ctx), "Printer jams")
        tid = ticket.id
        with pytest.raises(Invalid) as unresolved:
            close_ticket(ctx, tid)
        assert unresolved.value.key == "error.ticket_close_unresolved"
        resolve_ticket(ctx, tid, "Replaced the roller")
        close_ticket(ctx, tid)
        with pytest.raises(Invalid) as closed:
            close_ticket(ctx, tid)
        assert closed.value.key == "error.ticket_already_closed"
