"""reassign: hand a customer (with its open deals and reminders) to a colleague."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.resolve import ref_id, resolve_customer, resolve_user, tombstone
from crm_core.services.reassign import Leftovers, reassign_customer
from crm_core.text import char_view
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply

# `Acme to @bob with deals`, `华东物流 给 @bob 连同商机`, `华东物流 @bob`.
_LINE = re.compile(
    r"^(?P<customer>.+?)\s*(?:\s(?:to)\s+|给|→)?\s*@(?P<user>[^\s@]+)"
    r"(?P<deals>\s+(?:with\s+(?:its\s+)?(?:open\s+)?deals|连同商机|和商机|含商机))?\s*$",
    re.I | re.S,
)
_TO = re.compile(r"^(?P<customer>.+?)\s+to\s+(?P<user>\S+)(?P<deals>\s+with\s+deals)?\s*$", re.I)


def leftovers_text(t: Translator, left: Leftovers, old: str, new: str) -> str:
    """`@ben has no customer left but still holds ...`, with the command that moves each."""
    parts = []
    if left.tickets:
        ids = ", ".join(f"#{i}" for i in left.tickets)
        parts.append(
            t(
                "reassign.left.tickets",
                count=len(left.tickets),
                ids=ids,
                first=left.tickets[0],
                new=new,
            )
        )
    if left.deals:
        ids = ", ".join(f"#{i}" for i in left.deals)
        parts.append(
            t("reassign.left.deals", count=len(left.deals), ids=ids, first=left.deals[0], new=new)
        )
    if left.reminders:
        ids = ", ".join(f"#{i}" for i in left.reminders)
        parts.append(
            t(
                "reassign.left.reminders",
                count=len(left.reminders),
                ids=ids,
                first=left.reminders[0],
                new=new,
            )
        )
    return t("reassign.left", old=old, what="; ".join(parts))


def reassign(req: Request) -> Reply:
    """`reassign Acme to @bob [with deals]`: managers within their team, admins anyone."""
    t, ctx = req.t, req.ctx
    # Matched in the `char_view` (給 is 给, 連同商機 is 连同商机); names cut from the typed text.
    args = req.args.strip()
    view = char_view(args)
    m = _LINE.match(view) or _TO.match(view)
    if m is None:
        raise Invalid("usage.reassign")
    said = args[m.start("customer") : m.end("customer")].strip()
    said_id = ref_id(said)
    gone = tombstone(ctx, said_id) if said_id is not None else None
    customer = resolve_customer(ctx, said)
    if gone is None and ctx.redirects:
        gone = tombstone(ctx, ctx.redirects[-1].old_id)
    owner = resolve_user(ctx, args[m.start("user") : m.end("user")])
    if gone is not None:
        # A merged-away number opens its survivor, often someone else's customer: moving that
        # is never what "reassign the duplicate" meant, so say so and name the command.
        raise Invalid(
            "error.reassign_tombstone",
            id=gone.id,
            name=gone.name,
            into=customer.id,
            survivor=customer.name,
            handle=f"@{owner.external_id}",
        )
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
    old, new = f"@{done.old_owner.external_id}", f"@{done.new_owner.external_id}"
    if done.left:
        # The last customer went: say what still names the old owner, before they leave.
        text += " " + leftovers_text(t, done.left, old, new)
    elif done.tickets_assigned:
        ids = ", ".join(f"#{k.id}" for k in done.tickets_assigned)
        first = done.tickets_assigned[0].id
        text += " " + t(
            "reassign.tickets_assigned",
            count=len(done.tickets_assigned),
            tickets=ids,
            old=old,
            command=f"assign #{first} to {new}",
        )
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
