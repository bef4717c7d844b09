"""Tickets: open, assign, reply, wait, resolve, reopen, reprioritise; their SLA clocks; feedback."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, bindparam, func, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from crm_core import audit, note_outbox, rules
from crm_core.access import ensure_customer_access, ticket_branches, ticket_filter
from crm_core.business_calendar import BusinessCalendar, country_known
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import (
    Customer,
    Feedback,
    Role,
    ServiceCalendar,
    SlaPolicy,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_core.services import csat
from crm_core.sla import (
    DEFAULT_POLICIES,
    PRIORITIES,
    WARN_AT,
    Clock,
    Policy,
    clock,
    due,
    running_spans,
)
from crm_core.text import fold

MAX_SUBJECT = 300
MAX_TEXT = rules.MAX_NOTE
LIST_LIMIT = 25
ACTIVE = (TicketStatus.new, TicketStatus.open, TicketStatus.waiting)
DONE = (TicketStatus.resolved, TicketStatus.closed)
FEEDBACK_RANGES = {"csat": (1, 5), "nps": (0, 10)}
# The customer card's CSAT mean covers this long.
CSAT_WINDOW = timedelta(days=90)
# Where a ticket waiting on the customer sits in the queue: after every running one.
WAITING_QUEUE = datetime(2999, 12, 31, tzinfo=UTC)


# --- calendars and clocks ---


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


def team_manager(session: Session, team_id: int) -> User | None:
    """The team's manager (the first active one): whose zone and language the team's are."""
    return session.scalar(
        select(User)
        .where(User.team_id == team_id, User.role == Role.manager, User.active)
        .order_by(User.id)
        .limit(1)
    )


def calendar_for(session: Session, team_id: int | None) -> BusinessCalendar:
    """The business calendar of a team (the defaults in its manager's zone); UTC without one."""
    if team_id is None:
        return BusinessCalendar()
    row = session.get(ServiceCalendar, team_id)
    zone = _zone(row.timezone) if row else None
    if zone is None:
        # A team's zone defaults to its manager's.
        manager = team_manager(session, team_id)
        zone = _zone(manager.timezone if manager else None) or ZoneInfo("UTC")
    if row is None:
        return BusinessCalendar(zone=zone)
    return BusinessCalendar(
        zone=zone,
        days=frozenset(int(d) for d in row.days),
        start=time(row.start_minute // 60, row.start_minute % 60),
        end=time(min(row.end_minute, 1439) // 60, min(row.end_minute, 1439) % 60),
        country=row.country,
    )


def policies_for(session: Session, team_id: int | None) -> dict[str, Policy]:
    """The SLA targets of each priority for a team: an admin's policies over the defaults."""
    out = dict(DEFAULT_POLICIES)
    if team_id is None:
        return out
    for row in session.scalars(select(SlaPolicy).where(SlaPolicy.team_id == team_id)):
        if row.priority in out:
            out[row.priority] = Policy(
                timedelta(minutes=row.first_response_minutes),
                timedelta(minutes=row.resolution_minutes),
            )
    return out


def policy(
    priority: TicketPriority | str, policies: Mapping[str, Policy] = DEFAULT_POLICIES
) -> Policy:
    """The SLA targets of a priority (the defaults, or a team's `policies_for`)."""
    return policies[str(priority)]


def history(ticket: Ticket) -> list[tuple[datetime, str]]:
    """The ticket's status after each event, in time order (what the SLA clocks read)."""
    return [(e.at, e.status.value) for e in ticket.events]


@dataclass(frozen=True)
class Clocks:
    """A ticket's two SLA clocks at one moment."""

    response: Clock
    resolution: Clock


def clocks(session: Session, ticket: Ticket, now: datetime) -> Clocks:
    """The first-response and resolution clocks of a ticket at `now`."""
    cal = calendar_for(session, ticket.team_id)
    steps = history(ticket)
    targets = policy(ticket.priority, policies_for(session, ticket.team_id))
    # A resolved or closed ticket's clock stops at its resolution (a reopen clears that).
    done_at = ticket.resolved_at if ticket.status in DONE else None
    return Clocks(
        response=clock(cal, steps, targets.first_response, now, ticket.first_response_at),
        resolution=clock(cal, steps, targets.resolution, now, done_at),
    )


def alert_moments(
    cal: BusinessCalendar, ticket: Ticket, policies: Mapping[str, Policy] = DEFAULT_POLICIES
) -> dict[str, datetime]:
    """When each SLA alert of a ticket falls due: warnings at 75 %, breaches, unassigned."""
    steps = history(ticket)
    targets = policy(ticket.priority, policies)
    out: dict[str, datetime] = {}
    if ticket.status not in (TicketStatus.new, TicketStatus.open):
        return out
    if ticket.assignee_id is None:
        out["unassigned"] = ticket.created_at
    if ticket.first_response_at is None:
        spans = running_spans(steps)
        warn = due(cal, spans, targets.first_response * WARN_AT)
        breach = due(cal, spans, targets.first_response)
        if warn is not None and breach is not None:
            out["response_warn"], out["response_breach"] = warn, breach
    spans = running_spans(steps)
    warn = due(cal, spans, targets.resolution * WARN_AT)
    breach = due(cal, spans, targets.resolution)
    if warn is not None and breach is not None:
        out["resolution_warn"], out["resolution_breach"] = warn, breach
    return out


def refresh_sla(session: Session, ticket: Ticket) -> None:
    """Recompute the due times and the next alert moment the sweep reads."""
    session.flush()
    # Events were added beside the relationship: read them back in time order.
    session.expire(ticket, ["events"])
    cal = calendar_for(session, ticket.team_id)
    policies = policies_for(session, ticket.team_id)
    steps = history(ticket)
    targets = policy(ticket.priority, policies)
    ticket.response_due_at = (
        None
        if ticket.first_response_at
        else due(cal, running_spans(steps, ticket.first_response_at), targets.first_response)
    )
    ticket.resolution_due_at = due(cal, running_spans(steps), targets.resolution)
    if ticket.status in (TicketStatus.new, TicketStatus.open):
        dues = [d for d in (ticket.response_due_at, ticket.resolution_due_at) if d is not None]
        ticket.queue_at = min(dues) if dues else WAITING_QUEUE
    else:
        ticket.queue_at = WAITING_QUEUE if ticket.status == TicketStatus.waiting else None
    moments = alert_moments(cal, ticket, policies)
    # The sweep looks at the earliest; alerts already sent are skipped by their log rows.
    ticket.next_alert_at = min(moments.values()) if moments else None


# --- reads ---


def get_ticket(ctx: Ctx, ticket_id: int) -> Ticket:
    """A ticket the actor may see; NotFound otherwise (whether it exists or not)."""
    ticket = ctx.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, ticket_filter(ctx.actor))
    )
    if ticket is None:
        raise NotFound("error.ticket_not_found", id=ticket_id)
    return ticket


def captured_ticket(ctx: Ctx, source_key: str) -> Ticket | None:
    """The visible ticket opened from a platform message (by its key), if there is one."""
    return ctx.session.scalar(
        select(Ticket).where(Ticket.source_key == source_key, ticket_filter(ctx.actor))
    )


def _scope_conditions(ctx: Ctx, scope: str, customer: Customer | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Ticket.queue_at.is_not(None)]
    if scope == "mine":
        where.append(Ticket.assignee_id == ctx.actor.id)
    elif scope == "team":
        if ctx.actor.team_id is None:
            raise Invalid("error.ticket_no_team")
        where.append(Ticket.team_id == ctx.actor.team_id)
    elif scope == "customer":
        assert customer is not None
        where.append(Ticket.customer_id == customer.id)
    elif scope == "breaching":
        # queue_at is the soonest running due time: past it, a target is missed.
        where.append(Ticket.queue_at <= ctx.now())
    return where


def _scope_is_visible(actor: User, scope: str) -> bool:
    """Whether every ticket in the scope is one `actor` may see (ticket_branches' ways)."""
    if scope == "mine":
        return True  # assigned to them
    return scope == "team" and actor.role == Role.manager and actor.team_id is not None


def list_query(ctx: Ctx, scope: str, customer: Customer | None = None) -> Select[Ticket]:
    """Queued tickets in a scope (mine, team, a customer's, breaching, all) the actor may see."""
    return select(Ticket).where(ticket_filter(ctx.actor), *_scope_conditions(ctx, scope, customer))


def list_tickets(
    ctx: Ctx, scope: str, customer: Customer | None = None, limit: int = LIST_LIMIT
) -> tuple[list[Ticket], bool]:
    """A page of tickets in a scope, the soonest due first, and whether more follow.

    Each way the actor may see a ticket is read down its own (…, queue_at) index for one page,
    then the pages are merged: a few short index walks instead of collecting and sorting every
    match of one OR.
    """
    where = _scope_conditions(ctx, scope, customer)
    ways = ticket_branches(ctx.actor)
    if ways and _scope_is_visible(ctx.actor, scope):
        # The scope is itself one of the ways to see a ticket: the others add nothing to it,
        # and each costs a query (a manager's `tickets team` read three where one does).
        ways = [true()]
    found: set[tuple[datetime, int]] = set()
    for way in ways:
        stmt = (
            select(Ticket.queue_at, Ticket.id)
            .where(way, *where)
            .order_by(Ticket.queue_at, Ticket.id)
            .limit(limit + 1)
        )
        found.update((at, tid) for at, tid in ctx.session.execute(stmt) if at is not None)
    page = sorted(found)[: limit + 1]
    if not page:
        return [], False
    rows = ctx.session.scalars(
        select(Ticket)
        .where(Ticket.id.in_([tid for _, tid in page]))
        .order_by(Ticket.queue_at, Ticket.id)
        # One query for the page's customers and assignees, not two per line.
        .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
    ).all()
    return list(rows[:limit]), len(rows) > limit


# --- writes ---


def check_subject(value: str) -> str:
    """A ticket's subject: one readable line, not empty, at most MAX_SUBJECT characters."""
    value = rules.name("subject", value, MAX_SUBJECT)
    if not value:
        raise Invalid("error.ticket_subject_missing")
    return value


def check_priority(value: str) -> TicketPriority:
    """A priority by its English or Chinese word."""
    # Folded: Traditional 緊急 is 紧急.
    found = PRIORITY_WORDS.get(fold(value))
    if found is None:
        raise Invalid("error.ticket_priority_invalid", value=value)
    return found


PRIORITY_WORDS: dict[str, TicketPriority] = {
    **{p.value: p for p in TicketPriority},
    "紧急": TicketPriority.urgent,
    "高": TicketPriority.high,
    "普通": TicketPriority.normal,
    "中": TicketPriority.normal,
    "低": TicketPriority.low,
}


def _check_text(value: str, missing: str) -> str:
    return rules.text("text", value, MAX_TEXT, missing)


def can_assign(actor: User, assignee: User) -> bool:
    """Whether `actor` may hand a ticket to `assignee`: themself, a teammate, anyone (admin)."""
    if not assignee.active:
        return False
    if actor.role == Role.admin or assignee.id == actor.id:
        return True
    return actor.team_id is not None and assignee.team_id == actor.team_id


def _event(
    ctx: Ctx, ticket: Ticket, kind: str, *, value: str | None = None, text: str | None = None
) -> TicketEvent:
    return _add_event(ctx.session, ticket, kind, ctx.now(), ctx.actor, value=value, text=text)


def _add_event(
    session: Session,
    ticket: Ticket,
    kind: str,
    at: datetime,
    actor: User | None,
    *,
    value: str | None = None,
    text: str | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        at=at,
        actor_id=actor.id if actor else None,
        status=ticket.status,
        value=value,
        text=text,
    )
    session.add(event)
    return event


def _check_source(source_link: str | None, source_text: str | None) -> None:
    if source_link is not None:
        rules.readable("link", source_link)
        if len(source_link) > 500:
            raise Invalid("error.too_long", field="link", limit=500)
    if source_text is not None:
        rules.readable("text", source_text)


def open_ticket(
    ctx: Ctx,
    customer: Customer,
    subject: str,
    *,
    description: str | None = None,
    priority: TicketPriority = TicketPriority.normal,
    assignee: User | None = None,
    source: str = "console",
    source_key: str | None = None,
    source_link: str | None = None,
    source_text: str | None = None,
) -> tuple[Ticket, bool]:
    """Open a ticket; returns it and whether it is new (the same source message: the first)."""
    ensure_customer_access(ctx.actor, customer)
    subject = check_subject(subject)
    if description is not None:
        description = rules.text("description", description, MAX_TEXT, "error.ticket_text_missing")
    _check_source(source_link, source_text)
    if assignee is not None and not assignee.active:
        # Their rights are not the matter: nobody can hand work to a leaver (as deals answer).
        raise Invalid("error.assignee_inactive", user=assignee.name)
    if assignee is not None and not can_assign(ctx.actor, assignee):
        raise PermissionDenied("error.ticket_assign_denied", user=assignee.name)
    return _create(
        ctx.session,
        ctx.now(),
        ctx.actor,
        customer,
        subject,
        description=description,
        priority=priority,
        assignee=assignee,
        source=source,
        source_key=source_key,
        source_link=source_link,
        source_text=source_text,
    )


def open_unattended(
    session: Session,
    customer: Customer,
    subject: str,
    *,
    description: str | None,
    source: str,
    source_key: str,
    source_link: str | None,
    source_text: str | None,
    now: datetime,
    actor_label: str,
) -> tuple[Ticket, bool]:
    """Open a ticket nobody on the staff asked for (a customer's message in an auto channel)."""
    subject = check_subject(subject)
    if description is not None:
        description = rules.text("description", description, MAX_TEXT, "error.ticket_text_missing")
    _check_source(source_link, source_text)
    return _create(
        session,
        now,
        None,
        customer,
        subject,
        description=description,
        priority=TicketPriority.normal,
        assignee=None,
        source=source,
        source_key=source_key,
        source_link=source_link,
        source_text=source_text,
        actor_label=actor_label,
    )


def _create(
    session: Session,
    now: datetime,
    actor: User | None,
    customer: Customer,
    subject: str,
    *,
    description: str | None,
    priority: TicketPriority,
    assignee: User | None,
    source: str,
    source_key: str | None,
    source_link: str | None,
    source_text: str | None,
    actor_label: str | None = None,
) -> tuple[Ticket, bool]:
    if source_key:
        seen = session.scalar(select(Ticket).where(Ticket.source_key == source_key))
        if seen is not None:
            return seen, False
    # The SLA runs on the team that will work it: the assignee's, else the account owner's.
    team_id = assignee.team_id if assignee is not None else customer.owner.team_id
    ticket = Ticket(
        customer_id=customer.id,
        subject=subject,
        description=description,
        priority=priority,
        status=TicketStatus.open if assignee else TicketStatus.new,
        assignee_id=assignee.id if assignee else None,
        team_id=team_id,
        created_by_id=actor.id if actor else None,
        source=source,
        source_key=source_key or None,
        source_link=source_link,
        source_text=source_text,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    _add_event(session, ticket, "created", now, actor, value=priority.value)
    if assignee is not None:
        _add_event(session, ticket, "assigned", now, actor, value=assignee.external_id)
    refresh_sla(session, ticket)
    audit.record(session, actor, "ticket.create", ticket, None, actor_label=actor_label)
    # Its subject and description are owed to the index `ask` reads.
    note_outbox.enqueue_tickets(session, [ticket.id], now=now)
    return ticket, True


def _for_change(ctx: Ctx, ticket_id: int) -> tuple[Ticket, dict[str, object]]:
    ticket = get_ticket(ctx, ticket_id)
    # Changed as it is now: two people replying at once queue up.
    lock_for_update(ctx.session, ticket)
    return ticket, audit.snapshot(ticket)


def _done(ctx: Ctx, ticket: Ticket, action: str, before: dict[str, object]) -> Ticket:
    ticket.updated_at = ctx.now()
    mirror_later(ticket, before, ctx.now())
    refresh_sla(ctx.session, ticket)
    audit.record(ctx.session, ctx.actor, action, ticket, before)
    # A reply or a resolution adds text `ask` can find.
    note_outbox.enqueue_tickets(ctx.session, [ticket.id], now=ctx.now())
    return ticket


def mirror_later(ticket: Ticket, before: dict[str, object], now: datetime) -> None:
    """A changed status of a ticket opened from a chat message shows there (schedules/mirror)."""
    chat = ticket.source_key and ticket.source in ("slack", "telegram")
    if chat and str(before.get("status")) != ticket.status.value:
        ticket.mirror_due_at = now


def assign_ticket(ctx: Ctx, ticket_id: int, assignee: User) -> tuple[Ticket, bool]:
    """Hand a ticket to a staff member; False when they already have it."""
    ticket, before = _for_change(ctx, ticket_id)
    if not assignee.active:
        raise Invalid("error.assignee_inactive", user=assignee.name)
    if not can_assign(ctx.actor, assignee):
        raise PermissionDenied("error.ticket_assign_denied", user=assignee.name)
    if ticket.assignee_id == assignee.id:
        return ticket, False
    ticket.assignee_id = assignee.id
    if ticket.status == TicketStatus.new:
        ticket.status = TicketStatus.open
    if assignee.team_id is not None:
        ticket.team_id = assignee.team_id
    _event(ctx, ticket, "assigned", value=assignee.external_id)
    return _done(ctx, ticket, "ticket.assign", before), True


def reply_ticket(ctx: Ctx, ticket_id: int, text: str) -> Ticket:
    """Log a response to the customer; the first one stops the first-response clock."""
    text = _check_text(text, "error.ticket_reply_missing")
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.status in DONE:
        raise Invalid("error.ticket_is_done", id=ticket.id, status=ticket.status.value)
    if ticket.first_response_at is None:
        ticket.first_response_at = ctx.now()
    if ticket.status == TicketStatus.new:
        ticket.status = TicketStatus.open
    _event(ctx, ticket, "reply", text=text)
    return _done(ctx, ticket, "ticket.reply", before)


def wait_ticket(ctx: Ctx, ticket_id: int, text: str | None = None) -> Ticket:
    """Wait on the customer: the SLA clocks pause until the ticket is resumed."""
    if text is not None:
        text = _check_text(text, "error.ticket_reply_missing")
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.status not in (TicketStatus.new, TicketStatus.open):
        raise Invalid("error.ticket_cannot_wait", id=ticket.id, status=ticket.status.value)
    ticket.status = TicketStatus.waiting
    _event(ctx, ticket, "wait", text=text)
    return _done(ctx, ticket, "ticket.wait", before)


def resolve_ticket(ctx: Ctx, ticket_id: int, text: str | None) -> Ticket:
    """Resolve a ticket with what fixed it (None: by a reaction); the resolution clock stops.

    A ticket from a customer channel owes its requester a CSAT question (crm_core.csat).
    """
    if text is not None:
        text = _check_text(text, "error.ticket_resolution_missing")
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.status in DONE:
        raise Invalid("error.ticket_is_done", id=ticket.id, status=ticket.status.value)
    now = ctx.now()
    ticket.status = TicketStatus.resolved
    ticket.resolved_at = now
    if ticket.first_response_at is None:
        # Resolving answers the customer too.
        ticket.first_response_at = now
    _event(ctx, ticket, "resolve", text=text)
    csat.on_resolve(ctx.session, ticket, ctx.now(), ctx.config)
    return _done(ctx, ticket, "ticket.resolve", before)


def reopen_ticket(ctx: Ctx, ticket_id: int, text: str | None = None) -> tuple[Ticket, str]:
    """Reopen a resolved or closed ticket, or resume one waiting on the customer.

    Returns the ticket and the event it wrote ("reopen" or "resume").
    """
    if text is not None:
        text = _check_text(text, "error.ticket_reply_missing")
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.status in (TicketStatus.new, TicketStatus.open):
        raise Invalid("error.ticket_already_open", id=ticket.id)
    kind = "resume" if ticket.status == TicketStatus.waiting else "reopen"
    ticket.status = TicketStatus.open
    ticket.resolved_at = None
    ticket.closed_at = None
    _event(ctx, ticket, kind, text=text)
    # A reopened ticket is not done: a satisfaction question about it is withdrawn.
    csat.withdraw(ctx.session, ticket.id)
    return _done(ctx, ticket, f"ticket.{kind}", before), kind


def close_ticket(ctx: Ctx, ticket_id: int) -> Ticket:
    """Close a resolved ticket for good (it can still be reopened)."""
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.status == TicketStatus.closed:
        raise Invalid("error.ticket_already_closed", id=ticket.id)
    if ticket.status != TicketStatus.resolved:
        raise Invalid("error.ticket_close_unresolved", id=ticket.id)
    ticket.status = TicketStatus.closed
    ticket.closed_at = ctx.now()
    _event(ctx, ticket, "close")
    return _done(ctx, ticket, "ticket.close", before)


def set_priority(ctx: Ctx, ticket_id: int, priority: TicketPriority) -> tuple[Ticket, bool]:
    """Change a ticket's priority; its SLA targets follow, counted from creation."""
    ticket, before = _for_change(ctx, ticket_id)
    if ticket.priority == priority:
        return ticket, False
    ticket.priority = priority
    _event(ctx, ticket, "priority", value=priority.value)
    return _done(ctx, ticket, "ticket.priority", before), True


# --- feedback ---


def check_score(kind: str, score: int) -> int:
    """A score inside its scale: CSAT 1-5, NPS 0-10."""
    low, high = FEEDBACK_RANGES[kind]
    if not low <= score <= high:
        raise Invalid("error.feedback_score_range", kind=kind.upper(), low=low, high=high)
    return score


def record_feedback(
    ctx: Ctx,
    customer: Customer,
    kind: str,
    score: int,
    comment: str | None = None,
    ticket: Ticket | None = None,
) -> Feedback:
    """Record a CSAT or NPS score (by hand, or the answer to a CSAT question).

    A ticket's score is for whoever may work the ticket (its assignee too, and on an archived
    customer's ticket); a score without one is for whoever may change the customer.
    """
    if ticket is None:
        ensure_customer_access(ctx.actor, customer)
    else:
        get_ticket(ctx, ticket.id)
    if kind not in FEEDBACK_RANGES:
        raise Invalid("error.feedback_kind", kind=kind)
    check_score(kind, score)
    if comment is not None:
        comment = rules.text("comment", comment, MAX_TEXT, "error.feedback_comment_missing")
    if ticket is not None and ticket.customer_id != customer.id:
        raise Invalid("error.ticket_other_customer", id=ticket.id, customer=customer.name)
    row = Feedback(
        customer_id=customer.id,
        ticket_id=ticket.id if ticket else None,
        kind=kind,
        score=score,
        comment=comment,
        recorded_by_id=ctx.actor.id,
        created_at=ctx.now(),
    )
    ctx.session.add(row)
    audit.record(ctx.session, ctx.actor, "feedback.create", row, None)
    return row


@dataclass(frozen=True)
class Satisfaction:
    """A customer's scores: CSAT mean (1-5) and NPS (-100..100), None without answers."""

    csat_mean: float | None
    csat_count: int
    nps: int | None
    nps_count: int


def nps_score(scores: list[int]) -> int | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def satisfaction(session: Session, customer_ids: Select[tuple[int]] | list[int]) -> Satisfaction:
    """CSAT and NPS over the feedback of these customers."""
    rows = session.execute(
        select(Feedback.kind, Feedback.score).where(Feedback.customer_id.in_(customer_ids))
    ).all()
    csat = [s for k, s in rows if k == "csat"]
    nps = [s for k, s in rows if k == "nps"]
    return Satisfaction(
        round(sum(csat) / len(csat), 2) if csat else None, len(csat), nps_score(nps), len(nps)
    )


@dataclass(frozen=True)
class LatestNps:
    """A customer's latest NPS answer: its score and when it was given."""

    score: int
    created_at: datetime


@dataclass(frozen=True)
class CustomerService:
    """What the customer card shows of service: latest NPS, recent CSAT, open tickets."""

    latest_nps: LatestNps | None
    csat_mean: float | None
    csat_count: int
    open_tickets: int


# The card's service figures in one statement, built once: every card runs it, and each round
# trip (and building a statement each time) cost more CPU than the counting.
_LATEST_NPS = (
    Feedback.customer_id == bindparam("customer"),
    Feedback.kind == "nps",
)
_NEWEST_FIRST = (Feedback.created_at.desc(), Feedback.id.desc())
_RECENT_CSAT = (
    Feedback.customer_id == bindparam("customer"),
    Feedback.kind == "csat",
    Feedback.created_at >= bindparam("since", type_=Feedback.created_at.type),
)
SERVICE_FIGURES = (
    select(Feedback.score).where(*_LATEST_NPS).order_by(*_NEWEST_FIRST).limit(1).scalar_subquery(),
    select(Feedback.created_at)
    .where(*_LATEST_NPS)
    .order_by(*_NEWEST_FIRST)
    .limit(1)
    .scalar_subquery(),
    select(func.avg(Feedback.score)).where(*_RECENT_CSAT).scalar_subquery(),
    select(func.count()).select_from(Feedback).where(*_RECENT_CSAT).scalar_subquery(),
    select(func.count())
    .select_from(Ticket)
    .where(Ticket.customer_id == bindparam("customer"), Ticket.status.in_(ACTIVE))
    .scalar_subquery(),
)
_SERVICE = select(*SERVICE_FIGURES)


def service_params(customer_id: int, now: datetime) -> dict[str, Any]:
    """The parameters of SERVICE_FIGURES for one customer at `now`."""
    return {"customer": customer_id, "since": now - CSAT_WINDOW}


def service_of(figures: Sequence[Any]) -> CustomerService:
    """SERVICE_FIGURES as read (the first five columns of `figures`)."""
    score, given, mean, count, open_count = figures[:5]
    return CustomerService(
        LatestNps(int(score), given) if score is not None else None,
        round(float(mean), 1) if mean is not None else None,
        int(count),
        open_count or 0,
    )


def customer_service(session: Session, customer_id: int, now: datetime) -> CustomerService:
    """A customer's latest NPS, CSAT mean over CSAT_WINDOW, and active ticket count."""
    return service_of(session.execute(_SERVICE, service_params(customer_id, now)).one())


# A triage channel as the notifier addresses it: "slack:C0123", "telegram:-100123".
TRIAGE_TARGET = re.compile(r"^(?:slack:[A-Z0-9]{2,30}|telegram:-?\d{1,20}|console:[\w.-]{1,100})$")


def find_team(session: Session, name: str) -> Team:
    """A team by its name or external id, case-insensitively."""
    folded = name.strip().casefold()
    if not folded:
        raise Invalid("error.team_missing")
    team = session.scalar(select(Team).where(func.lower(Team.name) == folded))
    if team is None:
        team = session.scalar(select(Team).where(func.lower(Team.external_id) == folded))
    if team is None:
        raise NotFound("error.team_not_found", query=name.strip())
    return team


def service_calendar(ctx: Ctx, team: Team) -> tuple[ServiceCalendar | None, BusinessCalendar]:
    """What an admin sees of a team's service calendar: its row and the calendar in force."""
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.ticket_calendar_admin_only")
    return ctx.session.get(ServiceCalendar, team.id), calendar_for(ctx.session, team.id)


def set_service_calendar(
    ctx: Ctx,
    team: Team,
    *,
    timezone: str | None = None,
    country: str | None = None,
    triage_target: str | None = None,
) -> ServiceCalendar:
    """An admin sets a team's zone, holiday country and triage channel ("" clears one)."""
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.ticket_calendar_admin_only")
    # Every value is checked before the row is touched: bad input writes nothing.
    if timezone and _zone(timezone) is None:
        raise Invalid("error.timezone_invalid", value=timezone)
    if country and not country_known(country):
        raise Invalid("error.holiday_country_unknown", value=country)
    if triage_target and not TRIAGE_TARGET.match(triage_target):
        raise Invalid("error.triage_target_invalid", value=triage_target)
    row = ctx.session.get(ServiceCalendar, team.id)
    before = audit.snapshot(row) if row else None
    if row is None:
        row = ServiceCalendar(team_id=team.id, days="01234", start_minute=540, end_minute=1080)
        ctx.session.add(row)
    if timezone is not None:
        row.timezone = timezone or None
    if country is not None:
        row.country = country.upper() or None
    if triage_target is not None:
        row.triage_target = triage_target or None
    if before is not None and audit.snapshot(row) == before:
        # The same value again: nothing to record, no due time moves.
        return row
    row.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "service_calendar.update", row, before)
    # Open tickets of the team keep their due times in step with the new calendar.
    for ticket in ctx.session.scalars(
        select(Ticket).where(Ticket.team_id == team.id, Ticket.status.in_(ACTIVE))
    ):
        refresh_sla(ctx.session, ticket)
    return row


# The longest target a policy may set: 30 business days of 24 hours.
MAX_TARGET = timedelta(days=30)


def sla_policies(ctx: Ctx, team: Team) -> tuple[dict[str, Policy], set[str]]:
    """An admin reads a team's targets per priority, and which priorities the team has set."""
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.sla_admin_only")
    set_here = set(
        ctx.session.scalars(select(SlaPolicy.priority).where(SlaPolicy.team_id == team.id))
    )
    return policies_for(ctx.session, team.id), set_here


def set_sla_policy(
    ctx: Ctx, team: Team, priority: TicketPriority, first_response: timedelta, resolution: timedelta
) -> tuple[Policy, bool]:
    """An admin sets a team's targets for one priority; returns them and whether they changed.

    The team's active tickets get their due times and next alert recomputed at once, counted
    from creation as a priority change does (a ticket already past a shorter target is due).
    """
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.sla_admin_only")
    for target in (first_response, resolution):
        if target <= timedelta(0) or target > MAX_TARGET or target.total_seconds() % 60:
            raise Invalid("error.sla_target_invalid", value=_span_words(target))
    if first_response > resolution:
        raise Invalid(
            "error.sla_response_after_resolution",
            response=_span_words(first_response),
            resolution=_span_words(resolution),
        )
    key = priority.value
    assert key in PRIORITIES
    new = Policy(first_response, resolution)
    if policies_for(ctx.session, team.id)[key] == new:
        return new, False
    row = ctx.session.get(SlaPolicy, (team.id, key))
    before = audit.snapshot(row) if row else None
    if row is None:
        row = SlaPolicy(team_id=team.id, priority=key)
        ctx.session.add(row)
    row.first_response_minutes = int(first_response.total_seconds() // 60)
    row.resolution_minutes = int(resolution.total_seconds() // 60)
    row.updated_at = ctx.now()
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "sla_policy.update", row, before)
    for ticket in ctx.session.scalars(
        select(Ticket).where(
            Ticket.team_id == team.id, Ticket.priority == priority, Ticket.status.in_(ACTIVE)
        )
    ):
        refresh_sla(ctx.session, ticket)
    return new, True


def _span_words(span: timedelta) -> str:
    """A target as typed: 90m, 4h, 2d."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes}m"
    return f"{minutes // 60}h"


# --- the daily triage summary ---

TRIAGE_TOP = 5


@dataclass(frozen=True)
class TriageItem:
    """A ticket the summary names, and why: "breaching", "near" (75 % used) or "unassigned"."""

    ticket: Ticket
    state: str


@dataclass(frozen=True)
class TriageSummary:
    """A team's queue at one moment: counts and the tickets that need someone first."""

    team: Team
    active: int
    new: int
    unassigned: int
    waiting: int
    breaching: int
    near_breach: int
    top: list[TriageItem]


def triage_summary(session: Session, team: Team, now: datetime) -> TriageSummary:
    """The team's active tickets counted by state, and the most pressing few.

    Breaching: a running target past due; near breach: past the 75 % warning and not yet due
    (the sweep's own moments, under the team's calendar and policies).
    """
    counts = dict(
        session.execute(
            select(Ticket.status, func.count())
            .where(Ticket.team_id == team.id, Ticket.status.in_(ACTIVE))
            .group_by(Ticket.status)
        ).all()
    )
    unassigned = session.scalar(
        select(func.count()).where(
            Ticket.team_id == team.id, Ticket.status.in_(ACTIVE), Ticket.assignee_id.is_(None)
        )
    )
    cal = calendar_for(session, team.id)
    policies = policies_for(session, team.id)
    breaching: list[Ticket] = []
    near: list[Ticket] = []
    # Running tickets in queue order: the soonest due first, so the top items come first too.
    running = session.scalars(
        select(Ticket)
        .where(Ticket.team_id == team.id, Ticket.status.in_((TicketStatus.new, TicketStatus.open)))
        .order_by(Ticket.queue_at, Ticket.id)
        .options(selectinload(Ticket.events), joinedload(Ticket.customer))
    ).all()
    for ticket in running:
        if ticket.queue_at is not None and ticket.queue_at <= now:
            breaching.append(ticket)
            continue
        moments = alert_moments(cal, ticket, policies)
        if any(at <= now for kind, at in moments.items() if kind.endswith("_warn")):
            near.append(ticket)
    unassigned_open = [t for t in running if t.assignee_id is None]
    top: list[TriageItem] = []
    seen: set[int] = set()
    for state, group in (("breaching", breaching), ("near", near), ("unassigned", unassigned_open)):
        for ticket in group:
            if len(top) < TRIAGE_TOP and ticket.id not in seen:
                top.append(TriageItem(ticket, state))
                seen.add(ticket.id)
    return TriageSummary(
        team=team,
        active=sum(int(v) for v in counts.values()),
        new=int(counts.get(TicketStatus.new, 0)),
        unassigned=int(unassigned or 0),
        waiting=int(counts.get(TicketStatus.waiting, 0)),
        breaching=len(breaching),
        near_breach=len(near),
        top=top,
    )
