"""Formatting values for people: money, local times, stage and kind names."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_core.models import Customer, Deal, Interaction
from crm_core.services.contacts import NO_YEAR
from handlers.i18n import Translator

NOTE_PREVIEW = 160


def money(amount: Decimal | None, currency: str) -> str:
    """`48,000 USD`, `1,234.50 EUR`, or a dash when there is no amount."""
    if amount is None:
        return "—"
    text = f"{amount:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    return f"{text} {currency}"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """A moment in the user's zone, to the minute."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    """A moment's calendar day in the user's zone."""
    return moment.astimezone(tz).strftime("%Y-%m-%d")


def day(value: date | None) -> str:
    """A calendar day, or a dash."""
    return value.isoformat() if value else "—"


def birthday(value: date) -> str:
    """`1984-05-03`, or `05-03` for a birthday stored without its year."""
    return value.strftime("%m-%d") if value.year == NO_YEAR else value.isoformat()


_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_day(t: Translator, value: date) -> str:
    """`Thu 26 Nov` / `11月26日 周四`, whatever the process's C locale."""
    if t.chinese:
        return t.words(f"{value.month}月{value.day}日 {_WEEKDAYS['zh'][value.weekday()]}")
    return f"{_WEEKDAYS['en'][value.weekday()]} {value.day} {_MONTH_NAMES[value.month - 1]}"


def stage(t: Translator, name: str) -> str:
    """A stage's name in the user's language: its configured label, the catalogue's word for
    a default stage, or the configured name."""
    label = t.stage(name)
    if label:
        return label
    key = f"stage.{name}"
    return t(key) if t.has(key) else name


def kind(t: Translator, value: str) -> str:
    """An interaction kind in the user's language."""
    return t(f"kind.{value}")


def preview(text: str, limit: int = NOTE_PREVIEW) -> str:
    """The start of a note on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def deal_line(t: Translator, deal: Deal, *, with_customer: Customer | None = None) -> str:
    """One line describing a deal."""
    parts = [f"#{deal.id} {deal.title}"]
    if with_customer is not None:
        parts.append(with_customer.name)
    parts += [stage(t, deal.stage), money(deal.amount, deal.currency)]
    if deal.expected_close:
        parts.append(t("deal.closes", date=day(deal.expected_close)))
    return " · ".join(parts)


def note_line(t: Translator, note: Interaction, tz: ZoneInfo, author: str) -> str:
    """One line describing a logged interaction."""
    return (
        f"{local_day(note.occurred_at, tz)} · {kind(t, note.kind)} · {author}: {preview(note.text)}"
    )
