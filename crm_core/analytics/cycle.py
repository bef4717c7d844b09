"""Sales cycle: days from opening to close for won and lost deals, and time in each stage."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    any_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.analytics.kept_months import Slice, cut_months
from crm_core.analytics.periods import ALL_TIME, Period, month_number, utc_month
from crm_core.analytics.scope import (
    Dim,
    Namer,
    days_between,
    group_columns,
    in_period,
    kept_scope,
    report_currency,
    scope_filter,
    with_joins,
)
from crm_core.analytics.win_rate import (
    closed_in,
    local_group,
    other_currencies,
    slice_scope,
    utc_calendar,
)
from crm_core.context import Ctx
from crm_core.models import CycleDayTotal, CycleTotal, Deal, DealCloseTotal, Role, StageChange
from crm_core.stages import Stage

TENTH = Decimal("0.1")
# Sums of days differ in their last float digits by the path that made them (PostgreSQL's
# exact kept sum, a float mean of the deals): cut that noise before rounding to a tenth,
# half up, so a mean that is exactly 0.85 reads 0.9 whichever path summed it.
_NOISE = Decimal("0.000001")
# Times are summed as days since this moment (small numbers keep float sums exact enough).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def tenth(days: float | Decimal) -> Decimal:
    """Days to one place: the same figure from a kept sum and from the deals one by one."""
    return Decimal(str(days)).quantize(_NOISE).quantize(TENTH, rounding=ROUND_HALF_UP)


def _days(values: list[float], how: str) -> Decimal | None:
    if not values:
        return None
    result = statistics.fmean(values) if how == "mean" else statistics.median(values)
    return tenth(result)


@dataclass(frozen=True)
class CycleRow:
    """One group's closed deals: how long they took."""

    group: str | None
    won: int
    lost: int
    won_days_mean: Decimal | None
    won_days_median: Decimal | None
    lost_days_mean: Decimal | None
    lost_days_median: Decimal | None


@dataclass(frozen=True)
class StageTime:
    """How long deals stayed in a stage before moving on (mean days over the moves out)."""

    stage: Stage
    moves: int
    mean_days: Decimal | None


@dataclass
class CycleReport:
    """Cycle times of deals closed in a period, in one currency."""

    currency: str
    period: Period
    dim: Dim | None
    rows: list[CycleRow]
    total: CycleRow
    stages: list[StageTime]
    other_currencies: dict[str, int] = field(default_factory=dict)


def _row(group: str | None, won: list[float], lost: list[float]) -> CycleRow:
    return CycleRow(
        group,
        len(won),
        len(lost),
        _days(won, "mean"),
        _days(won, "median"),
        _days(lost, "mean"),
        _days(lost, "median"),
    )


def cycle(
    ctx: Ctx, *, dim: Dim | None = None, period: Period = ALL_TIME, currency: str | None = None
) -> CycleReport:
    """Days from opening to close of the deals the actor may see, closed in the period.

    Counts, means and stage times come from the sums the triggers keep (`cycle_totals`,
    migration 0035), the medians from the deals ordered by their days (`ix_deals_cycle`) at
    the offsets those counts give, all in one statement. By rep, each deal owner's counts and
    days are kept too (`deal_close_totals`, migration 0037) and their medians read per owner
    from `ix_deals_cycle_owner`, in the same statement (a rep's own book: deal by deal). By
    month or quarter, closings group on the viewer's calendar, as the period and the win rate
    do: kept UTC months for a viewer on UTC's (by month, no bound cutting a month), else the
    closed deals grouped by PostgreSQL in the viewer's zone (`_local_groups`). Rows by any
    other dimension are still read deal by deal (a median per group); their stage times and
    other currencies are kept sums.
    """
    currency = report_currency(ctx, currency)
    # A rep's own book (a few hundred deals) reads its rows by rep deal by deal, as before
    # (10 ms wall at 100,000 customers): through the kept rows its statement's generic plan,
    # once the driver had prepared it, took 20 ms (60-100 ms wall under load).
    owners = visible_owner_ids(ctx.actor)
    own_book = owners is not None and (ctx.actor.role == Role.rep or ctx.actor.team_id is None)
    by_rep = dim is Dim.rep and not own_book
    # Months and quarters are the viewer's, as the period's days and the win rate's months are.
    # A viewer on UTC's calendar reads whole kept UTC months (0039) when no bound cuts one.
    start, end = period.bounds(ctx.tz)
    whole = not cut_months(start, end)[1] if start is not None or end is not None else True
    by_month = dim is Dim.month and not own_book and utc_calendar(ctx) and whole
    local = dim in (Dim.month, Dim.quarter) and not by_month
    medians = dim is None or by_rep or by_month
    kept = _kept(ctx, period, currency, medians=medians, by_rep=by_rep, by_month=by_month)
    # An admin's book (every closed deal) grouped by PostgreSQL sorted 124,000 days twice
    # (0.5 s at 100,000 customers): Python's reading stays (0.16 s); not yet kept.
    if local and owners is not None and ctx.session.get_bind().dialect.name == "postgresql":
        # Grouped on the viewer's calendar by PostgreSQL (its zone rules), total included.
        rows, total = _local_groups(ctx, dim, period, currency)  # type: ignore[arg-type]
        return CycleReport(currency, period, dim, rows, total, kept.stage_times(ctx), kept.others)
    if by_rep or by_month:
        rows = kept.rep_rows(Namer(ctx.session, dim)) if by_rep else kept.month_rows()
        return CycleReport(
            currency, period, dim, rows, kept.total(), kept.stage_times(ctx), kept.others
        )
    if dim is not None:
        report = cycle_from_deals(ctx, dim=dim, period=period, currency=currency, stages=False)
        report.stages = kept.stage_times(ctx)
        report.other_currencies = kept.others
        return report
    return CycleReport(currency, period, None, [], kept.total(), kept.stage_times(ctx), kept.others)


def cycle_from_deals(
    ctx: Ctx,
    *,
    dim: Dim | None = None,
    period: Period = ALL_TIME,
    currency: str | None = None,
    stages: bool = True,
) -> CycleReport:
    """`cycle` computed deal by deal: every closed deal's days, every history row's time (months
    and quarters on the viewer's calendar, each closing's local date in Python)."""
    currency = report_currency(ctx, currency)
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    # Months and quarters on the viewer's calendar: each closing's local date, in Python.
    calendar = dim in (Dim.month, Dim.quarter)
    keys = [Deal.closed_at] if calendar else group_columns(dim, Deal.closed_at)
    conditions = closed_in(ctx, period)
    days = days_between(ctx.session, Deal.created_at, Deal.closed_at)
    stmt = with_joins(select(*keys, Deal.stage, days).select_from(Deal), dim).where(
        *scope_filter(ctx), *conditions, Deal.currency == currency
    )
    namer = Namer(ctx.session, dim)
    acc: dict[Any, tuple[list[float], list[float]]] = {}
    width = 1 if calendar else namer.width
    for row in ctx.session.execute(stmt):
        key = local_group(dim, row[0], ctx) if calendar else namer.key(row)  # type: ignore[arg-type]
        stage, took = row[width:]
        slot = acc.setdefault(key, ([], []))
        # A close recorded before the opening (bad source data) counts as the same day.
        slot[0 if stage in won_names else 1].append(max(float(took or 0), 0.0))
    namer.load(acc)
    rows = [_row(namer.name(k), w, lost) for k, (w, lost) in acc.items()]
    rows.sort(key=lambda r: (r.group is None, r.group or ""))
    all_won = [d for w, _ in acc.values() for d in w]
    all_lost = [d for _, lost in acc.values() for d in lost]
    return CycleReport(
        currency,
        period,
        dim,
        rows if dim else [],
        _row(None, all_won, all_lost),
        stage_times(ctx, period, currency) if stages else [],
        other_currencies(ctx, currency, conditions) if stages else {},
    )


def _closed_deals(ctx: Ctx, period: Period, currency: str) -> list[Any]:
    """Conditions: the deals `cycle_from_deals` reads (on the person's customers, closed in the
    period, in the currency), written so a rep's or a team's are found by deal owner.

    Probing each of a team's 3,430 customers for its deals took 10-15 ms of PostgreSQL's time
    (45-55 ms on a loaded machine) for ~1,500 closed deals. Every closed deal on the book's
    customers has a row in `deal_close_totals` (0033) under its customer's owner and its own
    owner, so the owners of those deals are read from there (a few hundred rows), their ranges
    of `ix_deals_cycle_owner` walked (index only) and each deal's customer tested against the
    book hashed once. An admin's (every customer not archived) are read as they are.
    """
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    r = DealCloseTotal
    kept = kept_scope(ctx, r.owner_id, r.state)
    owners = visible_owner_ids(ctx.actor)
    if owners is None or kept is None:
        return [*scope_filter(ctx), *closed_in(ctx, period), Deal.currency == currency]
    dealt = (
        select(r.deal_owner_id)
        .where(*kept, r.stage.in_(closed), r.currency == currency, r.deals > 0)
        .distinct()
    )
    return [
        Deal.owner_id == any_(func.array(dealt.scalar_subquery())),
        Deal.currency == currency,
        Deal.stage.in_(closed),
        *in_period(Deal.closed_at, start, end),
        Deal.customer_id.in_(visible_customer_ids(ctx.actor)).is_(True),
    ]


def _local_groups(
    ctx: Ctx, dim: Dim, period: Period, currency: str
) -> tuple[list[CycleRow], CycleRow]:
    """Rows by month or quarter of closing on the viewer's calendar and the total, as
    `cycle_from_deals` gives them, grouped by PostgreSQL in one statement (GROUPING SETS).

    The kept sums are by UTC month; a month of a viewer in another zone straddles two of them,
    so the deals closed in the period are read (`_closed_deals`), grouped by their local month
    or quarter (`AT TIME ZONE` the viewer's zone) and side: counts, days, and each group's
    middle deal or two from its days ordered.
    """
    session = ctx.session
    won_names = sorted(s.name for s in ctx.pipeline.stages if s.won)
    order, per_day = _ordered_days(session)
    # The zone is written into the statement: year and part are grouped by their names below.
    local = func.timezone(literal(ctx.tz.key, literal_execute=True), Deal.closed_at)
    unit = "month" if dim is Dim.month else "quarter"
    side = case((Deal.stage.in_(won_names), literal("won")), else_=literal("lost"))
    deals = (
        select(
            extract("year", local).label("y"),
            extract(unit, local).label("p"),
            side.label("side"),
            order.label("v"),
            _clamped_days(session).label("days"),
        )
        .where(*_closed_deals(ctx, period, currency))
        .subquery("closed")
    )
    d = deals.c
    n = func.count()
    ordered = func.array_agg(aggregate_order_by(d.v, d.v), type_=ARRAY(Numeric()))
    stmt = select(
        func.grouping(d.y, d.p),
        d.y,
        d.p,
        d.side,
        n,
        func.sum(d.days),
        ordered[(n + 1) // 2] / per_day,
        ordered[(n + 2) // 2] / per_day,
    ).group_by(func.grouping_sets(tuple_(d.y, d.p, d.side), tuple_(d.side)))
    sides: dict[Any, dict[str, tuple[int, Decimal, float, float]]] = {}
    for total, year, part, side_, count, days_, low, high in session.execute(stmt):
        if total:
            key: Any = ""  # the total's key: no group is named "" (None: no closing time)
        elif year is None:
            key = None
        elif dim is Dim.month:
            key = f"{int(year):04d}-{int(part):02d}"
        else:
            key = f"{int(year):04d}-Q{int(part)}"
        middle = (max(float(low or 0), 0.0), max(float(high or 0), 0.0))
        sides.setdefault(key, {})[side_] = (int(count), Decimal(str(days_ or 0)), *middle)

    def row(group: str | None, found: dict[str, tuple[int, Decimal, float, float]]) -> CycleRow:
        out: list[Any] = []
        for name in ("won", "lost"):
            count, days_, low, high = found.get(name, (0, Decimal(0), 0.0, 0.0))
            if not count:
                out += [0, None, None]
                continue
            value = low if count % 2 else (low + high) / 2
            out += [count, tenth(days_ / count), tenth(value)]
        won, won_mean, won_median, lost, lost_mean, lost_median = out
        return CycleRow(group, won, lost, won_mean, won_median, lost_mean, lost_median)

    rows = [row(k, v) for k, v in sides.items() if k != ""]
    rows.sort(key=lambda r: (r.group is None, r.group or ""))
    return rows, row(None, sides.get("", {}))


def stage_times(ctx: Ctx, period: Period, currency: str) -> list[StageTime]:
    """Mean days deals spent in each open stage, from consecutive moves in their history.

    A closed deal's history is a chain: every move out of a stage (its `from_stage`) follows the
    move into it. So the days spent in stage S add up to the sum of the times of the moves out
    of S minus the sum of the times of the moves into S, one grouped pass with no window
    function. Where the counts of moves in and out differ (a history with gaps), the stage is
    measured pair by pair instead.
    """
    closed = [*scope_filter(ctx), *closed_in(ctx, period), Deal.currency == currency]
    at = days_between(ctx.session, literal(EPOCH), StageChange.changed_at)
    stmt = (
        select(StageChange.from_stage, StageChange.to_stage, func.count(), func.sum(at))
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(*closed)
        .group_by(StageChange.from_stage, StageChange.to_stage)
    )
    moved_in: dict[str, tuple[int, float]] = {}
    moved_out: dict[str, tuple[int, float]] = {}
    for from_stage, to_stage, n, total in ctx.session.execute(stmt):
        for side, name in ((moved_in, to_stage), (moved_out, from_stage)):
            if name is not None:
                count, days = side.get(name, (0, 0.0))
                side[name] = (count + int(n), days + float(total or 0))
    out = []
    gaps = []
    for stage in ctx.pipeline.open_stages:
        n_in, t_in = moved_in.get(stage.name, (0, 0.0))
        n_out, t_out = moved_out.get(stage.name, (0, 0.0))
        if n_in != n_out:
            gaps.append(stage)
            continue
        mean = None if not n_out else tenth(max((t_out - t_in) / n_out, 0.0))
        out.append(StageTime(stage, n_out, mean))
    if gaps:
        paired = {s.stage.name: s for s in _paired_stage_times(ctx, closed)}
        out += [paired[s.name] for s in gaps]
        order = {s.name: s.order for s in ctx.pipeline.stages}
        out.sort(key=lambda s: order[s.stage.name])
    return out


def _paired_stage_times(ctx: Ctx, closed: list[Any]) -> list[StageTime]:
    """Stage times from each move and the next one of the same deal (a window function)."""
    following = (
        func.lead(StageChange.changed_at)
        .over(partition_by=StageChange.deal_id, order_by=(StageChange.changed_at, StageChange.id))
        .label("left_at")
    )
    moves = (
        select(StageChange.to_stage, StageChange.changed_at, following)
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(*closed)
        .subquery()
    )
    took = days_between(ctx.session, moves.c.changed_at, moves.c.left_at)
    stmt = (
        select(moves.c.to_stage, func.count(), func.avg(took))
        .where(moves.c.left_at.is_not(None))
        .group_by(moves.c.to_stage)
    )
    found = {str(s): (int(n), avg) for s, n, avg in ctx.session.execute(stmt)}
    out = []
    for stage in ctx.pipeline.open_stages:
        n, avg = found.get(stage.name, (0, None))
        mean = None if avg is None else tenth(max(float(avg), 0.0))
        out.append(StageTime(stage, n, mean))
    return out


# (currency, deal stage, step) -> [n_in, in_days, n_out, out_days]: kept sums over a period.
Steps = dict[tuple[str, str, str], list[Any]]


@dataclass
class _Kept:
    """What one statement read: the kept sums of the period and the medians' deals' days."""

    currency: str
    won_names: set[str]
    closed: list[str]
    period: Period
    steps: Steps
    medians: dict[str, list[float]]
    others: dict[str, int]
    # By rep: (deal owner, "won" / "lost") -> [deals, days], and the middle deals' days.
    reps: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    rep_middles: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    def rep_rows(self, namer: Namer) -> list[CycleRow]:
        """One row per deal owner with deals closed in the period, as `cycle_from_deals` by
        rep gives them (counts, mean days as the kept sum over the count, medians)."""
        namer.load({rep for rep, _ in self.reps})
        return self._group_rows(namer.name)

    def month_rows(self) -> list[CycleRow]:
        """One row per UTC month of closing (yyyymm; 0: no closing time, no group), as
        `cycle_from_deals` by month names them for a viewer on UTC's calendar."""
        return self._group_rows(lambda m: f"{m // 100:04d}-{m % 100:02d}" if m else None)

    def _group_rows(self, name: Callable[[int], str | None]) -> list[CycleRow]:
        rows = []
        for rep in {rep for rep, _ in self.reps}:
            sides: list[tuple[int, Decimal | None, Decimal | None]] = []
            for side in ("won", "lost"):
                n, days = self.reps.get((rep, side), [0, Decimal(0)])
                if not n:
                    sides.append((0, None, None))
                    continue
                middle = sorted(self.rep_middles[(rep, side)])
                value = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
                mean = tenth(Decimal(str(days)) / n)
                sides.append((n, mean, tenth(value)))
            (won, won_mean, won_median), (lost, lost_mean, lost_median) = sides
            rows.append(
                CycleRow(name(rep), won, lost, won_mean, won_median, lost_mean, lost_median)
            )
        rows.sort(key=lambda r: (r.group is None, r.group or ""))
        return rows

    def _deals(self, won: bool) -> tuple[int, float]:
        n, days = 0, 0.0
        for (cur, stage, step), (n_in, in_days, _, _) in self.steps.items():
            if cur == self.currency and step == "" and (stage in self.won_names) == won:
                n += int(n_in)
                days += float(in_days or 0)
        return n, days

    def _side(self, won: bool) -> tuple[int, Decimal | None, Decimal | None]:
        n, days = self._deals(won)
        if not n:
            return 0, None, None
        # As statistics.fmean and statistics.median over the deal-by-deal days.
        mean = tenth(Decimal(str(days)) / n)
        middle = self.medians["won" if won else "lost"]
        value = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
        return n, mean, tenth(value)

    def total(self) -> CycleRow:
        """The report's total row."""
        won, won_mean, won_median = self._side(True)
        lost, lost_mean, lost_median = self._side(False)
        return CycleRow(None, won, lost, won_mean, won_median, lost_mean, lost_median)

    def stage_times(self, ctx: Ctx) -> list[StageTime]:
        """Mean days in each open stage, as `stage_times` computes them from the history."""
        moved_in: dict[str, tuple[int, float]] = {}
        moved_out: dict[str, tuple[int, float]] = {}
        for (cur, _, step), (n_in, in_days, n_out, out_days) in self.steps.items():
            if cur != self.currency or step == "":
                continue
            for side, n, days in ((moved_in, n_in, in_days), (moved_out, n_out, out_days)):
                count, total = side.get(step, (0, 0.0))
                side[step] = (count + int(n), total + float(days or 0))
        out = []
        gaps = []
        for stage in ctx.pipeline.open_stages:
            n_in, t_in = moved_in.get(stage.name, (0, 0.0))
            n_out, t_out = moved_out.get(stage.name, (0, 0.0))
            if n_in != n_out:
                gaps.append(stage)
                continue
            mean = None if not n_out else tenth(max((t_out - t_in) / n_out, 0.0))
            out.append(StageTime(stage, n_out, mean))
        if gaps:
            # A history with gaps: those stages measured pair by pair from the deals (rare).
            closed = [*scope_filter(ctx), *closed_in(ctx, self.period)]
            closed.append(Deal.currency == self.currency)
            paired = {s.stage.name: s for s in _paired_stage_times(ctx, closed)}
            out += [paired[s.name] for s in gaps]
            order = {s.name: s.order for s in ctx.pipeline.stages}
            out.sort(key=lambda s: order[s.stage.name])
        return out


def _clamped_days(session: Session) -> Any:
    """A deal's days from opening to close as the report counts them (none: 0; never below 0)."""
    days = days_between(session, Deal.created_at, Deal.closed_at)
    if session.get_bind().dialect.name == "sqlite":
        return func.max(func.coalesce(days, 0), 0)
    return func.greatest(func.coalesce(days, 0), 0)


def _ordered_days(session: Session) -> tuple[Any, Any]:
    """`ix_deals_cycle`'s ordering expression, and the days (as the report reads them) from it."""
    if session.get_bind().dialect.name == "sqlite":
        order = func.coalesce(
            func.julianday(Deal.closed_at) - func.julianday(Deal.created_at), literal_column("0")
        )
        return order, None
    order = func.coalesce(extract("epoch", Deal.closed_at - Deal.created_at), literal_column("0"))
    return order, literal_column("86400", Numeric())


def _whole_days(session: Session) -> Any:
    """floor() of `ix_deals_cycle`'s days, as migration 0039 keeps them (exact, no rounding)."""
    order, per_day = _ordered_days(session)
    if per_day is None:
        whole = cast(order, Integer)
        return whole - case((order < whole, literal_column("1")), else_=literal_column("0"))
    below = case((func.mod(order, 86400) < 0, literal_column("1")), else_=literal_column("0"))
    return cast(func.div(order, 86400) - below, Integer)


def _median_day(
    kept: list[Any], cut: Any, currency: str, names: list[str], offset: Any
) -> tuple[Any, Any]:
    """The whole day holding the deal at `offset` (0-based) of a book's side in day order, and
    how many of the book's deals lie before that day: the kept deals per day (0039) plus the
    cut slices' deals (signed), summed up day by day."""
    h = CycleDayTotal
    parts: list[Select[*tuple[Any, ...]]] = [
        select(h.day.label("day"), func.sum(h.deals).label("n")).where(*kept).group_by(h.day)
    ]
    if cut is not None:
        k = cut.c
        parts.append(
            select(k.day, func.sum(k.sign))
            .where(k.currency == currency, k.stage.in_(names))
            .group_by(k.day)
        )
    days = union_all(*parts).subquery("days")
    per_day = select(days.c.day, func.sum(days.c.n).label("n")).group_by(days.c.day).subquery()
    running = func.sum(per_day.c.n).over(order_by=per_day.c.day)
    summed = select(per_day.c.day, per_day.c.n, running.label("upto")).subquery("summed")
    first = (
        select(summed.c.day, cast(summed.c.upto - summed.c.n, BigInteger).label("before"))
        .where(summed.c.upto > offset)
        .order_by(summed.c.day)
        .limit(1)
        .subquery("first")
    )
    # No such day (a side with no deals, whose walk reads none): an offset of 0, not NULL.
    before = func.coalesce(select(first.c.before).scalar_subquery(), 0)
    return select(first.c.day).scalar_subquery(), before


def _rep_middles(
    ctx: Ctx,
    reps: Any,
    currency: str,
    start: datetime | None,
    end: datetime | None,
    won_names: set[str],
    closed: list[str],
) -> list[Select[*tuple[Any, ...]]]:
    """Each deal owner's middle deal or two of the won and of the lost, at the kept counts.

    PostgreSQL walks each owner's range of `ix_deals_cycle_owner` (owner, currency, stage, days)
    to the offset (an admin: ~250 owners x 2 walks of ~50 entries; a side of several stages
    sorts the owner's deals of them);
    SQLite, which has no LATERAL, numbers the deals per owner and side instead.
    """
    session = ctx.session
    order, per_day = _ordered_days(session)
    inside = in_period(Deal.closed_at, start, end)
    zero: Any = literal_column("0")
    out: list[Select[*tuple[Any, ...]]] = []
    if per_day is None:
        sided = case((Deal.stage.in_(sorted(won_names)), literal("won")), else_=literal("lost"))
        rank = func.row_number().over(partition_by=(Deal.owner_id, sided), order_by=order)
        ranked = (
            select(Deal.owner_id.label("rep"), sided.label("side"), order.label("v"))
            .add_columns(rank.label("rn"))
            .where(*scope_filter(ctx), Deal.currency == currency, Deal.stage.in_(closed))
            .where(*inside)
            .subquery("ranked")
        )
        q = ranked.c
        middle = or_(q.rn == (reps.c.n + 1) // 2, q.rn == (reps.c.n + 2) // 2)
        out.append(
            select(literal("mid"), literal(None), q.side, cast(q.rep, String), zero, q.v)
            .add_columns(zero, zero)
            .join_from(ranked, reps, and_(reps.c.rep == q.rep, reps.c.side == q.side))
            .where(middle)
        )
        return out
    scope = slice_scope(ctx)
    for side, names in (("won", sorted(won_names)), ("lost", sorted(set(closed) - won_names))):
        if not names:
            continue
        # One stage: the owner's range in day order. Several (a pipeline with two lost stages):
        # the owner's deals of those stages sorted (a hundred or so), not a merge of ranges.
        stage = Deal.stage == names[0] if len(names) == 1 else Deal.stage.in_(names)
        walk = (
            select(order.label("v"))
            .where(Deal.currency == currency, stage, Deal.owner_id == reps.c.rep)
            .where(*scope, *inside)
            .order_by(order)
        )
        walked = walk.offset((reps.c.n - 1) // 2).limit(2 - reps.c.n % 2).lateral("walk")
        out.append(
            select(literal("mid"), literal(None), literal(side), cast(reps.c.rep, String))
            .add_columns(zero, walked.c.v / per_day, zero, zero)
            .select_from(reps)
            .join(walked, true())
            .where(reps.c.side == side)
        )
    return out


def _month_middles(
    ctx: Ctx, by_day: list[Any], currency: str, won_names: set[str], closed: list[str]
) -> list[Select[*tuple[Any, ...]]]:
    """Each UTC month's won and lost deals and days, ("rep", None, side, month, deals, days,
    0, 0), from 0039's rows (all time: every kept month, 0 too), and its middle deal or two of
    the won and of the lost (all time), ("mid", None, side, month, 0, days, 0, 0).

    PostgreSQL: the kept deals per month and whole day (0039) say on which day each month's
    middle lies and how many of the month's deals come before it; a walk of `ix_deals_cycle`
    from that day to the offset, per month and side (LATERAL), passes one day's deals of the
    company. SQLite, which has no LATERAL, numbers the deals per month and side instead.
    """
    session = ctx.session
    order, per_day = _ordered_days(session)
    zero: Any = literal_column("0")
    h = CycleDayTotal
    sided_h = case((h.stage.in_(sorted(won_names)), literal("won")), else_=literal("lost"))
    # The book's deals and days per month, side and whole day, read once for both.
    per = (
        select(h.month.label("m"), sided_h.label("side"), h.day.label("day"))
        .add_columns(cast(func.sum(h.deals), BigInteger).label("n"))
        .add_columns(func.sum(h.days).label("days"))
        .where(*by_day, h.stage.in_(closed))
        .group_by(h.month, sided_h, h.day)
        .cte("per")
    )
    p = per.c
    n = cast(func.sum(p.n), BigInteger)
    counts = (
        select(literal("rep"), literal(None), p.side, cast(p.m, String), n)
        .add_columns(func.sum(p.days), zero, zero)
        .group_by(p.m, p.side)
        .having(n > 0)
    )
    if per_day is None:
        month = func.coalesce(cast(func.strftime("%Y%m", Deal.closed_at), Integer), 0)
        sided = case((Deal.stage.in_(sorted(won_names)), literal("won")), else_=literal("lost"))
        part = (month, sided)
        ranked = (
            select(month.label("m"), sided.label("side"), order.label("v"))
            .add_columns(func.row_number().over(partition_by=part, order_by=order).label("rn"))
            .add_columns(func.count().over(partition_by=part).label("n"))
            .where(*scope_filter(ctx), Deal.currency == currency, Deal.stage.in_(closed))
            .subquery("ranked")
        )
        q = ranked.c
        return [
            counts,
            select(literal("mid"), literal(None), q.side, cast(q.m, String), zero, q.v)
            .add_columns(zero, zero)
            .where(or_(q.rn == (q.n + 1) // 2, q.rn == (q.n + 2) // 2)),
        ]
    upto = cast(func.sum(p.n).over(partition_by=(p.m, p.side), order_by=p.day), BigInteger)
    total = cast(func.sum(p.n).over(partition_by=(p.m, p.side)), BigInteger)
    summed = select(p.m, p.side, p.day, p.n, upto.label("upto"), total.label("total")).subquery()
    u = summed.c
    lower = (u.total - 1) // 2
    # The UTC month yyyymm as times [lo, hi), once per month: a walk compares each deal's
    # closing time with them rather than formatting it (month 0: no closing time).
    one: Any = literal_column("1")
    first = func.make_timestamptz(u.m // 100, u.m % 100, one, zero, zero, zero, "UTC")
    lo = case((u.m > 0, first), else_=None)
    picks = (
        select(u.m, u.side, u.day, u.total, (lower - (u.upto - u.n)).label("skip"))
        .add_columns(lo.label("lo"), (lo + literal_column("interval '1 month'")).label("hi"))
        .where(u.total > 0, u.upto > lower, u.upto - u.n <= lower)
        .cte("picks")
    )
    k = picks.c
    in_month = or_(
        and_(k.m == 0, Deal.closed_at.is_(None)),
        and_(Deal.closed_at >= k.lo, Deal.closed_at < k.hi),
    )
    out: list[Select[*tuple[Any, ...]]] = [counts]
    for side, names in (("won", sorted(won_names)), ("lost", sorted(set(closed) - won_names))):
        if not names:
            continue
        stage = Deal.stage == names[0] if len(names) == 1 else Deal.stage.in_(names)
        walk = (
            select(order.label("v"))
            .where(Deal.currency == currency, stage, *slice_scope(ctx), in_month)
            .where(order >= cast(k.day, BigInteger) * literal_column("86400"))
            .order_by(order)
        )
        walked = walk.offset(k.skip).limit(2 - k.total % 2).lateral("walk")
        out.append(
            select(literal("mid"), literal(None), literal(side), cast(k.m, String))
            .add_columns(zero, walked.c.v / per_day, zero, zero)
            .select_from(picks)
            .join(walked, true())
            .where(k.side == side)
        )
    return out


def _kept(
    ctx: Ctx,
    period: Period,
    currency: str,
    *,
    medians: bool,
    by_rep: bool = False,
    by_month: bool = False,
) -> _Kept:
    """The period's kept sums (whole months; the hours its bounds cut from the deals) and, when
    asked, the middle deals' days of the won and of the lost (and each deal owner's counts,
    days and middle deals), in ONE statement: the medians' offsets are the counts read by the
    same snapshot."""
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    found = _Kept(currency, won_names, closed, period, {}, {"won": [], "lost": []}, {})
    t = CycleTotal
    kept = kept_scope(ctx, t.owner_id, t.state)
    if kept is None:
        return found
    session = ctx.session
    start, end = period.bounds(ctx.tz)
    mine = or_(t.currency == currency, t.step == "")
    where = [*kept, t.stage.in_(closed), mine]
    slices: list[Slice] = []
    r = DealCloseTotal
    by_owner = [*(kept_scope(ctx, r.owner_id, r.state) or []), r.stage.in_(closed)]
    by_owner.append(r.currency == currency)
    h = CycleDayTotal
    by_day = [*(kept_scope(ctx, h.owner_id, h.state) or []), h.currency == currency]
    if start is None and end is None:
        where.append(t.month == -1)
    else:
        skipped, slices = cut_months(start, end)
        # 0: no closing time, never inside a bound; -1: all time (cycle_totals only)
        for month, rows_ in ((t.month, where), (r.month, by_owner), (h.month, by_day)):
            rows_.append(month > 0)
            if start is not None:
                rows_.append(month >= month_number(utc_month(start)))
            if end is not None:
                rows_.append(month <= month_number(utc_month(end - timedelta(microseconds=1))))
            if skipped:
                rows_.append(month.not_in(skipped))
    sums = [func.sum(t.n_in), func.sum(t.in_days), func.sum(t.n_out), func.sum(t.out_days)]
    parts: list[Select[*tuple[Any, ...]]] = [
        select(t.currency, t.stage, t.step, *sums)
        .where(*where)
        .group_by(t.currency, t.stage, t.step)
    ]
    scope = slice_scope(ctx)
    cycle_days = _clamped_days(session)
    at = days_between(session, literal(EPOCH), StageChange.changed_at)
    zero: Any = literal_column("0")
    if slices:
        # The deals closed in every cut slice, read once (the slices' ranges OR'd, each deal
        # signed by its slice), then their own sums and their history's: one scan and one hash
        # of the person's book, not three per slice.
        ranges = [(and_(Deal.closed_at >= lo, Deal.closed_at < hi), n) for _, n, lo, hi in slices]
        sign = case(*((r, literal_column(str(n))) for r, n in ranges), else_=zero)
        cut = (
            select(
                Deal.id.label("id"),
                Deal.owner_id.label("owner"),
                Deal.currency.label("currency"),
                Deal.stage.label("stage"),
                cycle_days.label("days"),
                sign.label("sign"),
                _whole_days(session).label("day"),
            )
            .where(*scope, Deal.stage.in_(closed), or_(*(r for r, _ in ranges)))
            .cte("cut")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        k = cut.c
        parts.append(
            select(k.currency, k.stage, literal(""), func.sum(k.sign), func.sum(k.days * k.sign))
            .add_columns(zero, zero)
            .group_by(k.currency, k.stage)
        )
        moves = select(k.currency, k.stage).join(StageChange, StageChange.deal_id == k.id)
        moves = moves.where(k.currency == currency)
        parts.append(
            moves.add_columns(StageChange.to_stage, func.sum(k.sign), func.sum(at * k.sign))
            .add_columns(zero, zero)
            .group_by(k.currency, k.stage, StageChange.to_stage)
        )
        parts.append(
            moves.add_columns(StageChange.from_stage, zero, zero)
            .add_columns(func.sum(k.sign), func.sum(at * k.sign))
            .where(StageChange.from_stage.is_not(None))
            .group_by(k.currency, k.stage, StageChange.from_stage)
        )
    sums_cte = union_all(*parts).cte("sums")
    c = sums_cte.c
    rows: list[Select[*tuple[Any, ...]]] = [select(literal("sum"), *c)]
    if by_rep:
        sided = case((r.stage.in_(sorted(won_names)), literal("won")), else_=literal("lost"))
        owned: list[Select[*tuple[Any, ...]]] = [
            select(r.deal_owner_id, sided, func.sum(r.deals), func.sum(r.days))
            .where(*by_owner)
            .group_by(r.deal_owner_id, sided)
        ]
        if slices:
            k = cut.c
            k_side = case((k.stage.in_(sorted(won_names)), literal("won")), else_=literal("lost"))
            owned.append(
                select(k.owner, k_side, func.sum(k.sign), func.sum(k.days * k.sign))
                .where(k.currency == currency)
                .group_by(k.owner, k_side)
            )
        o = union_all(*owned).subquery("owned")
        o_rep, o_side, o_n, o_days = o.c
        n = cast(func.sum(o_n), BigInteger)
        reps = (
            select(o_rep.label("rep"), o_side.label("side"), n.label("n"))
            .add_columns(func.sum(o_days).label("days"))
            .group_by(o_rep, o_side)
            .having(n > 0)
            .cte("reps")
        )
        rows.append(
            select(
                literal("rep"), literal(None), reps.c.side, cast(reps.c.rep, String)
            ).add_columns(reps.c.n, reps.c.days, zero, zero)
        )
        rows += _rep_middles(ctx, reps, currency, start, end, won_names, closed)
    if by_month:
        rows += _month_middles(ctx, by_day, currency, won_names, closed)
    if medians:
        order, per_day = _ordered_days(session)
        inside = in_period(Deal.closed_at, start, end)
        # A rep's own book (a few hundred customers) reads its closed deals' days faster from
        # its customers, once, than by walking half of the company's ordered range per side.
        owners = visible_owner_ids(ctx.actor)
        own: Any = None
        if owners is not None and (ctx.actor.role == Role.rep or ctx.actor.team_id is None):
            own = (
                select(Deal.stage.label("stage"), order.label("v"))
                .where(*scope_filter(ctx), Deal.currency == currency, *inside)
                .where(Deal.stage.in_(closed))
                .cte("own")
                .prefix_with("MATERIALIZED", dialect="postgresql")
            )
        # A manager's team book (an admin's walks pass few deals of other books: none there).
        team = owners is not None and own is None
        for side, names in (
            ("won", sorted(won_names)),
            ("lost", sorted(set(closed) - won_names)),
        ):
            if not names:
                continue
            count = func.coalesce(
                select(cast(func.sum(c[3]), BigInteger))
                .where(c[0] == currency, c[2] == "", c[1].in_(names))
                .scalar_subquery(),
                0,
            )
            # One ordered index range per stage, merged: the deals of this side in day order.
            # (A side with no deals reads none: an empty offset scan walks the whole range.)
            branches = [
                select(order.label("v")).where(
                    Deal.currency == currency, Deal.stage == name, *scope, *inside, count > 0
                )
                for name in names
            ]
            offset: Any = (count - 1) // 2
            if team:
                # A team's book: the walk starts at the median's whole day (the book's kept
                # deals per day summed up), past the deals of the days before it.
                start_day, before = _median_day(
                    [*by_day, h.stage.in_(names)], cut if slices else None, currency, names, offset
                )
                bound: Any = cast(start_day, BigInteger)
                if per_day is not None:
                    bound = bound * literal_column("86400")
                branches = [b.where(order >= bound) for b in branches]
                offset = offset - before
            merged = union_all(*branches).subquery() if len(branches) > 1 else None
            if own is not None:
                middle = select(own.c.v).where(own.c.stage.in_(names), count > 0)
                middle = middle.order_by(own.c.v)
            elif merged is not None:
                middle = select(merged.c.v).order_by(merged.c.v)
            else:
                middle = branches[0].order_by(order)
            middle_q = middle.offset(offset).limit(2 - count % 2).subquery()
            value = middle_q.c.v if per_day is None else middle_q.c.v / per_day
            rows.append(
                select(
                    literal(side),
                    literal(None),
                    literal(None),
                    literal(None),
                    zero,
                    value,
                    zero,
                    zero,
                ).select_from(middle_q)
            )
    found_rows = session.execute(union_all(*rows)).all()
    for kind, cur, stage, step, n_in, in_days, n_out, out_days in found_rows:
        if kind == "rep":
            found.reps[(int(step), stage)] = [int(n_in), Decimal(str(in_days or 0))]
            continue
        if kind == "mid":
            mids = found.rep_middles.setdefault((int(step), stage), [])
            mids.append(max(float(in_days or 0), 0.0))
            continue
        if kind != "sum":
            found.medians[kind].append(max(float(in_days or 0), 0.0))
            continue
        slot = found.steps.setdefault((cur, stage, step), [0, Decimal(0), 0, Decimal(0)])
        slot[0] += int(n_in or 0)
        slot[1] += Decimal(str(in_days or 0))
        slot[2] += int(n_out or 0)
        slot[3] += Decimal(str(out_days or 0))
    for (cur, _, step), (n, *_) in found.steps.items():
        if step == "" and cur != currency and n:
            found.others[cur] = found.others.get(cur, 0) + n
    found.others = {k: v for k, v in found.others.items() if v}
    for middle_days in found.medians.values():
        middle_days.sort()
    return found
