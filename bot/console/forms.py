"""Any declared form as console prompts: one field per line, Enter keeps, `cancel` stops."""

from __future__ import annotations

from typing import Any

from handlers.forms import FieldKind, Form, FormField, shown
from handlers.gateway import Gateway
from handlers.reply import Button, Command, OpenForm, Reply

PLATFORM = "console"
CANCEL = {"cancel", "取消"}
PICK = "console.pick"


class FormPrompts:
    """The prompts of one form for one person; each answer returns the next prompt."""

    def __init__(self, gateway: Gateway, user_id: int, opened: OpenForm) -> None:
        form = gateway.form(opened.name)
        if form is None:
            raise LookupError(f"no form {opened.name!r}")
        self.gateway = gateway
        self.user_id = user_id
        self.form: Form = form
        self.values: dict[str, Any] = dict(opened.values)
        self.labels: dict[str, str] = dict(opened.labels)
        self.t = gateway.translator(user_id)
        # Fields settled by how the form was opened are not asked again.
        self.asked = [f for f in form.fields if f.name not in opened.settled]
        self.index = 0
        self.finished = False
        # Numbered choices offered for the current field (choices, or records that matched).
        self.offered: list[Button] = []

    @property
    def field(self) -> FormField:
        """The field being asked."""
        return self.asked[self.index]

    def first(self) -> Reply:
        """The form's title and its first prompt."""
        prompt = self._prompt()
        prompt.title = self.t(self.form.title)
        return prompt

    def _prompt(self, problem: str | None = None) -> Reply:
        t, f = self.t, self.field
        current = self.values.get(f.name)
        line = t(f.label)
        if current not in (None, ""):
            line += f" [{shown(f, current, t, self.labels)}]"
        self.offered = []
        if f.kind is FieldKind.choice and f.choices:
            self.offered = [Button(label, PICK, {"value": v}) for v, label in f.choices(t)]
        text = f"{problem}\n{line}" if problem else line
        return Reply(text=text, buttons=list(self.offered), status="error" if problem else "info")

    def answer(self, line: str) -> Reply:
        """Take one typed line for the current field and ask the next (or submit)."""
        t, f = self.t, self.field
        if line.strip().lower() in CANCEL:
            self.finished = True
            return Reply(text=t("form.cancelled"), status="info")
        if line.isdigit() and 1 <= int(line) <= len(self.offered):
            picked = self.offered[int(line) - 1].payload
            return self._take(picked["value"], str(picked.get("label") or ""))
        if not line.strip():
            # Enter keeps what the field holds (its initial value, or nothing).
            return self._take(self.values.get(f.name), self.labels.get(f.name, ""))
        if f.kind is FieldKind.record:
            hits = self.gateway.customer_choices(self.user_id, line, 8)
            if len(hits) == 1:
                return self._take(hits[0].id, hits[0].name)
            key = "form.record_many" if hits else "form.record_none"
            reply = self._prompt(t(key, query=line))
            self.offered = [Button(c.label, PICK, {"value": c.id, "label": c.name}) for c in hits]
            reply.buttons = list(self.offered)
            return reply
        value, problem = self.gateway.read(self.form, self.user_id, f.name, line)
        if problem is not None:
            return self._prompt(problem)
        return self._take(value, "")

    def _take(self, value: Any, label: str) -> Reply:
        f = self.field
        if f.required and value in (None, ""):
            return self._prompt(self.t("form.required", field=self.t(f.label)))
        trial = {**self.values, f.name: value}
        problem = self.gateway.check(self.form, self.user_id, trial, f.name)
        if problem is not None:
            return self._prompt(problem)
        self.values[f.name] = value
        if label:
            self.labels[f.name] = label
        if self.index + 1 < len(self.asked):
            self.index += 1
            return self._prompt()
        return self._submit()

    def _submit(self) -> Reply:
        command = Command(self.user_id, PLATFORM)
        submitted = self.gateway.submit(self.form, command, self.values)
        if submitted.errors:
            # Back to the first field in error, with the service's words.
            self.index = next(
                (i for i, f in enumerate(self.asked) if f.name in submitted.errors), 0
            )
            problem = submitted.errors.get(self.field.name) or next(iter(submitted.errors.values()))
            return self._prompt(problem)
        self.finished = True
        assert submitted.reply is not None
        return submitted.reply
