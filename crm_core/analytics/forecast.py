"""The forecast: open deals by expected close month, weighted, with forecast categories."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, extract, func, select

from crm_core.analytics.periods import Period, add_months, month_start
from crm_core.analytics.quotas import attainment, quota_by_group
from crm_core.analytics.scope import CENT, in_period, money, scope_filter, stage_in
from crm_core.analytics.win_rate import other_currencies
from crm_core.context import Ctx
from crm_core.models import Customer, Deal
from crm_core.stages import Stage

# Probability bands for deals whose category nobody set: at or above -> that category.
COMMIT_FROM = Decimal("0.75")
BEST_CASE_FROM = Decimal("0.5")


class Category(enum.StrEnum):
    """Forecast categories, from least to most certain."""

    pipeline = "pipeline"
    best_case = "best_case"
    commit = "commit"
    closed = "closed"


def band(stage: Stage) -> Category:
    """The category a deal in this stage has when nobody set one."""
    if stage.won:
        return Category.closed
    if stage.probability >= COMMIT_FROM:
        return Category.commit
    if stage.probability >= BEST_CASE_FROM:
        return Category.best_case
    return Category.pipeline


@dataclass
class ForecastRow:
    """One month: open deals expected to close in it, and what was won in it.

    `commit` includes closed, `best_case` includes commit, `pipeline` includes best case.
    """

    month: str
    open: int = 0
    amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)
    closed: Decimal = Decimal(0)
    commit: Decimal = Decimal(0)
    best_case: Decimal = Decimal(0)
    pipeline: Decimal = Decimal(0)

    def add(self, other: ForecastRow) -> None:
        """Add another row's figures to this one."""
        self.open += other.open
        self.amount += other.amount
        self.weighted += other.weighted
        self.closed += other.closed
        self.commit += other.commit
        self.best_case += other.best_case
        self.pipeline += other.pipeline


@dataclass(frozen=True)
class OverdueDeal:
    """An open deal whose expected close has passed."""

    id: int
    title: str
    customer: str
    amount: Decimal | None
    expected_close: date


@dataclass
class ForecastReport:
    """The forecast for a period in one currency; overdue and undated deals kept apart."""

    currency: str
    period: Period
    today: date
    rows: list[ForecastRow]
    total: ForecastRow
    overdue: list[OverdueDeal]
    overdue_count: int
    overdue_amount: Decimal
    undated: int
    other_currencies: dict[str, int] = field(default_factory=dict)
    # Quotas of the people in view inside the period, in the report's currency.
    quota: Decimal | None = None

    @property
    def attainment(self) -> Decimal | None:
        """Won + commit (the commit roll-up) against the quota."""
        return attainment(self.total.commit, self.quota)


def _month(year: Any, month: Any) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def forecast(ctx: Ctx, period: Period, *, currency: str | None = None) -> ForecastReport:
    """Open deals the actor may see expected to close in the period, and the wins in it."""
    currency = (currency or ctx.default_currency).upper()
    today = ctx.now().astimezone(ctx.tz).date()
    stages = {s.name: s for s in ctx.pipeline.stages}
    open_names = [s.name for s in ctx.pipeline.open_stages]
    won_names = [s.name for s in ctx.pipeline.stages if s.won]
    scope = scope_filter(ctx)
    # Deals due before today are overdue, listed apart rather than forecast.
    start = max(period.start, today) if period.start else today
    dated = [Deal.expected_close >= start]
    if period.end is not None:
        dated.append(Deal.expected_close < period.end)
    before_end = [Deal.expected_close < period.end] if period.end is not None else []
    # One pass over the open deals: each is undated, overdue, in the period or outside it.
    where = case(
        (Deal.expected_close.is_(None), "undated"),
        (and_(Deal.expected_close < today, *before_end), "overdue"),
        (and_(*dated), "in"),
        else_="out",
    )
    year, month = extract("year", Deal.expected_close), extract("month", Deal.expected_close)
    stmt = (
        select(
            where,
            year,
            month,
            Deal.stage,
            Deal.forecast_category,
            func.count(),
            func.sum(Deal.amount),
        )
        .where(*scope, stage_in(ctx, open_names), Deal.currency == currency)
        .group_by(where, year, month, Deal.stage, Deal.forecast_category)
    )
    rows: dict[str, ForecastRow] = {}
    if period.start and period.end:
        # Every month of a bounded period shows, empty ones too.
        m = month_start(period.start)
        while m < period.end:
            rows[m.strftime("%Y-%m")] = ForecastRow(m.strftime("%Y-%m"))
            m = add_months(m, 1)
    undated = overdue_n = 0
    overdue_total = Decimal(0)
    for label, y, mo, stage_name, category, count, total in ctx.session.execute(stmt):
        if label == "undated":
            undated += int(count)
            continue
        if label == "overdue":
            overdue_n += int(count)
            overdue_total += money(total)
            continue
        if label != "in":
            continue
        key = _month(y, mo)
        row = rows.setdefault(key, ForecastRow(key))
        stage = stages[stage_name]
        amount = money(total)
        row.open += int(count)
        row.amount += amount
        row.weighted += (amount * stage.probability).quantize(CENT)
        cat = Category(category) if category else band(stage)
        if cat is Category.commit:
            row.commit += amount
        elif cat is Category.best_case:
            row.best_case += amount
        row.pipeline += amount
    start_at, end_at = period.bounds(ctx.tz)
    cy, cm = extract("year", Deal.closed_at), extract("month", Deal.closed_at)
    won = (
        select(cy, cm, func.sum(Deal.amount))
        .where(
            *scope,
            stage_in(ctx, won_names),
            Deal.currency == currency,
            *in_period(Deal.closed_at, start_at, end_at),
        )
        .group_by(cy, cm)
    )
    for y, mo, total in ctx.session.execute(won):
        key = _month(y, mo)
        rows.setdefault(key, ForecastRow(key)).closed += money(total)
    ordered = [rows[k] for k in sorted(rows)]
    for row in ordered:
        # The cumulative roll-up: commit includes closed, best case commit, pipeline best case.
        row.commit += row.closed
        row.best_case += row.commit
        row.pipeline += row.closed
    overall = ForecastRow("total")
    for row in ordered:
        overall.add(row)
    overdue: list[OverdueDeal] = []
    if overdue_n:
        overdue_where = [
            *scope,
            stage_in(ctx, open_names),
            Deal.currency == currency,
            Deal.expected_close < today,
            *before_end,
        ]
        overdue = [
            OverdueDeal(d.id, d.title, name, d.amount, d.expected_close or today)
            for d, name in ctx.session.execute(
                select(Deal, Customer.name)
                .join(Customer, Customer.id == Deal.customer_id)
                .where(*overdue_where)
                .order_by(Deal.expected_close, Deal.id)
                .limit(20)
            )
        ]
    others = other_currencies(ctx, currency, [stage_in(ctx, open_names), *dated])
    return ForecastReport(
        currency,
        period,
        today,
        ordered,
        overall,
        overdue,
        overdue_n,
        overdue_total,
        undated,
        others,
        quota_by_group(ctx, None, period, currency).get(None),
    )
