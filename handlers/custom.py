"""Custom fields as chat shows and reads them: card lines, edit keywords, extra form fields."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from crm_core import rules
from crm_core.audit import CUSTOM_PREFIX
from crm_core.context import Ctx
from crm_core.models import Contact, Customer, CustomField, Deal
from crm_core.services import custom_fields as svc
from handlers.forms import Checks, FieldKind, Form, FormField, FormRequest
from handlers.i18n import LITERAL, Translator
from handlers.reply import Field

# A form field of a custom field is named with this prefix, so it never meets a built-in one.
FORM_PREFIX = "cf_"


def key_name(key: str) -> str | None:
    """The field name of an audit / edit key `custom.<name>`, else None."""
    return key[len(CUSTOM_PREFIX) :] if key.startswith(CUSTOM_PREFIX) else None


def said(t: Translator, value: Any) -> str:
    """A stored value as a card shows it (yes / no in the reader's words)."""
    if value is None or value == "":
        return t("card.none")
    if isinstance(value, bool):
        return t("custom.yes") if value else t("custom.no")
    return str(value)


def card_fields(ctx: Ctx, t: Translator, record: str, values: dict[str, Any] | None) -> list[Field]:
    """A card's lines for the custom fields that hold a value, in declared order."""
    values = values or {}
    if not values:
        return []
    return [
        Field(f.name, said(t, values[f.name]))
        for f in svc.fields_of(ctx.session, record)
        if f.name in values
    ]


def inline(ctx: Ctx, t: Translator, record: str, values: dict[str, Any] | None) -> list[str]:
    """`name: value` pieces for a one-line view (a contact line)."""
    return [f"{f.label}: {f.value}" for f in card_fields(ctx, t, record, values)]


def keywords(ctx: Ctx, record: str) -> dict[str, str]:
    """Each declared field's name -> `custom.<name>`, for reading `edit … : region North`."""
    return {f.name: CUSTOM_PREFIX + f.name for f in svc.fields_of(ctx.session, record)}


def split_values(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Typed edit values parted into built-in ones and custom ones (by field name)."""
    builtin = {k: v for k, v in values.items() if key_name(k) is None}
    custom = {n: v for k, v in values.items() if (n := key_name(k)) is not None}
    return builtin, custom


# -- forms ------------------------------------------------------------------------------------

# A choice or yes/no field's "no value" option (Slack wants a non-empty option value).
NONE = "-"


def _form_field(f: CustomField) -> FormField:
    name, label = FORM_PREFIX + f.name, LITERAL + f.name
    if f.kind in ("choice", "yesno"):
        # Plain values, not the row: the form outlives the session that read the declaration.
        choices, field_name = list(f.choices), f.name
        yesno = f.kind == "yesno"

        def options(t: Translator) -> list[tuple[str, str]]:
            if yesno:
                return [(NONE, t("card.none")), ("yes", t("custom.yes")), ("no", t("custom.no"))]
            return [(NONE, t("card.none")), *((c, c) for c in choices)]

        def read(text: str) -> str | None:
            if yesno:
                try:
                    stored = rules.custom_value(field_name, "yesno", [], text)
                except rules.Rule:
                    return None
                return None if stored is None else ("yes" if stored else "no")
            return next((c for c in choices if c.casefold() == text.strip().casefold()), None)

        return FormField(
            name, label, FieldKind.choice, choices=options, read=read, bad="form.custom_choice_bad"
        )
    if f.kind == "date":
        return FormField(name, label, FieldKind.date)
    hint = "form.custom_number_hint" if f.kind == "number" else None
    return FormField(name, label, hint=hint, max_length=rules.MAX_CUSTOM_TEXT)


def with_custom(session: Session, form: Form) -> Form:
    """`form` with a field per custom field of the record it edits (as declared now)."""
    if form.custom is None:
        return form
    extra = tuple(_form_field(f) for f in svc.fields_of(session, form.custom))
    return replace(form, fields=form.fields + extra) if extra else form


def form_values(ctx: Ctx, record: str, entity: Customer | Contact | Deal) -> dict[str, Any]:
    """A form's initial values of the custom fields, from the record."""
    out: dict[str, Any] = {}
    values = entity.custom or {}
    for f in svc.fields_of(ctx.session, record):
        value = values.get(f.name)
        if value is None:
            out[FORM_PREFIX + f.name] = NONE if f.kind in ("choice", "yesno") else ""
        elif f.kind == "yesno":
            out[FORM_PREFIX + f.name] = "yes" if value else "no"
        elif f.kind == "date":
            out[FORM_PREFIX + f.name] = date.fromisoformat(value)
        else:
            out[FORM_PREFIX + f.name] = value
    return out


def checked(req: FormRequest, record: str, checks: Checks) -> dict[str, Any]:
    """The submitted custom values by field name, each checked by the service (errors kept)."""
    declared = {f.name: f for f in svc.fields_of(req.ctx.session, record)}
    out: dict[str, Any] = {}
    for key, value in req.values.items():
        field = declared.get(key[len(FORM_PREFIX) :]) if key.startswith(FORM_PREFIX) else None
        if field is None:
            continue  # not a custom field, or removed since the form was opened
        if isinstance(value, date):
            value = value.isoformat()
        if value is None or value == NONE:
            value = ""
        checks.run(key, svc.read_value, req.ctx, field, value)
        out[field.name] = value
    return out
