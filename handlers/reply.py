"""Platform-neutral Command (what came in) and Reply (what goes out)."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

RUN = "run"  # button action: dispatch payload["text"] as if the user typed it
DISMISS = "dismiss"  # button action: run nothing and say so (a confirm card's Cancel)


@dataclass(frozen=True)
class Location:
    """A place the platform attached (a Telegram location), in degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class SourceLink:
    """The message a command was taken from (a Slack permalink, a Telegram message link)."""

    url: str


@dataclass(frozen=True)
class Photo:
    """A photo sent with the command, as the platform's file id."""

    file_id: str


@dataclass(frozen=True)
class File:
    """A document or voice note sent with the command, as the platform's file id."""

    file_id: str
    name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class Quoted:
    """The message a command replies to (Telegram's reply): its text, a key naming that message
    on its platform, and its link when it has one."""

    text: str
    key: str
    link: str | None = None
    # Who wrote it (their platform id and name), when the platform says.
    author_id: str | None = None
    author_name: str | None = None


Attachment = Location | SourceLink | Photo | File | Quoted
A = TypeVar("A", Location, SourceLink, Photo, File, Quoted)


@dataclass(frozen=True)
class Command:
    """One request from a person on some platform: typed text or a pressed button."""

    user_id: int
    platform: str
    text: str = ""
    chat_id: str | None = None
    action: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    idempotency_key: str | None = None
    # The platform's id for this delivery (Slack event/trigger id, Telegram update id): a
    # repeated delivery is answered with status "duplicate" and does nothing.
    delivery_id: str | None = None

    def attached(self, kind: type[A]) -> A | None:
        """The first attachment of this kind, if the platform sent one."""
        return next((a for a in self.attachments if isinstance(a, kind)), None)


@dataclass(frozen=True)
class Button:
    """A choice offered with a reply; pressing it sends `action` with `payload`."""

    label: str
    action: str
    payload: dict[str, Any] = field(default_factory=dict)
    style: Literal["primary", "danger"] | None = None

    @classmethod
    def run(
        cls,
        label: str,
        text: str,
        style: Literal["primary", "danger"] | None = None,
        *,
        pick: dict[str, int] | None = None,
        confirm: dict[str, Any] | None = None,
    ) -> Button:
        """A button that runs a command line as if typed, with records already chosen.

        `confirm` is a confirm card's stamp (crm_core.services.confirmations): the line then
        runs once, within ten minutes, and only for the person the card was shown to.
        """
        payload: dict[str, Any] = {"text": text}
        if pick:
            payload["pick"] = dict(pick)
        if confirm:
            payload["confirm"] = dict(confirm)
        return cls(label, RUN, payload, style)

    @classmethod
    def dismiss(cls, label: str) -> Button:
        """A button that runs nothing (a confirm card's Cancel); pressing it says so."""
        return cls(label, DISMISS, {})


@dataclass(frozen=True)
class Field:
    """A labelled value on a card."""

    label: str
    value: str


@dataclass(frozen=True)
class Section:
    """A titled list on a card (contacts, open deals, recent notes)."""

    title: str
    lines: list[str]


@dataclass(frozen=True)
class OpenForm:
    """Ask the person to fill in a declared form (handlers/forms.py), starting from `values`."""

    name: str
    # Typed initial values per field (a record's id, a date, a text).
    values: dict[str, Any] = field(default_factory=dict)
    # How a record value is shown ({"customer": "Acme Logistics"}).
    labels: dict[str, str] = field(default_factory=dict)
    # Fields settled by how the form was opened: a step-by-step flow does not ask them.
    settled: tuple[str, ...] = ()


@dataclass
class Reply:
    """A rich message every adapter can render: Block Kit, HTML with a keyboard, or text."""

    text: str = ""
    title: str | None = None
    fields: list[Field] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    image: bytes | None = None
    ephemeral: bool = True
    # "duplicate": a repeated delivery; adapters send nothing for it. "confirm": a confirm
    # card of a loose command (its Confirm button runs the grammar command).
    status: Literal["ok", "error", "info", "duplicate", "confirm"] = "ok"
    # True where showing the reply to a whole channel makes sense (a card, a report).
    shareable: bool = False
    # A form to fill in instead of (or after) the text: each adapter opens it natively.
    form: OpenForm | None = None

    def to_json(self) -> dict[str, Any]:
        """The reply as JSON-ready data (`crmbot run --json`)."""
        data = asdict(self)
        data["image"] = base64.b64encode(self.image).decode() if self.image else None
        if self.status == "confirm":
            # The grammar command Confirm runs: typing it has the same effect.
            data["command"] = next(
                (b.payload["text"] for b in self.buttons if "confirm" in b.payload), None
            )
        if self.form is not None:
            values = {
                k: v.isoformat() if hasattr(v, "isoformat") else v
                for k, v in self.form.values.items()
            }
            data["form"] = {
                "name": self.form.name,
                "values": values,
                "labels": self.form.labels,
                "settled": list(self.form.settled),
            }
        return data
