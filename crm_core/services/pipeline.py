"""The pipeline report: per stage the count, total and weighted amount of open deals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.access import visible_customer_ids, visible_owner_ids
from crm_core.context import Ctx
from crm_core.models import Customer, Deal
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
    measures = (
        Deal.stage,
        Deal.currency,
        func.count(),
        func.sum(Deal.amount),
        func.count(Deal.amount),
    )
    if visible_owner_ids(ctx.actor) is None and ctx.actor.active:
        # The whole company: an index-only scan of ix_deals_stage_currency_amount.
        # Archived customers' deals are left out: a NOT IN over the few archived ones.
        gone = select(Customer.id).where(Customer.archived_at.is_not(None))
        stmt = select(*measures).where(Deal.stage.in_(open_names), Deal.customer_id.not_in(gone))
    else:
        # One book: start from the actor's customers. lower() (a no-op: stage names are stored
        # lower-case) keeps the planner off the stage indexes, which would scan every open deal.
        stmt = select(*measures).where(
            Deal.customer_id.in_(visible_customer_ids(ctx.actor)),
            func.lower(Deal.stage).in_(open_names),
        )
    stmt = stmt.group_by(Deal.stage, Deal.currency)
    report = PipelineReport()
    found: dict[tuple[str, str], tuple[int, Decimal, int]] = {}
    currencies: set[str] = set()
    for name, currency, count, total, with_amount in ctx.session.execute(stmt):
        # SQLite sums NUMERIC as float: round back to cents before any arithmetic.
        found[(name, currency)] = (
            int(count),
            Decimal(str(total or 0)).quantize(CENT),
            int(with_amount),
        )
        currencies.add(currency)
    for currency in sorted(currencies) or [ctx.default_currency]:
        n_all, t_all, w_all = 0, Decimal(0), Decimal(0)
        for stage in ctx.pipeline.open_stages:
            count, total, with_amount = found.get((stage.name, currency), (0, Decimal(0), 0))
            weighted = (total * stage.probability).quantize(CENT)
            report.rows.append(StageRow(stage, currency, count, total, weighted))
            report.without_amount += count - with_amount
            n_all, t_all, w_all = n_all + count, t_all + total, w_all + weighted
        report.totals[currency] = (n_all, t_all, w_all)
    return report


def unnamed_stages(session: Session, pipeline: Pipeline) -> dict[str, int]:
    """Stages deals are in that the pipeline does not name, with how many deals each."""
    rows = session.execute(select(Deal.stage, func.count()).group_by(Deal.stage)).all()
    return {str(stage): int(n) for stage, n in rows if pipeline.get(str(stage)) is None}
