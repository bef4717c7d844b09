"""The confirm card of a loose write: what will be done, the command, Confirm / Edit / Cancel."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from crm_core.date_order import slash_readings
from crm_core.services.confirmations import confirm_stamp
from handlers import format as fmt
from handlers.forms import Form
from handlers.i18n import Translator
from handlers.loose import Proposal
from handlers.reply import RUN, Button, Field, OpenForm, Reply


def card(
    t: Translator,
    proposal: Proposal,
    user_id: int,
    now: datetime,
    *,
    said: str = "",
    day_first: bool = False,
) -> Reply:
    """The card; Confirm runs `proposal.command` as typed (once, by this person, for 10 min).
    A slash date in `said` that reads two ways ("3/4") and that the command uses is shown in
    words as it was read."""
    command = proposal.command
    fields = [Field(_label(t, name), value) for name, value in proposal.shown]
    for typed, month, day in slash_readings(said, day_first):
        if not re.search(rf"\b\d{{4}}-{month:02d}-{day:02d}\b", command):
            # A slash date the command does not use (one in a note's words): nothing read.
            continue
        order = t("loose.slash_day_first" if day_first else "loose.slash_month_first")
        words = fmt.month_day(t, month, day)
        fields.append(
            Field(
                t("loose.arg.slash_date"),
                t("loose.slash_date", typed=typed, day=words, order=order),
            )
        )
    confirm = Button.run(
        t("button.confirm"), command, "primary", confirm=confirm_stamp(user_id, now)
    )
    edit_payload: dict[str, Any] = {"text": command, "edit": _form_payload(proposal.form)}
    key = f"loose.does.{proposal.verb.name.replace(' ', '_')}"
    return Reply(
        title=t(key) if t.has(key) else t("loose.does", verb=proposal.verb.local_name(t)),
        text=t("loose.card", command=command),
        fields=fields,
        buttons=[
            confirm,
            Button(t("button.edit"), RUN, edit_payload),
            Button.dismiss(t("button.cancel")),
        ],
        status="confirm",
    )


def _label(t: Translator, name: str) -> str:
    key = f"loose.arg.{name}"
    return t(key) if t.has(key) else name


def _form_payload(form: OpenForm | None) -> dict[str, Any] | None:
    if form is None:
        return None
    return {
        "name": form.name,
        "values": {
            k: v.isoformat() if isinstance(v, (date, datetime)) else v
            for k, v in form.values.items()
        },
        "labels": dict(form.labels),
    }


def edit(t: Translator, payload: Any, command: str, forms: dict[str, Form]) -> Reply:
    """Edit on a card: the verb's form filled with the proposal, or the command to retype."""
    if isinstance(payload, dict) and payload.get("name") in forms:
        values = payload.get("values")
        labels = payload.get("labels")
        return Reply(
            text=t("loose.edit_form"),
            form=OpenForm(
                str(payload["name"]),
                dict(values) if isinstance(values, dict) else {},
                {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            ),
            status="info",
        )
    return Reply(text=t("loose.edit_text", command=command), status="info")
