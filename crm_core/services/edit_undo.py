"""Undo of one edit of a customer, contact or deal, from its audit entry via its service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from crm_core import audit
from crm_core.access import customer_filter
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound
from crm_core.models import AuditEntry, Contact, Customer, Deal
from crm_core.services import contacts, customers, deals

# The edit actions that can be undone, with the table each one's entry names.
UNDOABLE = {
    "customer.update": "customers",
    "contact.update": "contacts",
    "deal.update": "deals",
}
CUSTOMER_FIELDS = ("name", "industry", "city", "tags")
CONTACT_FIELDS = ("name", "title", "email", "phone", "birthday")


@dataclass
class Undone:
    """What an undo put back: the kind of record, the record and each field before → after."""

    kind: str
    record: Customer | Contact | Deal
    changed: dict[str, tuple[Any, Any]]


def _entry(ctx: Ctx, entry_id: int) -> AuditEntry:
    entry = ctx.session.get(AuditEntry, entry_id)
    if entry is None or UNDOABLE.get(entry.action) != entry.entity_type:
        raise NotFound("error.edit_not_found", id=entry_id)
    return entry


def _fields(
    ctx: Ctx, entry: AuditEntry, record: Customer | Contact, keys: tuple[str, ...], name: str
) -> dict[str, Any]:
    """The before values to put back; refuses an edit already undone or changed since."""
    lock_for_update(ctx.session, record)
    fields = {k: v for k, v in entry.changes.items() if k in keys}
    now = audit.snapshot(record)
    if all(now.get(k) == before for k, (before, _) in fields.items()):
        raise Invalid("error.edit_undone", name=name)
    if any(now.get(k) != after for k, (_, after) in fields.items()):
        raise Invalid("error.edit_changed_since", name=name)
    return {k: before for k, (before, _) in fields.items()}


def _undo_customer(ctx: Ctx, entry: AuditEntry) -> Undone:
    customer = ctx.session.scalar(
        select(Customer).where(Customer.id == entry.entity_id, customer_filter(ctx.actor))
    )
    if customer is None:
        # Another book's customer (or a deleted one) answers like an edit that never was.
        raise NotFound("error.edit_not_found", id=entry.id)
    values = _fields(ctx, entry, customer, CUSTOMER_FIELDS, customer.name)
    changed, _ = customers.update_customer(
        ctx,
        customer,
        name=values.get("name"),
        # "" clears: the service reads None as "leave as is".
        industry=values["industry"] or "" if "industry" in values else None,
        city=values["city"] or "" if "city" in values else None,
        tags=list(values["tags"] or []) if "tags" in values else None,
        action="customer.undo_edit",
    )
    return Undone("customer", customer, changed)


def _undo_contact(ctx: Ctx, entry: AuditEntry) -> Undone:
    contact = ctx.session.scalar(
        select(Contact)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.id == entry.entity_id, customer_filter(ctx.actor))
    )
    if contact is None:
        raise NotFound("error.edit_not_found", id=entry.id)
    values = _fields(ctx, entry, contact, CONTACT_FIELDS, contact.name)
    birthday: str | date | None = None
    if "birthday" in values:
        birthday = date.fromisoformat(values["birthday"]) if values["birthday"] else ""
    changed, _ = contacts.update_contact(
        ctx,
        contact,
        name=values.get("name"),
        title=values["title"] or "" if "title" in values else None,
        email=values["email"] or "" if "email" in values else None,
        phone=values["phone"] or "" if "phone" in values else None,
        birthday=birthday,
        action="contact.undo_edit",
    )
    return Undone("contact", contact, changed)


def undo_edit(ctx: Ctx, entry_id: int) -> Undone:
    """Put back what the edit `entry_id` changed, if nothing has changed it since."""
    entry = _entry(ctx, entry_id)
    if entry.action == "customer.update":
        return _undo_customer(ctx, entry)
    if entry.action == "contact.update":
        return _undo_contact(ctx, entry)
    deal, changed = deals.undo_deal_edit(ctx, entry_id)
    return Undone("deal", deal, changed)
