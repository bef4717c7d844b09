"""Win rate: won, lost, won / (won + lost) and won value, per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crm_core.analytics.periods import ALL_TIME, Period
from crm_core.analytics.quotas import attainment, quota_by_group
from crm_core.analytics.scope import (
    Dim,
    Namer,
    group_columns,
    in_period,
    money,
    ratio,
    scope_filter,
    stage_in,
    with_joins,
)
from crm_core.context import Ctx
from crm_core.models import Deal


@dataclass(frozen=True)
class WinRateRow:
    """One group's closed deals."""

    group: str | None
    won: int
    lost: int
    won_value: Decimal
    # The group's quotas inside the report's period, in its currency (None: no quota).
    quota: Decimal | None = None

    @property
    def win_rate(self) -> Decimal | None:
        """won / (won + lost), None when nothing closed."""
        return ratio(self.won, self.won + self.lost)

    @property
    def attainment(self) -> Decimal | None:
        """Won value / quota."""
        return attainment(self.won_value, self.quota)


@dataclass
class WinRateReport:
    """Closed deals in one currency over a period, grouped by a dimension (or not)."""

    currency: str
    period: Period
    dim: Dim | None
    rows: list[WinRateRow]
    total: WinRateRow
    # Closed deals in the period in other currencies, never added in: currency -> count.
    other_currencies: dict[str, int] = field(default_factory=dict)


def closed_in(ctx: Ctx, period: Period) -> list[Any]:
    """Conditions: a deal won or lost, closed inside the period."""
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    return [stage_in(ctx, closed), *in_period(Deal.closed_at, start, end)]


def other_currencies(ctx: Ctx, currency: str, conditions: list[Any]) -> dict[str, int]:
    """How many deals matching the conditions are in each currency other than `currency`."""
    stmt = (
        select(Deal.currency, func.count())
        .where(*scope_filter(ctx), *conditions, Deal.currency != currency)
        .group_by(Deal.currency)
    )
    return {str(c): int(n) for c, n in ctx.session.execute(stmt)}


def win_rate(
    ctx: Ctx,
    *,
    dim: Dim | None = None,
    period: Period = ALL_TIME,
    currency: str | None = None,
) -> WinRateReport:
    """Won, lost, win rate and won value of the deals the actor may see, closed in the period."""
    currency = (currency or ctx.default_currency).upper()
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    keys = group_columns(dim, Deal.closed_at)
    conditions = closed_in(ctx, period)
    # Ungrouped, one pass over the closed deals serves the other currencies' counts too (at
    # 100,000 customers each pass is a scan of the deals); grouped reports join other tables.
    one_pass = dim is None
    lead: list[Any] = [Deal.currency] if one_pass else []
    columns: list[Any] = [*lead, *keys, Deal.stage, func.count(), func.sum(Deal.amount)]
    stmt = with_joins(select(*columns).select_from(Deal), dim)
    stmt = stmt.where(
        *scope_filter(ctx), *conditions, *([] if one_pass else [Deal.currency == currency])
    ).group_by(*lead, *keys, Deal.stage)
    namer = Namer(ctx.session, dim)
    acc: dict[Any, list[Any]] = {}
    others: dict[str, int] = {}
    for found in ctx.session.execute(stmt):
        row: Sequence[Any] = found
        if one_pass:
            if found[0] != currency:
                others[str(found[0])] = others.get(str(found[0]), 0) + int(found[-2])
                continue
            row = found[1:]
        key = namer.key(row)
        stage, count, total = row[namer.width :]
        slot = acc.setdefault(key, [0, 0, Decimal(0)])
        if stage in won_names:
            slot[0] += int(count)
            slot[2] += money(total)
        else:
            slot[1] += int(count)
    quotas = quota_by_group(ctx, dim, period, currency)
    if dim is not None:
        # A group with a quota and nothing closed still shows, at 0% attainment.
        for key in quotas:
            acc.setdefault(key, [0, 0, Decimal(0)])
    namer.load(acc)
    rows = [
        WinRateRow(namer.name(k), w, lost, v, quotas.get(k) if dim else None)
        for k, (w, lost, v) in acc.items()
    ]
    if namer.chronological():
        rows.sort(key=lambda r: r.group or "")
    else:
        rows.sort(key=lambda r: (r.group is None, -r.won_value, -r.won, r.group or ""))
    total = WinRateRow(
        None,
        sum(r.won for r in rows),
        sum(r.lost for r in rows),
        sum((r.won_value for r in rows), Decimal(0)),
        (sum(quotas.values(), Decimal(0)) or None) if quotas else None,
    )
    if not one_pass:
        others = other_currencies(ctx, currency, conditions)
    return WinRateReport(currency, period, dim, rows if dim else [], total, others)
