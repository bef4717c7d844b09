"""The pipeline verb: open deals per stage with totals and weighted amounts."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.models import Role
from crm_core.services.pipeline import StageRow, pipeline_report
from handlers import format as fmt
from handlers.registry import Request, Verb
from handlers.reply import Field, Reply, Section


def pipeline(req: Request) -> Reply:
    """Per stage: count, total and weighted amount of the open deals the user may see."""
    t, ctx = req.t, req.ctx
    if req.args:
        raise Invalid("usage.pipeline")
    report = pipeline_report(ctx)
    scope = {
        Role.rep: "pipeline.scope_own",
        Role.manager: "pipeline.scope_team",
        Role.admin: "pipeline.scope_all",
    }[ctx.actor.role]

    def row_text(row: StageRow) -> str:
        return t(
            "pipeline.row",
            stage=fmt.stage(t, row.stage.name),
            probability=f"{row.stage.probability * 100:.0f}",
            count=row.count,
            total=fmt.money(row.total, row.currency, t),
            weighted=fmt.money(row.weighted, row.currency, t),
        )

    items: list[str] = []
    fields: list[Field] = []
    sections: list[Section] = []
    if len(report.totals) == 1:
        # One currency: every stage, empty ones too, so the shape of the funnel shows.
        items = [row_text(row) for row in report.rows]
        ((currency, (count, total, weighted)),) = report.totals.items()
        fields = [
            Field(t("pipeline.open_deals"), str(count)),
            Field(t("pipeline.total"), fmt.money(total, currency, t)),
            Field(t("pipeline.weighted"), fmt.money(weighted, currency, t)),
        ]
    else:
        # Amounts in different currencies are never added up: one summary and section each.
        for currency, (count, total, weighted) in report.totals.items():
            summary = t(
                "pipeline.summary",
                count=count,
                total=fmt.money(total, currency, t),
                weighted=fmt.money(weighted, currency, t),
            )
            fields.append(Field(currency, summary))
            rows = [row_text(r) for r in report.rows if r.currency == currency and r.count]
            sections.append(Section(currency, rows))
    text = (
        t("pipeline.without_amount", count=report.without_amount) if report.without_amount else ""
    )
    return Reply(
        title=t(scope), items=items, fields=fields, sections=sections, text=text, shareable=True
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 60
VERBS = [
    Verb(
        "pipeline",
        pipeline,
        args=(),
        examples=("pipeline", "管道"),
        writes=False,
        aliases=("管道", "销售管道"),
    ),
]
