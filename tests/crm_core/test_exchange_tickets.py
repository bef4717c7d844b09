"""Tickets, their events and feedback in the exchange format: byte-identical round trip, and an
imported history gives the same SLA figures as the live one."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.analytics.periods import ALL_TIME
from crm_core.analytics.tickets import as_json, ticket_report
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.exchange import ImportFailed
from crm_core.models import Ticket, TicketPriority, User
from crm_core.services.customers import create_customer
from crm_core.services.tickets import (
    assign_ticket,
    open_ticket,
    record_feedback,
    reopen_ticket,
    reply_ticket,
    resolve_ticket,
    wait_ticket,
)
from crm_core.services.users import add_user
from tests.crm_core.test_exchange import run_export, run_import, wipe

Factory = sessionmaker[Session]
MON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = MON + timedelta(days=10)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = MON

    def __call__(self) -> datetime:
        return self.now


def _history(factory: Factory) -> None:
    """Two tickets with replies, a pause, a resolution, a reopen, and feedback."""
    clock = Clock()
    with unit_of_work(factory) as s:
        add_user(s, "alice", "Alice", team="East", timezone="America/New_York")
        add_user(s, "bob", "Bob", role="manager", team="East", timezone="America/New_York")
        s.flush()
        alice = s.scalars(select(User).where(User.external_id == "alice")).one()
        ctx = Ctx(s, alice, clock=clock)
        acme = create_customer(ctx, "Acme")
        first, _ = open_ticket(
            ctx,
            acme,
            "Printer jams on every label",
            description="Since the firmware update\u2028every label",
            priority=TicketPriority.high,
            source="slack",
            source_key="slack:C1:1700000000.000100",
            source_link="https://x.slack.com/archives/C1/p1700000000000100",
            source_text="the printer jams",
        )
        second, _ = open_ticket(ctx, acme, "Invoices missing", priority=TicketPriority.urgent)
        clock.now += timedelta(hours=2)
        assign_ticket(ctx, first.id, alice)
        reply_ticket(ctx, first.id, "A technician comes tomorrow")
        clock.now += timedelta(hours=1)
        wait_ticket(ctx, first.id)
        clock.now += timedelta(days=1)
        reopen_ticket(ctx, first.id)
        clock.now += timedelta(hours=3)
        resolve_ticket(ctx, first.id, "Replaced the feed roller")
        reply_ticket(ctx, second.id, "Looking")
        record_feedback(ctx, acme, "csat", 4, "fast fix", first)
        record_feedback(ctx, acme, "nps", 9)


def _figures(factory: Factory) -> tuple[object, ...]:
    with factory() as s:
        bob = s.scalars(select(User).where(User.external_id == "bob")).one()
        report = as_json(
            ticket_report(Ctx(s, bob, clock=lambda: LATER), dim="priority", period=ALL_TIME)
        )
        dues = s.execute(
            select(
                Ticket.subject,
                Ticket.response_due_at,
                Ticket.resolution_due_at,
                Ticket.next_alert_at,
            ).order_by(Ticket.subject)
        ).all()
        return report, [tuple(d) for d in dues]


def test_round_trip_is_byte_identical_and_keeps_the_sla_figures(session_factory: Factory) -> None:
    _history(session_factory)
    before = _figures(session_factory)
    first = run_export(session_factory)
    kinds = [json.loads(line)["type"] for line in first.splitlines()]
    assert kinds.count("ticket") == 2 and kinds.count("feedback") == 2
    assert kinds.count("ticket_event") == 8
    ticket = next(json.loads(x) for x in first.splitlines() if '"type": "ticket"' in x)
    assert list(ticket)[:8] == [
        "type",
        "external_id",
        "customer",
        "subject",
        "description",
        "priority",
        "status",
        "assignee",
    ]
    assert ticket["team"] is not None and ticket["created_at"] == "2026-11-23T09:00:00+00:00"
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first
    assert _figures(session_factory) == before
    report = before[0]
    # The urgent ticket was first answered on Tuesday 10:00 in New York: 10 business hours
    # after it came in (Monday 04:00 there), against a one-hour target.
    assert report["total"] == {  # type: ignore[index]
        "opened": 2,
        "resolved": 1,
        "first_response_met": 1,
        "resolution_met": 1,
        "breached": 1,
        "csat_mean": 4.0,
        "nps": 100,
    }
    # Importing the same file again changes nothing.
    again = run_import(session_factory, io.StringIO(first))
    assert not again.changed


def test_bad_ticket_records_are_refused_with_the_line(session_factory: Factory) -> None:
    _history(session_factory)
    good = run_export(session_factory).splitlines()
    customer = next(json.loads(x) for x in good if '"type": "customer"' in x)["external_id"]
    bad = [
        json.dumps(
            {
                "type": "feedback",
                "external_id": "f9",
                "customer": customer,
                "kind": "csat",
                "score": 7,
                "created_at": "2026-11-24T10:00:00+00:00",
            }
        ),
        json.dumps(
            {
                "type": "ticket_event",
                "external_id": "e9",
                "ticket": "nope",
                "kind": "reply",
                "at": "2026-11-24T10:00:00+00:00",
                "status": "open",
            }
        ),
    ]
    try:
        run_import(session_factory, [*good, *bad])
    except ImportFailed as exc:
        reasons = " ".join(r for _, r in exc.errors)
        assert "csat score runs from 1 to 5" in reasons
        assert "unknown ticket 'nope'" in reasons
    else:
        raise AssertionError("the bad lines were imported")
