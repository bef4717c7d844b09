"""history: what changed on a customer, deal or contact, who changed it and when."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm_core.errors import Invalid
from crm_core.models import Deal
from crm_core.resolve import resolve_any_contact, resolve_customer, resolve_deal
from crm_core.services import history as svc
from crm_core.text import char_view
from handlers import custom
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

# `history deal #12`, `历史 商机 #12`, `history contact Dana`, `历史 联系人 王芳`.
_DEAL = re.compile(r"^(?:deal|商机)(?:\s+|(?=[#＃])|(?<=机))", re.I)
_CONTACT = re.compile(r"^(?:contact|联系人|联络人)(?:\s+|(?=[#＃])|(?<=人))", re.I)
# The More button's page mark: entries older than this audit id.
_BEFORE = re.compile(r"\s+before\s+(\d{1,18})\s*$", re.I)
_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_KINDS = {"customers": "customer", "contacts": "contact", "deals": "deal", "interactions": "note"}
_VERBS = {
    "create",
    "update",
    "delete",
    "move",
    "snooze",
    "done",
    "cancel",
    "assign_id",
    "field_removed",
    "reassign",
    "undo_edit",
    "merge",
    "merged",
    "merge_move",
    "forecast",
    "archive",
    "unarchive",
    "tier",
    "recur",
    "priority",
    "assign",
}
# Fields written as a money amount (in the record's currency, as on its card).
_MONEY = {"amount"}
# What a merge entry holds besides the fields it filled: summarised, not dumped.
_MERGE_KEYS = ("merged", "moved", "repointed")


def _value(t: Translator, value: Any, tz: ZoneInfo, currency: str | None = None) -> str:
    if value is None or value == "" or value == []:
        return t("card.none")
    if currency is not None:
        try:
            return fmt.money(Decimal(str(value)), currency, t)
        except InvalidOperation:
            pass
    if isinstance(value, bool):
        return custom.said(t, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and _MOMENT.match(value):
        # The log keeps moments in UTC; the reader sees them in their own zone.
        return fmt.local_time(datetime.fromisoformat(value), tz)
    return fmt.preview(str(value), 40)


def _label(t: Translator, entity_type: str, key: str) -> str:
    """The field's name; one per record kind where a key means two things (a deal's title is
    its name, a contact's their job title)."""
    for k in (f"history.field.{entity_type}.{key}", f"history.field.{key}"):
        if t.has(k):
            return custom.key_name(key) or t(k)
    return custom.key_name(key) or key


def _fields(
    t: Translator,
    changes: dict[str, Any],
    tz: ZoneInfo,
    entity_type: str = "",
    currency: str | None = None,
) -> str:
    parts = []
    # A currency changed in the same entry: each side of the amount in its own currency.
    cur = changes.get("currency")
    sides = cur if isinstance(cur, list) and len(cur) == 2 else [currency, currency]
    if isinstance(changes.get("merged"), list):
        parts.append(_merge_summary(t, changes))
    for key, pair in changes.items():
        if key in _MERGE_KEYS:
            continue
        label = _label(t, entity_type, key)
        if pair == svc.TEXT_HIDDEN:
            parts.append(t("history.text_edited"))
        elif isinstance(pair, list) and len(pair) == 2:
            money = key in _MONEY
            was = _value(t, pair[0], tz, (sides[0] or currency) if money else None)
            now = _value(t, pair[1], tz, (sides[1] or currency) if money else None)
            parts.append(f"{label}: {was} → {now}")
    return "; ".join(parts)


def _merge_summary(t: Translator, changes: dict[str, Any]) -> str:
    """`merged in customer #2: 1 contact(s), 2 deal(s) moved` from a merge's audit entry."""
    merged = changes["merged"][1]
    moved = changes.get("moved")
    kinds = moved[1] if isinstance(moved, list) and isinstance(moved[1], dict) else {}
    counts = [
        t(f"history.moved.{k}", count=len(v)) if t.has(f"history.moved.{k}") else f"{len(v)} {k}"
        for k, v in kinds.items()
        if v
    ]
    return t(
        "history.merged_in",
        id=merged,
        moved=", ".join(counts) if counts else t("history.moved_nothing"),
    )


def _line(
    t: Translator, e: svc.HistoryEntry, tz: ZoneInfo, currencies: dict[int, str] | None = None
) -> str:
    kind = _KINDS.get(e.entity_type, e.entity_type)
    name = e.entity_name or f"#{e.entity_id}"
    what = t(f"history.kind.{kind}", name=name) if kind in _KINDS.values() else name
    verb = e.action.rsplit(".", 1)[-1]
    # An action without a phrase of its own reads as a change, never as a raw log key.
    said = t(f"history.action.{verb if verb in _VERBS else 'update'}")
    line = f"{fmt.local_time(e.at, tz)} · {e.actor or '—'} · {what} {said}"
    # A creation or removal lists no fields: the name says what it was, the card the rest.
    currency = (currencies or {}).get(e.entity_id) if e.entity_type == "deals" else None
    details = (
        "" if verb in ("create", "delete") else _fields(t, e.changes, tz, e.entity_type, currency)
    )
    return f"{line}: {details}" if details else line


def history(req: Request) -> Reply:
    """`history Acme`, `history deal #12`, `history contact Dana Ruiz`: newest first, paged."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    before = None
    if m := _BEFORE.search(args):
        before = int(m.group(1))
        args = args[: m.start()].strip()
    if not args:
        raise Invalid("usage.history")
    # The record word is matched in the `char_view` (商機 is 商机, 聯絡人 is 联络人).
    if m := _DEAL.match(char_view(args)):
        deal = resolve_deal(ctx, args[m.end() :])
        page = svc.history(ctx, entity=deal, before=before)
        title, target = t("history.title_deal", name=deal.title), f"deal #{deal.id}"
    elif m := _CONTACT.match(char_view(args)):
        contact = resolve_any_contact(ctx, args[m.end() :])
        page = svc.history(ctx, entity=contact, before=before)
        title, target = t("history.title", name=contact.name), f"contact #{contact.id}"
    else:
        customer = resolve_customer(ctx, args)
        page = svc.history(ctx, customer=customer, before=before)
        title, target = t("history.title", name=customer.name), f"#{customer.id}"
    if not page.entries:
        return Reply(title=title, text=t("history.empty"), status="info")
    buttons = []
    if page.more:
        older = page.entries[-1].id
        buttons.append(Button.run(t("button.more"), f"history {target} before {older}"))
    # Deals' currencies, to write their amounts as the card does (52,000 USD, not 52000.00).
    deal_ids = {e.entity_id for e in page.entries if e.entity_type == "deals"}
    currencies = (
        {
            int(i): str(c)
            for i, c in ctx.session.execute(
                select(Deal.id, Deal.currency).where(Deal.id.in_(deal_ids))
            )
        }
        if deal_ids
        else {}
    )
    return Reply(
        title=title,
        items=[_line(t, e, ctx.tz, currencies) for e in page.entries],
        buttons=buttons,
    )


# Where these verbs come in help: after the customer verbs, before contacts.
ORDER = 19
VERBS = [
    Verb(
        "history",
        history,
        args=(
            Arg("record", Kind.choice, optional=True, choices=("deal", "contact")),
            Arg("customer", Kind.name, label="customer, deal or contact"),
        ),
        examples=("history Acme", "history deal #12", "history contact Dana Ruiz", "历史 华东物流"),
        writes=False,
        aliases=("历史", "变更历史"),
        menu="history",
    ),
]
