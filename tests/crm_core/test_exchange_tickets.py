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
from crm_core.models import (
    AuditEntry,
    CsatRequest,
    Customer,
    ServiceCalendar,
    SlaPolicy,
    Team,
    Ticket,
    TicketPriority,
    User,
)
from crm_core.services import csat
from crm_core.services.customers import create_customer
from crm_core.services.desk import Requester, link_channel, open_in_channel, set_auto
from crm_core.services.tickets import (
    assign_ticket,
    open_ticket,
    record_feedback,
    reopen_ticket,
    reply_ticket,
    resolve_ticket,
    set_service_calendar,
    set_sla_policy,
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


def _set_calendar(factory: Factory, **values: str) -> None:
    with unit_of_work(factory) as s:
        admin = s.scalars(select(User).where(User.external_id == "root")).one_or_none()
        if admin is None:
            admin = add_user(s, "root", "Root", role="admin")
            s.flush()
        east = s.scalars(select(Team).where(Team.name == "East")).one()
        set_service_calendar(Ctx(s, admin, clock=lambda: LATER), east, **values)


def test_a_team_service_calendar_round_trips_and_moves_due_times(session_factory: Factory) -> None:
    _history(session_factory)
    _set_calendar(
        session_factory, timezone="Asia/Shanghai", country="CN", triage_target="slack:C0TRIAGE"
    )
    before = _figures(session_factory)
    first = run_export(session_factory)
    team = next(json.loads(x) for x in first.splitlines() if '"type": "team"' in x)
    assert team["service"] == {
        "timezone": "Asia/Shanghai",
        "holidays": "CN",
        "triage": "slack:C0TRIAGE",
    }
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first
    assert _figures(session_factory) == before
    assert not run_import(session_factory, io.StringIO(first)).changed
    # A file that puts the team back in New York moves the open ticket's due times.
    moved = first.replace('"Asia/Shanghai"', '"America/New_York"')
    assert run_import(session_factory, io.StringIO(moved)).changed
    assert _figures(session_factory)[1] != before[1]
    # Setting it back in chat puts the open ticket's due times where they were.
    _set_calendar(session_factory, timezone="Asia/Shanghai")
    assert _figures(session_factory)[1] == before[1]
    with session_factory() as s:
        kinds = s.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.entity_type == "service_calendars")
        ).all()
    assert kinds.count("import") >= 2


def _refused(factory: Factory, good: list[str], at: int, record: object, says: str) -> None:
    """The file with line `at` replaced by `record` is refused at that line, saying `says`."""
    lines = list(good)
    lines[at] = json.dumps(record, ensure_ascii=False)
    try:
        run_import(factory, lines)
    except ImportFailed as exc:
        assert exc.errors[0][0] == at + 1 and says in exc.errors[0][1], exc.errors
    else:
        raise AssertionError(f"{record} was imported")


def test_a_bad_service_calendar_is_refused_with_the_line(session_factory: Factory) -> None:
    _history(session_factory)
    good = run_export(session_factory).splitlines()
    at = next(i for i, x in enumerate(good) if '"type": "team"' in x)
    team = json.loads(good[at])
    for service, says in (
        ({"holidays": "XX"}, "no holiday calendar for country 'XX'"),
        ({"triage": "#support"}, "is not a channel"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"hours": "9-5"}, "hours"),
    ):
        _refused(session_factory, good, at, {**team, "service": service}, says)
    with session_factory() as s:
        assert s.scalars(select(ServiceCalendar)).all() == []


def _desk(factory: Factory) -> None:
    """SLA targets for East, a linked Slack channel, two tickets asked in it: one CSAT question
    answered, one still due."""
    clock = Clock()
    clock.now = MON + timedelta(days=2)
    with unit_of_work(factory) as s:
        root = add_user(s, "root", "Root", role="admin")
        s.flush()
        east = s.scalars(select(Team).where(Team.name == "East")).one()
        admin = Ctx(s, root, clock=clock)
        set_sla_policy(admin, east, TicketPriority.high, timedelta(hours=2), timedelta(hours=12))
        set_sla_policy(admin, east, TicketPriority.low, timedelta(hours=30), timedelta(days=9))
        alice = s.scalars(select(User).where(User.external_id == "alice")).one()
        ctx = Ctx(s, alice, clock=clock)
        acme = s.scalars(select(Customer).where(Customer.name == "Acme")).one()
        channel, _ = link_channel(ctx, "slack", "C0ACME", "#acme-support", acme)
        set_auto(ctx, "slack", "C0ACME", True)
        tickets = []
        for n, text in enumerate(("Scanner offline", "Label paper runs out")):
            ticket, _ = open_in_channel(
                s,
                channel,
                requester=Requester("U0CAROL", "Carol 王", f"C0ACME:1700000000.00020{n}"),
                text=text,
                key=f"slack:T1:C0ACME:1700000000.00020{n}",
                link=None,
                source="slack",
                now=clock.now,
                ctx=ctx,
            )
            clock.now += timedelta(hours=1)
            resolve_ticket(ctx, ticket.id, "Restarted it")
            tickets.append(ticket)
        s.flush()
        (first, _second) = s.scalars(select(CsatRequest).order_by(CsatRequest.id)).all()
        assert csat.claim(s, first.id, clock.now) is not None
        csat.finish(s, first.id, clock.now, None, True)
        assert csat.answer(s, first.id, "slack", "U0CAROL", 5, clock.now).outcome == "thanks"


def test_channels_requesters_csat_and_sla_policies_round_trip(session_factory: Factory) -> None:
    _history(session_factory)
    _desk(session_factory)
    before = _figures(session_factory)
    first = run_export(session_factory)
    records = [json.loads(line) for line in first.splitlines()]
    (channel,) = [r for r in records if r["type"] == "customer_channel"]
    assert channel == {
        "type": "customer_channel",
        "platform": "slack",
        "chat_id": "C0ACME",
        "name": "#acme-support",
        "customer": channel["customer"],
        "auto": True,
        "resolved_count": 2,
        "created_by": "alice",
        "created_at": "2026-11-25T09:00:00+00:00",
    }
    (team,) = [r for r in records if r["type"] == "team"]
    assert team["sla"] == {
        "high": {"first_response_minutes": 120, "resolution_minutes": 720},
        "low": {"first_response_minutes": 1800, "resolution_minutes": 12960},
    }
    asked = [r for r in records if r["type"] == "ticket" and r["channel"] == "slack:C0ACME"]
    assert [(t["requester_id"], t["requester_name"]) for t in asked] == [
        ("U0CAROL", "Carol 王")
    ] * 2
    assert asked[0]["requester_where"] == "C0ACME:1700000000.000200"
    answered, due = asked[0]["csat"][0], asked[1]["csat"][0]
    assert (answered["status"], due["status"]) == ("answered", "due")
    (answer,) = [
        r for r in records if r["type"] == "feedback" and r["external_id"] == answered["feedback"]
    ]
    assert (answer["kind"], answer["score"]) == ("csat", 5)
    assert "csat" not in next(r for r in records if r["type"] == "ticket" and r["channel"] is None)
    wipe(session_factory)
    run_import(session_factory, io.StringIO(first))
    assert run_export(session_factory) == first
    assert _figures(session_factory) == before
    assert not run_import(session_factory, io.StringIO(first)).changed
    # The imported question still takes its answer, once, from its requester only.
    with unit_of_work(session_factory) as s:
        q = s.scalars(select(CsatRequest).where(CsatRequest.status == "due")).one()
        assert csat.answer(s, q.id, "slack", "U0BOB", 4, LATER).outcome == "not_yours"


def test_sla_policies_from_a_file_move_open_tickets(session_factory: Factory) -> None:
    _history(session_factory)
    _desk(session_factory)
    first = run_export(session_factory)
    before = _figures(session_factory)
    # A file naming only an urgent target: high and low go back to the defaults.
    team_line = next(x for x in first.splitlines() if '"type": "team"' in x)
    team = json.loads(team_line)
    urgent = {"urgent": {"first_response_minutes": 30, "resolution_minutes": 60}}
    moved = first.replace(team_line, json.dumps({**team, "sla": urgent}, ensure_ascii=False))
    assert run_import(session_factory, io.StringIO(moved)).changed
    with session_factory() as s:
        assert s.scalars(select(SlaPolicy.priority)).all() == ["urgent"]
        kinds = s.scalars(
            select(AuditEntry.actor_label).where(AuditEntry.entity_type == "sla_policies")
        ).all()
    assert "import" in kinds
    # The open urgent ticket is now due sooner.
    assert _figures(session_factory)[1] != before[1]


def test_bad_desk_records_are_refused_with_the_line(session_factory: Factory) -> None:
    _history(session_factory)
    _desk(session_factory)
    good = run_export(session_factory).splitlines()
    team_at = next(i for i, x in enumerate(good) if '"type": "team"' in x)
    chan_at = next(i for i, x in enumerate(good) if '"type": "customer_channel"' in x)
    asked_at = next(i for i, x in enumerate(good) if '"csat": [' in x)
    team, chan, asked = (json.loads(good[i]) for i in (team_at, chan_at, asked_at))
    q = asked["csat"][0]
    for at, record, says in (
        (
            team_at,
            {**team, "sla": {"high": {"first_response_minutes": 600, "resolution_minutes": 60}}},
            "first response must not come after resolution",
        ),
        (
            team_at,
            {**team, "sla": {"soon": {"first_response_minutes": 6, "resolution_minutes": 60}}},
            "soon",
        ),
        (chan_at, {**chan, "customer": "nobody"}, "unknown customer 'nobody'"),
        (asked_at, {**asked, "channel": "slack:C0NONE"}, "unknown channel 'slack:C0NONE'"),
        (
            asked_at,
            {**asked, "csat": [{**q, "feedback": "feedback-x"}]},
            "unknown feedback 'feedback-x'",
        ),
        (asked_at, {**asked, "csat": [q, q]}, "two CSAT questions made at one time"),
        (asked_at, {**asked, "csat": [{**q, "status": "sending"}]}, "status"),
    ):
        _refused(session_factory, good, at, record, says)


def test_a_csat_answer_must_be_about_its_ticket_and_customer(session_factory: Factory) -> None:
    _history(session_factory)
    _desk(session_factory)
    with unit_of_work(session_factory) as s:
        alice = s.scalars(select(User).where(User.external_id == "alice")).one()
        ctx = Ctx(s, alice, clock=lambda: LATER)
        globex = create_customer(ctx, "Globex")
        theirs, _ = open_ticket(ctx, globex, "Scale drifts")
        record_feedback(ctx, globex, "csat", 2, None, theirs)
    good = run_export(session_factory).splitlines()
    records = [json.loads(x) for x in good]
    asked_at = next(i for i, r in enumerate(records) if r.get("csat"))
    asked = records[asked_at]
    q = asked["csat"][0]
    answer_at = next(i for i, r in enumerate(records) if r.get("external_id") == q["feedback"])
    answer = records[answer_at]
    other_ticket = next(
        r["external_id"]
        for r in records
        if r["type"] == "ticket" and r["customer"] == asked["customer"] and r is not asked
    )
    globex_ext = next(r["external_id"] for r in records if r.get("name") == "Globex")
    (globex_at,) = [i for i, r in enumerate(records) if r["type"] == "feedback" and r["score"] == 2]
    globex_answer = records[globex_at]
    (nps_at,) = [i for i, r in enumerate(records) if r.get("kind") == "nps"]
    nps = records[nps_at]
    for at, record, says in (
        # The answer is filed under Globex, its ticket is Acme's.
        (
            answer_at,
            {**answer, "customer": globex_ext},
            f"ticket {asked['external_id']!r} is not a ticket of customer {globex_ext!r}",
        ),
        # The question is answered by Globex's score about Globex's ticket.
        (
            asked_at,
            {**asked, "csat": [{**q, "feedback": globex_answer["external_id"]}]},
            f"answer {globex_answer['external_id']!r} (line {globex_at + 1}) is about ticket "
            f"{globex_answer['ticket']!r}, not this one",
        ),
        # An NPS score is no answer to a CSAT question.
        (
            asked_at,
            {**asked, "csat": [{**q, "feedback": nps["external_id"]}]},
            f"answer {nps['external_id']!r} (line {nps_at + 1}) is an nps score",
        ),
        # One score answering two questions.
        (
            asked_at,
            {**asked, "csat": [q, {**q, "created_at": q["sent_at"]}]},
            f"answer {answer['external_id']!r} answers two questions",
        ),
    ):
        _refused(session_factory, good, at, record, says)
    # An answer about another ticket of the same customer, told on its question's line.
    moved = list(good)
    moved[answer_at] = json.dumps({**answer, "ticket": other_ticket}, ensure_ascii=False)
    _refused(
        session_factory,
        moved,
        asked_at,
        asked,
        f"answer {answer['external_id']!r} (line {answer_at + 1}) is about ticket "
        f"{other_ticket!r}, not this one",
    )
    # The same without the ticket's line: the question already in the database is the one.
    try:
        run_import(session_factory, [json.dumps({**answer, "ticket": other_ticket})])
    except ImportFailed as exc:
        assert exc.errors[0][0] == 1, exc.errors
        assert f"answers a CSAT question of ticket {asked['external_id']!r}" in exc.errors[0][1]
    else:
        raise AssertionError("an answer moved off its question's ticket was imported")
    # Into an empty database the refused file writes nothing.
    wipe(session_factory)
    bad = list(good)
    bad[answer_at] = json.dumps({**answer, "customer": globex_ext}, ensure_ascii=False)
    try:
        run_import(session_factory, bad)
    except ImportFailed as exc:
        assert [n for n, _ in exc.errors] == [answer_at + 1], exc.errors
    else:
        raise AssertionError("the answer filed under another customer was imported")
    with session_factory() as s:
        assert s.scalars(select(Ticket)).all() == []
        assert s.scalars(select(Customer)).all() == []
        assert s.scalars(select(CsatRequest)).all() == []
