"""Archiving customers: `archive Acme` (with a confirm card) and `unarchive Acme`."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.resolve import resolve_customer
from crm_core.services import archive as svc
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply
from handlers.verbs.duplicates import ORDER as DUPLICATES_ORDER

# Taiwan's 確認 too: the card's own Confirm label in Traditional, typed back.
_CONFIRM = re.compile(r"\s+(confirm|确认|確認|cancel|取消)\s*$", re.I)
_CONFIRM_WORDS = {"confirm", "确认", "確認"}


def archive(req: Request) -> Reply:
    """`archive Acme`: a confirm card; `archive Acme confirm` archives."""
    t, ctx = req.t, req.ctx
    args, word = req.args.strip(), None
    if m := _CONFIRM.search(args):
        word = m.group(1).lower()
        args = args[: m.start()].strip()
    if not args:
        raise Invalid("usage.archive")
    if word is not None and word not in _CONFIRM_WORDS:
        return Reply(text=t("archive.cancelled"), status="info")
    customer = resolve_customer(ctx, args)
    label = f"#{customer.id} {customer.name}"
    open_card = Button.run(t("button.open"), f"customer #{customer.id}", "primary")
    if word is None:
        if customer.archived_at is not None:
            return Reply(text=t("archive.already", name=label), buttons=[open_card], status="info")
        plan = svc.plan_archive(ctx, customer)
        line = f"archive #{customer.id}"
        return Reply(
            title=t("archive.preview", name=label),
            text=" ".join(
                [t("archive.preview_note", deals=plan.open_deals, id=customer.id)]
                + (
                    [
                        t(
                            "archive.preview_tickets",
                            count=len(plan.open_tickets),
                            tickets=", ".join(f"#{n}" for n in plan.open_tickets),
                        )
                    ]
                    if plan.open_tickets
                    else []
                )
            ),
            buttons=[
                Button.run(t("button.confirm"), f"{line} confirm", "danger"),
                Button.run(t("button.cancel"), f"{line} cancel"),
            ],
            status="info",
        )
    if not svc.set_archived(ctx, customer, True):
        return Reply(text=t("archive.already", name=label), buttons=[open_card], status="info")
    return Reply(
        text=t("archive.done", name=label, id=customer.id),
        buttons=[Button.run(t("button.unarchive"), f"unarchive #{customer.id}")],
    )


def unarchive(req: Request) -> Reply:
    """`unarchive Acme`: back in every list and report."""
    t, ctx = req.t, req.ctx
    if not req.args.strip():
        raise Invalid("usage.unarchive")
    customer = resolve_customer(ctx, req.args)
    label = f"#{customer.id} {customer.name}"
    open_card = Button.run(t("button.open"), f"customer #{customer.id}", "primary")
    if not svc.set_archived(ctx, customer, False):
        return Reply(
            text=t("unarchive.not_archived", name=label), buttons=[open_card], status="info"
        )
    return Reply(text=t("unarchive.done", name=label), buttons=[open_card])


# After `duplicates` and `merge`: the other ways of keeping the book tidy.
ORDER = DUPLICATES_ORDER + 1
VERBS = [
    Verb(
        "archive",
        archive,
        args=(
            Arg("customer", Kind.name),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm", "cancel")),
        ),
        examples=("archive Acme", "归档 华东物流"),
        writes=True,
        aliases=("归档", "归档客户", "archive customer"),
        menu="archive",
    ),
    Verb(
        "unarchive",
        unarchive,
        args=(Arg("customer", Kind.name),),
        examples=("unarchive Acme", "取消归档 华东物流"),
        writes=True,
        aliases=("取消归档", "恢复客户", "unarchive customer"),
        menu="unarchive",
    ),
]
