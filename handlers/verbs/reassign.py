"""reassign: hand a customer (with its open deals and reminders) to a colleague."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.resolve import resolve_customer, resolve_user
from crm_core.services.reassign import reassign_customer
from crm_core.text import char_view
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply

# `Acme to @bob with deals`, `华东物流 给 @bob 连同商机`, `华东物流 @bob`.
_LINE = re.compile(
    r"^(?P<customer>.+?)\s*(?:\s(?:to)\s+|给|→)?\s*@(?P<user>[^\s@]+)"
    r"(?P<deals>\s+(?:with\s+(?:its\s+)?(?:open\s+)?deals|连同商机|和商机|含商机))?\s*$",
    re.I | re.S,
)
_TO = re.compile(r"^(?P<customer>.+?)\s+to\s+(?P<user>\S+)(?P<deals>\s+with\s+deals)?\s*$", re.I)


def reassign(req: Request) -> Reply:
    """`reassign Acme to @bob [with deals]`: managers within their team, admins anyone."""
    t, ctx = req.t, req.ctx
    # Matched in the `char_view` (給 is 给, 連同商機 is 连同商机); names cut from the typed text.
    args = req.args.strip()
    view = char_view(args)
    m = _LINE.match(view) or _TO.match(view)
    if m is None:
        raise Invalid("usage.reassign")
    customer = resolve_customer(ctx, args[m.start("customer") : m.end("customer")].strip())
    owner = resolve_user(ctx, args[m.start("user") : m.end("user")])
    done = reassign_customer(ctx, customer, owner, with_deals=bool(m.group("deals")))
    text = t(
        "reassign.done",
        customer=customer.name,
        new=done.new_owner.name,
        old=done.old_owner.name,
    )
    # Say what went along and what stayed, so nobody hunts for a deal or a reminder later.
    if done.deals:
        text += " " + t("reassign.deals", count=len(done.deals))
    if done.reminders:
        text += " " + t("reassign.reminders", count=len(done.reminders), old=done.old_owner.name)
    if done.kept:
        owners = ", ".join(sorted({d.owner.name for d in done.kept}))
        text += " " + t("reassign.kept", count=len(done.kept), owners=owners)
    if done.tickets:
        ids = ", ".join(f"#{k.id}" for k in done.tickets)
        text += " " + t("reassign.tickets", count=len(done.tickets), tickets=ids)
    if done.tickets_kept:
        ids = ", ".join(f"#{k.id}" for k in done.tickets_kept)
        text += " " + t("reassign.tickets_kept", count=len(done.tickets_kept), tickets=ids)
    return Reply(
        text=text,
        fields=[Field(t("field.owner"), f"{done.old_owner.name} → {done.new_owner.name}")],
        buttons=[Button.run(t("button.open"), f"customer #{customer.id}", "primary")],
    )


# Where these verbs come in help: after the customer edits.
ORDER = 16
VERBS = [
    Verb(
        "reassign",
        reassign,
        args=(
            Arg("customer", Kind.name),
            Arg("owner", Kind.user, sep=" to "),
            Arg("deals", Kind.choice, optional=True, choices=("with deals",)),
        ),
        examples=(
            "reassign Acme to @bob",
            "reassign Acme to @bob with deals",
            "转给 华东物流 给 @bob",
        ),
        writes=True,
        aliases=("转给", "重新分配", "转交客户"),
        menu="reassign",
    ),
]
