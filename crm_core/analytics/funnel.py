"""The funnel: per stage, deals that reached it and went on, by count and by value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.orm import selectinload

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.analytics.kept_months import month_sums
from crm_core.analytics.periods import ALL_TIME, Period, month_number, utc_month
from crm_core.analytics.scope import in_period, kept_scope, ratio, report_currency, scope_filter
from crm_core.context import Ctx
from crm_core.models import Deal, DealReach, FunnelMonthTotal, FunnelTotal, Role
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
        return self.advanced_value / self.reached_value


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


def furthest_of(order: dict[str, int], reached: str | None) -> int:
    """A deal's furthest funnel step from the stage names it has been in (-1: none)."""
    return max((order.get(name, -1) for name in (reached or "").split("\t")), default=-1)


def funnel(ctx: Ctx, *, period: Period = ALL_TIME, currency: str | None = None) -> FunnelReport:
    """The funnel of the deals the actor may see, opened in the period.

    Each deal's furthest step comes from the stage names it has been in, kept by triggers
    (`deal_reach`, migration 0030): over all time from their sums per owner (`funnel_totals`,
    a few hundred rows whatever the book's size); for a period, from those sums per month of
    opening (`funnel_month_totals`, 0031) and the deals of the months its bounds cut.
    """
    currency = report_currency(ctx, currency)
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
        groups, others = _opened_in(ctx, currency, start, end)
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


Sums = dict[tuple[str, str | None], tuple[int, Decimal]]


def _opened_in(
    ctx: Ctx, currency: str, start: datetime | None, end: datetime | None
) -> tuple[list[tuple[str | None, int, Decimal]], dict[str, int]]:
    """The reached sets of the deals opened in [start, end): (set, deals, value) in `currency`,
    and the deals in each other currency.

    Whole UTC months of opening from the kept sums (`funnel_month_totals`, migration 0031); a
    month a bound cuts from its deals: read directly when the part inside is the smaller one,
    else as the kept month less the part outside (bounds are local midnights: a few hours).
    """
    t = FunnelMonthTotal
    kept = kept_scope(ctx, t.owner_id, t.state)
    if kept is None:  # nobody in view (an inactive account)
        return [], {}
    first = utc_month(start) if start is not None else None
    last = utc_month(end - timedelta(microseconds=1)) if end is not None else None
    where = list(kept)
    if first is not None:
        where.append(t.month >= month_number(first))
    if last is not None:
        where.append(t.month <= month_number(last))

    def kept_months(skipped: list[int]) -> Select[*tuple[Any, ...]]:
        """The kept sums of the period's months but `skipped`, by month, currency and set."""
        return (
            select(t.month, t.currency, t.reached, func.sum(t.deals), func.sum(t.cents))
            .where(*where, *([t.month.not_in(skipped)] if skipped else []))
            .group_by(t.month, t.currency, t.reached)
            .having(func.sum(t.deals) > 0)
        )

    owners = visible_owner_ids(ctx.actor)
    # The slices are hours or days of openings: `+ 0` keeps both planners on the created_at
    # index instead of reading every deal of the person's customers.
    scope = (
        scope_filter(ctx)
        if owners is None
        else [(Deal.customer_id + 0).in_(visible_customer_ids(ctx.actor))]
    )

    def direct(lo: datetime, hi: datetime) -> Select[*tuple[Any, ...]]:
        """The deals opened in [lo, hi), a slice inside one UTC month, by currency and set."""
        return (
            select(Deal.currency, DealReach.reached, func.count(), func.sum(Deal.amount))
            .select_from(Deal)
            .join(DealReach, DealReach.deal_id == Deal.id)
            .where(*scope, *in_period(Deal.created_at, lo, hi))
            .group_by(Deal.currency, DealReach.reached)
        )

    months = month_sums(ctx.session, kept_months, direct, start, end)
    groups: dict[str | None, tuple[int, Decimal]] = {}
    others: dict[str, int] = {}
    for sums in months.values():
        for (cur, reached), (n, amount) in sums.items():
            if not n:
                continue
            if cur == currency:
                have_n, have = groups.get(reached, (0, Decimal(0)))
                groups[reached] = (have_n + n, have + amount)
            else:
                others[cur] = others.get(cur, 0) + n
    return [(r, n, amount) for r, (n, amount) in groups.items()], others


def deals_reaching(
    ctx: Ctx,
    stage: Stage,
    *,
    period: Period = ALL_TIME,
    currency: str | None = None,
    limit: int = 20,
) -> tuple[list[Deal], int]:
    """The deals (newest first, at most `limit`) that reached a funnel stage, and how many.

    How many is the funnel's own figure (kept sums); the newest are read in order of opening
    (ix_deals_created_at), each tested on its kept set of stages (`deal_reach`), until `limit`
    are found, instead of ranking every deal's history.
    """
    currency = report_currency(ctx, currency)
    steps = funnel_steps(ctx)
    index = next(i for i, s in enumerate(steps) if s.name == stage.name)
    total = funnel(ctx, period=period, currency=currency).rows[index].reached
    if not total:
        return [], 0
    # A deal reached the step when any stage it has been in ranks at or after it.
    names = sorted(name for name, rank in _ranks(ctx).items() if rank >= index)
    padded = literal("\t") + DealReach.reached + literal("\t")
    # A subquery per deal (OFFSET 0 keeps PostgreSQL from making it a join): the deals are read
    # newest first and the scan stops at `limit`; as a join the planner hashed every kept set
    # and sorted the period's deals.
    reached = (
        select(DealReach.deal_id)
        .where(
            DealReach.deal_id == Deal.id,
            or_(*(padded.contains(f"\t{n}\t", autoescape=True) for n in names)),
        )
        .offset(0)
        .exists()
    )
    owners = visible_owner_ids(ctx.actor)
    one_book = owners is not None and (ctx.actor.role == Role.rep or ctx.actor.team_id is None)
    # A team's: `IS true` keeps PostgreSQL from joining the IN (it hashes the team's customers
    # once and tests each deal, newest first, stopping at `limit`).
    scope = (
        [Deal.customer_id.in_(visible_customer_ids(ctx.actor)).is_(True)]
        if owners is not None and not one_book
        else scope_filter(ctx)
    )
    start, end = period.bounds(ctx.tz)
    found = ctx.session.scalars(
        select(Deal)
        .where(*scope, *in_period(Deal.created_at, start, end), Deal.currency == currency, reached)
        .order_by(Deal.created_at.desc(), Deal.id.desc())
        .limit(limit)
        # The list names each deal's customer: one statement for the 20, not one each.
        .options(selectinload(Deal.customer))
    ).all()
    return list(found), total
