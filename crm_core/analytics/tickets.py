"""The service desk report: tickets opened and resolved, SLA met, business-hour medians, CSAT, NPS.

Counted from each ticket's events with the business calendar of its team, so an imported
history gives the same figures as a live one. Same permission rules as every read.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import selectinload

from crm_core.access import book_filter, ticket_filter
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import in_period
from crm_core.business_calendar import BusinessCalendar
from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer, Feedback, Team, Ticket, User
from crm_core.services.tickets import (
    DONE,
    calendar_for,
    history,
    nps_score,
    policies_for,
    policy,
)
from crm_core.sla import Policy, clock

DIMS = ("assignee", "team", "priority")


@dataclass(frozen=True)
class TicketRow:
    """One group's service figures."""

    group: str | None
    opened: int
    resolved: int
    first_response_met: int
    resolution_met: int
    breached: int
    # Business hours, over the tickets answered / resolved in the period.
    first_response_median: float | None
    resolution_median: float | None
    # SLA met share over the tickets whose clock stopped (answered / resolved).
    first_response_rate: float | None
    resolution_rate: float | None
    csat_mean: float | None
    nps: int | None


@dataclass
class TicketReport:
    """Tickets over a period, grouped by assignee, team or priority (or not)."""

    period: Period
    dim: str | None
    rows: list[TicketRow]
    total: TicketRow
    # Grouped: the scores given without a ticket (every NPS, hand-recorded CSAT), which count
    # in the total and in no row; None when there are none, or when not grouped.
    untied: TicketRow | None = None


@dataclass
class _Acc:
    opened: int = 0
    resolved: int = 0
    response_met: int = 0
    resolution_met: int = 0
    breached: int = 0

    def __post_init__(self) -> None:
        self.response_hours: list[float] = []
        self.resolution_hours: list[float] = []
        self.csat: list[int] = []
        self.nps: list[int] = []


def _group_of(ticket: Ticket, dim: str | None) -> str | None:
    if dim == "assignee":
        return f"@{ticket.assignee.external_id}" if ticket.assignee else None
    if dim == "team":
        return ticket.team.name if ticket.team else None
    if dim == "priority":
        return ticket.priority.value
    return None


def _row(group: str | None, acc: _Acc) -> TicketRow:
    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    def rate(met: int, values: list[float]) -> float | None:
        return round(met / len(values), 4) if values else None

    return TicketRow(
        group=group,
        opened=acc.opened,
        resolved=acc.resolved,
        first_response_met=acc.response_met,
        resolution_met=acc.resolution_met,
        breached=acc.breached,
        first_response_median=median(acc.response_hours),
        resolution_median=median(acc.resolution_hours),
        first_response_rate=rate(acc.response_met, acc.response_hours),
        resolution_rate=rate(acc.resolution_met, acc.resolution_hours),
        csat_mean=round(sum(acc.csat) / len(acc.csat), 2) if acc.csat else None,
        nps=nps_score(acc.nps),
    )


def ticket_report(ctx: Ctx, *, dim: str | None, period: Period) -> TicketReport:
    """Opened (created in the period), resolved (resolved in it), their SLA figures, feedback."""
    if dim is not None and dim not in DIMS:
        raise Invalid("error.ticket_report_dim", value=dim, dims=", ".join(DIMS))
    start, end = period.bounds(ctx.tz)
    now = ctx.now()
    opened_in = in_period(Ticket.created_at, start, end)
    resolved_in = in_period(Ticket.resolved_at, start, end)
    stmt = (
        select(Ticket)
        .where(ticket_filter(ctx.actor), or_(and_(true(), *opened_in), and_(true(), *resolved_in)))
        .options(
            selectinload(Ticket.events), selectinload(Ticket.assignee), selectinload(Ticket.team)
        )
    )
    calendars: dict[int | None, BusinessCalendar] = {}
    policies: dict[int | None, dict[str, Policy]] = {}
    groups: dict[str | None, _Acc] = defaultdict(_Acc)
    total = _Acc()
    for ticket in ctx.session.scalars(stmt):
        if ticket.team_id not in calendars:
            calendars[ticket.team_id] = calendar_for(ctx.session, ticket.team_id)
            policies[ticket.team_id] = policies_for(ctx.session, ticket.team_id)
        cal = calendars[ticket.team_id]
        targets = policy(ticket.priority, policies[ticket.team_id])
        steps = history(ticket)
        accs = (total, groups[_group_of(ticket, dim)]) if dim else (total,)
        was_opened = _inside(ticket.created_at, start, end)
        was_resolved = (
            ticket.status in DONE
            and ticket.resolved_at is not None
            and _inside(ticket.resolved_at, start, end)
        )
        response = clock(cal, steps, targets.first_response, now, ticket.first_response_at)
        done_at = ticket.resolved_at if ticket.status in DONE else None
        resolution = clock(cal, steps, targets.resolution, now, done_at)
        for acc in accs:
            if was_opened:
                acc.opened += 1
                if response.breached or resolution.breached:
                    acc.breached += 1
                if response.stopped:
                    acc.response_hours.append(response.elapsed / 3600)
                    acc.response_met += not response.breached
            if was_resolved:
                acc.resolved += 1
                acc.resolution_hours.append(resolution.elapsed / 3600)
                acc.resolution_met += not resolution.breached
    untied = _Acc()
    _feedback(ctx, dim, start, end, total, groups, untied)
    rows = [
        _row(g, a) for g, a in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
    if dim == "priority":
        order = {p: i for i, p in enumerate(("urgent", "high", "normal", "low"))}
        rows.sort(key=lambda r: order.get(r.group or "", 9))
    given = dim is not None and (untied.csat or untied.nps)
    return TicketReport(period, dim, rows, _row(None, total), _row(None, untied) if given else None)


def _inside(moment: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or moment >= start) and (end is None or moment < end)


def _feedback(
    ctx: Ctx,
    dim: str | None,
    start: datetime | None,
    end: datetime | None,
    total: _Acc,
    groups: dict[str | None, _Acc],
    untied: _Acc,
) -> None:
    """CSAT and NPS given in the period, over the same population as the tickets counted.

    A score on a ticket counts when the ticket does (`ticket_filter`: archived customers'
    tickets are worked to the end and counted); a score with no ticket when its customer is in
    the person's book, archived included, merged tombstones not (their scores moved on). Each
    score goes to its ticket's group; by team, a score with no ticket goes to its customer's
    owner's team; by another group, to `untied` (the "no ticket" line), so the rows and that
    line add up to the total.
    """
    if not ctx.actor.active:
        return
    counted = select(Ticket.id).where(ticket_filter(ctx.actor))
    book = select(Customer.id).where(book_filter(ctx.actor), Customer.merged_into.is_(None))
    stmt = (
        select(Feedback)
        .where(
            or_(
                Feedback.ticket_id.in_(counted),
                and_(Feedback.ticket_id.is_(None), Feedback.customer_id.in_(book)),
            ),
            *in_period(Feedback.created_at, start, end),
        )
        .options(
            selectinload(Feedback.ticket).selectinload(Ticket.team),
            selectinload(Feedback.ticket).selectinload(Ticket.assignee),
        )
    )
    rows = list(ctx.session.scalars(stmt))
    owner_team: dict[int, str | None] = {}
    if dim == "team":
        loose = {r.customer_id for r in rows if r.ticket is None}
        if loose:
            found = ctx.session.execute(
                select(Customer.id, Team.name)
                .join(User, User.id == Customer.owner_id)
                .outerjoin(Team, Team.id == User.team_id)
                .where(Customer.id.in_(loose))
            )
            owner_team = {int(cid): name for cid, name in found}
    for row in rows:
        accs = [total]
        if dim is not None:
            if row.ticket is not None:
                accs.append(groups[_group_of(row.ticket, dim)])
            elif dim == "team":
                accs.append(groups[owner_team.get(row.customer_id)])
            else:
                accs.append(untied)
        for acc in accs:
            (acc.csat if row.kind == "csat" else acc.nps).append(row.score)


_MEASURES = (
    "opened",
    "resolved",
    "first_response_met",
    "resolution_met",
    "breached",
    "csat_mean",
    "nps",
)


def as_json(report: TicketReport) -> dict[str, Any]:
    """The `crmbot report tickets --json` contract: report, rows (group + measures), total."""

    def measures(row: TicketRow) -> dict[str, Any]:
        return {k: getattr(row, k) for k in _MEASURES}

    return {
        "report": "tickets",
        "rows": [{"group": r.group, **measures(r)} for r in report.rows],
        "total": measures(report.total),
        # Scores given without a ticket: in the total, in no row.
        "no_ticket": None if report.untied is None else measures(report.untied),
    }
