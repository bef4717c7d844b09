"""The forecast: open deals by expected close month, weighted, with forecast categories."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, case, extract, func, literal, or_, select, union_all

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.analytics.periods import Period, add_months, month_start
from crm_core.analytics.quotas import attainment, quota_by_group
from crm_core.analytics.scope import (
    in_period,
    kept_scope,
    money,
    report_currency,
    scope_filter,
    stage_in,
)
from crm_core.analytics.win_rate import counts_own, report_scope
from crm_core.context import Ctx
from crm_core.models import Customer, Deal, DealMonthTotal, Role
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


def _label(day: date, today: date, start: date, end: date | None) -> str:
    """Where an open deal expected to close on `day` goes: overdue, in the period, or out."""
    if day < today and (end is None or day < end):
        return "overdue"
    if day >= start and (end is None or day < end):
        return "in"
    return "out"


def _month_number(day: date) -> int:
    return day.year * 100 + day.month


def _from_number(month: int) -> date:
    return date(month // 100, month % 100, 1)


def _utc_month(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_utc_month(at: datetime) -> datetime:
    return datetime.combine(add_months(at.date(), 1), time(0), tzinfo=UTC)


def _in_utc(ctx: Ctx, column: Any) -> Any:
    """A timestamp column as UTC wall time (PostgreSQL's extract follows the session's zone)."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        return func.timezone("UTC", column)
    return column


def forecast(ctx: Ctx, period: Period, *, currency: str | None = None) -> ForecastReport:
    """Open deals the actor may see expected to close in the period, and the wins in it.

    Whole months come from the sums the triggers keep per owner, stage, category and month
    (`deal_month_totals`, migration 0030); only a month that today or the period's ends cut
    (open deals) or that a local midnight cuts in UTC (wins) is read deal by deal.
    """
    currency = report_currency(ctx, currency)
    today = ctx.now().astimezone(ctx.tz).date()
    stages = {s.name: s for s in ctx.pipeline.stages}
    open_names = [s.name for s in ctx.pipeline.open_stages]
    won_names = [s.name for s in ctx.pipeline.stages if s.won]
    scope = scope_filter(ctx)
    t = DealMonthTotal
    kept = kept_scope(ctx, t.owner_id, t.state)
    # Deals due before today are overdue, listed apart rather than forecast.
    start = max(period.start, today) if period.start else today
    dated = [Deal.expected_close >= start]
    if period.end is not None:
        dated.append(Deal.expected_close < period.end)
    before_end = [Deal.expected_close < period.end] if period.end is not None else []
    # Months a split day falls inside hold deals with different labels: read those deal by deal.
    splits = [today, start] + ([period.end] if period.end is not None else [])
    cut = sorted({month_start(d) for d in splits if d.day != 1})
    rows: dict[str, ForecastRow] = {}
    if period.start and period.end:
        # Every month of a bounded period shows, empty ones too.
        m = month_start(period.start)
        while m < period.end:
            rows[m.strftime("%Y-%m")] = ForecastRow(m.strftime("%Y-%m"))
            m = add_months(m, 1)
    undated = overdue_n = 0
    overdue_total = Decimal(0)
    overdue_months: dict[int, int] = {}
    others: dict[str, int] = {}
    start_at, end_at = period.bounds(ctx.tz)
    # A rep's own book (a few hundred customers' deals) reads its wins fastest in one pass; a
    # team's or the company's from the kept months (UTC) and a few slices.
    owners = visible_owner_ids(ctx.actor)
    one_book = owners is not None and (ctx.actor.role == Role.rep or ctx.actor.team_id is None)
    won_months: tuple[int, int] | None = None
    kept_won: dict[str, tuple[int, Decimal]] | None = None
    if start_at is not None and end_at is not None and not counts_own(ctx):
        first_won = _utc_month(start_at)
        last_won = _utc_month(end_at - timedelta(microseconds=1))
        won_months = (_month_number(first_won.date()), _month_number(last_won.date()))

    def add_open(
        label: str, key: str, stage_name: str, category: str | None, count: int, amount: Decimal
    ) -> None:
        nonlocal undated, overdue_n, overdue_total
        if label == "undated":
            undated += count
            return
        if label == "overdue":
            overdue_n += count
            overdue_total += amount
            return
        if label != "in":
            return
        row = rows.setdefault(key, ForecastRow(key))
        stage = stages[stage_name]
        row.open += count
        row.amount += amount
        row.weighted += amount * stage.probability  # exact: rounded once where shown
        cat = Category(category) if category else band(stage)
        if cat is Category.commit:
            row.commit += amount
        elif cat is Category.best_case:
            row.best_case += amount
        row.pipeline += amount

    if kept is not None:
        wanted = [and_(t.kind == "e", t.stage.in_(open_names))]
        if won_months is not None:
            # The won months in the same statement (one round trip fewer).
            kept_won = {}
            won = and_(
                t.kind == "c",
                t.stage.in_(won_names),
                t.currency == currency,
                t.month.between(*won_months),
            )
            wanted.append(won)
        # Each part its own SELECT (UNION ALL, not OR): the admin's every owner's rows are then
        # read from ix_deal_month_totals_kind alone (migration 0035), not from the table.
        parts = [
            select(
                t.kind,
                t.currency,
                t.month,
                t.stage,
                t.category,
                func.sum(t.deals),
                func.sum(t.cents),
            )
            .where(*kept, part)
            .group_by(t.kind, t.currency, t.month, t.stage, t.category)
            .having(func.sum(t.deals) > 0)
            for part in wanted
        ]
        kept_rows = union_all(*parts) if len(parts) > 1 else parts[0]
        cut_numbers = {_month_number(m) for m in cut}
        rows_read = ctx.session.execute(kept_rows)
        for kind, cur, number, stage_name, category, count, cents in rows_read:
            if kind == "c" and kept_won is not None:
                key = _month(number // 100, number % 100)
                n, total = kept_won.get(key, (0, Decimal(0)))
                kept_won[key] = (n + int(count), total + Decimal(int(cents)).scaleb(-2))
                continue
            if number in cut_numbers:
                continue
            if number == 0:
                label, key = "undated", ""
            else:
                label = _label(_from_number(number), today, start, period.end)
                key = _month(number // 100, number % 100)
            if cur != currency:
                if label == "in":
                    others[cur] = others.get(cur, 0) + int(count)
                continue
            if label == "overdue":
                overdue_months[number] = overdue_months.get(number, 0) + int(count)
            amount = Decimal(int(cents)).scaleb(-2)
            add_open(label, key, stage_name, category or None, int(count), amount)
    if cut:
        # The cut months' open deals, labelled one by one as the kept months are above.
        where = case(
            (and_(Deal.expected_close < today, *before_end), "overdue"),
            (and_(*dated), "in"),
            else_="out",
        )
        year, month = extract("year", Deal.expected_close), extract("month", Deal.expected_close)
        in_cut = or_(
            *(and_(Deal.expected_close >= m, Deal.expected_close < add_months(m, 1)) for m in cut)
        )
        stmt = (
            select(
                Deal.currency,
                where,
                year,
                month,
                Deal.stage,
                Deal.forecast_category,
                func.count(),
                func.sum(Deal.amount),
            )
            .where(*scope, stage_in(ctx, open_names), in_cut)
            .group_by(Deal.currency, where, year, month, Deal.stage, Deal.forecast_category)
        )
        for cur, label, y, mo, stage_name, category, count, total in ctx.session.execute(stmt):
            if cur != currency:
                if label == "in":
                    others[str(cur)] = others.get(str(cur), 0) + int(count)
                continue
            if label == "overdue":
                number = int(y) * 100 + int(mo)
                overdue_months[number] = overdue_months.get(number, 0) + int(count)
            add_open(label, _month(y, mo), stage_name, category, int(count), money(total))
    for key, total in _won(ctx, won_names, currency, start_at, end_at, kept_won):
        rows.setdefault(key, ForecastRow(key)).closed += total
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
        # Only the months that hold the first 20 overdue deals (their counts are known): the
        # scan reads those months' deals, not every deal of the book or of the person's.
        months = sorted(overdue_months)
        last, seen = months[0], 0
        for number in months:
            last, seen = number, seen + overdue_months[number]
            if seen >= 20:
                break
        # A rep's deals from their customers (a few hundred); a team's and the company's in
        # order of expected close through ix_deals_close_order, whose columns answer every
        # condition (`+ 0` keeps the planner off the customer index), until 20 are found.
        owner_scope = (
            scope
            if one_book or owners is None
            # `IS true` keeps PostgreSQL from making the IN a join: it hashes the team's
            # customers once and tests each deal of the index scan against it (as a join it
            # looked every candidate's customer up, or sorted the whole month).
            else [Deal.customer_id.in_(visible_customer_ids(ctx.actor)).is_(True)]
        )

        # The bounds written into the statement: a prepared statement's generic plan (psycopg
        # prepares after 5 runs) did not know how narrow they are and walked a rep's deals
        # through the whole index (88 ms instead of 2).
        def day(value: date) -> Any:
            return literal(value, Date(), literal_execute=True)

        overdue_where = [
            *owner_scope,
            # The plain IN (not stage_in's lower()): estimated right, the planner sees that 20
            # rows come early in the index order and stops there instead of sorting the month.
            (stage_in(ctx, open_names) if one_book else Deal.stage.in_(open_names)),
            Deal.currency == currency,
            Deal.expected_close >= day(_from_number(months[0])),
            Deal.expected_close < day(add_months(_from_number(last), 1)),
            Deal.expected_close < day(today),
            *([Deal.expected_close < day(period.end)] if period.end is not None else []),
        ]
        # The 20 deals first, then their titles and customers' names (a join before the sort
        # looked a name up for every candidate).
        first_20 = (
            select(Deal.id, Deal.expected_close)
            .where(*overdue_where)
            .order_by(Deal.expected_close, Deal.id)
            .limit(20)
            .subquery()
        )
        listed = Deal.__table__.alias("listed")
        overdue = [
            OverdueDeal(r.id, r.title, r.name, r.amount, r.expected_close or today)
            for r in ctx.session.execute(
                select(
                    first_20.c.id,
                    listed.c.title,
                    Customer.name,
                    listed.c.amount,
                    first_20.c.expected_close,
                )
                .join(listed, listed.c.id == first_20.c.id)
                .join(Customer, Customer.id == listed.c.customer_id)
                .order_by(first_20.c.expected_close, first_20.c.id)
            )
        ]
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
        {c: n for c, n in others.items() if n},
        quota_by_group(ctx, None, period, currency).get(None),
    )


def _won(
    ctx: Ctx,
    won_names: list[str],
    currency: str,
    start_at: datetime | None,
    end_at: datetime | None,
    kept_won: dict[str, tuple[int, Decimal]] | None,
) -> list[tuple[str, Decimal]]:
    """Won amounts per UTC month of closing inside [start_at, end_at), months with wins only.

    The wins are the win rate's (`report_scope`): a rep's or a manager's are the deals they or
    their team own, read in one pass over those deals, so the forecast's won + commit and the
    win rate's attainment divide the same wins. An admin's: whole UTC months from the kept
    sums (`kept_won`, read with the open deals' rows); a month a bound cuts from its deals,
    read directly when the part inside is the smaller one, else as the kept month less the
    part outside.
    """
    own = counts_own(ctx)
    scope = report_scope(ctx)
    owners = visible_owner_ids(ctx.actor)
    if start_at is not None and end_at is not None and not own and owners is not None:
        # The slices read below are hours or days of closings: `+ 0` keeps both planners on
        # the closed_at index instead of reading every deal of the person's customers.
        scope = [(Deal.customer_id + 0).in_(visible_customer_ids(ctx.actor))]
    base = [*scope, stage_in(ctx, won_names), Deal.currency == currency]
    if start_at is None or end_at is None or own:
        # Months of closing in UTC whatever the session's zone (extract follows it).
        utc = _in_utc(ctx, Deal.closed_at)
        cy, cm = extract("year", utc), extract("month", utc)
        stmt = (
            select(cy, cm, func.sum(Deal.amount))
            .where(*base, *in_period(Deal.closed_at, start_at, end_at))
            .group_by(cy, cm)
        )
        return [(_month(y, mo), money(total)) for y, mo, total in ctx.session.execute(stmt)]

    def direct(lo: datetime, hi: datetime) -> tuple[int, Decimal]:
        """Wins in [lo, hi), a slice inside one UTC month: one count and sum, no month read."""
        stmt = select(func.count(), func.sum(Deal.amount)).where(
            *base, *in_period(Deal.closed_at, lo, hi)
        )
        n, total = ctx.session.execute(stmt).one()
        return int(n), money(total)

    if kept_won is None:  # nobody in view (an inactive account)
        return []
    first, last = _utc_month(start_at), _utc_month(end_at - timedelta(microseconds=1))
    totals = dict(kept_won)
    for edge in sorted({first, last}):
        after = _next_utc_month(edge)
        lo, hi = max(edge, start_at), min(after, end_at)
        if (lo, hi) == (edge, after):
            continue
        key = _month(edge.year, edge.month)
        if hi - lo <= (after - edge) / 2 or key not in totals:
            n, amount = direct(lo, hi)
        else:
            n, amount = totals[key]
            for out_lo, out_hi in ((edge, lo), (hi, after)):
                if out_lo < out_hi:
                    on, oa = direct(out_lo, out_hi)
                    n, amount = n - on, amount - oa
        part = (n, amount) if n else None
        if part is None:
            totals.pop(key, None)
        else:
            totals[key] = part
    return [(k, amount) for k, (n, amount) in totals.items() if n]
