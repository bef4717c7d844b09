"""Custom fields: `field add customer region choice North, South`, `fields`, `field remove`."""

from __future__ import annotations

import re

from crm_core import rules
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import CustomField, Role
from crm_core.services import custom_fields as svc
from crm_core.text import fold
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply, Section
from handlers.verbs.contact_edit import EDIT_KEYWORDS as CONTACT_WORDS
from handlers.verbs.customer_edit import EDIT_KEYWORDS as CUSTOMER_WORDS
from handlers.verbs.deal_edit import EDIT_KEYWORDS as DEAL_WORDS

# The words each record is named by, and the words of each kind.
RECORD_WORDS = {
    "customer": "customer",
    "customers": "customer",
    "客户": "customer",
    "contact": "contact",
    "contacts": "contact",
    "联系人": "contact",
    "联络人": "contact",
    "deal": "deal",
    "deals": "deal",
    "商机": "deal",
}
KIND_WORDS = {
    "text": "text",
    "文本": "text",
    "文字": "text",
    "number": "number",
    "数字": "number",
    "数值": "number",
    "date": "date",
    "日期": "date",
    "choice": "choice",
    "choices": "choice",
    "选项": "choice",
    "选择": "choice",
    "yesno": "yesno",
    "yes/no": "yesno",
    "bool": "yesno",
    "boolean": "yesno",
    "是否": "yesno",
}
# The words the edit of each record already reads: a field cannot be named like them.
EDIT_WORDS = {"customer": CUSTOMER_WORDS, "contact": CONTACT_WORDS, "deal": DEAL_WORDS}
CONFIRM_WORDS = ("confirm", "确认", "確認")
_CHOICE_SPLIT = re.compile(r"\s*[,，、;；]\s*")


def _record(word: str, usage: str) -> str:
    # Folded: 客戶 is 客户, and Taiwan's 聯絡人 is a word of its own.
    record = RECORD_WORDS.get(fold(word))
    if record is None:
        raise Invalid("error.custom_record_word", value=word, usage=usage)
    return record


def _kind_label(t: Translator, field: CustomField) -> str:
    kind = t(f"custom.kind.{field.kind}")
    if not field.choices:
        return kind
    return t("custom.kind_choices", kind=kind, choices=", ".join(field.choices))


def field_add(req: Request) -> Reply:
    """`field add customer region choice North, South, East` (admins)."""
    t, ctx = req.t, req.ctx
    usage = t("usage.field_add")
    parts = req.args.split(None, 3)
    if len(parts) < 3:
        raise Invalid("usage.field_add")
    record = _record(parts[0], usage)
    kind = KIND_WORDS.get(fold(parts[2]))
    if kind is None:
        raise Invalid("error.custom_kind_word", value=parts[2], usage=usage)
    rest = parts[3] if len(parts) > 3 else ""
    choices = [c for c in _CHOICE_SPLIT.split(rest.strip()) if c] if rest.strip() else []
    if kind == "choice" and not choices:
        raise Invalid("error.custom_choices_missing", field=parts[1], usage=usage)
    if kind != "choice" and choices:
        raise Invalid("error.custom_choices_unwanted", kind=t(f"custom.kind.{kind}"))
    field = svc.declare_field(
        ctx, record, parts[1], kind, choices, reserved=EDIT_WORDS[record].keys()
    )
    example = {
        "text": "…",
        "number": "12",
        "date": "2027-01-15",
        "choice": field.choices[0] if field.choices else "",
        "yesno": t("custom.yes"),
    }[kind]
    return Reply(
        text=t(
            "field_add.done",
            record=t(f"custom.of.{record}"),
            field=field.name,
            kind=_kind_label(t, field),
        ),
        items=[t(f"field_add.how.{record}", field=field.name, value=example)],
        buttons=[Button.run(t("button.fields"), "fields")],
    )


def fields(req: Request) -> Reply:
    """`fields` (or `fields customer`): the declared custom fields by record."""
    t, ctx = req.t, req.ctx
    only = _record(req.args.strip(), t("usage.fields")) if req.args.strip() else None
    sections = []
    for record in rules.CUSTOM_RECORDS:
        if only is not None and record != only:
            continue
        declared = svc.fields_of(ctx.session, record)
        if declared:
            lines = [f"{f.name} · {_kind_label(t, f)}" for f in declared]
            sections.append(Section(t(f"custom.record.{record}"), lines))
    if not sections:
        key = "fields.none_admin" if ctx.actor.role == Role.admin else "fields.none"
        return Reply(text=t(key), status="info")
    return Reply(title=t("fields.title"), sections=sections)


def field_remove(req: Request) -> Reply:
    """`field remove customer region`: a preview with Confirm / Cancel; `… confirm` removes."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    confirmed = bool(words) and fold(words[-1]) in CONFIRM_WORDS
    if confirmed:
        words = words[:-1]
    if len(words) != 2:
        raise Invalid("usage.field_remove")
    record = _record(words[0], t("usage.field_remove"))
    if ctx.actor.role != Role.admin:
        # Refused before the preview: only an admin may remove a field.
        raise PermissionDenied("error.custom_admin_only")
    field = svc.find_field(ctx, record, words[1])
    what = t(f"custom.of.{record}")
    if not confirmed:
        held = svc.values_in_use(ctx, field)
        return Reply(
            title=t("field_remove.preview_title"),
            text=t("field_remove.preview", record=what, field=field.name, count=held),
            buttons=[
                Button.run(
                    t("button.confirm"), f"field remove {record} {field.name} confirm", "danger"
                ),
                Button.dismiss(t("button.cancel")),
            ],
            status="info",
        )
    name = field.name
    removed = svc.remove_field(ctx, field)
    return Reply(
        text=t("field_remove.done", record=what, field=name, count=removed),
        buttons=[Button.run(t("button.fields"), "fields")],
    )


# Where these verbs come in help: after the edits and before reports.
ORDER = 58
_RECORD_ARG = Arg("record", Kind.choice, choices=("customer", "contact", "deal"))
VERBS = [
    Verb(
        "field add",
        field_add,
        args=(
            _RECORD_ARG,
            Arg("name", Kind.text),
            Arg("kind", Kind.choice, choices=("text", "number", "date", "choice", "yesno")),
            Arg("choices", Kind.text, optional=True, label="a, b, c"),
        ),
        examples=(
            "field add customer region choice North, South, East",
            "field add deal renewal_date date",
            "field add contact wechat text",
            "添加字段 客户 区域 选项 华北, 华东, 华南",
        ),
        writes=True,
        aliases=(
            "添加字段",
            "新增字段",
            "字段 添加",
            "添加栏位",
            "新增栏位",
            "栏位 添加",
            "栏位 新增",
            "add field",
        ),
        menu="field_add",
    ),
    Verb(
        "fields",
        fields,
        args=(Arg("record", Kind.choice, optional=True, choices=("customer", "contact", "deal")),),
        examples=("fields", "fields deal", "字段"),
        writes=False,
        aliases=("字段", "字段列表", "栏位", "栏位列表", "custom fields"),
        menu="fields",
    ),
    Verb(
        "field remove",
        field_remove,
        args=(
            _RECORD_ARG,
            Arg("name", Kind.text),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm",)),
        ),
        examples=("field remove customer region", "删除字段 客户 区域"),
        writes=True,
        aliases=("删除字段", "字段 删除", "删除栏位", "栏位 删除", "remove field"),
        menu="field_remove",
    ),
]
