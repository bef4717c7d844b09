"""Editing a contact: typed (`edit contact Dana Ruiz: phone +1 617 555 0101`) or as a form."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Contact
from crm_core.resolve import (
    CUSTOMER_SLASH,
    resolve_any_contact,
    resolve_contact,
    resolve_customer,
)
from crm_core.services import contacts as svc
from crm_core.text import char_view
from handlers import custom
from handlers import format as fmt
from handlers.args import Arg, Kind, option_words
from handlers.edits import edit_reply
from handlers.forms import FieldKind, Form, FormField, FormRequest
from handlers.grammar import split_colon, split_commas
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, OpenForm, Reply

# The last word that turns a removal's card into the removal (`contact remove Dana confirm`).
CONFIRM_WORDS = ("confirm", "确认", "確認")

_TITLE_WORDS = ("职位", "职务", "职称")
_EMAIL_WORDS = ("邮箱", "电子邮件", "信箱")
EDIT_CONTACT_ARGS = (
    Arg("contact", Kind.name),
    Arg("name", Kind.text, optional=True, sep=": ", keyword="name", also=("姓名", "名字")),
    # 職稱 and 信箱: Taiwan's words for job title and e-mail.
    Arg("title", Kind.text, optional=True, sep=", ", keyword="title", also=_TITLE_WORDS),
    Arg("email", Kind.text, optional=True, sep=", ", keyword="email", also=_EMAIL_WORDS),
    Arg("phone", Kind.text, optional=True, sep=", ", keyword="phone", also=("电话", "手机")),
    Arg(
        "birthday",
        Kind.day,
        optional=True,
        sep=", ",
        keyword="birthday",
        also=("born", "bday", "生日"),
    ),
)
EDIT_KEYWORDS = option_words(EDIT_CONTACT_ARGS)


def _part(words: dict[str, str]) -> re.Pattern[str]:
    """One part of the body: a field word, an optional colon, then its value."""
    return re.compile(
        r"^(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")"
        r"(?:\s*[:：]\s*|\s+|$)(.*)$",
        re.I | re.S,
    )


_PART = _part(EDIT_KEYWORDS)
# `Acme / Dana`: a customer, then a contact of it.


def _said(t: Translator, value: Any) -> str:
    if isinstance(value, bool):
        return custom.said(t, value)
    if isinstance(value, date):
        return fmt.birthday(value)
    return str(value or "") or t("card.none")


def edited(
    t: Translator,
    contact: Contact,
    changed: dict[str, tuple[Any, Any]],
    entry_id: int | None = None,
    done: str = "edit_contact.done",
) -> Reply:
    """What an edit answers: each changed field, before and after, with Undo."""
    return edit_reply(
        t,
        changed,
        card=f"customer #{contact.customer_id}",
        unchanged=t("edit_contact.unchanged", name=contact.name),
        done=t(done, name=contact.name, customer=contact.customer.name),
        label=lambda key: custom.key_name(key) or t(f"field.contact_{key}"),
        said=lambda _key, value: _said(t, value),
        undo=None if entry_id is None else f"undo edit #{entry_id}",
    )


def _current(ctx: Ctx, contact: Contact) -> OpenForm:
    return OpenForm(
        EDIT_CONTACT_FORM.name,
        {
            "contact": contact.id,
            "name": contact.name,
            "title": contact.title or "",
            "email": contact.email or "",
            "phone": contact.phone or "",
            "birthday": fmt.birthday(contact.birthday) if contact.birthday else "",
            **custom.form_values(ctx, "contact", contact),
        },
        {"contact": f"{contact.name} · {contact.customer.name}"},
        settled=("contact",),
    )


def _which(req: Request, head: str, *, run: str = "edit contact") -> Contact | Reply:
    """The contact the head names; `Acme /` alone offers that customer's contacts.

    `run` is the verb each offered contact's button runs (edit, or remove).
    """
    t, ctx = req.t, req.ctx
    parts = CUSTOMER_SLASH.split(head, maxsplit=1)
    if len(parts) == 1:
        return resolve_any_contact(ctx, head)
    customer = resolve_customer(ctx, parts[0])
    if parts[1].strip():
        return resolve_contact(ctx, customer, parts[1])
    contacts = sorted(customer.contacts, key=lambda c: c.id)
    if not contacts:
        raise Invalid("error.edit_contact_none", customer=customer.name)
    pick = "edit_contact.pick" if run == "edit contact" else "contact_remove.pick"
    return Reply(
        text=t(pick, customer=customer.name),
        buttons=[Button.run(c.name, f"{run} #{c.id}") for c in contacts[:20]],
        status="info",
    )


def _values(ctx: Ctx, t: Translator, body: str) -> dict[str, Any]:
    """`phone +1 617, title VP Ops` as {field: value}; an unknown field says what to type.

    Custom field values come under `custom`, by field name.
    """
    extra = custom.keywords(ctx, "contact")
    viewed = {char_view(k): v for k, v in extra.items()}
    words, part_of = (EDIT_KEYWORDS, _PART) if not extra else ({**viewed, **EDIT_KEYWORDS}, None)
    pattern = part_of or _part(words)
    values: dict[str, str] = {}
    for part in split_commas(body):
        # Field words are matched in the `char_view` (職位 is 职位), the value cut from the part.
        m = pattern.match(char_view(part))
        if m is None and extra:
            raise Invalid(
                "error.edit_contact_field_custom",
                field=fmt.preview(part, 30),
                fields=", ".join(extra),
                usage=t("usage.edit_contact"),
            )
        if m is None:
            raise Invalid(
                "error.edit_contact_field",
                field=fmt.preview(part, 30),
                usage=t("usage.edit_contact"),
            )
        values[words[m.group(1).casefold()]] = part[m.start(2) :].strip()
    if not values:
        raise Invalid("usage.edit_contact")
    # Typed, an empty field is a slip rather than a wish to clear it (the form clears).
    for key, value in values.items():
        if not value:
            raise Invalid(
                "error.option_empty",
                option=custom.key_name(key) or key,
                usage=t("usage.edit_contact"),
            )
    builtin, typed = custom.split_values(values)
    return {**builtin, "custom": typed} if typed else dict(builtin)


def edit_contact(req: Request) -> Reply:
    """`edit contact Dana Ruiz: phone …, title …`; the name alone opens the form."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head.strip():
        raise Invalid("usage.edit_contact")
    # The fields are read first: a mistyped field is answered before any lookup.
    values = _values(ctx, t, body) if body is not None else None
    found = _which(req, head)
    if isinstance(found, Reply):
        return found
    if values is None:
        return Reply(text=t("usage.edit_contact"), status="info", form=_current(ctx, found))
    changed, entry = svc.update_contact(ctx, found, **values)
    return edited(t, found, changed, entry)


def submit_edit_contact(req: FormRequest) -> Reply:
    """The edit contact form: each field checked by the service, then one audited update."""
    ctx = req.ctx
    checks = req.checks()
    contact = None
    if req.values.get("contact"):
        contact = checks.run("contact", resolve_any_contact, ctx, f"#{req.values['contact']}")
    else:
        checks.fail("contact", Invalid("error.contact_name_needed"))
    checks.run("name", svc.check_contact_name, req.text("name"))
    checks.run("title", svc.check_title, req.text("title"))
    checks.run("email", svc.check_email, req.text("email"))
    checks.run("phone", svc.check_phone, req.text("phone"))
    checks.run("birthday", svc.check_birthday, req.text("birthday"))
    extra = custom.checked(req, "contact", checks)
    checks.done()
    assert contact is not None
    changed, entry = svc.update_contact(
        ctx,
        contact,
        name=req.text("name"),
        title=req.text("title"),
        email=req.text("email"),
        phone=req.text("phone"),
        birthday=req.text("birthday"),
        custom=extra,
    )
    return edited(req.t, contact, changed, entry)


EDIT_CONTACT_FORM = Form(
    "edit_contact",
    title="form.edit_contact.title",
    submit_label="form.edit_customer.submit",
    confirm="form.edit_customer.confirm",
    run=submit_edit_contact,
    custom="contact",
    fields=(
        FormField("contact", "form.edit_contact.contact", FieldKind.record, required=True),
        FormField("name", "field.contact_name", required=True, max_length=200),
        FormField("title", "field.contact_title", max_length=200),
        FormField("email", "field.contact_email", max_length=320),
        FormField("phone", "field.contact_phone", max_length=64),
        FormField("birthday", "field.contact_birthday", hint="form.edit_contact.birthday_hint"),
    ),
)


def _unlinked(t: Translator, notes: int, customer: str) -> list[str]:
    """The line on the notes a removal unlinks (none when no note named the person)."""
    return [t("contact_remove.notes", count=notes, customer=customer)] if notes else []


def remove_contact(req: Request) -> Reply:
    """`contact remove Dana Ruiz`: a card with Confirm / Cancel; `… confirm` removes."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    confirmed = bool(words) and words[-1].casefold() in CONFIRM_WORDS
    query = " ".join(words[:-1] if confirmed else words)
    if not query:
        raise Invalid("usage.contact_remove")
    found = _which(req, query, run="contact remove")
    if isinstance(found, Reply):
        return found
    customer = found.customer
    details = " · ".join(p for p in (found.title, found.email, found.phone) if p)
    who = f"{found.name} ({details})" if details else found.name
    if not confirmed:
        # The count (and the access check in it) comes before any card: a contact of an
        # archived customer is refused here with what to type, nothing offered to confirm.
        notes = svc.contact_notes(ctx, found)
        return Reply(
            title=t("contact_remove.preview_title"),
            text=t("contact_remove.preview", contact=who, customer=customer.name),
            items=_unlinked(t, notes, customer.name),
            buttons=[
                Button.run(t("button.confirm"), f"contact remove #{found.id} confirm", "danger"),
                Button.dismiss(t("button.cancel")),
            ],
            status="info",
        )
    notes = svc.remove_contact(ctx, found)
    return Reply(
        text=t("contact_remove.done", contact=who, customer=customer.name),
        items=_unlinked(t, notes, customer.name),
        buttons=[Button.run(t("button.open"), f"customer #{customer.id}")],
    )


# Where these verbs come in help: right after contact add.
ORDER = 21
VERBS = [
    Verb(
        "edit contact",
        edit_contact,
        args=EDIT_CONTACT_ARGS,
        examples=(
            "edit contact Dana Ruiz: phone +1 617 555 0101, title VP Operations",
            "edit contact Acme / Dana",
            "修改联系人 王芳：电话 13800138000，生日 5月3日",
        ),
        writes=True,
        aliases=("修改联系人", "编辑联系人", "修改联络人", "update contact"),
        menu="edit_contact",
        form=EDIT_CONTACT_FORM,
    ),
    Verb(
        "contact remove",
        remove_contact,
        args=(
            Arg("contact", Kind.name),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm",)),
        ),
        examples=(
            "contact remove Dana Ruiz",
            "contact remove Acme / Dana",
            "删除联系人 王芳",
        ),
        writes=True,
        aliases=("remove contact", "delete contact", "删除联系人", "删除联络人", "移除联系人"),
        menu="remove_contact",
    ),
]
