"""The weekly manager report as a Reply: activity, wins and losses, moves, forecast."""

from __future__ import annotations

from crm_core.analytics.weekly import WeeklyReport
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
    cur = closed.currency
    wins = [
        t(
            "report.win_rate_row",
            group=r.group or t("report.none"),
            won=r.won,
            lost=r.lost,
            rate=pct(r.win_rate),
            value=fmt.money(r.won_value, cur, t),
        )
        for r in closed.rows
    ]
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
    fc = report.forecast
    fields = [
        Field(t("report.won"), str(closed.total.won)),
        Field(t("report.lost"), str(closed.total.lost)),
        Field(t("report.won_value"), fmt.money(closed.total.won_value, cur, t)),
        Field(
            t("weekly.forecast", period=fc.period.label),
            t(
                "weekly.forecast_line",
                closed=fmt.money(fc.total.closed, fc.currency, t),
                commit=fmt.money(fc.total.commit, fc.currency, t),
                best_case=fmt.money(fc.total.best_case, fc.currency, t),
                pipeline=fmt.money(fc.total.pipeline, fc.currency, t),
            ),
        ),
    ]
    if fc.overdue_count:
        fields.append(
            Field(
                t("weekly.overdue"),
                f"{fc.overdue_count} · {fmt.money(fc.overdue_amount, fc.currency, t)}",
            )
        )
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
