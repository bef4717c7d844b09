"""Verbs about deals: deals, new deal, move."""

from __future__ import annotations

import re

from crm_core.errors import Invalid, PermissionDenied
from crm_core.marketing import scores
from crm_core.models import Deal, Role
from crm_core.resolve import resolve_customer, resolve_deal, resolve_user
from crm_core.services import deals as svc
from crm_core.services.products import find_product, resolve_product
from crm_core.when import parse_day
from handlers import format as fmt
from handlers.args import Arg, Kind, option_words, read_stage
from handlers.grammar import (
    said_yuan,
    split_colon,
    take_amount,
    take_keywords,
    unquote,
    unread_amount,
)
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

MY_DEALS_LIMIT = 25
NEW_DEAL_ARGS = (
    Arg("customer", Kind.name),
    Arg("title", Kind.text, sep=": "),
    Arg("amount", Kind.amount, optional=True),
    Arg(
        "close",
        Kind.day,
        optional=True,
        keyword="close",
        also=("closes", "closing", "预计成交", "成交"),
    ),
    Arg("stage", Kind.stage, optional=True, keyword="stage", also=("阶段",)),
    Arg("owner", Kind.user, optional=True, keyword="owner", also=("负责人",), label="user"),
    Arg("product", Kind.name, optional=True, keyword="product", also=("产品",)),
)
DEAL_KEYWORDS = option_words(NEW_DEAL_ARGS)
# "12 units GTX Pro", "3 x MG Special", "12台 GTX Pro": a quantity of a product as the title.
_UNITS = re.compile(r"^(\d{1,7})\s*(?:units?|pcs|x|×|台|个|件|套)\s*(?:of\s+)?(.+)$", re.I)
# `deals sort score`, `商机 按评分`: the open deals likeliest to be won first.
_SORT_SCORE = re.compile(
    r"^(?:sort\s+(?:by\s+)?score|by\s+score|按评分(?:排序)?|按評分(?:排序)?)$", re.I
)
# "move X to Y" in English; 到 / 至 in Chinese.
_TO = re.compile(r"\s+to\s+|\s*(?:到|至)\s*", re.I)


def deals(req: Request) -> Reply:
    """A customer's deals, or (with no customer) the user's open deals by expected close."""
    t, ctx = req.t, req.ctx
    if _SORT_SCORE.match(req.args.strip()):
        ranked = scores.open_deals_by_score(ctx, limit=MY_DEALS_LIMIT)
        if not ranked:
            return Reply(text=t("deals.none"), status="info")
        return Reply(
            title=t("deals.title_score", count=len(ranked)),
            items=[fmt.deal_line(t, d, with_customer=c, score=s.score) for d, c, s in ranked],
            buttons=[
                Button.run(t("button.score", score=s.score), f"score #{d.id}")
                for d, _, s in ranked[:3]
            ],
        )
    if req.args:
        customer = resolve_customer(ctx, req.args)
        rows = svc.customer_deals(ctx, customer)
        if not rows:
            return Reply(text=t("deals.none_for", customer=customer.name), status="info")
        open_rows = [d for d in rows if ctx.pipeline.is_open(d.stage)]
        scored = scores.score_deals(ctx, open_rows)
        return Reply(
            title=t("deals.title_for", customer=customer.name, count=len(rows)),
            items=[fmt.deal_line(t, d, score=_score(scored, d)) for d in rows],
            buttons=[
                Button.run(t("button.move", deal=d.title), f"move #{d.id}") for d in open_rows[:5]
            ],
            shareable=True,
        )
    mine = svc.open_deals(ctx, limit=MY_DEALS_LIMIT)
    if not mine:
        return Reply(text=t("deals.none"), status="info")
    scored = scores.score_deals(ctx, [d for d, _ in mine])
    return Reply(
        title=t("deals.title_open", count=len(mine)),
        items=[fmt.deal_line(t, d, with_customer=c, score=_score(scored, d)) for d, c in mine],
    )


def _score(scored: dict[int, scores.Score], deal: Deal) -> int | None:
    found = scored.get(deal.id)
    return found.score if found is not None else None


def new_deal(req: Request) -> Reply:
    """Open a deal: `new deal Acme: Fleet renewal 48000 USD close 2026-12-15`."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head or not body:
        raise Invalid("usage.new_deal")
    lead, opts = take_keywords(body, DEAL_KEYWORDS)
    if lead.startswith(('"', "“")):
        title, rest = unquote(lead)
        money_text = rest
        leftover, amount, currency = take_amount(rest) if rest else ("", None, None)
        if leftover or (rest and amount is None):
            raise Invalid("error.amount_invalid", value=rest)
    else:
        money_text = lead
        title, amount, currency = take_amount(lead)
        # Money that was not read would end up in the title: refused, nothing written.
        unread = unread_amount(title) if amount is None else None
        if unread is not None:
            raise Invalid("error.amount_invalid", value=unread)
    if not title:
        raise Invalid("usage.new_deal")
    for key, value in opts.items():
        if not value:
            raise Invalid("error.option_empty", option=key, usage=t("usage.new_deal"))
    close = None
    if "close" in opts:
        close = parse_day(opts["close"], ctx.tz, ctx.now(), day_first=ctx.day_first)
        if close is None:
            raise Invalid("error.date_invalid", value=opts["close"])
        # A new deal is open: a close already past is refused with the day to type instead.
        close = svc.check_close_ahead(ctx, close)
    stage = read_stage(ctx.pipeline, opts["stage"]) if "stage" in opts else None
    owner = resolve_user(ctx, opts["owner"]) if "owner" in opts else None
    product = resolve_product(ctx, opts["product"]) if "product" in opts else None
    quantity = None
    units = _UNITS.match(title)
    if units:
        named = find_product(ctx, units.group(2)) if product is None else product
        if named is not None:
            product, quantity = named, int(units.group(1))
    customer = resolve_customer(ctx, head)
    if amount is not None and said_yuan(money_text):
        # 元 is the reader's yuan: NT$ to a Taiwan rep, the customer's own when it deals in one.
        currency = svc.yuan_currency(ctx, customer)
    elif amount is not None and currency is None:
        # "48000" alone: the customer's own currency, as a loose "new deal" card proposes.
        currency = svc.local_currency(ctx, customer)
    deal = svc.create_deal(
        ctx,
        customer,
        title,
        amount=amount,
        currency=currency,
        expected_close=close,
        stage=stage,
        owner=owner,
        product=product,
        quantity=quantity,
    )
    return Reply(
        text=t("new_deal.done", deal=fmt.deal_line(t, deal), customer=customer.name),
        buttons=_stage_buttons(req, deal),
    )


def _stage_buttons(req: Request, deal: Deal) -> list[Button]:
    t = req.t
    stage = req.ctx.pipeline.get(deal.stage)
    if stage is not None and stage.closed and req.ctx.actor.role == Role.rep:
        # Only a manager or an admin may reopen a won or lost deal (services.deals.move_deal):
        # a rep is offered the deal's card, not moves that would be refused.
        return [Button.run(t("button.open"), f"deal #{deal.id}", "primary")]
    return [
        Button.run(
            t("button.move_to", stage=fmt.stage(t, s.name)),
            f"move #{deal.id} to {s.name}",
            "danger" if s.lost else ("primary" if s.won else None),
        )
        for s in req.ctx.pipeline.next_stages(deal.stage)
    ]


def move(req: Request) -> Reply:
    """Move a deal: `move Fleet renewal to negotiation`, `move X to lost: price`."""
    t, ctx = req.t, req.ctx
    head, reason = split_colon(req.args)
    if not head:
        raise Invalid("usage.move")
    # The last "to" splits: deal titles may contain "to", stage names do not.
    hits = list(_TO.finditer(head))
    parts = [head[: hits[-1].start()], head[hits[-1].end() :]] if hits else [head]
    deal_q = parts[0].strip()
    customer = None
    if " / " in deal_q:
        cust_q, deal_q = (p.strip() for p in deal_q.split(" / ", 1))
        customer = resolve_customer(ctx, cust_q)
    if not deal_q:
        raise Invalid("usage.move")
    said_stage = parts[1].strip() if len(parts) > 1 else ""
    target = read_stage(ctx.pipeline, said_stage) if said_stage else None
    # Only open deals are offered; a closed one is moved only when named exactly.
    deal = resolve_deal(ctx, deal_q, customer=customer, open_only=True, not_at=target)
    if target is None:
        if svc.is_closed(ctx, deal) and ctx.actor.role == Role.rep:
            # No stage to offer a rep on a won or lost deal: say who may reopen it, at once.
            raise PermissionDenied("error.deal_reopen_denied", title=deal.title, stage=deal.stage)
        return Reply(
            text=t("move.pick_stage", deal=fmt.deal_line(t, deal)),
            buttons=_stage_buttons(req, deal),
            status="info",
        )
    stage = ctx.pipeline.get(target)
    if stage is not None and stage.lost and not (reason or "").strip() and deal.stage != target:
        # Asked back with the deal as it was named ("Acme / Label printers pilot"), so the
        # line to type names the same deal and not a namesake at another customer.
        raise Invalid(
            "error.lost_reason_missing",
            title=deal.title,
            named=parts[0].strip(),
            stage=stage.name,
        )
    change = svc.move_deal(ctx, deal, target, reason=reason)
    text = t(
        "move.done",
        deal=deal.title,
        customer=deal.customer.name,
        before=fmt.stage(t, change.from_stage or ""),
        after=fmt.stage(t, change.to_stage),
    )
    return Reply(text=text, buttons=_stage_buttons(req, deal))


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 50
VERBS = [
    Verb(
        "deals",
        deals,
        args=(Arg("customer", Kind.name, optional=True),),
        examples=("deals Acme", "deals", "deals sort score", "商机 华东物流"),
        writes=False,
        aliases=("商机",),
    ),
    Verb(
        "new deal",
        new_deal,
        args=NEW_DEAL_ARGS,
        examples=(
            "new deal Acme: Fleet renewal 48000 USD close 2026-12-15",
            'new deal Acme: "Renewal 2027" 12k EUR stage qualified',
            "新商机 华东物流：仓储系统 50万 元 预计成交 2026-12-31",
        ),
        writes=True,
        aliases=("add deal", "新商机", "新建商机"),
        menu="new_deal",
    ),
    Verb(
        "move",
        move,
        args=(
            Arg("deal", Kind.name),
            Arg("stage", Kind.stage, optional=True, keyword="to", also=("到", "至")),
            Arg("reason", Kind.text, optional=True, sep=": "),
        ),
        examples=(
            "move Fleet renewal to negotiation",
            "move Acme / Fleet renewal to lost: price",
            "推进 仓储系统 到 谈判",
        ),
        writes=True,
        aliases=("推进",),
    ),
]
