"""Correcting a deal: `edit deal #12: amount 52k` (or its form), undo of an edit, delete."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from crm_core.context import Ctx
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Deal, User
from crm_core.resolve import resolve_customer, resolve_deal, resolve_user
from crm_core.services import deals as svc
from crm_core.services.edit_undo import DEAL_MESSAGES, undo_edit
from crm_core.when import parse_day
from handlers import custom
from handlers import format as fmt
from handlers.args import Arg, Kind, option_words, take_ref
from handlers.edits import edit_reply
from handlers.forms import FieldKind, Form, FormField, FormRequest
from handlers.grammar import said_yuan, split_colon, take_amount, take_keywords
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, OpenForm, Reply

EDIT_DEAL_ARGS = (
    Arg("deal", Kind.name),
    Arg("amount", Kind.amount, optional=True, sep=": ", keyword="amount", also=("金额",)),
    Arg(
        "close",
        Kind.day,
        optional=True,
        sep=", ",
        keyword="close",
        also=("closes", "预计成交", "成交"),
    ),
    Arg("title", Kind.text, optional=True, sep=", ", keyword="title", also=("标题", "名称")),
    Arg("owner", Kind.user, optional=True, sep=", ", keyword="owner", also=("负责人",)),
)
EDIT_KEYWORDS = option_words(EDIT_DEAL_ARGS)
CONFIRM_WORDS = ("confirm", "确认", "確認")
# Field names as an edit reply labels them.
_LABELS = {
    "title": "field.title",
    "amount": "field.amount",
    "currency": "field.currency",
    "expected_close": "field.expected_close",
    "owner_id": "field.owner",
}


def named_deal(ctx: Ctx, query: str) -> Deal:
    """The deal `#12`, `Fleet renewal` or `Acme / Fleet renewal` names."""
    customer = None
    if " / " in query:
        cust_q, query = (p.strip() for p in query.split(" / ", 1))
        customer = resolve_customer(ctx, cust_q)
    return resolve_deal(ctx, query.strip(), customer=customer)


def read_amount(
    text: str, ctx: Ctx | None = None, deal: Deal | None = None
) -> tuple[Decimal, str | None]:
    """`52k`, `48,000 USD`, `50万 元` as amount and currency; says what to type otherwise.

    With the deal, a bare 元 is what it means for that deal and reader (the deal's own NT$).
    """
    leftover, amount, currency = take_amount(text)
    if leftover or amount is None:
        raise Invalid("error.amount_invalid", value=text)
    if ctx is not None and deal is not None and said_yuan(text):
        currency = svc.yuan_currency(ctx, deal.customer, deal.currency)
    return amount, currency


def read_close(ctx: Ctx, text: str) -> date:
    """A close day as `new deal` reads it (`2027-01-15`, `next friday`)."""
    day = parse_day(text, ctx.tz, ctx.now(), day_first=ctx.day_first)
    if day is None:
        raise Invalid("error.date_invalid", value=text)
    return day


def _close_ahead(ctx: Ctx, deal: Deal, day: date) -> date | None:
    """A new expected close for `deal`: today or later while it is open (a won or lost deal's
    close may be any day; the day it already has is kept as it is)."""
    if svc.is_closed(ctx, deal):
        return svc.check_close(day)
    return svc.check_close_ahead(ctx, day, deal.expected_close)


def _said(t: Translator, ctx: Ctx, deal: Deal, key: str, value: Any) -> str:
    if value is None or value == "":
        return t("card.none")
    if isinstance(value, bool):
        return custom.said(t, value)
    if key == "amount":
        # A pair already written in its own currency (edited) is shown as it is.
        return value if isinstance(value, str) else fmt.money(value, deal.currency, t)
    if key == "expected_close":
        return fmt.day(value)
    if key == "owner_id":
        user = ctx.session.get(User, value)
        return user.name if user else f"#{value}"
    return str(value)


def edited(
    t: Translator,
    ctx: Ctx,
    deal: Deal,
    changed: dict[str, tuple[Any, Any]],
    entry_id: int | None,
    done: str = "edit_deal.done",
) -> Reply:
    """What an edit answers: each changed field before → after, with Undo."""
    if "amount" in changed and "currency" in changed:
        # The old amount in the old currency: 48,000 USD → 50,000 EUR, not 48,000 EUR.
        (old, new), (old_cur, new_cur) = changed["amount"], changed["currency"]
        changed = {
            **changed,
            "amount": (
                t("card.none") if old is None else fmt.money(old, old_cur),
                t("card.none") if new is None else fmt.money(new, new_cur),
            ),
        }
    return edit_reply(
        t,
        changed,
        card=f"deal #{deal.id}",
        unchanged=t("edit_deal.unchanged", deal=f"#{deal.id} {deal.title}"),
        done=t(done, deal=f"#{deal.id} {deal.title}"),
        label=lambda k: custom.key_name(k) or t(_LABELS[k]),
        said=lambda k, value: _said(t, ctx, deal, k, value),
        undo=None if entry_id is None else f"undo deal edit #{entry_id}",
    )


def _current(ctx: Ctx, deal: Deal) -> OpenForm:
    owner = deal.owner
    return OpenForm(
        EDIT_DEAL_FORM.name,
        {
            "deal": deal.id,
            "title": deal.title,
            "amount": f"{fmt.money(deal.amount, deal.currency)}" if deal.amount is not None else "",
            "close": deal.expected_close,
            "owner": f"@{owner.external_id}" if owner.external_id else owner.name,
            **custom.form_values(ctx, "deal", deal),
        },
        {"deal": f"#{deal.id} {deal.title} ({deal.customer.name})"},
        settled=("deal",),
    )


def edit_deal(req: Request) -> Reply:
    """`edit deal #12: amount 52k, close 2027-01-15`; the deal alone opens the form."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head.strip():
        raise Invalid("usage.edit_deal")
    deal = named_deal(ctx, head)
    if body is None:
        return Reply(text=t("usage.edit_deal"), status="info", form=_current(ctx, deal))
    # A placeholder word first: take_keywords reads a leading keyword as part of a name.
    spaced = body.replace("，", "， ").replace(",", ", ")
    keywords = {**custom.keywords(ctx, "deal"), **EDIT_KEYWORDS}
    lead, opts = take_keywords("· " + spaced, keywords)
    if lead != "·" or not opts:
        raise Invalid("usage.edit_deal")
    values = {k: v.strip().rstrip(",，").strip() for k, v in opts.items()}
    for key, value in values.items():
        if not value:
            option = custom.key_name(key) or key
            raise Invalid("error.option_empty", option=option, usage=t("usage.edit_deal"))
    values, extra = custom.split_values(values)
    kwargs: dict[str, Any] = {"custom": extra}
    if "amount" in values:
        kwargs["amount"], kwargs["currency"] = read_amount(values["amount"], ctx, deal)
    if "close" in values:
        kwargs["expected_close"] = _close_ahead(ctx, deal, read_close(ctx, values["close"]))
    if "title" in values:
        kwargs["title"] = values["title"]
    if "owner" in values:
        kwargs["owner"] = resolve_user(ctx, values["owner"])
    changed, entry = svc.update_deal(ctx, deal, **kwargs)
    return edited(t, ctx, deal, changed, entry)


def submit_edit_deal(req: FormRequest) -> Reply:
    """The edit deal form: each field checked by the service, then one audited update."""
    ctx = req.ctx
    checks = req.checks()
    deal = None
    if req.values.get("deal"):
        deal = checks.run("deal", resolve_deal, ctx, f"#{req.values['deal']}")
    else:
        checks.fail("deal", Invalid("error.deal_missing"))
    checks.run("title", svc.check_title, req.text("title"))
    amount: tuple[Decimal, str | None] | None = None
    if req.text("amount"):
        amount = checks.run("amount", read_amount, req.text("amount"), ctx, deal)
        if amount is not None:
            checks.run("amount", svc.check_amount, amount[0])
    close = req.values.get("close")
    if isinstance(close, date):
        if deal is not None:
            checks.run("close", _close_ahead, ctx, deal, close)
        else:
            checks.run("close", svc.check_close, close)
    owner = None
    if req.text("owner"):
        owner = checks.run("owner", resolve_user, ctx, req.text("owner"))
        if owner is not None and deal is not None:
            checks.run("owner", svc.check_owner, ctx, deal, owner)
    extra = custom.checked(req, "deal", checks)
    checks.done()
    assert deal is not None
    changed, entry = svc.update_deal(
        ctx,
        deal,
        title=req.text("title"),
        amount=amount[0] if amount else None,
        currency=amount[1] if amount else None,
        expected_close=close if isinstance(close, date) else None,
        owner=owner,
        custom=extra,
    )
    return edited(req.t, ctx, deal, changed, entry)


EDIT_DEAL_FORM = Form(
    "edit_deal",
    title="form.edit_deal.title",
    submit_label="form.edit_deal.submit",
    confirm="form.edit_deal.confirm",
    run=submit_edit_deal,
    custom="deal",
    fields=(
        FormField("deal", "form.edit_deal.deal", FieldKind.record, required=True),
        FormField("title", "field.title", required=True, max_length=svc.MAX_TITLE),
        FormField("amount", "field.amount", hint="form.edit_deal.amount_hint", max_length=40),
        FormField("close", "field.expected_close", FieldKind.date),
        FormField("owner", "field.owner", hint="form.edit_deal.owner_hint", max_length=100),
    ),
)


def undo_deal_edit(req: Request) -> Reply:
    """Put back what an `edit deal` changed (the Undo button of its reply)."""
    t, ctx = req.t, req.ctx
    rid, rest = take_ref(req.args)
    if rid is None or rest:
        raise Invalid("usage.undo_deal_edit")
    done = undo_edit(ctx, rid, actions=("deal.update",), messages=DEAL_MESSAGES)
    assert isinstance(done.record, Deal)
    return edited(t, ctx, done.record, done.changed, None, done="edit_deal.undone")


def delete_deal(req: Request) -> Reply:
    """`delete deal #12`: a preview with Confirm / Cancel; `… confirm` deletes."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    confirmed = bool(words) and words[-1].casefold() in CONFIRM_WORDS
    query = " ".join(words[:-1] if confirmed else words)
    if not query:
        raise Invalid("usage.delete_deal")
    deal = named_deal(ctx, query)
    line = fmt.deal_line(t, deal, with_customer=deal.customer)
    if not svc.may_delete(ctx):
        raise PermissionDenied("error.deal_delete_denied", title=deal.title)
    if not confirmed:
        history, notes, reminders = svc.deal_links(ctx, deal)
        return Reply(
            title=t("delete_deal.preview_title"),
            text=t("delete_deal.preview", deal=line),
            items=[
                t("delete_deal.history", count=history),
                t("delete_deal.notes", count=notes, customer=deal.customer.name),
                t("delete_deal.reminders", count=reminders),
            ],
            buttons=[
                Button.run(t("button.confirm"), f"delete deal #{deal.id} confirm", "danger"),
                Button.dismiss(t("button.cancel")),
            ],
            status="info",
        )
    customer = deal.customer
    notes, reminders = svc.delete_deal(ctx, deal)
    return Reply(
        text=t("delete_deal.done", deal=line, notes=notes, reminders=reminders),
        buttons=[Button.run(t("button.deals"), f"deals #{customer.id}")],
    )


# Where these verbs come in help: after the deal card.
ORDER = 52
VERBS = [
    Verb(
        "edit deal",
        edit_deal,
        args=EDIT_DEAL_ARGS,
        examples=(
            "edit deal #12: amount 52k, close 2027-01-15",
            "edit deal Fleet renewal: owner @bob",
            "edit deal #12",
            "修改商机 #12：金额 50万 元，预计成交 2027-01-15",
        ),
        writes=True,
        aliases=("修改商机", "编辑商机", "update deal"),
        menu="edit_deal",
        form=EDIT_DEAL_FORM,
    ),
    Verb(
        "undo deal edit",
        undo_deal_edit,
        args=(Arg("change", Kind.ref, label="change number"),),
        examples=("undo deal edit #345",),
        writes=True,
        aliases=("撤销商机修改",),
    ),
    Verb(
        "delete deal",
        delete_deal,
        args=(
            Arg("deal", Kind.name),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm",)),
        ),
        examples=("delete deal #12", "delete deal #12 confirm", "删除商机 #12"),
        writes=True,
        aliases=("删除商机", "remove deal"),
    ),
]
