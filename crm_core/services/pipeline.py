"""The pipeline report: per stage the count, total and weighted amount of open deals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.context import Ctx
from crm_core.models import Deal, PipelineTotal, Role
from crm_core.stages import Pipeline, Stage

CENT = Decimal("0.01")


@dataclass
class StageRow:
    """One stage of the report in one currency."""

    stage: Stage
    currency: str
    count: int
    total: Decimal
    weighted: Decimal


@dataclass
class PipelineReport:
    """Open deals visible to the actor, by stage and currency, with totals per currency."""

    rows: list[StageRow] = field(default_factory=list)
    totals: dict[str, tuple[int, Decimal, Decimal]] = field(default_factory=dict)
    without_amount: int = 0


def pipeline_report(ctx: Ctx) -> PipelineReport:
    """Aggregate the open deals the actor may see (a rep: own book; manager: team; admin: all)."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    # The totals the triggers keep per customer owner (migration 0026): a few rows per owner,
    # where aggregating the deals read every open deal of the book.
    t = PipelineTotal
    stmt = (
        select(t.stage, t.currency, func.sum(t.deals), func.sum(t.cents), func.sum(t.priced))
        .where(t.stage.in_(open_names))
        .group_by(t.stage, t.currency)
        .having(func.sum(t.deals) > 0)
    )
    owners = visible_owner_ids(ctx.actor)
    if not ctx.actor.active:
        return _report(ctx, {})
    if ctx.actor.role == Role.rep or (owners is not None and ctx.actor.team_id is None):
        stmt = stmt.where(t.owner_id == ctx.actor.id)
    elif owners is not None:
        stmt = stmt.where(t.owner_id.in_(owners.scalar_subquery()))
    found: dict[tuple[str, str], tuple[int, Decimal, int]] = {}
    for name, currency, count, cents, with_amount in ctx.session.execute(stmt):
        found[(name, currency)] = (
            int(count),
            Decimal(int(cents)).scaleb(-2).quantize(CENT),
            int(with_amount),
        )
    return _report(ctx, found)


def pipeline_report_from_deals(ctx: Ctx) -> PipelineReport:
    """The same report aggregated from the deals themselves (what the totals must equal)."""
    open_names = [s.name for s in ctx.pipeline.open_stages]
    stmt = (
        select(
            Deal.stage, Deal.currency, func.count(), func.sum(Deal.amount), func.count(Deal.amount)
        )
        .where(Deal.customer_id.in_(visible_customer_ids(ctx.actor)), Deal.stage.in_(open_names))
        .group_by(Deal.stage, Deal.currency)
    )
    found: dict[tuple[str, str], tuple[int, Decimal, int]] = {}
    for name, currency, count, total, with_amount in ctx.session.execute(stmt):
        # SQLite sums NUMERIC as float: round back to cents before any arithmetic.
        found[(name, currency)] = (
            int(count),
            Decimal(str(total or 0)).quantize(CENT),
            int(with_amount),
        )
    return _report(ctx, found)


def _report(ctx: Ctx, found: dict[tuple[str, str], tuple[int, Decimal, int]]) -> PipelineReport:
    """Rows per open stage and currency, and totals per currency, from (stage, currency) sums."""
    report = PipelineReport()
    currencies = {currency for _, currency in found}
    for currency in sorted(currencies) or [ctx.default_currency]:
        n_all, t_all, w_all = 0, Decimal(0), Decimal(0)
        for stage in ctx.pipeline.open_stages:
            count, total, with_amount = found.get((stage.name, currency), (0, Decimal(0), 0))
            # Exact (rounded once, half up, where shown): a total of lines rounded first
            # read 100.04 for 50.005 + 50.015 + 0.025 = 100.045 (100.05).
            weighted = total * stage.probability
            report.rows.append(StageRow(stage, currency, count, total, weighted))
            report.without_amount += count - with_amount
            n_all, t_all, w_all = n_all + count, t_all + total, w_all + weighted
        report.totals[currency] = (n_all, t_all, w_all)
    return report


def unnamed_stages(session: Session, pipeline: Pipeline) -> dict[str, int]:
    """Stages deals are in that the pipeline does not name, with how many deals each."""
    rows = session.execute(select(Deal.stage, func.count()).group_by(Deal.stage)).all()
    return {str(stage): int(n) for stage, n in rows if pipeline.get(str(stage)) is None}
