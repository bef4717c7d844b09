"""Deal scores: `score #12`, the likelihood a deal is won with the reasons in words."""

from __future__ import annotations

from typing import Any

from crm_core.errors import Invalid
from crm_core.marketing import scores as svc
from crm_core.models import Deal
from crm_core.resolve import resolve_customer, resolve_deal
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section


def _value(t: Translator, factor: svc.Factor, names: dict[tuple[str, Any], str]) -> str:
    """The factor's value as its sentence quotes it."""
    if factor.feature in ("product", "owner", "team"):
        return names.get((factor.feature, factor.value), f"#{factor.value}")
    if factor.feature == "stage":
        return fmt.stage(t, str(factor.value))
    if factor.feature == "amount":
        low, high = factor.value
        if high is None:
            return t("score.amount_over", low=f"{low:,.0f}")
        return f"{low:,.0f}–{high:,.0f}"
    return str(factor.value)


def factor_text(t: Translator, factor: svc.Factor, names: dict[tuple[str, Any], str]) -> str:
    """One factor in words, with the win rate it rests on and the book's."""
    text = t(
        f"score.factor.{factor.feature}",
        value=_value(t, factor, names),
        rate=round(factor.rate * 100),
    )
    return t("score.vs_base", text=text, base=round(factor.base * 100))


def factors_json(
    t: Translator, score: svc.Score, names: dict[tuple[str, Any], str]
) -> list[dict[str, Any]]:
    """The raising factors then the lowering ones, as {"text", "weight"} (log-odds)."""
    return [
        {"text": factor_text(t, f, names), "weight": round(f.weight, 4), "feature": f.feature}
        for f in [*score.up, *score.down]
    ]


def score(req: Request) -> Reply:
    """Show an open deal's score (1-99) and the three factors that raise and lower it most."""
    t, ctx = req.t, req.ctx
    if not req.args.strip():
        raise Invalid("usage.score")
    customer = None
    query = req.args.strip()
    if " / " in query:
        cust_q, query = (p.strip() for p in query.split(" / ", 1))
        customer = resolve_customer(ctx, cust_q)
    deal = resolve_deal(ctx, query, customer=customer)
    if not ctx.pipeline.is_open(deal.stage):
        return Reply(
            text=t("score.closed", id=deal.id, title=deal.title, stage=fmt.stage(t, deal.stage)),
            status="info",
        )
    result = svc.score_deal(ctx, deal)
    return score_reply(req, deal, result)


def score_reply(req: Request, deal: Deal, result: svc.Score) -> Reply:
    """The score card of one deal."""
    t, ctx = req.t, req.ctx
    names = svc.names(ctx.session, result.terms)
    data: dict[str, Any] = {
        "deal": deal.id,
        "score": result.score,
        "source": result.source,
        "factors": factors_json(t, result, names),
    }
    fields = [
        Field(t("field.score"), t("score.of", score=result.score)),
        Field(t("field.stage"), fmt.stage(t, deal.stage)),
    ]
    if result.source == "stage":
        text = t(
            "score.too_few",
            won=result.won,
            lost=result.lost,
            min_won=result.min_won,
            min_lost=result.min_lost,
            stage=fmt.stage(t, deal.stage),
        )
        return Reply(
            title=t("score.title", id=deal.id, title=deal.title, score=result.score),
            text=text,
            fields=fields,
            buttons=[Button.run(t("button.open_deal", deal=deal.title), f"deal #{deal.id}")],
            data=data,
        )
    sections = [
        Section(t("score.up"), [factor_text(t, f, names) for f in result.up] or [t("card.none")]),
        Section(
            t("score.down"), [factor_text(t, f, names) for f in result.down] or [t("card.none")]
        ),
    ]
    return Reply(
        title=t("score.title", id=deal.id, title=deal.title, score=result.score),
        text=t("score.learned", won=result.won, lost=result.lost),
        fields=fields,
        sections=sections,
        buttons=[Button.run(t("button.open_deal", deal=deal.title), f"deal #{deal.id}")],
        shareable=True,
        data=data,
    )


# In help after the deal verbs and their edits, before products.
ORDER = 54
VERBS = [
    Verb(
        "score",
        score,
        args=(Arg("deal", Kind.name),),
        examples=("score #12", "score Fleet renewal", "评分 #12"),
        writes=False,
        aliases=("评分", "赢单评分"),
    ),
]
