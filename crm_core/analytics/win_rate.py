"""Win rate: won, lost, won / (won + lost) and won value, per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.analytics.periods import ALL_TIME, Period, month_number, next_utc_month, utc_month
from crm_core.analytics.quotas import attainment, quota_by_group
from crm_core.analytics.scope import (
    Dim,
    Namer,
    group_columns,
    in_period,
    kept_scope,
    money,
    ratio,
    scope_filter,
    stage_in,
    with_joins,
)
from crm_core.context import Ctx
from crm_core.models import Deal, DealMonthTotal


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
    if dim is None:
        return _ungrouped(ctx, period, currency, won_names)
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


def _ungrouped(ctx: Ctx, period: Period, currency: str, won_names: set[str]) -> WinRateReport:
    """The win rate over everything the actor sees, from the kept closing months.

    Whole UTC months of closing come from the sums the triggers keep (`deal_month_totals`,
    kind c, migration 0030); a month a bound cuts is read deal by deal, the part inside when it
    is the smaller one, else the kept month less the part outside (a few hours at most for a
    period of whole local days).
    """
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    t = DealMonthTotal
    kept = kept_scope(ctx, t.owner_id, t.state)
    months: dict[int, dict[tuple[str, str], tuple[int, Decimal]]] = {}
    first = utc_month(start) if start is not None else None
    last = utc_month(end - timedelta(microseconds=1)) if end is not None else None
    if kept is not None:
        where = [*kept, t.kind == "c", t.stage.in_(closed)]
        if start is not None or end is not None:
            where.append(t.month > 0)  # month 0: no closing time, never inside a bound
        if first is not None:
            where.append(t.month >= month_number(first))
        if last is not None:
            where.append(t.month <= month_number(last))
        stmt = (
            select(t.month, t.currency, t.stage, func.sum(t.deals), func.sum(t.cents))
            .where(*where)
            .group_by(t.month, t.currency, t.stage)
            .having(func.sum(t.deals) > 0)
        )
        for number, cur, stage, n, cents in ctx.session.execute(stmt):
            slot = months.setdefault(int(number), {})
            slot[(cur, stage)] = (int(n), Decimal(int(cents)).scaleb(-2))
        owners = visible_owner_ids(ctx.actor)
        # The slices are hours of closings: the closed_at index, each deal's customer tested
        # against the person's book hashed once (`IS true`: not joined).
        scope = (
            scope_filter(ctx)
            if owners is None
            else [Deal.customer_id.in_(visible_customer_ids(ctx.actor)).is_(True)]
        )

        def direct(lo: datetime, hi: datetime) -> dict[tuple[str, str], tuple[int, Decimal]]:
            """Closings in [lo, hi), a slice inside one UTC month, by currency and stage."""
            stmt = (
                select(Deal.currency, Deal.stage, func.count(), func.sum(Deal.amount))
                .where(*scope, Deal.stage.in_(closed), *in_period(Deal.closed_at, lo, hi))
                .group_by(Deal.currency, Deal.stage)
            )
            return {(c, s): (int(n), money(v)) for c, s, n, v in ctx.session.execute(stmt)}

        for edge in sorted({m for m in (first, last) if m is not None}):
            after = next_utc_month(edge)
            lo = edge if start is None else max(edge, start)
            hi = after if end is None else min(after, end)
            if (lo, hi) == (edge, after):
                continue
            number = month_number(edge)
            if hi - lo <= (after - edge) / 2 or number not in months:
                months[number] = direct(lo, hi)
                continue
            totals = dict(months[number])
            for out_lo, out_hi in ((edge, lo), (hi, after)):
                if out_lo < out_hi:
                    for key, (n, amount) in direct(out_lo, out_hi).items():
                        have_n, have = totals.get(key, (0, Decimal(0)))
                        totals[key] = (have_n - n, have - amount)
            months[number] = totals
    won = lost = 0
    value = Decimal(0)
    others: dict[str, int] = {}
    for sums in months.values():
        for (cur, stage), (n, amount) in sums.items():
            if not n:
                continue
            if cur != currency:
                others[cur] = others.get(cur, 0) + n
            elif stage in won_names:
                won += n
                value += amount
            else:
                lost += n
    quotas = quota_by_group(ctx, None, period, currency)
    total = WinRateRow(
        None,
        won,
        lost,
        value,
        (sum(quotas.values(), Decimal(0)) or None) if quotas else None,
    )
    return WinRateReport(currency, period, None, [], total, others)
