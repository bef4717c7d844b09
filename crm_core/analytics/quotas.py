"""Quota totals for a report: the quotas of the people in view that fall inside its period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm_core.access import visible_owner_ids
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import Dim, money
from crm_core.context import Ctx
from crm_core.models import Quota, Team, User

# Dimensions whose groups are people (or sets of people) that quotas can be summed over.
PEOPLE_DIMS = (None, Dim.rep, Dim.team, Dim.manager, Dim.region)


def quota_by_person(ctx: Ctx, period: Period, currency: str) -> dict[int, tuple[Decimal, Any, Any]]:
    """Each person in view's quota for the period: user id -> (amount, team id, region id).

    The quota set for exactly the period when there is one; else the sum of the quotas of the
    periods inside it, the longest first, leaving out one that overlaps a period already
    counted (a December quota inside a Q4 one is part of it, not more on top). Empty when the
    period is open-ended.
    """
    if period.start is None or period.end is None:
        return {}
    stmt = (
        select(
            Quota.user_id,
            User.team_id,
            Team.region_id,
            Quota.period_start,
            Quota.period_end,
            Quota.amount,
        )
        .join(User, User.id == Quota.user_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(
            Quota.currency == currency,
            Quota.period_start >= period.start,
            Quota.period_end <= period.end,
        )
    )
    owners = visible_owner_ids(ctx.actor)
    if owners is not None:
        stmt = stmt.where(Quota.user_id.in_(owners))
    found: dict[int, list[Any]] = {}
    for row in ctx.session.execute(stmt):
        found.setdefault(int(row[0]), []).append(row)
    out: dict[int, tuple[Decimal, Any, Any]] = {}
    for user_id, rows in found.items():
        rows.sort(key=lambda r: (r[3] - r[4], r[3]))  # longest first, then by start
        kept: list[Any] = []
        for r in rows:
            if all(r[4] <= k[3] or r[3] >= k[4] for k in kept):
                kept.append(r)
        total = sum((money(r[5]) for r in kept), Decimal(0))
        out[user_id] = (total, rows[0][1], rows[0][2])
    return out


def group_key(dim: Dim | None, user_id: int, team_id: Any, region_id: Any) -> Any:
    """The report group a person falls in (None: the whole report)."""
    return {
        None: None,
        Dim.rep: user_id,
        Dim.team: team_id,
        Dim.manager: team_id,
        Dim.region: region_id,
    }[dim]


def quota_by_group(ctx: Ctx, dim: Dim | None, period: Period, currency: str) -> dict[Any, Decimal]:
    """Summed quotas per group key (None: everyone in view) for the period (quota_by_person).

    Empty when the period is open-ended or the dimension is not about people.
    """
    if dim not in PEOPLE_DIMS:
        return {}
    out: dict[Any, Decimal] = {}
    for user_id, (amount, team_id, region_id) in quota_by_person(ctx, period, currency).items():
        key = group_key(dim, user_id, team_id, region_id)
        out[key] = out.get(key, Decimal(0)) + amount
    return out


def attainment(achieved: Decimal, quota: Decimal | None) -> Decimal | None:
    """achieved / quota unrounded (rounded once where shown), None without a quota."""
    if not quota:
        return None
    return achieved / quota
