"""The deal card: `deal #12`, `deal Fleet renewal`, with its history, notes and reminders."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.marketing import scores
from crm_core.models import Role
from crm_core.resolve import resolve_customer, resolve_deal
from crm_core.services import deals as svc
from handlers import custom
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section


def deal(req: Request) -> Reply:
    """Show one deal: customer, owner, amount, close, stage and time in it, history, notes."""
    t, ctx = req.t, req.ctx
    if not req.args.strip():
        raise Invalid("usage.deal")
    customer = None
    query = req.args
    if " / " in query:
        # "Acme / Fleet renewal" names the deal within one customer, as `move` does.
        cust_q, query = (p.strip() for p in query.split(" / ", 1))
        customer = resolve_customer(ctx, cust_q)
    found = resolve_deal(ctx, query, customer=customer)
    card = svc.deal_card(ctx, found)
    d, tz = card.deal, ctx.tz
    days = (ctx.now().astimezone(tz).date() - card.stage_since.astimezone(tz).date()).days
    fields = [
        Field(t("field.customer"), f"#{card.customer.id} {card.customer.name}"),
        Field(t("field.owner"), card.owner.name),
        Field(t("field.amount"), fmt.money(d.amount, d.currency, t)),
        *(
            [Field(t("field.product"), f"{d.product.name} × {d.quantity or 1}")]
            if d.product is not None
            else []
        ),
        Field(t("field.expected_close"), fmt.day(d.expected_close)),
        Field(
            t("field.stage"),
            t("deal_card.in_stage", stage=fmt.stage(t, d.stage), days=days),
        ),
    ]
    scored = scores.score_deals(ctx, [d]).get(d.id)
    if scored is not None:
        fields.append(Field(t("field.score"), t("score.of", score=scored.score)))
    if d.lost_reason:
        fields.append(Field(t("field.lost_reason"), d.lost_reason))
    fields += custom.card_fields(ctx, t, "deal", d.custom)
    history = []
    for change, mover in card.history:
        step = (
            f"{fmt.stage(t, change.from_stage)} → {fmt.stage(t, change.to_stage)}"
            if change.from_stage
            else t("deal_card.opened_in", stage=fmt.stage(t, change.to_stage))
        )
        parts = [fmt.local_day(change.changed_at, tz), step, mover or t("deal_card.someone")]
        if change.reason:
            parts.append(t("deal_card.reason", reason=change.reason))
        history.append(" · ".join(parts))
    authors = {n.author_id: n.author.name for n in card.notes}
    notes = [fmt.note_line(t, n, tz, authors[n.author_id]) for n in card.notes]
    reminders = [
        f"#{r.id} {fmt.local_time(r.due_at, tz)} · {fmt.preview(r.text)}" for r in card.reminders
    ]
    sections = [
        Section(t("deal_card.history"), history or [t("card.none")]),
        Section(t("card.recent"), notes or [t("card.none")]),
        Section(t("card.reminders"), reminders or [t("card.none")]),
    ]
    # Move is offered to whoever may press it: on an open deal anyone who may change it (a
    # rep their own); a won or lost one only a manager or an admin may reopen.
    movable = not svc.is_closed(ctx, d) or ctx.actor.role != Role.rep
    buttons = [
        *([Button.run(t("button.move_deal"), f"move #{d.id}", "primary")] if movable else []),
        Button.run(t("button.edit"), f"edit deal #{d.id}"),
        Button.run(t("button.log"), "log"),
        Button.run(t("button.remind"), "help remind"),
    ]
    if scored is not None:
        buttons.append(Button.run(t("button.score", score=scored.score), f"score #{d.id}"))
    return Reply(
        title=f"#{d.id} {d.title}",
        fields=fields,
        sections=sections,
        buttons=buttons,
        shareable=True,
    )


# Where these verbs come in help: right after the other deal verbs.
ORDER = 51
VERBS = [
    Verb(
        "deal",
        deal,
        args=(Arg("deal", Kind.name),),
        examples=("deal #12", "deal Fleet renewal", "deal Acme / Fleet renewal", "商机详情 #12"),
        writes=False,
        aliases=("商机详情", "查看商机"),
    ),
]
