"""Sales cycle: days from opening to close for won and lost deals, and time in each stage."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select

from crm_core.analytics.periods import ALL_TIME, Period
from crm_core.analytics.scope import (
    Dim,
    Namer,
    days_between,
    group_columns,
    scope_filter,
    with_joins,
)
from crm_core.analytics.win_rate import closed_in, other_currencies
from crm_core.context import Ctx
from crm_core.models import Deal, StageChange
from crm_core.stages import Stage

TENTH = Decimal("0.1")
# Times are summed as days since this moment (small numbers keep float sums exact enough).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _days(values: list[float], how: str) -> Decimal | None:
    if not values:
        return None
    result = statistics.fmean(values) if how == "mean" else statistics.median(values)
    return Decimal(str(result)).quantize(TENTH)


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
    """Days from opening to close of the deals the actor may see, closed in the period."""
    currency = (currency or ctx.default_currency).upper()
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    keys = group_columns(dim, Deal.closed_at)
    conditions = closed_in(ctx, period)
    days = days_between(ctx.session, Deal.created_at, Deal.closed_at)
    stmt = with_joins(select(*keys, Deal.stage, days).select_from(Deal), dim).where(
        *scope_filter(ctx), *conditions, Deal.currency == currency
    )
    namer = Namer(ctx.session, dim)
    acc: dict[Any, tuple[list[float], list[float]]] = {}
    for row in ctx.session.execute(stmt):
        key = namer.key(row)
        stage, took = row[namer.width :]
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
        stage_times(ctx, period, currency),
        other_currencies(ctx, currency, conditions),
    )


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
        mean = None if not n_out else Decimal(str(max((t_out - t_in) / n_out, 0.0))).quantize(TENTH)
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
        mean = None if avg is None else Decimal(str(max(float(avg), 0.0))).quantize(TENTH)
        out.append(StageTime(stage, n, mean))
    return out
