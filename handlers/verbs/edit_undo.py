"""`undo edit #345`: put back what an edit of a customer, contact or deal changed."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.models import Contact, Customer, Deal
from crm_core.services.edit_undo import undo_edit as undo
from handlers.args import Arg, Kind, take_ref
from handlers.registry import Request, Verb
from handlers.reply import Reply
from handlers.verbs import contact_edit, customer_edit, deal_edit


def undo_edit(req: Request) -> Reply:
    """Put back what an `edit customer`, `edit contact` or `edit deal` changed (its Undo button)."""
    t, ctx = req.t, req.ctx
    rid, rest = take_ref(req.args)
    if rid is None or rest:
        raise Invalid("usage.undo_edit")
    done = undo(ctx, rid)
    record = done.record
    if isinstance(record, Customer):
        return customer_edit.edited(t, record, done.changed, done="edit_customer.undone")
    if isinstance(record, Contact):
        return contact_edit.edited(t, record, done.changed, done="edit_contact.undone")
    assert isinstance(record, Deal)
    return deal_edit.edited(t, ctx, record, done.changed, None, done="edit_deal.undone")


# Where this verb comes in help: after the edit verbs it undoes.
ORDER = 53
VERBS = [
    Verb(
        "undo edit",
        undo_edit,
        args=(Arg("change", Kind.ref, label="change number"),),
        examples=("undo edit #345", "撤销修改 #345"),
        writes=True,
        aliases=("撤销修改",),
    ),
]
