"""Quota totals for a report: the quotas of the people in view that fall inside its period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crm_core.access import visible_owner_ids
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import Dim, money
from crm_core.context import Ctx
from crm_core.models import Quota, Team, User

# Dimensions whose groups are people (or sets of people) that quotas can be summed over.
PEOPLE_DIMS = (None, Dim.rep, Dim.team, Dim.manager, Dim.region)


def quota_by_group(ctx: Ctx, dim: Dim | None, period: Period, currency: str) -> dict[Any, Decimal]:
    """Summed quotas per group key (None: everyone in view) for quotas inside the period.

    Empty when the period is open-ended or the dimension is not about people.
    """
    if period.start is None or period.end is None or dim not in PEOPLE_DIMS:
        return {}
    stmt = (
        select(Quota.user_id, User.team_id, Team.region_id, func.sum(Quota.amount))
        .join(User, User.id == Quota.user_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(
            Quota.currency == currency,
            Quota.period_start >= period.start,
            Quota.period_end <= period.end,
        )
        .group_by(Quota.user_id, User.team_id, Team.region_id)
    )
    owners = visible_owner_ids(ctx.actor)
    if owners is not None:
        stmt = stmt.where(Quota.user_id.in_(owners))
    out: dict[Any, Decimal] = {}
    for user_id, team_id, region_id, total in ctx.session.execute(stmt):
        key = {
            None: None,
            Dim.rep: user_id,
            Dim.team: team_id,
            Dim.manager: team_id,
            Dim.region: region_id,
        }[dim]
        out[key] = out.get(key, Decimal(0)) + money(total)
    return out


def attainment(achieved: Decimal, quota: Decimal | None) -> Decimal | None:
    """achieved / quota to four places, None without a quota."""
    if not quota:
        return None
    return (achieved / quota).quantize(Decimal("0.0001"))
