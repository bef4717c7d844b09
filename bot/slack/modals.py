"""The "Log interaction" modal: the view, reading its state, and checking it field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from crm_core.errors import Ambiguous, CrmError
from crm_core.models import InteractionKind
from crm_core.resolve import resolve_contact, resolve_customer, resolve_deal
from crm_core.services.interactions import FUTURE_SLACK, MAX_TEXT
from handlers import format as fmt
from handlers.gateway import Gateway
from handlers.i18n import Translator

CALLBACK = "crm_log"
# Slack's limits: a plain-text input holds 3,000 characters, private_metadata 3,000.
MAX_INPUT = 3_000
MAX_OPTIONS = 20
BLOCKS = ("customer", "kind", "when", "contact", "deal", "notes", "follow_up")


@dataclass
class Origin:
    """Where a modal came from: the message it captures and where to answer."""

    link: str | None = None
    key: str | None = None
    response_url: str | None = None
    channel: str | None = None

    def dump(self) -> str:
        """As the view's private_metadata."""
        data = {k: v for k, v in self.__dict__.items() if v}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> Origin:
        """From a view's private_metadata (anything unreadable is an empty origin)."""
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _input(
    block: str, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    element["action_id"] = block
    return {
        "type": "input",
        "block_id": block,
        "label": _plain(label, 2_000),
        "element": element,
        "optional": optional,
    }


def log_view(
    t: Translator,
    *,
    text: str = "",
    kind: InteractionKind = InteractionKind.call,
    origin: Origin | None = None,
) -> dict[str, Any]:
    """The modal: customer (type-ahead), kind, when, contact, deal, notes, follow-up date."""
    kinds = [{"text": _plain(fmt.kind(t, k.value)), "value": k.value} for k in InteractionKind]
    notes: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "max_length": MAX_INPUT}
    blocks: list[dict[str, Any]] = [
        _input(
            "customer",
            t("slack.form.customer"),
            {
                "type": "external_select",
                "placeholder": _plain(t("slack.form.customer_hint")),
                "min_query_length": 0,
            },
        ),
        _input(
            "kind",
            t("slack.form.kind"),
            {
                "type": "static_select",
                "options": kinds,
                "initial_option": next(o for o in kinds if o["value"] == kind.value),
            },
        ),
        _input("when", t("slack.form.when"), {"type": "datetimepicker"}, optional=True),
        _input(
            "contact",
            t("slack.form.contact"),
            {"type": "plain_text_input", "placeholder": _plain(t("slack.form.contact_hint"))},
            optional=True,
        ),
        _input(
            "deal",
            t("slack.form.deal"),
            {"type": "plain_text_input", "placeholder": _plain(t("slack.form.deal_hint"))},
            optional=True,
        ),
        _input("notes", t("slack.form.notes"), notes),
        _input("follow_up", t("slack.form.follow_up"), {"type": "datepicker"}, optional=True),
    ]
    if text:
        notes["initial_value"] = text[:MAX_INPUT]
        if len(text) > MAX_INPUT:
            # Said out loud, never a silent cut: the link keeps the whole message.
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": t("slack.form.long_message", count=len(text), limit=MAX_INPUT),
                        }
                    ],
                }
            )
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": _plain(t("slack.form.title"), 24),
        "submit": _plain(t("slack.form.submit"), 24),
        "close": _plain(t("slack.form.cancel"), 24),
        "private_metadata": (origin or Origin()).dump(),
        "blocks": blocks,
    }


@dataclass
class LogForm:
    """The submitted values of the modal, as Slack sent them."""

    customer_id: int | None = None
    kind: str = InteractionKind.call.value
    when: datetime | None = None
    contact: str = ""
    deal: str = ""
    notes: str = ""
    follow_up: date | None = None

    @classmethod
    def from_state(cls, values: dict[str, Any]) -> LogForm:
        """Read view.state.values (block id -> action id -> element state)."""

        def element(block: str) -> dict[str, Any]:
            found = values.get(block, {}).get(block, {})
            return found if isinstance(found, dict) else {}

        form = cls()
        chosen = element("customer").get("selected_option") or {}
        if str(chosen.get("value", "")).isdigit():
            form.customer_id = int(chosen["value"])
        kind = (element("kind").get("selected_option") or {}).get("value")
        if kind in InteractionKind.__members__:
            form.kind = str(kind)
        stamp = element("when").get("selected_date_time")
        if isinstance(stamp, int | float):
            form.when = datetime.fromtimestamp(stamp, UTC)
        form.contact = (element("contact").get("value") or "").strip()
        form.deal = (element("deal").get("value") or "").strip()
        form.notes = (element("notes").get("value") or "").strip()
        day = element("follow_up").get("selected_date")
        if isinstance(day, str):
            try:
                form.follow_up = date.fromisoformat(day)
            except ValueError:
                form.follow_up = None
        return form


@dataclass
class Checked:
    """A checked form: errors per block, or the command line that logs it."""

    errors: dict[str, str] = field(default_factory=dict)
    line: str = ""
    customer_id: int | None = None
    deal_id: int | None = None


def _say(t: Translator, exc: CrmError) -> str:
    if isinstance(exc, Ambiguous):
        names = ", ".join(c.label for c in exc.candidates[:5])
        return t("slack.form.ambiguous", query=exc.query, names=names)
    return t(exc.key, **exc.params)


def check_log_form(gateway: Gateway, user_id: int, form: LogForm) -> Checked:
    """Check every field (read-only) and build the `log` line the dispatcher will run."""
    out = Checked()
    with gateway.acting_as(user_id) as ctx:
        session = ctx.session
        t = Translator(ctx.actor.locale)
        if not form.notes:
            out.errors["notes"] = t("error.log_text_missing")
        elif len(form.notes) > MAX_TEXT:
            out.errors["notes"] = t("error.too_long", field="text", limit=MAX_TEXT)
        if form.when is not None and form.when > ctx.now() + FUTURE_SLACK:
            out.errors["when"] = t("error.log_in_future")
        if form.follow_up is not None and form.follow_up < ctx.now().astimezone(ctx.tz).date():
            out.errors["follow_up"] = t("error.follow_up_in_past", day=form.follow_up.isoformat())
        if form.customer_id is None:
            out.errors["customer"] = t("error.customer_missing")
            session.rollback()
            return out
        try:
            customer = resolve_customer(ctx, f"#{form.customer_id}")
        except CrmError as exc:
            out.errors["customer"] = _say(t, exc)
            session.rollback()
            return out
        parts = [f"#{customer.id}"]
        if form.when is not None:
            parts.append(form.when.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M"))
        if form.deal:
            try:
                deal = resolve_deal(ctx, form.deal, customer=customer)
                parts.append(f"deal #{deal.id}")
                out.deal_id = deal.id
            except CrmError as exc:
                out.errors["deal"] = _say(t, exc)
        if form.contact:
            try:
                contact = resolve_contact(ctx, customer, form.contact)
                parts.append(f"with #{contact.id}")
            except CrmError as exc:
                out.errors["contact"] = _say(t, exc)
        out.customer_id = customer.id
        session.rollback()
    out.line = f"log {form.kind} {', '.join(parts)}: {form.notes}"
    return out


def customer_options(gateway: Gateway, user_id: int, query: str) -> list[dict[str, Any]]:
    """Type-ahead options for the customer field: matching visible customers (id as value)."""
    found = gateway.customer_choices(user_id, query, MAX_OPTIONS)
    return [{"text": _plain(c.label, 75), "value": str(c.id)} for c in found]
