"""Forms declared once: fields, choices and what runs on submit; each adapter renders them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from crm_core.context import Ctx
from crm_core.errors import CrmError, Invalid
from crm_core.when import parse_day, parse_when
from handlers.i18n import Translator
from handlers.reply import Command

if TYPE_CHECKING:
    from handlers.reply import Reply

T = TypeVar("T")


class FieldKind(StrEnum):
    """How a field is entered: each adapter has a native control for each kind."""

    text = "text"
    multiline = "multiline"
    choice = "choice"
    # A customer, picked by type-ahead (Slack), buttons and search (Telegram), search (console).
    record = "record"
    datetime = "datetime"
    date = "date"


@dataclass(frozen=True)
class FormField:
    """One field of a form."""

    name: str
    # Catalogue keys: the label, an optional placeholder, the step-by-step question.
    label: str
    kind: FieldKind = FieldKind.text
    required: bool = False
    # (value, label) pairs of a choice field, in the person's language.
    choices: Callable[[Translator], list[tuple[str, str]]] | None = None
    max_length: int | None = None
    # Asked in a step-by-step (mobile) flow; other fields keep their initial values there.
    step: bool = True
    hint: str | None = None
    # The question of the step; formatted with the labels of the answers so far.
    ask: str | None = None
    # Typed words -> a choice value (aliases such as 电话 for call); None: not a choice.
    read: Callable[[str], str | None] | None = None
    # What to say when typed words are none of the choices (catalogue key).
    bad: str | None = None
    # The label of a step-by-step flow's button that leaves an optional field empty.
    skip: str = "button.skip"


@dataclass(frozen=True)
class Form:
    """A form: its fields and what its submit runs (the services that write, in one go)."""

    name: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    run: Callable[[FormRequest], Reply]
    # Title of the confirm card a step-by-step flow shows before submitting.
    confirm: str = "form.confirm"
    # The record (customer, contact, deal) whose custom fields the form also edits: each
    # adapter gets them as extra fields through the gateway (handlers.custom.with_custom).
    custom: str | None = None

    def field(self, name: str) -> FormField:
        """A field by name."""
        return next(f for f in self.fields if f.name == name)

    @property
    def steps(self) -> list[FormField]:
        """The fields a step-by-step flow asks, in order."""
        return [f for f in self.fields if f.step]


@dataclass
class FormRequest:
    """A submitted form on its way through its `run`: typed values per field name."""

    ctx: Ctx
    command: Command
    values: dict[str, Any]
    t: Translator
    # Only checking (a step of a conversation): report the errors, write nothing.
    checking: bool = False

    def checks(self) -> Checks:
        """A collector of this submit's field errors."""
        return Checks(checking=self.checking)

    def text(self, name: str) -> str:
        """A text value, stripped ('' when empty)."""
        value = self.values.get(name)
        return value.strip() if isinstance(value, str) else ""


class FormInvalid(CrmError):
    """Some fields are wrong; each carries the service's own error."""

    def __init__(self, errors: dict[str, CrmError]) -> None:
        super().__init__("error.form_invalid")
        self.errors = errors


class Checks:
    """Runs the services' checks field by field and reports every failing field at once."""

    def __init__(self, *, checking: bool = False) -> None:
        self.errors: dict[str, CrmError] = {}
        self.checking = checking

    def run(self, name: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """The check's result, or None with its error kept for field `name`."""
        try:
            return check(*args, **kwargs)
        except CrmError as exc:
            self.errors.setdefault(name, exc)
            return None

    def fail(self, name: str, error: CrmError) -> None:
        """Record an error for a field."""
        self.errors.setdefault(name, error)

    def done(self) -> None:
        """Raise every error found (always, when only checking), or go on to write."""
        if self.errors or self.checking:
            raise FormInvalid(self.errors)


def read_typed(
    f: FormField, text: str, ctx_tz: Any, now: datetime, t: Translator, *, day_first: bool = False
) -> Any:
    """A typed answer as the field's value; raises Invalid saying what to type instead."""
    text = text.strip()
    if f.kind is FieldKind.date:
        day = parse_day(text, ctx_tz, now, day_first=day_first)
        if day is None:
            raise Invalid("error.date_invalid", value=text)
        return day
    if f.kind is FieldKind.datetime:
        moment = parse_when(text, ctx_tz, now, day_first=day_first)
        if moment is None:
            raise Invalid("error.date_invalid", value=text)
        return moment
    if f.kind is FieldKind.choice:
        value = f.read(text) if f.read else None
        labels = {label.casefold(): v for v, label in (f.choices(t) if f.choices else [])}
        value = value or labels.get(text.casefold())
        if value is None:
            raise Invalid(f.bad or "form.choice_bad", field=t(f.label))
        return value
    if f.max_length is not None and len(text) > f.max_length:
        raise Invalid("error.too_long", field=t(f.label), limit=f.max_length)
    return text


def shown(f: FormField, value: Any, t: Translator, labels: dict[str, str]) -> str:
    """A value as a confirm card shows it."""
    if value is None or value == "":
        return t("card.none")
    if f.name in labels:
        return labels[f.name]
    if f.kind is FieldKind.choice and f.choices:
        return dict(f.choices(t)).get(str(value), str(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Submitted:
    """What a submit came to: a reply, or errors per field in the person's words."""

    reply: Reply | None = None
    errors: dict[str, str] = field(default_factory=dict)
