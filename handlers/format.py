"""Formatting values for people: money, local times, stage and kind names."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency

from crm_core.models import Customer, Deal, Interaction
from crm_core.services.contacts import NO_YEAR
from handlers.i18n import HANT, Translator

NOTE_PREVIEW = 160


# Babel's locale for each of ours: Chinese readers get their region's currency signs.
BABEL = {"en": "en", "zh": "zh_Hans_CN", "zh-Hant": "zh_Hant_TW"}
_WAN = Decimal(10_000)
CENT = Decimal("0.01")
_YI = Decimal(100_000_000)


def money(amount: Decimal | None, currency: str, t: Translator | None = None) -> str:
    """`48,000 USD`, `1,234.50 EUR`, or a dash when there is no amount.

    For a Chinese reader (`t`): yuan in 万 where that is how it is said (`50万元`, `4.8万元`),
    other amounts with the currency's sign by Babel (`US$48,000`, `¥1,234.50`).
    """
    if amount is None:
        return "—"
    # Money is shown to the cent, half up (0.025 -> 0.03), from the exact amount: totals are
    # summed exact and rounded once here, never added up from rounded lines.
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if t is not None and t.chinese:
        # In Taiwan 元 alone is NT$: yuan there is 人民幣 …元, as a Taiwan reader writes it.
        yuan = "人民币" if t.locale == HANT else ""
        if currency == "CNY" and amount >= _YI and amount % 1_000_000 == 0:
            return t.words(f"{yuan}{format((amount / _YI).normalize(), ',f')}亿元")
        if currency == "CNY" and amount >= _WAN and amount % 100 == 0:
            return t.words(f"{yuan}{format((amount / _WAN).normalize(), ',f')}万元")
        text = format_currency(amount, currency, locale=BABEL[t.locale])
        if currency == "TWD" and text.startswith("$"):
            # Babel's zh_Hant_TW writes its own dollar as a bare $, which reads as US$ beside
            # the US$ of other deals; NT$ says which.
            text = "NT" + text
        return text[:-3] if text.endswith(".00") else text
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


def short_day(t: Translator, value: date) -> str:
    """`Thu 26 Nov` / `11月26日 周四` / `11月26日 週四` by Babel, whatever the process's locale."""
    pattern = "MMMd日 EEE" if t.chinese else "EEE d MMM"
    return format_date(value, pattern, locale=BABEL[t.locale])


def month_day(t: Translator, month: int, day: int) -> str:
    """`3 April` / `4月3日`: a day of a month in words, with no year."""
    pattern = "M月d日" if t.chinese else "d MMMM"
    return format_date(date(2000, month, day), pattern, locale=BABEL[t.locale])


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


def deal_line(
    t: Translator,
    deal: Deal,
    *,
    with_customer: Customer | None = None,
    score: int | None = None,
) -> str:
    """One line describing a deal (with its win score when given)."""
    parts = [f"#{deal.id} {deal.title}"]
    if with_customer is not None:
        parts.append(with_customer.name)
    parts += [stage(t, deal.stage), money(deal.amount, deal.currency, t)]
    if deal.expected_close:
        parts.append(t("deal.closes", date=day(deal.expected_close)))
    if score is not None:
        parts.append(t("deal.score", score=score))
    return " · ".join(parts)


def note_line(t: Translator, note: Interaction, tz: ZoneInfo, author: str) -> str:
    """One line describing a logged interaction."""
    return (
        f"{local_day(note.occurred_at, tz)} · {kind(t, note.kind)} · {author}: {preview(note.text)}"
    )
