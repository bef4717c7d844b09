"""Quotas: what a person should win in a period; set by their manager or an admin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import list_currencies
from sqlalchemy import select

from crm_core import audit
from crm_core.context import Ctx
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Quota, Role, User

MAX_QUOTA = Decimal("999999999999.99")


def set_quota(
    ctx: Ctx, user: User, start: date, end: date, amount: Decimal, currency: str
) -> Quota:
    """Set (or change) a user's quota for [start, end); managers for their team, admins all."""
    actor = ctx.actor
    if actor.role == Role.rep:
        raise PermissionDenied("error.quota_not_allowed")
    if actor.role == Role.manager and (actor.team_id is None or user.team_id != actor.team_id):
        raise PermissionDenied("error.quota_not_your_team", user=user.name)
    currency = currency.upper()
    if currency not in list_currencies():
        raise Invalid("error.currency_invalid", value=currency)
    if not (Decimal(0) < amount <= MAX_QUOTA) or amount != amount.quantize(Decimal("0.01")):
        raise Invalid("error.amount_invalid", value=str(amount))
    quota = ctx.session.scalar(
        select(Quota).where(
            Quota.user_id == user.id,
            Quota.period_start == start,
            Quota.period_end == end,
            Quota.currency == currency,
        )
    )
    now = ctx.now()
    if quota is None:
        quota = Quota(
            user_id=user.id,
            period_start=start,
            period_end=end,
            amount=amount,
            currency=currency,
            created_at=now,
            updated_at=now,
        )
        ctx.session.add(quota)
        ctx.session.flush()
        audit.record(ctx.session, actor, "quota.set", quota, None)
        return quota
    before = audit.snapshot(quota)
    quota.amount = amount
    quota.updated_at = now
    audit.record(ctx.session, actor, "quota.set", quota, before)
    return quota
