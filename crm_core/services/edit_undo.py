"""Undo of one edit of a customer, contact or deal, from its audit entry via its service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm_core import audit
from crm_core.access import customer_filter
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound
from crm_core.models import AuditEntry, Contact, Customer, Deal, User
from crm_core.services import contacts, customers, deals

Record = Customer | Contact | Deal
Changed = dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Messages:
    """The catalogue keys an undo answers with (the deal verb keeps its own wording)."""

    not_found: str = "error.edit_not_found"
    undone: str = "error.edit_undone"
    changed_since: str = "error.edit_changed_since"


DEAL_MESSAGES = Messages(
    "error.deal_edit_not_found", "error.deal_edit_undone", "error.deal_edit_changed_since"
)


@dataclass
class Undone:
    """What an undo put back: the record and each field before → after."""

    record: Record
    changed: Changed


def _clear(value: Any) -> Any:
    # The services read None as "leave as is" and "" as "clear".
    return "" if value is None else value


def _custom(values: dict[str, Any]) -> dict[str, Any]:
    """The custom field values among an entry's fields, by field name."""
    n = len(audit.CUSTOM_PREFIX)
    return {k[n:]: v for k, v in values.items() if k.startswith(audit.CUSTOM_PREFIX)}


def _put_customer(ctx: Ctx, customer: Any, values: dict[str, Any]) -> Changed:
    changed, _ = customers.update_customer(
        ctx,
        customer,
        name=values.get("name"),
        industry=_clear(values["industry"]) if "industry" in values else None,
        city=_clear(values["city"]) if "city" in values else None,
        tags=list(values["tags"] or []) if "tags" in values else None,
        custom=_custom(values),
        action="customer.undo_edit",
    )
    return changed


def _put_contact(ctx: Ctx, contact: Any, values: dict[str, Any]) -> Changed:
    birthday: str | date | None = None
    if "birthday" in values:
        birthday = date.fromisoformat(values["birthday"]) if values["birthday"] else ""
    changed, _ = contacts.update_contact(
        ctx,
        contact,
        name=values.get("name"),
        title=_clear(values["title"]) if "title" in values else None,
        email=_clear(values["email"]) if "email" in values else None,
        phone=_clear(values["phone"]) if "phone" in values else None,
        birthday=birthday,
        custom=_custom(values),
        action="contact.undo_edit",
    )
    return changed


def _put_deal(ctx: Ctx, deal: Any, values: dict[str, Any]) -> Changed:
    kwargs: dict[str, Any] = {"custom": _custom(values)}
    for key, before in values.items():
        if key.startswith(audit.CUSTOM_PREFIX):
            continue
        if key == "amount":
            kwargs["amount"] = Decimal(before) if before is not None else None
        elif key == "expected_close":
            kwargs["expected_close"] = date.fromisoformat(before) if before else None
        elif key == "owner_id":
            owner = ctx.session.get(User, before)
            if owner is None:
                raise Invalid(DEAL_MESSAGES.changed_since, title=deal.title, id=deal.id)
            kwargs["owner"] = owner
        else:
            kwargs[key] = before
    changed, _ = deals.update_deal(ctx, deal, action="deal.undo_edit", **kwargs)
    return changed


@dataclass(frozen=True)
class _Kind:
    table: str
    model: type[Record]
    fields: tuple[str, ...]
    put: Callable[[Ctx, Any, dict[str, Any]], Changed]


# Each undoable edit action: its table, the fields an edit may change, and how to put them back.
KINDS = {
    "customer.update": _Kind(
        "customers", Customer, ("name", "industry", "city", "tags"), _put_customer
    ),
    "contact.update": _Kind(
        "contacts", Contact, ("name", "title", "email", "phone", "birthday"), _put_contact
    ),
    "deal.update": _Kind("deals", Deal, deals.EDITABLE, _put_deal),
}


def _visible(ctx: Ctx, kind: _Kind, entity_id: int) -> Record | None:
    """The record, if it still exists in a book the actor may see."""
    model: Any = kind.model
    query = select(model).where(model.id == entity_id)
    if model is not Customer:
        query = query.join(Customer, Customer.id == model.customer_id)
    record: Record | None = ctx.session.scalar(query.where(customer_filter(ctx.actor)))
    return record


def undo_edit(
    ctx: Ctx,
    entry_id: int,
    *,
    actions: tuple[str, ...] = tuple(KINDS),
    messages: Messages = Messages(),
) -> Undone:
    """Put back what the edit `entry_id` changed, if nothing has changed it since.

    The record's own update service writes it, so its lock, access check, rules and audit
    (as `<record>.undo_edit`) apply.
    """
    entry = ctx.session.get(AuditEntry, entry_id)
    kind = KINDS.get(entry.action) if entry is not None and entry.action in actions else None
    if entry is None or kind is None or entry.entity_type != kind.table:
        raise NotFound(messages.not_found, id=entry_id)
    record = _visible(ctx, kind, entry.entity_id)
    if record is None:
        # Another book's record (or a deleted one) answers like an edit that never was.
        raise NotFound(messages.not_found, id=entry_id)
    lock_for_update(ctx.session, record)
    name = record.title if isinstance(record, Deal) else record.name
    fields = {
        k: v
        for k, v in entry.changes.items()
        if k in kind.fields or k.startswith(audit.CUSTOM_PREFIX)
    }
    now = audit.snapshot(record)
    if all(now.get(k) == before for k, (before, _) in fields.items()):
        raise Invalid(messages.undone, name=name, title=name)
    if any(now.get(k) != after for k, (_, after) in fields.items()):
        raise Invalid(messages.changed_since, name=name, title=name, id=record.id)
    changed = kind.put(ctx, record, {k: before for k, (before, _) in fields.items()})
    return Undone(record, changed)
