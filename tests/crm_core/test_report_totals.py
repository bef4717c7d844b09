"""The funnel and forecast from the totals the triggers keep equal the ones computed from the
deals and their history (the computation they replaced, kept here as the reference), for every
role, period and time zone, after any writes on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Engine,
    and_,
    case,
    create_engine,
    delete,
    extract,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from crm_core.analytics.forecast import (
    Category,
    ForecastReport,
    ForecastRow,
    OverdueDeal,
    _month,
    band,
    forecast,
)
from crm_core.analytics.funnel import (
    FunnelReport,
    FunnelRow,
    _ranks,
    deals_reaching,
    funnel,
    funnel_steps,
)
from crm_core.analytics.periods import ALL_TIME, Period, add_months, month_start, quarter
from crm_core.analytics.quotas import quota_by_group
from crm_core.analytics.scope import (
    Dim,
    Namer,
    group_columns,
    in_period,
    money,
    scope_filter,
    stage_in,
    with_joins,
)
from crm_core.analytics.win_rate import (
    KEPT_DIMS,
    WinRateReport,
    WinRateRow,
    closed_in,
    local_group,
    other_currencies,
    report_scope,
    utc_calendar,
    win_rate,
)
from crm_core.context import Ctx
from crm_core.db import make_engine, unit_of_work
from crm_core.models import (
    Customer,
    Deal,
    DealCloseTotal,
    DealReach,
    FunnelMonthTotal,
    StageChange,
    User,
)
from crm_core.services.customers import create_customer
from crm_core.services.deals import create_deal, move_deal
from crm_core.services.reassign import reassign_customer
from crm_core.stages import DEFAULT_STAGES, Pipeline, Stage
from tests.conftest import START, FakeClock, TestBot
from tests.crm_core.test_pipeline_totals_locks import in_thread, overlapping, seed
from tests.random_writes import RandomWrites, ids, import_records, imported_book


def _greater(a: Any, b: Any) -> Any:
    """SQL for the greater of two values."""
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


def deals_reaching_from_history(
    ctx: Ctx, stage: Stage, *, period: Period = ALL_TIME, currency: str | None = None
) -> tuple[list[Deal], int]:
    """The 20 newest deals that reached a funnel stage and how many, ranking each history."""
    currency = (currency or ctx.default_currency).upper()
    index = next(i for i, s in enumerate(funnel_steps(ctx)) if s.name == stage.name)
    start, end = period.bounds(ctx.tz)
    conditions = [
        *scope_filter(ctx),
        *in_period(Deal.created_at, start, end),
        Deal.currency == currency,
        furthest_step(ctx) >= index,
    ]
    total = int(ctx.session.scalar(select(func.count()).select_from(Deal).where(*conditions)) or 0)
    found = ctx.session.scalars(
        select(Deal).where(*conditions).order_by(Deal.created_at.desc(), Deal.id.desc()).limit(20)
    ).all()
    return list(found), total


def win_rate_from_deals(ctx: Ctx, period: Period, currency: str) -> WinRateReport:
    """The ungrouped win rate in one pass over the closed deals (the computation 0031's
    reading of the kept closing months replaced)."""
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    stmt = (
        select(Deal.currency, Deal.stage, func.count(), func.sum(Deal.amount))
        .where(*report_scope(ctx), *closed_in(ctx, period))
        .group_by(Deal.currency, Deal.stage)
    )
    won = lost = 0
    value = Decimal(0)
    others: dict[str, int] = {}
    for cur, stage, n, total in ctx.session.execute(stmt):
        if cur != currency:
            others[cur] = others.get(cur, 0) + int(n)
        elif stage in won_names:
            won += int(n)
            value += money(total)
        else:
            lost += int(n)
    quotas = quota_by_group(ctx, None, period, currency)
    quota = (sum(quotas.values(), Decimal(0)) or None) if quotas else None
    return WinRateReport(
        currency, period, None, [], WinRateRow(None, won, lost, value, quota), others
    )


def grouped_win_rate_from_deals(ctx: Ctx, dim: Dim, period: Period, currency: str) -> WinRateReport:
    """A grouped win rate in one pass over the closed deals, joined to what the dimension
    names (the computation 0033's reading of the kept closing months by deal owner replaced)."""
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    keys = group_columns(dim, Deal.closed_at)
    conditions = closed_in(ctx, period)
    stmt = with_joins(
        select(*keys, Deal.stage, func.count(), func.sum(Deal.amount)).select_from(Deal), dim
    )
    stmt = stmt.where(*report_scope(ctx), *conditions, Deal.currency == currency).group_by(
        *keys, Deal.stage
    )
    namer = Namer(ctx.session, dim)
    acc: dict[Any, list[Any]] = {}
    rows_read: list[Any] = list(ctx.session.execute(stmt))
    width, key_of = namer.width, namer.key
    if dim in (Dim.month, Dim.quarter) and not utc_calendar(ctx):
        # Months and quarters on the viewer's calendar, as the period: each closing's own.
        closings = select(Deal.closed_at, Deal.stage, literal(1), Deal.amount).where(
            *report_scope(ctx), *conditions, Deal.currency == currency
        )
        rows_read = [
            (local_group(dim, at, ctx), stage, n, amount)
            for at, stage, n, amount in ctx.session.execute(closings)
        ]
        width, key_of = 1, lambda row: row[0]  # the group's name is its key
    for row in rows_read:
        stage, count, total = row[width:]
        slot = acc.setdefault(key_of(row), [0, 0, Decimal(0)])
        if stage in won_names:
            slot[0] += int(count)
            slot[2] += money(total)
        else:
            slot[1] += int(count)
    quotas = quota_by_group(ctx, dim, period, currency)
    for key in quotas:
        acc.setdefault(key, [0, 0, Decimal(0)])
    namer.load(acc)
    rows = [WinRateRow(namer.name(k), w, lost, v, quotas.get(k)) for k, (w, lost, v) in acc.items()]
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
    others = other_currencies(ctx, currency, conditions, report_scope(ctx))
    return WinRateReport(currency, period, dim, rows, total, others)


def funnel_from_deals(
    ctx: Ctx, *, period: Period = ALL_TIME, currency: str | None = None
) -> FunnelReport:
    """The funnel of the deals the actor may see, opened in the period."""
    currency = (currency or ctx.default_currency).upper()
    steps = funnel_steps(ctx)
    start, end = period.bounds(ctx.tz)
    conditions = in_period(Deal.created_at, start, end)
    order = _ranks(ctx)

    def rank(column: Any) -> Any:
        return case(order, value=column, else_=-1)

    # One pass over the deals joined to their history (a correlated lookup per deal costs 3x).
    furthest = _greater(
        rank(Deal.stage),
        _greater(
            func.coalesce(func.max(rank(StageChange.to_stage)), -1),
            func.coalesce(func.max(rank(StageChange.from_stage)), -1),
        ),
    ).label("furthest")
    per_deal = (
        select(Deal.id, Deal.amount, furthest)
        .select_from(Deal)
        .outerjoin(StageChange, StageChange.deal_id == Deal.id)
        .where(*scope_filter(ctx), *conditions, Deal.currency == currency)
        .group_by(Deal.id, Deal.amount, Deal.stage)
        .subquery()
    )
    stmt = select(per_deal.c.furthest, func.count(), func.sum(per_deal.c.amount)).group_by(
        per_deal.c.furthest
    )
    count_at = [0] * len(steps)
    value_at = [Decimal(0)] * len(steps)
    deals = 0
    for step, count, total in ctx.session.execute(stmt):
        deals += int(count)
        if step is None or int(step) < 0:
            continue
        count_at[int(step)] += int(count)
        value_at[int(step)] += money(total)
    # Reaching a step means reaching it or any later one.
    reached = [sum(count_at[i:]) for i in range(len(steps))]
    reached_value = [sum(value_at[i:], Decimal(0)) for i in range(len(steps))]
    rows = []
    for i, stage in enumerate(steps):
        last = i == len(steps) - 1
        rows.append(
            FunnelRow(
                stage,
                reached[i],
                reached_value[i],
                None if last else reached[i + 1],
                None if last else reached_value[i + 1],
            )
        )
    return FunnelReport(currency, period, rows, deals, other_currencies(ctx, currency, conditions))


def forecast_from_deals(ctx: Ctx, period: Period, *, currency: str | None = None) -> ForecastReport:
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
        row.weighted += amount * stage.probability
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
            # The wins the win rate counts: a rep's or manager's by deal owner.
            *report_scope(ctx),
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


ZONES = ["UTC", "Asia/Kolkata", "America/Los_Angeles", "Asia/Shanghai"]


def periods(today: date) -> list[Period]:
    """Whole quarters and months, days that cut months, open ends, and all time."""
    this_q = quarter(today.year, (today.month - 1) // 3 + 1)
    assert this_q.start is not None
    return [
        ALL_TIME,
        this_q,
        Period(add_months(this_q.start, 3), add_months(this_q.start, 6), "next"),
        Period(today - timedelta(days=40), today + timedelta(days=75), "from to"),
        Period(today + timedelta(days=3), today + timedelta(days=33), "ahead"),
        Period(today - timedelta(days=100), None, "since"),
        Period(None, today + timedelta(days=50), "until"),
    ]


def assert_reports_equal(bot: TestBot, clock: FakeClock) -> int:
    """Every person's funnel and forecast, in several zones and periods, equal the reference."""
    compared = 0
    with bot.session_factory() as session:
        for handle, uid in bot.users.items():
            actor = session.get(User, uid)
            assert actor is not None
            # Each person in two zones (one of them a half-hour offset for someone).
            at = list(bot.users).index(handle)
            for zone in (ZONES[at % len(ZONES)], ZONES[(at + 2) % len(ZONES)]):
                actor.timezone = zone
                ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES), clock=clock)
                today = ctx.now().astimezone(ctx.tz).date()
                for period in periods(today):
                    for cur in ("USD", "EUR") if period.label in ("all", "from to") else ("USD",):
                        fast = funnel(ctx, period=period, currency=cur)
                        slow = funnel_from_deals(ctx, period=period, currency=cur)
                        assert (handle, zone, period, fast) == (handle, zone, period, slow)
                        if period.label in ("all", "from to", "since"):
                            # `report funnel <stage>`: the newest 20 and the count (0031).
                            for step in funnel_steps(ctx):
                                got_deals, got_n = deals_reaching(
                                    ctx, step, period=period, currency=cur
                                )
                                want_deals, want_n = deals_reaching_from_history(
                                    ctx, step, period=period, currency=cur
                                )
                                assert (handle, step.name, period, got_n) == (
                                    handle,
                                    step.name,
                                    period,
                                    want_n,
                                )
                                assert [d.id for d in got_deals] == [d.id for d in want_deals]
                        rate = win_rate(ctx, period=period, currency=cur)
                        want_rate = win_rate_from_deals(ctx, period, cur)
                        assert (handle, zone, period, rate) == (handle, zone, period, want_rate)
                        compared += rate.total.won + rate.total.lost
                        # Grouped by deal owner, team, manager, region, month, quarter (0033).
                        for dim in sorted(KEPT_DIMS):
                            got_rate = win_rate(ctx, dim=dim, period=period, currency=cur)
                            want_grouped = grouped_win_rate_from_deals(ctx, dim, period, cur)
                            assert (handle, zone, period, dim, got_rate) == (
                                handle,
                                zone,
                                period,
                                dim,
                                want_grouped,
                            )
                            compared += len(got_rate.rows)
                        if period is ALL_TIME:
                            continue
                        got = forecast(ctx, period, currency=cur)
                        want = forecast_from_deals(ctx, period, currency=cur)
                        assert (handle, zone, period, got) == (handle, zone, period, want)
                        compared += fast.deals + got.total.open + got.overdue_count
            session.rollback()
    # Each deal's kept set is the one its stage and history give.
    reach = dict(bot.rows(select(DealReach.deal_id, DealReach.reached)))
    for deal_id, stage in bot.rows(select(Deal.id, Deal.stage)):
        seen = {stage}
        for a, b in bot.rows(
            select(StageChange.from_stage, StageChange.to_stage).where(
                StageChange.deal_id == deal_id
            )
        ):
            seen |= {a, b} - {None}
        assert set(str(reach[deal_id]).split("\t")) == seen
    assert set(reach) == set(ids(bot, Deal))
    # Each month row (0031) holds the deals opened in it: a wrong row the reports happen not to
    # read (a month no period here ends in) still fails.
    want: dict[tuple[Any, ...], tuple[int, int]] = {}
    opened = (
        select(
            Customer.owner_id,
            Customer.archived_at,
            Customer.merged_into,
            Deal.currency,
            Deal.created_at,
            Deal.amount,
            DealReach.reached,
        )
        .join(Deal, Deal.customer_id == Customer.id)
        .join(DealReach, DealReach.deal_id == Deal.id)
    )
    for owner, archived, merged, cur, created, amount, kept_set in bot.rows(opened):
        state = 2 if archived is not None else 1 if merged is not None else 0
        at = created.astimezone(UTC)
        key = (owner, state, cur, at.year * 100 + at.month, kept_set)
        n, cents = want.get(key, (0, 0))
        want[key] = (n + 1, cents + int((amount or 0) * 100))
    t = FunnelMonthTotal
    kept = bot.rows(select(t.owner_id, t.state, t.currency, t.month, t.reached, t.deals, t.cents))
    assert {tuple(r[:5]): (r[5], r[6]) for r in kept if r[5] or r[6]} == want
    assert_close_rows_equal(bot)
    return compared


def assert_close_rows_equal(bot: TestBot) -> None:
    """Each kept closing row (0033) holds its deals' count and cents: a wrong row no report
    here reads (an owner or month none of the periods asks for) still fails."""
    want: dict[tuple[Any, ...], tuple[int, int]] = {}
    deals = select(
        Customer.owner_id,
        Customer.archived_at,
        Customer.merged_into,
        Deal.closed_at,
        Deal.owner_id,
        Deal.currency,
        Deal.stage,
        Deal.amount,
    ).join(Deal, Deal.customer_id == Customer.id)
    for owner, archived, merged, closed, deal_owner, cur, stage, amount in bot.rows(deals):
        state = 2 if archived is not None else 1 if merged is not None else 0
        at = closed.astimezone(UTC) if closed is not None else None
        month = at.year * 100 + at.month if at is not None else 0
        key = (owner, state, month, deal_owner, cur, stage)
        n, cents = want.get(key, (0, 0))
        want[key] = (n + 1, cents + int((amount or 0) * 100))
    c = DealCloseTotal
    kept = bot.rows(
        select(c.owner_id, c.state, c.month, c.deal_owner_id, c.currency, c.stage, c.deals, c.cents)
    )
    assert {tuple(r[:6]): (r[6], r[7]) for r in kept if r[6] or r[7]} == want


def test_totals_follow_every_write_path(testbot: TestBot, clock: FakeClock) -> None:
    """Random creates, moves, edits, categories, undos, reassigns, merges, archives, deletes."""
    w = RandomWrites(testbot, random.Random(30), clock=clock, wins=2)
    w.seed()
    ops: list[Callable[[], None]] = [w.new_deal] * 6 + [w.move] * 5 + [w.edit] * 3
    ops += [w.category] * 2 + [w.undo_edit] * 2 + [w.reassign] * 2
    ops += [w.merge, w.archive, w.unarchive] + [w.delete_deal] * 2 + [w.new_customer]
    ops += [w.later, w.later]
    w.run(ops, 110, every=40, check=lambda: assert_reports_equal(testbot, clock))
    every = {"new", "move", "edit", "forecast", "undo", "reassign", "merge", "archive", "delete"}
    assert every <= set(w.done), w.done
    assert assert_reports_equal(testbot, clock) > 50, "the run left deals to compare"


def test_totals_follow_imports_history_edits_and_bulk_updates(
    testbot: TestBot, clock: FakeClock
) -> None:
    """The importer's deals and history, UPDATEs and DELETEs no service wrote, a rollback."""
    stages = ["lead", "proposal", "won", "lost", "negotiation"]
    records = imported_book(14, lambda n: stages[n % 5], second_owner="alice")
    for n, deal in enumerate(r for r in records if r["type"] == "deal"):
        deal["expected_close"] = (date(2026, 10, 1) + timedelta(days=11 * n)).isoformat()
    for n in range(0, 14, 2):
        records.append(
            {
                "type": "stage_change",
                "external_id": f"s{n}",
                "deal": f"d{n}",
                "from_stage": "negotiation" if n % 4 else "qualified",
                "to_stage": ["lead", "proposal", "won", "lost", "negotiation"][n % 5],
                "changed_at": "2026-09-01T10:00:00Z",
            }
        )

    import_records(testbot, records)
    assert_reports_equal(testbot, clock)
    for r in records:
        if r["type"] == "deal":
            r["amount"] = "5"
            r["customer"] = "c1"
        if r["external_id"] == "c2":
            r["archived_at"] = "2026-11-01T00:00:00Z"
    import_records(testbot, records)
    assert_reports_equal(testbot, clock)
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(Customer).values(owner_id=testbot.users["dave"]))
        session.execute(update(Deal).where(Deal.id % 2 == 0).values(currency="EUR"))
        session.execute(update(Customer).where(Customer.id % 2 == 0).values(archived_at=None))
        first = session.scalar(select(func.min(StageChange.id)))
        session.execute(update(StageChange).where(StageChange.id == first).values(to_stage="won"))
        session.execute(
            update(Deal)
            .where(Deal.stage == "won")
            .values(closed_at=clock.now - timedelta(days=70), forecast_category="commit")
        )
        last = session.scalar(select(func.max(StageChange.id)))
        session.execute(delete(StageChange).where(StageChange.id == last))
        # Deals opened in another month (the funnel's month rows key on it, 0031).
        session.execute(
            update(Deal)
            .where(Deal.id % 3 == 0)
            .values(created_at=clock.now - timedelta(days=95, hours=5))
        )
    assert_reports_equal(testbot, clock)
    with unit_of_work(testbot.session_factory) as session:
        gone = session.scalar(select(func.min(Deal.id)))
        session.execute(delete(StageChange).where(StageChange.deal_id == gone))
        session.execute(delete(Deal).where(Deal.id == gone))
    assert_reports_equal(testbot, clock)
    # A rolled-back write leaves the totals as they were.
    with testbot.session_factory() as session:
        admin = session.get(User, testbot.users["admin"])
        assert admin is not None
        before = funnel(Ctx(session, admin, clock=clock))
    with testbot.session_factory() as session:
        session.execute(update(Deal).values(stage="won"))
        session.rollback()
    with testbot.session_factory() as session:
        admin = session.get(User, testbot.users["admin"])
        assert admin is not None
        assert funnel(Ctx(session, admin, clock=clock)) == before


@pytest.mark.parametrize("move_first", [True, False])
@pytest.mark.parametrize("how", ["move", "history"])
def test_a_move_while_its_customer_is_reassigned_is_counted_once(
    testbot: TestBot, engine: Engine, clock: FakeClock, move_first: bool, how: str
) -> None:
    """PostgreSQL, two transactions: a deal moves (the service: a history row and a stage
    change) while its customer is reassigned with its deals (the service); or a bare history
    row is written (as an import of history does) while the customer's owner changes in a bulk
    UPDATE (as a restore or an undo writes). In either order both finish and the totals stay
    exact."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    customers, deals = seed(testbot)

    def move(session: Session) -> None:
        # The admin: after the reassign, alice no longer sees the deal.
        admin, deal = session.get(User, testbot.users["admin"]), session.get(Deal, deals[0])
        assert admin is not None and deal is not None
        if how == "move":
            move_deal(Ctx(session, admin, clock=clock), deal, "proposal")
        else:
            session.add(StageChange(deal_id=deal.id, from_stage="proposal", to_stage="lead"))
        session.flush()

    def reassign(session: Session) -> None:
        admin = session.get(User, testbot.users["admin"])
        customer, carol = (
            session.get(Customer, customers[0]),
            session.get(User, testbot.users["carol"]),
        )
        assert admin is not None and customer is not None and carol is not None
        if how == "move":
            reassign_customer(Ctx(session, admin, clock=clock), customer, carol, with_deals=True)
        else:
            owner = update(Customer).where(Customer.id == customer.id)
            session.execute(owner.values(owner_id=carol.id))
        session.flush()

    first, second = (move, reassign) if move_first else (reassign, move)
    assert overlapping(testbot.session_factory, engine, first, second) == []
    stage = "proposal" if how == "move" else "lead"
    assert testbot.query(select(Deal.stage).where(Deal.id == deals[0])) == [stage]
    assert assert_reports_equal(testbot, clock) > 0
    with testbot.session_factory() as session:
        carol = session.get(User, testbot.users["carol"])
        assert carol is not None
        rows = funnel(Ctx(session, carol, clock=clock)).rows
        assert [r.reached for r in rows[:3]] == [1, 1, 1]


def test_writes_on_separate_books_do_not_block_each_other(testbot: TestBot, engine: Engine) -> None:
    """PostgreSQL: two reps' transactions each change a `lead` and a `proposal` deal of their
    own customer, in opposite orders, at once. No row is shared between the books (there are no
    company-wide rows), so neither waits and neither deadlocks."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    deals: dict[str, dict[str, int]] = {}
    with unit_of_work(testbot.session_factory) as session:
        for who in ("alice", "dave"):
            rep = session.get(User, testbot.users[who])
            assert rep is not None
            ctx = Ctx(session, rep)
            customer = create_customer(ctx, f"{who.title()} Holdings")
            made = {
                stage: create_deal(ctx, customer, stage, amount=Decimal(100), stage=stage)
                for stage in ("lead", "proposal")
            }
            session.flush()
            deals[who] = {stage: deal.id for stage, deal in made.items()}
    errors: list[str] = []
    reprice = text("UPDATE deals SET amount = amount + 1 WHERE id = :id")
    # A regression waits on the other's rows: fail in seconds rather than hang.
    limits = text("SET LOCAL lock_timeout = '3s'; SET LOCAL statement_timeout = '5s'")
    with engine.connect() as a, engine.connect() as b:
        a.execute(limits)
        b.execute(limits)
        a.execute(reprice, {"id": deals["alice"]["lead"]})
        b.execute(reprice, {"id": deals["dave"]["proposal"]})
        worker = in_thread(errors, lambda: a.execute(reprice, {"id": deals["alice"]["proposal"]}))
        try:
            b.execute(reprice, {"id": deals["dave"]["lead"]})
            b.commit()
        except Exception as exc:  # the assertion shows which
            errors.append(type(exc).__name__ + ": " + str(exc).splitlines()[0])
        worker.join(timeout=30)
        assert not worker.is_alive()
        if not errors:
            a.commit()
    assert errors == []
    assert testbot.query(select(Deal.amount).order_by(Deal.id)) == [Decimal(101)] * 4
    assert assert_reports_equal(testbot, clock=FakeClock(START)) > 0


def test_won_months_do_not_follow_the_servers_time_zone(testbot: TestBot, engine: Engine) -> None:
    """PostgreSQL with sessions in New York: a Los Angeles manager's Q4 forecast counts an
    October win only if it closed inside the quarter in their zone, as the deals themselves say
    (a win at 02:00 UTC on October 1st is still September in Los Angeles)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the session time zone is PostgreSQL's")
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        assert alice is not None
        ctx = Ctx(session, alice)
        customer = create_customer(ctx, "Acme Logistics")
        for amount, at in (
            (100, datetime(2026, 10, 1, 2, tzinfo=UTC)),
            (200, datetime(2026, 10, 15, 12, tzinfo=UTC)),
            (300, datetime(2026, 10, 20, 12, tzinfo=UTC)),
        ):
            deal = create_deal(ctx, customer, "Renewal", amount=Decimal(amount))
            session.flush()
            won = update(Deal).where(Deal.id == deal.id)
            session.execute(won.values(stage="won", closed_at=at))
        session.execute(
            update(User)
            .where(User.id == testbot.users["bob"])
            .values(timezone="America/Los_Angeles")
        )
    new_york = create_engine(engine.url, connect_args={"options": "-c timezone=America/New_York"})
    try:
        with sessionmaker(new_york)() as session:
            assert session.execute(text("SHOW timezone")).scalar_one() == "America/New_York"
            bob = session.get(User, testbot.users["bob"])
            assert bob is not None
            ctx = Ctx(session, bob, clock=FakeClock(START))
            closed = {r.month: r.closed for r in forecast(ctx, quarter(2026, 4)).rows}
            assert closed["2026-10"] == Decimal("500.00")
            assert forecast(ctx, quarter(2026, 4)) == forecast_from_deals(ctx, quarter(2026, 4))
    finally:
        new_york.dispose()


def test_make_engine_pins_postgresql_sessions_to_utc(engine: Engine) -> None:
    """Sessions of make_engine's PostgreSQL engines are in UTC even when the URL's options name
    another zone; its other options are kept."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the session time zone is PostgreSQL's")
    url = engine.url.update_query_dict(
        {"options": "-c timezone=America/New_York -c lock_timeout=7s"}
    )
    pinned = make_engine(url.render_as_string(hide_password=False))
    try:
        with pinned.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar_one() == "UTC"
            assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "7s"
    finally:
        pinned.dispose()


def test_make_engine_plans_each_execution_with_its_parameters(engine: Engine) -> None:
    """make_engine's PostgreSQL sessions never use a prepared statement's generic plan (the
    reports' ranges made them slow), unless the URL's options say otherwise."""
    if engine.dialect.name != "postgresql":
        pytest.skip("plan_cache_mode is PostgreSQL's")
    url = engine.url.render_as_string(hide_password=False)
    default = make_engine(url)
    chosen = make_engine(
        engine.url.update_query_dict({"options": "-c plan_cache_mode=auto"}).render_as_string(
            hide_password=False
        )
    )
    try:
        with default.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
            assert conn.execute(text("SHOW timezone")).scalar_one() == "UTC"
        with chosen.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"
            assert conn.execute(text("SHOW timezone")).scalar_one() == "UTC"
    finally:
        default.dispose()
        chosen.dispose()


def test_a_managers_overdue_list_is_the_teams_oldest_open_deals(
    testbot: TestBot, clock: FakeClock
) -> None:
    """The overdue list of a manager (read in expected-close order through the index, 0031)
    holds their team's customers' open deals only, oldest first, at most 20: another team's
    deal of the same day (made first), a won one and a deal whose customer moved to another
    team are left out."""
    today = clock.now.date()
    with unit_of_work(testbot.session_factory) as session:
        people = {h: session.get(User, testbot.users[h]) for h in ("alice", "dave", "admin")}
        alice, dave, admin = people["alice"], people["dave"], people["admin"]
        assert alice is not None and dave is not None and admin is not None
        west = create_customer(Ctx(session, dave, clock=clock), "Westward Mills")
        east = create_customer(Ctx(session, alice, clock=clock), "Eastern Tiles")
        moved = create_customer(Ctx(session, alice, clock=clock), "Drifting Goods")
        ctx = Ctx(session, admin, clock=clock)
        create_deal(
            ctx,
            west,
            "West same day",
            amount=Decimal(5),
            stage="proposal",
            expected_close=today - timedelta(days=14),
        )
        won = create_deal(
            ctx,
            east,
            "East won",
            amount=Decimal(5),
            stage="proposal",
            expected_close=today - timedelta(days=14),
        )
        move_deal(ctx, won, "won")
        # Its deal stays alice's, but the customer (whose owner decides the book) is dave's now.
        create_deal(
            ctx,
            moved,
            "Moved",
            amount=Decimal(5),
            stage="lead",
            expected_close=today - timedelta(days=13),
            owner=alice,
        )
        for n in range(24):
            # Two deals a day for alice's customer, each day older than the one before.
            create_deal(
                ctx,
                east,
                f"East {n}",
                amount=Decimal(n + 1),
                stage="proposal",
                expected_close=today - timedelta(days=3 + n // 2),
            )
        session.flush()
        reassign_customer(ctx, moved, dave, with_deals=False)
    with testbot.session_factory() as session:
        bob = session.get(User, testbot.users["bob"])
        assert bob is not None
        report = forecast(
            Ctx(session, bob, clock=clock), quarter(today.year, (today.month - 1) // 3 + 1)
        )
    titles = [d.title for d in report.overdue]
    # Oldest first; the two of a day in the order they were made.
    assert titles == [f"East {n + k}" for n in range(22, 3, -2) for k in (0, 1)]
    assert report.overdue_count == 24
    assert [d.customer for d in report.overdue] == ["Eastern Tiles"] * 20


def test_a_closing_in_another_currency_outside_a_cut_month_is_not_reported(
    testbot: TestBot, clock: FakeClock
) -> None:
    """Shanghai's March: a EUR win at 04:00 on April 1st (UTC March 31st, 20:00) is outside.
    The kept month less its hours outside leaves no EUR, grouped or not (keyed apart, the kept
    month and the subtracted hours did not cancel: 'Not added in: 0 EUR')."""
    clock.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    testbot("admin", "new customer Acme")
    assert testbot("admin", "new deal Acme: Pilot 300").status == "ok"
    assert testbot("admin", "move #1 to won").status == "ok"
    clock.now = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert testbot("admin", "new deal Acme: Euro 100").status == "ok"
    assert testbot("admin", "move #2 to won").status == "ok"
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(Deal).where(Deal.title == "Euro").values(currency="EUR"))
        admin = update(User).where(User.id == testbot.users["admin"])
        session.execute(admin.values(timezone="Asia/Shanghai"))
    march = Period(date(2026, 3, 1), date(2026, 4, 1), "2026-03")
    with testbot.session_factory() as session:
        user = session.get(User, testbot.users["admin"])
        assert user is not None
        ctx = Ctx(session, user, clock=clock)
        for dim in (None, Dim.rep, Dim.team, Dim.month):
            report = win_rate(ctx, dim=dim, period=march)
            assert report.other_currencies == {}, dim
            assert (report.total.won, report.total.won_value) == (1, Decimal(300)), dim
        # April holds the EUR win, counted but not added in.
        april = Period(date(2026, 4, 1), date(2026, 5, 1), "2026-04")
        for dim in (None, Dim.rep, Dim.month):
            assert win_rate(ctx, dim=dim, period=april).other_currencies == {"EUR": 1}, dim
    clock.now = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
    for verb in ("report win rate last month", "report win rate by rep last month"):
        assert "EUR" not in (testbot("admin", verb).text or ""), verb
