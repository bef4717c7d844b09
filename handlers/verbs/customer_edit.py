"""Editing a customer: typed (`edit customer Acme: city Boston`) or as a form."""

from __future__ import annotations

from typing import Any

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer
from crm_core.resolve import resolve_customer
from crm_core.services import customers as svc
from handlers import custom
from handlers.args import Arg, Kind, option_words
from handlers.edits import edit_reply
from handlers.forms import FieldKind, Form, FormField, FormRequest
from handlers.grammar import split_colon, split_commas, take_keywords
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import OpenForm, Reply

EDIT_CUSTOMER_ARGS = (
    Arg("customer", Kind.name),
    Arg("name", Kind.text, optional=True, sep=": ", keyword="name", also=("名称", "名字")),
    Arg("industry", Kind.text, optional=True, sep=", ", keyword="industry", also=("行业",)),
    Arg("city", Kind.text, optional=True, sep=", ", keyword="city", also=("城市",)),
    Arg(
        "tags",
        Kind.text,
        optional=True,
        sep=", ",
        keyword="tags",
        also=("tag", "标签"),
        label="a, b",
    ),
)
EDIT_KEYWORDS = option_words(EDIT_CUSTOMER_ARGS)


def edited(
    t: Translator,
    customer: Customer,
    changed: dict[str, tuple[Any, Any]],
    entry_id: int | None = None,
    done: str = "edit_customer.done",
) -> Reply:
    """What an edit answers: each changed field, before and after, with Undo."""

    def said(_key: str, value: Any) -> str:
        if isinstance(value, bool):
            return custom.said(t, value)
        text = ", ".join(value) if isinstance(value, list) else str(value or "")
        return text or t("card.none")

    return edit_reply(
        t,
        changed,
        card=f"customer #{customer.id}",
        unchanged=t("edit_customer.unchanged", name=customer.name),
        done=t(done, name=customer.name),
        label=lambda key: custom.key_name(key) or t(f"field.{key}"),
        said=said,
        undo=None if entry_id is None else f"undo edit #{entry_id}",
    )


def _current(ctx: Ctx, customer: Customer) -> OpenForm:
    return OpenForm(
        EDIT_CUSTOMER_FORM.name,
        {
            "customer": customer.id,
            "name": customer.name,
            "industry": customer.industry or "",
            "city": customer.city or "",
            "tags": ", ".join(customer.tags),
            **custom.form_values(ctx, "customer", customer),
        },
        {"customer": customer.name},
        settled=("customer",),
    )


def edit_customer(req: Request) -> Reply:
    """`edit customer Acme: city Boston, industry logistics`; the name alone opens the form."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head.strip():
        # The form starts from a customer's current values: it needs the customer first.
        raise Invalid("usage.edit_customer")
    customer = resolve_customer(ctx, head)
    if body is None:
        return Reply(text=t("usage.edit_customer"), status="info", form=_current(ctx, customer))
    # A placeholder word first: take_keywords reads a leading keyword as part of a name.
    # A space after each comma: "城市 上海，行业 物流" names its second field too.
    spaced = body.replace("，", "， ").replace(",", ", ")
    keywords = {**custom.keywords(ctx, "customer"), **EDIT_KEYWORDS}
    lead, opts = take_keywords("· " + spaced, keywords)
    if lead != "·" or not opts:
        raise Invalid("usage.edit_customer")
    values, extra = custom.split_values(
        {k: v.strip().rstrip(",，").strip() for k, v in opts.items()}
    )
    for name, value in values.items():
        # Typed, a field with nothing after it (`industry`, a stray comma) is a slip: clearing
        # it silently lost data. Nothing is written; the form is the way to clear a field.
        if not value:
            raise Invalid("error.option_empty", option=name, usage=t("usage.edit_customer"))
    for name, value in extra.items():
        # Typed, an empty custom field is a slip rather than a wish to clear it (the form clears).
        if not value:
            raise Invalid("error.option_empty", option=name, usage=t("usage.edit_customer"))
    changed, entry = svc.update_customer(
        ctx,
        customer,
        name=values.get("name"),
        industry=values.get("industry"),
        city=values.get("city"),
        tags=split_commas(values["tags"]) if "tags" in values else None,
        custom=extra,
    )
    return edited(t, customer, changed, entry)


def submit_edit_customer(req: FormRequest) -> Reply:
    """The edit customer form: each field checked by the service, then one audited update."""
    ctx = req.ctx
    checks = req.checks()
    customer = None
    if req.values.get("customer"):
        customer = checks.run("customer", resolve_customer, ctx, f"#{req.values['customer']}")
    else:
        checks.fail("customer", Invalid("error.customer_missing"))
    checks.run("name", svc.check_customer_name, ctx, req.text("name"), renaming=customer)
    checks.run("industry", svc.check_detail, "industry", req.text("industry"))
    checks.run("city", svc.check_detail, "city", req.text("city"))
    checks.run("tags", svc.check_tags, split_commas(req.text("tags")))
    extra = custom.checked(req, "customer", checks)
    checks.done()
    assert customer is not None
    changed, entry = svc.update_customer(
        ctx,
        customer,
        name=req.text("name"),
        industry=req.text("industry"),
        city=req.text("city"),
        tags=split_commas(req.text("tags")),
        custom=extra,
    )
    return edited(req.t, customer, changed, entry)


EDIT_CUSTOMER_FORM = Form(
    "edit_customer",
    title="form.edit_customer.title",
    submit_label="form.edit_customer.submit",
    confirm="form.edit_customer.confirm",
    run=submit_edit_customer,
    custom="customer",
    fields=(
        FormField(
            "customer",
            "form.edit_customer.customer",
            FieldKind.record,
            required=True,
            hint="form.log.customer_hint",
        ),
        FormField("name", "field.name", required=True, max_length=svc.MAX_NAME),
        FormField("industry", "field.industry", max_length=svc.MAX_FIELD),
        FormField("city", "field.city", max_length=svc.MAX_FIELD),
        FormField("tags", "field.tags", hint="form.edit_customer.tags_hint"),
    ),
)


# Where these verbs come in help: right after the other customer verbs.
ORDER = 15
VERBS = [
    Verb(
        "edit customer",
        edit_customer,
        args=EDIT_CUSTOMER_ARGS,
        examples=(
            "edit customer Acme: city Boston, industry logistics",
            "edit customer Acme",
            "修改客户 华东物流：城市 上海",
        ),
        writes=True,
        aliases=("修改客户", "编辑客户", "update customer"),
        menu="edit_customer",
        form=EDIT_CUSTOMER_FORM,
    ),
]
