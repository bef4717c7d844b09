"""Verbs about contacts: contact add."""

from __future__ import annotations

import re

from crm_core.context import Ctx
from crm_core.errors import Ambiguous, Invalid, NotFound
from crm_core.models import Customer
from crm_core.resolve import resolve_customer
from crm_core.services.contacts import add_contact, looks_like_phone, parse_birthday
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.grammar import split_colon, split_commas
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

_PHONEISH = re.compile(r"[\d\s+().\-/]*\d[\d\s+().\-/]*")
# `birthday 1984-05-03`, `born May 3`, `bday 05-03`, `生日 5月3日`: a keyword, then the date.
_BIRTHDAY = re.compile(r"^(?:(?:birthday|born|bday)\b|生日)\s*[:：]?\s*(.*)$", re.IGNORECASE)


# "contact add at Ironwood: ...", "add contact sa Mabuhay: ...": a word of place before the name.
_AT = re.compile(r"^(?:at|for|to|in|sa|@)\s*(?P<name>\S.*)$", re.IGNORECASE)


def _customer(ctx: Ctx, head: str) -> Customer:
    """The customer named, or named after "at"/"for"/"to"/"sa" when the whole words are none."""
    try:
        return resolve_customer(ctx, head)
    except (NotFound, Ambiguous):
        after = _AT.match(head.strip())
        if after is None:
            raise
        try:
            return resolve_customer(ctx, after.group("name"))
        except (NotFound, Ambiguous):
            pass
        raise


def contact_add(req: Request) -> Reply:
    """Add a contact: `contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101`."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head or not body:
        raise Invalid("usage.contact_add")
    parts = split_commas(body)
    if not parts:
        raise Invalid("error.contact_name_missing")
    if not re.split(r"[,，;；、]", body, maxsplit=1)[0].strip():
        # `Acme: , VP Sales`: the name was left out; the title is not a name.
        raise Invalid("error.contact_name_first", usage=t("usage.contact_add"))
    name, rest = parts[0], parts[1:]
    birthdays = [m.group(1) for p in rest if (m := _BIRTHDAY.match(p))]
    rest = [p for p in rest if not _BIRTHDAY.match(p)]
    # Anything with an @ is meant as an email, anything of digits and dialling signs as a
    # phone; the services reject the malformed ones rather than saving them as a title.
    emails = [p for p in rest if "@" in p]
    phones = [p for p in rest if "@" not in p and _PHONEISH.fullmatch(p)]
    titles = [p for p in rest if p not in emails and p not in phones]
    if len(emails) > 1 or len(phones) > 1 or len(birthdays) > 1:
        raise Invalid("error.contact_too_many", usage=t("usage.contact_add"))
    if "@" in name or looks_like_phone(name):
        raise Invalid("error.contact_name_first", usage=t("usage.contact_add"))
    birthday = parse_birthday(birthdays[0]) if birthdays else None
    customer = _customer(ctx, head)
    contact = add_contact(
        ctx,
        customer,
        name,
        title=", ".join(titles) or None,
        email=emails[0] if emails else None,
        phone=phones[0] if phones else None,
        birthday=birthday,
    )
    born = t("card.birthday", date=fmt.birthday(birthday)) if birthday else None
    details = " · ".join(p for p in (contact.title, contact.email, contact.phone, born) if p)
    return Reply(
        text=t(
            "contact_add.done", name=contact.name, customer=customer.name, details=details or "—"
        ),
        buttons=[Button.run(t("button.open"), f"customer #{customer.id}")],
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 20
VERBS = [
    Verb(
        "contact add",
        contact_add,
        args=(
            Arg("customer", Kind.name),
            Arg("name", Kind.text, sep=": "),
            Arg("title", Kind.text, optional=True, sep=", "),
            Arg("email", Kind.text, optional=True, sep=", "),
            Arg("phone", Kind.text, optional=True, sep=", "),
            Arg(
                "birthday",
                Kind.day,
                optional=True,
                sep=", ",
                keyword="birthday",
                also=("born", "bday", "生日"),
            ),
        ),
        examples=(
            "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, +1 617 555 0101",
            "contact add Acme: Dana Ruiz, VP Ops, birthday 1984-05-03",
            "添加联系人 华东物流：王芳，采购经理，13800138000，生日 5月3日",
        ),
        writes=True,
        aliases=("add contact", "new contact", "添加联系人", "新联系人", "添加联络人"),
        menu="contact",
    ),
]
