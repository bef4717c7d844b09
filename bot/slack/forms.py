"""Any declared form as a Slack modal, and a submitted modal's state as typed values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.slack.blocks import escape
from handlers.forms import FieldKind, Form, FormField
from handlers.i18n import Translator
from handlers.reply import OpenForm

# Modals' callback ids are this prefix and the form's name.
PREFIX = "crm_"
# Slack's limits: a plain-text input holds 3,000 characters, private_metadata 3,000.
MAX_INPUT = 3_000


@dataclass
class Origin:
    """Where a modal came from: the message it captures and where to answer."""

    link: str | None = None
    key: str | None = None
    response_url: str | None = None
    channel: str | None = None
    # The fields settled by how the form was opened, as JSON ({"customer": 12}): shown, not
    # editable, and submitted as they were.
    fixed: str | None = None

    def settled(self) -> dict[str, Any]:
        """The settled values (empty when none or unreadable)."""
        try:
            data = json.loads(self.fixed or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

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


def _element(f: FormField, t: Translator, value: Any, label: str | None) -> dict[str, Any]:
    """The input element of one field, holding its initial value."""
    element: dict[str, Any]
    if f.kind is FieldKind.record:
        element = {"type": "external_select", "min_query_length": 0}
        if value:
            element["initial_option"] = {
                "text": _plain(label or f"#{value}", 75),
                "value": str(value),
            }
    elif f.kind is FieldKind.choice:
        options = [
            {"text": _plain(text, 75), "value": v}
            for v, text in (f.choices(t) if f.choices else [])
        ]
        element = {"type": "static_select", "options": options}
        chosen = next((o for o in options if o["value"] == value), None)
        if chosen is not None:
            element["initial_option"] = chosen
    elif f.kind is FieldKind.datetime:
        element = {"type": "datetimepicker"}
        if isinstance(value, datetime):
            element["initial_date_time"] = int(value.timestamp())
    elif f.kind is FieldKind.date:
        element = {"type": "datepicker"}
        if isinstance(value, date):
            element["initial_date"] = value.isoformat()
    else:
        limit = min(f.max_length or MAX_INPUT, MAX_INPUT)
        element = {"type": "plain_text_input", "max_length": limit}
        if f.kind is FieldKind.multiline:
            element["multiline"] = True
        if isinstance(value, str) and value:
            element["initial_value"] = value[:limit]
    if f.hint and f.kind is not FieldKind.choice:
        element["placeholder"] = _plain(t(f.hint))
    element["action_id"] = f.name
    return element


def form_view(
    form: Form, t: Translator, opened: OpenForm, origin: Origin | None = None
) -> dict[str, Any]:
    """The modal of a form, each field in its native control, prefilled from `opened`."""
    blocks: list[dict[str, Any]] = []
    origin = origin or Origin()
    fixed = {f: opened.values[f] for f in opened.settled if f in opened.values}
    if fixed:
        origin.fixed = json.dumps(fixed, separators=(",", ":"))
    for f in form.fields:
        value = opened.values.get(f.name)
        if f.name in fixed:
            # Settled when the form was opened (the customer being edited): shown, not asked.
            shown = escape(opened.labels.get(f.name) or str(value))
            text = f"*{escape(t(f.label))}*: {shown}"
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
            continue
        blocks.append(
            {
                "type": "input",
                "block_id": f.name,
                "label": _plain(t(f.label), 2_000),
                "element": _element(f, t, value, opened.labels.get(f.name)),
                "optional": not f.required,
            }
        )
        if isinstance(value, str) and len(value) > MAX_INPUT:
            # Said out loud, never a silent cut: the link keeps the whole message.
            notice = t("slack.form.long_message", count=len(value), limit=MAX_INPUT)
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]})
    return {
        "type": "modal",
        "callback_id": PREFIX + form.name,
        "title": _plain(t(form.title), 24),
        "submit": _plain(t(form.submit_label), 24),
        "close": _plain(t("form.cancel"), 24),
        "private_metadata": origin.dump(),
        "blocks": blocks,
    }


def read_state(
    form: Form, values: dict[str, Any], settled: dict[str, Any] | None = None
) -> dict[str, Any]:
    """view.state.values (block id -> action id -> element state) as typed values per field;
    the settled ones as the form was opened with them."""
    out: dict[str, Any] = {}
    settled = settled or {}
    for f in form.fields:
        if f.name in settled:
            out[f.name] = settled[f.name]
            continue
        found = values.get(f.name, {}).get(f.name, {})
        state = found if isinstance(found, dict) else {}
        if f.kind is FieldKind.record:
            chosen = str((state.get("selected_option") or {}).get("value", ""))
            out[f.name] = int(chosen) if chosen.isdigit() else None
        elif f.kind is FieldKind.choice:
            out[f.name] = (state.get("selected_option") or {}).get("value")
        elif f.kind is FieldKind.datetime:
            stamp = state.get("selected_date_time")
            out[f.name] = (
                datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else None
            )
        elif f.kind is FieldKind.date:
            out[f.name] = _day(state.get("selected_date"))
        else:
            out[f.name] = str(state.get("value") or "").strip()
    return out


def _day(raw: Any) -> date | None:
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def record_fields(forms: list[Form]) -> set[str]:
    """The names of every record field (their type-ahead asks for options)."""
    return {f.name for form in forms for f in form.fields if f.kind is FieldKind.record}
