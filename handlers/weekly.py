"""The weekly manager report as a Reply: activity, wins and losses, moves, forecast."""

from __future__ import annotations

from decimal import Decimal

from crm_core.analytics.scope import ratio
from crm_core.analytics.weekly import WeeklyReport
from crm_core.analytics.win_rate import WinRateRow
from handlers import format as fmt
from handlers.i18n import Translator
from handlers.reply import Field, Reply, Section
from handlers.verbs.reports import pct


def weekly_reply(t: Translator, report: WeeklyReport) -> Reply:
    """One message with a section for each part of the week."""
    act = report.activity
    people = []
    for r in act.rows:
        logged = " · ".join(f"{fmt.kind(t, k)} {n}" for k, n in r.kinds.items() if n)
        people.append(
            f"{r.group}: "
            + t(
                "report.activity_counts",
                logged=logged or t("report.no_notes"),
                moved=r.moved,
                won=r.won,
                lost=r.lost,
            )
        )
    closed = report.closed
    # Every currency's closings, the book's first: counts add up, money is shown per currency.
    every = [closed, *report.closed_others]
    # Each person's rows with the currency they are in, in the order the book's report lists them.
    groups: dict[str | None, list[tuple[str, WinRateRow]]] = {}
    for rep in every:
        for row in rep.rows:
            groups.setdefault(row.group, [])
            if row.won + row.lost:
                groups[row.group].append((rep.currency, row))
    wins = []
    for group, rows in groups.items():
        won, lost = sum(r.won for _, r in rows), sum(r.lost for _, r in rows)
        values = [fmt.money(r.won_value, c, t) for c, r in rows] or [
            fmt.money(Decimal(0), closed.currency, t)
        ]
        wins.append(
            t(
                "report.win_rate_row",
                group=group or t("report.none"),
                won=won,
                lost=lost,
                rate=pct(ratio(won, won + lost)),
                value=" · ".join(values),
            )
        )
    moves = [
        " · ".join(
            (
                f"#{m.deal_id} {m.title}",
                m.customer,
                f"{fmt.stage(t, m.from_stage or '')} → {fmt.stage(t, m.to_stage)}",
                fmt.money(m.amount, m.currency, t),
            )
        )
        for m in report.moves
    ]
    if report.moves_total > len(report.moves):
        moves.append(t("report.shown_of", shown=len(report.moves), count=report.moves_total))
    fields = [
        Field(t("report.won"), str(sum(rep.total.won for rep in every))),
        Field(t("report.lost"), str(sum(rep.total.lost for rep in every))),
        Field(
            t("report.won_value"),
            " · ".join(
                fmt.money(rep.total.won_value, rep.currency, t)
                for rep in every
                if rep is closed or rep.total.won
            ),
        ),
    ]
    forecasts = [report.forecast, *report.forecast_others]
    for fc in forecasts:
        # With several currencies each forecast line names its own.
        period = fc.period.label + (f" · {fc.currency}" if len(forecasts) > 1 else "")
        fields.append(
            Field(
                t("weekly.forecast", period=period),
                t(
                    "weekly.forecast_line",
                    closed=fmt.money(fc.total.closed, fc.currency, t),
                    commit=fmt.money(fc.total.commit, fc.currency, t),
                    best_case=fmt.money(fc.total.best_case, fc.currency, t),
                    pipeline=fmt.money(fc.total.pipeline, fc.currency, t),
                ),
            )
        )
    overdue = [
        f"{fc.overdue_count} · {fmt.money(fc.overdue_amount, fc.currency, t)}"
        for fc in forecasts
        if fc.overdue_count
    ]
    if overdue:
        fields.append(Field(t("weekly.overdue"), " · ".join(overdue)))
    sections = [Section(t("weekly.activity"), people)]
    if wins:
        sections.append(Section(t("weekly.closed"), wins))
    if moves:
        sections.append(Section(t("weekly.moves"), moves))
    return Reply(
        title=t("weekly.title", week=report.week.label),
        fields=fields,
        sections=sections,
        buttons=[],
        shareable=True,
    )
