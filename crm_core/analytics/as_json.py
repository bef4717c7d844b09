"""Reports as JSON-ready data: the `crmbot report ... --json` contract."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crm_core.analytics.activity import ActivityReport, ActivityRow
from crm_core.analytics.cycle import CycleReport, CycleRow
from crm_core.analytics.forecast import ForecastReport, ForecastRow
from crm_core.analytics.funnel import FunnelReport
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import CENT, four
from crm_core.analytics.win_rate import WinRateReport, WinRateRow

Report = WinRateReport | FunnelReport | CycleReport | ForecastReport | ActivityReport


def number(value: Decimal | int | None) -> int | float | None:
    """A JSON number: whole amounts as integers, others as the nearest float (cents survive)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def to_cent(value: Decimal) -> Decimal:
    """Money to the cent, half up, from its exact value (a weighted amount is not whole cents)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _period(period: Period) -> dict[str, str | None]:
    last = None
    if period.end is not None:
        last = (period.end - timedelta(days=1)).isoformat()
    return {"from": period.start.isoformat() if period.start else None, "to": last}


def _win(row: WinRateRow) -> dict[str, Any]:
    return {
        "won": row.won,
        "lost": row.lost,
        "win_rate": number(four(row.win_rate)),
        "won_value": number(row.won_value),
        "quota": number(row.quota),
        "attainment": number(four(row.attainment)),
    }


def _cycle(row: CycleRow) -> dict[str, Any]:
    return {
        "won": row.won,
        "lost": row.lost,
        "won_days_mean": number(row.won_days_mean),
        "won_days_median": number(row.won_days_median),
        "lost_days_mean": number(row.lost_days_mean),
        "lost_days_median": number(row.lost_days_median),
    }


def _month(row: ForecastRow) -> dict[str, Any]:
    return {
        "open": row.open,
        "amount": number(row.amount),
        "weighted": number(to_cent(row.weighted)),
        "closed": number(row.closed),
        "commit": number(row.commit),
        "best_case": number(row.best_case),
        "pipeline": number(row.pipeline),
    }


def _activity(row: ActivityRow) -> dict[str, Any]:
    return {**row.kinds, "moved": row.moved, "won": row.won, "lost": row.lost}


def report_json(name: str, report: Report) -> dict[str, Any]:
    """`{"report", "currency", "period", "rows": [{"group", ...measures}], "total": {...}}`."""
    out: dict[str, Any] = {"report": name}
    if isinstance(report, WinRateReport):
        out["currency"] = report.currency
        out["rows"] = [{"group": r.group, **_win(r)} for r in report.rows]
        out["total"] = _win(report.total)
    elif isinstance(report, FunnelReport):
        out["currency"] = report.currency
        out["rows"] = [
            {
                "group": r.stage.name,
                "reached": r.reached,
                "advanced": r.advanced,
                "conversion": number(four(r.conversion)),
                "drop_off": number(four(r.drop_off)),
                "reached_value": number(r.reached_value),
                "advanced_value": number(r.advanced_value),
            }
            for r in report.rows
        ]
        out["total"] = {"deals": report.deals}
    elif isinstance(report, CycleReport):
        out["currency"] = report.currency
        out["rows"] = [{"group": r.group, **_cycle(r)} for r in report.rows]
        out["total"] = _cycle(report.total)
        out["stages"] = [
            {"stage": s.stage.name, "moves": s.moves, "mean_days": number(s.mean_days)}
            for s in report.stages
        ]
    elif isinstance(report, ForecastReport):
        out["currency"] = report.currency
        out["rows"] = [{"group": r.month, **_month(r)} for r in report.rows]
        out["total"] = _month(report.total)
        out["overdue"] = {
            "count": report.overdue_count,
            "amount": number(report.overdue_amount),
            "deals": [
                {
                    "id": d.id,
                    "title": d.title,
                    "customer": d.customer,
                    "amount": number(d.amount),
                    "expected_close": d.expected_close.isoformat(),
                }
                for d in report.overdue
            ],
        }
        out["undated"] = report.undated
        out["quota"] = number(report.quota)
        out["attainment"] = number(four(report.attainment))
    else:
        out["currency"] = None
        out["rows"] = [{"group": r.group, "team": r.team, **_activity(r)} for r in report.rows]
        out["total"] = _activity(report.total)
    out["period"] = _period(report.period)
    if not isinstance(report, ActivityReport):
        out["other_currencies"] = report.other_currencies
    return out
