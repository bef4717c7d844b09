"""The funnel: per stage, deals that reached it and went on, by count and by value."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select

from crm_core.analytics.periods import ALL_TIME, Period
from crm_core.analytics.scope import in_period, kept_scope, money, ratio, scope_filter
from crm_core.analytics.win_rate import other_currencies
from crm_core.context import Ctx
from crm_core.models import Deal, DealReach, FunnelTotal, StageChange
from crm_core.stages import Stage


@dataclass(frozen=True)
class FunnelRow:
    """One stage: deals that reached it and those of them that reached the next one."""

    stage: Stage
    reached: int
    reached_value: Decimal
    # None for the won stage: there is nothing after it.
    advanced: int | None
    advanced_value: Decimal | None

    @property
    def conversion(self) -> Decimal | None:
        """advanced / reached."""
        return None if self.advanced is None else ratio(self.advanced, self.reached)

    @property
    def drop_off(self) -> Decimal | None:
        """1 - conversion."""
        conv = self.conversion
        return None if conv is None else Decimal(1) - conv

    @property
    def value_conversion(self) -> Decimal | None:
        """advanced value / reached value."""
        if self.advanced_value is None or not self.reached_value:
            return None
        return (self.advanced_value / self.reached_value).quantize(Decimal("0.0001"))


@dataclass
class FunnelReport:
    """The funnel of deals opened in a period, in one currency."""

    currency: str
    period: Period
    rows: list[FunnelRow]
    deals: int
    other_currencies: dict[str, int] = field(default_factory=dict)


def funnel_steps(ctx: Ctx) -> list[Stage]:
    """The funnel's stages: the open ones in order, then won."""
    won = next(s for s in ctx.pipeline.stages if s.won)
    return [*ctx.pipeline.open_stages, won]


def _ranks(ctx: Ctx) -> dict[str, int]:
    steps = funnel_steps(ctx)
    order = {s.name: i for i, s in enumerate(steps[:-1])}
    order.update(dict.fromkeys((s.name for s in ctx.pipeline.stages if s.won), len(steps) - 1))
    return order


def _greater(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)


def furthest_step(ctx: Ctx) -> Any:
    """SQL for a deal's furthest funnel step (index into funnel_steps, -1: none).

    From its current stage and its whole history: a deal that skipped a stage has passed it,
    a lost deal reached the last open stage it was in.
    """
    order = _ranks(ctx)

    def rank(column: Any) -> Any:
        return case(order, value=column, else_=-1)

    history = (
        select(
            func.max(
                case(
                    (
                        rank(StageChange.to_stage) > rank(StageChange.from_stage),
                        rank(StageChange.to_stage),
                    ),
                    else_=rank(StageChange.from_stage),
                )
            )
        )
        .where(StageChange.deal_id == Deal.id)
        .scalar_subquery()
    )
    past = func.coalesce(history, literal(-1))
    now = rank(Deal.stage)
    return case((now > past, now), else_=past)


def furthest_of(order: dict[str, int], reached: str | None) -> int:
    """A deal's furthest funnel step from the stage names it has been in (-1: none)."""
    return max((order.get(name, -1) for name in (reached or "").split("\t")), default=-1)


def funnel(ctx: Ctx, *, period: Period = ALL_TIME, currency: str | None = None) -> FunnelReport:
    """The funnel of the deals the actor may see, opened in the period.

    Each deal's furthest step comes from the stage names it has been in, kept by triggers
    (`deal_reach`, migration 0030): over all time from their sums per owner (`funnel_totals`,
    a few hundred rows whatever the book's size); for a period, from the deals opened in it
    joined to their kept sets (created_at instants fall anywhere inside a day).
    """
    currency = (currency or ctx.default_currency).upper()
    steps = funnel_steps(ctx)
    start, end = period.bounds(ctx.tz)
    order = _ranks(ctx)
    groups: list[tuple[str | None, int, Decimal]] = []
    others: dict[str, int] = {}
    if start is None and end is None:
        t = FunnelTotal
        scope = kept_scope(ctx, t.owner_id, t.state)
        kept = (
            select(t.currency, t.reached, func.sum(t.deals), func.sum(t.cents))
            .where(*(scope or []))
            .group_by(t.currency, t.reached)
            .having(func.sum(t.deals) > 0)
        )
        for cur, kept_set, count, cents in ctx.session.execute(kept) if scope is not None else []:
            if cur == currency:
                groups.append((kept_set, int(count), Decimal(int(cents)).scaleb(-2)))
            else:
                others[cur] = others.get(cur, 0) + int(count)
    else:
        conditions = in_period(Deal.created_at, start, end)
        opened = (
            select(DealReach.reached, func.count(), func.sum(Deal.amount))
            .select_from(Deal)
            .join(DealReach, DealReach.deal_id == Deal.id)
            .where(*scope_filter(ctx), *conditions, Deal.currency == currency)
            .group_by(DealReach.reached)
        )
        groups = [(r, int(n), money(total)) for r, n, total in ctx.session.execute(opened)]
        others = other_currencies(ctx, currency, conditions)
    count_at = [0] * len(steps)
    value_at = [Decimal(0)] * len(steps)
    deals = 0
    for reached, count, total in groups:
        deals += count
        step = furthest_of(order, reached)
        if step < 0:
            continue
        count_at[step] += count
        value_at[step] += total
    # Reaching a step means reaching it or any later one.
    reached_n = [sum(count_at[i:]) for i in range(len(steps))]
    reached_value = [sum(value_at[i:], Decimal(0)) for i in range(len(steps))]
    rows = []
    for i, stage in enumerate(steps):
        last = i == len(steps) - 1
        rows.append(
            FunnelRow(
                stage,
                reached_n[i],
                reached_value[i],
                None if last else reached_n[i + 1],
                None if last else reached_value[i + 1],
            )
        )
    return FunnelReport(currency, period, rows, deals, others)


def deals_reaching(
    ctx: Ctx,
    stage: Stage,
    *,
    period: Period = ALL_TIME,
    currency: str | None = None,
    limit: int = 20,
) -> tuple[list[Deal], int]:
    """The deals (newest first, at most `limit`) that reached a funnel stage, and how many."""
    currency = (currency or ctx.default_currency).upper()
    steps = funnel_steps(ctx)
    index = next(i for i, s in enumerate(steps) if s.name == stage.name)
    start, end = period.bounds(ctx.tz)
    conditions = [
        *scope_filter(ctx),
        *in_period(Deal.created_at, start, end),
        Deal.currency == currency,
        furthest_step(ctx) >= index,
    ]
    total = int(ctx.session.scalar(select(func.count()).select_from(Deal).where(*conditions)) or 0)
    found = ctx.session.scalars(
        select(Deal)
        .where(*conditions)
        .order_by(Deal.created_at.desc(), Deal.id.desc())
        .limit(limit)
    ).all()
    return list(found), total
