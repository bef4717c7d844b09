"""The weekly manager report: last week's activity, wins and losses, moves, and the forecast."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from crm_core.analytics.activity import ActivityReport, Move, activity, stage_moves
from crm_core.analytics.forecast import ForecastReport, forecast
from crm_core.analytics.periods import Period, add_months, quarter_label, quarter_start
from crm_core.analytics.scope import Dim
from crm_core.analytics.win_rate import WinRateReport, win_rate
from crm_core.context import Ctx


@dataclass
class WeeklyReport:
    """What a manager reads on Monday morning about the week before."""

    week: Period
    activity: ActivityReport
    closed: WinRateReport
    moves: list[Move]
    moves_total: int
    forecast: ForecastReport
    # The same in each other currency the team closed or forecasts deals in (a TWD+HKD team's
    # HK$ wins): never added into the first, shown beside it.
    closed_others: list[WinRateReport] = field(default_factory=list)
    forecast_others: list[ForecastReport] = field(default_factory=list)


def build_weekly(ctx: Ctx, monday: date) -> WeeklyReport:
    """The report for the seven days before `monday` (local), as the actor sees them."""
    start = monday - timedelta(days=7)
    last = monday - timedelta(days=1)
    week = Period(start, monday, f"{start.isoformat()} – {last.isoformat()}")
    q = quarter_start(monday)
    quarter = Period(q, add_months(q, 3), quarter_label(q))
    moves, total = stage_moves(ctx, week, limit=15)
    closed = win_rate(ctx, dim=Dim.rep, period=week)
    ahead = forecast(ctx, quarter)
    return WeeklyReport(
        week,
        activity(ctx, week),
        closed,
        moves,
        total,
        ahead,
        [
            win_rate(ctx, dim=Dim.rep, period=week, currency=c)
            for c in sorted(closed.other_currencies)
        ],
        [forecast(ctx, quarter, currency=c) for c in sorted(ahead.other_currencies)],
    )
