"""history: what changed on a customer, deal or contact, who changed it and when."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.errors import Invalid
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
}


def _value(t: Translator, value: Any, tz: ZoneInfo) -> str:
    if value is None or value == "" or value == []:
        return t("card.none")
    if isinstance(value, bool):
        return custom.said(t, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and _MOMENT.match(value):
        # The log keeps moments in UTC; the reader sees them in their own zone.
        return fmt.local_time(datetime.fromisoformat(value), tz)
    return fmt.preview(str(value), 40)


def _fields(t: Translator, changes: dict[str, Any], tz: ZoneInfo) -> str:
    parts = []
    for key, pair in changes.items():
        label = t(f"history.field.{key}") if t.has(f"history.field.{key}") else key
        label = custom.key_name(key) or label
        if pair == svc.TEXT_HIDDEN:
            parts.append(t("history.text_edited"))
        elif isinstance(pair, list) and len(pair) == 2:
            parts.append(f"{label}: {_value(t, pair[0], tz)} → {_value(t, pair[1], tz)}")
    return "; ".join(parts)


def _line(t: Translator, e: svc.HistoryEntry, tz: ZoneInfo) -> str:
    kind = _KINDS.get(e.entity_type, e.entity_type)
    name = e.entity_name or f"#{e.entity_id}"
    what = t(f"history.kind.{kind}", name=name) if kind in _KINDS.values() else name
    verb = e.action.rsplit(".", 1)[-1]
    said = t(f"history.action.{verb}") if verb in _VERBS else e.action
    line = f"{fmt.local_time(e.at, tz)} · {e.actor or '—'} · {what} {said}"
    # A creation or removal lists no fields: the name says what it was, the card the rest.
    details = "" if verb in ("create", "delete") else _fields(t, e.changes, tz)
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
    return Reply(
        title=title,
        items=[_line(t, e, ctx.tz) for e in page.entries],
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
