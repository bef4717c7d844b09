"""Contacts: the people at a customer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from crm_core import audit, rules
from crm_core.access import ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid
from crm_core.models import AuditEntry, Contact, Customer, Interaction
from crm_core.services import custom_fields, write_locks
from crm_core.text import fold

_PHONE = re.compile(r"^\+?[\d\s().\-/]{6,30}$")

# A birthday typed without a year is stored in 1904: a leap year, so Feb 29 fits. The digest
# compares only month and day, so the stored year never shows.
NO_YEAR = 1904
_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})$")
_ZH = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:\s+(\d{4}))?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?$")


def parse_birthday(text: str) -> date:
    """`1984-05-03`, `05-03`, `May 3`, `3 May 1984`, `5月3日`, `1984年5月3日` as a date.

    A birthday without a year gets the year NO_YEAR; a day that does not exist is refused.
    """
    value = " ".join(text.split()).casefold()
    year = month = day = None
    if found := _ISO.match(value) or _ZH.match(value):
        year, month, day = found.group(1), found.group(2), found.group(3)
    elif (found := _MONTH_DAY.match(value)) and found.group(1) in _MONTHS:
        month, day, year = str(_MONTHS[found.group(1)]), found.group(2), found.group(3)
    elif (found := _DAY_MONTH.match(value)) and found.group(2) in _MONTHS:
        day, month, year = found.group(1), str(_MONTHS[found.group(2)]), found.group(3)
    if month is None or day is None:
        raise Invalid("error.contact_birthday_invalid", value=text.strip())
    try:
        born = date(int(year) if year else NO_YEAR, int(month), int(day))
    except ValueError:
        raise Invalid("error.contact_birthday_invalid", value=text.strip()) from None
    if born.year < 1900:
        raise Invalid("error.contact_birthday_invalid", value=text.strip())
    return born


def looks_like_email(value: str) -> bool:
    """Whether `value` is shaped like an email address."""
    return bool(rules.EMAIL.match(value.strip()))


def looks_like_phone(value: str) -> bool:
    """Whether `value` is shaped like a phone number (at least seven digits)."""
    value = value.strip()
    return bool(_PHONE.match(value)) and sum(ch.isdigit() for ch in value) >= 7


def add_contact(
    ctx: Ctx,
    customer: Customer,
    name: str,
    *,
    title: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    birthday: date | None = None,
) -> Contact:
    """Add a contact to a customer the actor may change; the same person twice is refused."""
    ensure_customer_access(ctx.actor, customer)
    name = rules.name("name", name, 200)
    if not name:
        raise Invalid("error.contact_name_missing")
    title = rules.optional("title", title, 200)
    email = rules.email(rules.optional("email", email, 320))
    phone = rules.optional("phone", phone, 64)
    if phone and not looks_like_phone(phone):
        raise Invalid("error.contact_phone_invalid", value=phone)
    # Two adds to one customer at once: the second waits for the first, then compares with it.
    write_locks.hold(ctx.session, "customer-contacts", customer.id)
    for other in ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)):
        same_email = bool(email and other.email and other.email.casefold() == email.casefold())
        if same_email or fold(other.name) == fold(name):
            raise Invalid("error.contact_exists", name=other.name, customer=customer.name)
    contact = Contact(
        customer_id=customer.id,
        name=name,
        title=(title or "").strip() or None,
        email=(email or "").strip() or None,
        phone=(phone or "").strip() or None,
        birthday=birthday,
        created_at=ctx.now(),
    )
    ctx.session.add(contact)
    audit.record(ctx.session, ctx.actor, "contact.create", contact, None)
    return contact


def check_title(value: str) -> str | None:
    """A contact's title as stored ("" clears it)."""
    return rules.optional("title", value, 200)


def check_email(value: str) -> str | None:
    """A contact's email as stored ("" clears it); one not shaped like an email is refused."""
    return rules.email(rules.optional("email", value, 320))


def check_phone(value: str) -> str | None:
    """A contact's phone as stored ("" clears it); one with too few digits is refused."""
    phone = rules.optional("phone", value, 64)
    if phone and not looks_like_phone(phone):
        raise Invalid("error.contact_phone_invalid", value=phone)
    return phone


def check_birthday(value: str) -> date | None:
    """A birthday as `contact add` reads it, with or without a year ("" clears it)."""
    return parse_birthday(value) if value.strip() else None


def check_contact_name(value: str) -> str:
    """A contact's name: required, one line."""
    name = rules.name("name", value, 200)
    if not name:
        raise Invalid("error.contact_name_missing")
    return name


def update_contact(
    ctx: Ctx,
    contact: Contact,
    *,
    name: str | None = None,
    title: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    birthday: str | date | None = None,
    custom: Mapping[str, Any] | None = None,
    action: str = "contact.update",
) -> tuple[dict[str, tuple[Any, Any]], int | None]:
    """Change the given fields (None: leave as is; "" clears all but the name).

    `custom` sets custom field values by field name (None or "" clears one).

    A birthday comes as typed text or, from an undo, as the stored day. Returns
    {field: (before, after)} for what changed and the audit entry's id (None when nothing
    changed); the audit entry records the same.
    """
    ensure_customer_access(ctx.actor, contact.customer)
    # Two people editing one contact queue up: each compares against what is stored now.
    lock_for_update(ctx.session, contact)
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = check_contact_name(name)
    if title is not None:
        wanted["title"] = check_title(title)
    if email is not None:
        wanted["email"] = check_email(email)
    if phone is not None:
        wanted["phone"] = check_phone(phone)
    if birthday is not None:
        wanted["birthday"] = birthday if isinstance(birthday, date) else check_birthday(birthday)
    wanted.update(custom_fields.wanted(ctx, "contact", custom or {}))
    changed = audit.changed_fields(contact, wanted)
    if not changed:
        return {}, None
    others = ctx.session.scalars(
        select(Contact).where(Contact.customer_id == contact.customer_id, Contact.id != contact.id)
    )
    for other in others:
        new_email = changed.get("email", (None, None))[1]
        same_email = bool(
            new_email and other.email and other.email.casefold() == new_email.casefold()
        )
        same_name = "name" in changed and fold(other.name) == fold(changed["name"][1])
        if same_email or same_name:
            raise Invalid("error.contact_exists", name=other.name, customer=contact.customer.name)
    return changed, audit.apply_changes(ctx.session, ctx.actor, action, contact, changed)


def contact_notes(ctx: Ctx, contact: Contact) -> int:
    """How many notes name this contact (live or undone): what its removal unlinks."""
    ensure_customer_access(ctx.actor, contact.customer)
    count = ctx.session.scalar(
        select(func.count()).select_from(Interaction).where(Interaction.contact_id == contact.id)
    )
    return int(count or 0)


def remove_contact(ctx: Ctx, contact: Contact) -> int:
    """Remove a contact of a customer the actor may change; returns how many notes it unlinks.

    Whoever may edit the contact may remove it (its customer's owner, their manager, an
    admin): a wrong or duplicate person is the rep's own data to fix. The notes that named the
    contact stay on the customer, unlinked; one audit entry keeps every removed value and the
    note ids, on the customer's history.
    """
    ensure_customer_access(ctx.actor, contact.customer)
    # A second removal or an edit at the same moment waits, then finds the row gone or changed.
    lock_for_update(ctx.session, contact)
    s = ctx.session
    notes = sorted(
        s.scalars(select(Interaction.id).where(Interaction.contact_id == contact.id)).all()
    )
    values = audit.snapshot(contact)
    values["note_ids"] = notes
    s.execute(
        update(Interaction)
        .where(Interaction.contact_id == contact.id)
        .values(contact_id=None)
        .execution_options(synchronize_session=False)
    )
    s.add(
        AuditEntry(
            actor_id=ctx.actor.id,
            action="contact.delete",
            entity_type="contacts",
            entity_id=contact.id,
            changes={k: [v, None] for k, v in values.items()},
            customer_id=contact.customer_id,
        )
    )
    s.delete(contact)
    s.flush()
    return len(notes)
