"""Contacts: the people at a customer."""

from __future__ import annotations

import re

from sqlalchemy import select

from crm_core import audit
from crm_core.context import Ctx
from crm_core.errors import Invalid, check_length
from crm_core.models import Contact, Customer
from crm_core.text import fold

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{6,30}$")


def looks_like_email(value: str) -> bool:
    """Whether `value` is shaped like an email address."""
    return bool(_EMAIL.match(value.strip()))


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
) -> Contact:
    """Add a contact to a customer the actor may change; the same person twice is refused."""
    name = " ".join(name.split())
    if not name:
        raise Invalid("error.contact_name_missing")
    check_length("name", name, 200)
    check_length("title", title, 200)
    check_length("email", email, 320)
    check_length("phone", phone, 64)
    if email and not looks_like_email(email):
        raise Invalid("error.contact_email_invalid", value=email)
    if phone and not looks_like_phone(phone):
        raise Invalid("error.contact_phone_invalid", value=phone)
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
        created_at=ctx.now(),
    )
    ctx.session.add(contact)
    audit.record(ctx.session, ctx.actor, "contact.create", contact, None)
    return contact
