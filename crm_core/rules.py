"""The checks every write obeys, whether typed in chat or read from an import file.

Each rule raises `Rule` (an `Invalid` whose `reason` is plain English for import files) or returns
the cleaned value. Services call these before writing; crm_core.exchange calls the same ones on
every record, so chat and import can never disagree about what is acceptable.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from babel.core import get_global
from babel.numbers import get_territory_currencies

from crm_core.date_order import zone_territory
from crm_core.errors import Invalid

MAX_NOTE = 20_000
MAX_REMINDER = 2_000
MAX_NAME = 300
MAX_FIELD = 100
MAX_TAG = 50
MAX_TAGS = 20
MAX_AMOUNT = Decimal("999999999999.99")
# Dates a CRM can mean: older or later ones are typos (0001, 9999) and overflow in other zones.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
LOCALES = ("en", "zh", "zh-Hant")
# Regional forms read as Traditional Chinese (Taiwan, Hong Kong, Macau).
_HANT_REGIONS = {"hant", "tw", "hk", "mo"}

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Bidirectional overrides, embeddings, isolates and marks: they make a name display as
# something else ("Evil" shown as "livE") and never belong in a customer or deal name.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Control characters other than tab and line breaks (NUL breaks PostgreSQL text outright).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Rule(Invalid):
    """A broken rule: `key` and params for chat, `reason` in plain English for import files."""

    def __init__(self, key: str, reason: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.reason = reason


def readable(field: str, value: str) -> str:
    """Refuse text no database or terminal can hold: NUL, control characters, lone surrogates."""
    if _SURROGATE.search(value):
        # Bytes that are not UTF-8 arrive as lone surrogates (Python's surrogateescape).
        raise Rule("error.text_not_utf8", f"{field} is not valid UTF-8 text", field=field)
    if _CONTROL.search(value):
        raise Rule(
            "error.text_control", f"{field} holds a control character (such as NUL)", field=field
        )
    return value


def name(field: str, value: str, limit: int = MAX_NAME) -> str:
    """A one-line display name: readable, no direction overrides, not empty, not too long."""
    readable(field, value)
    if _BIDI.search(value):
        raise Rule(
            "error.text_bidi",
            f"{field} holds a right-to-left or direction override character",
            field=field,
        )
    value = " ".join(value.split())
    if len(value) > limit:
        raise Rule(
            "error.too_long", f"{field} is longer than {limit} characters", field=field, limit=limit
        )
    return value


def optional(field: str, value: str | None, limit: int) -> str | None:
    """An optional one-line field (industry, city, title): checked like a name, empty is None."""
    if value is None:
        return None
    return name(field, value, limit) or None


def text(field: str, value: str, limit: int, missing: str) -> str:
    """A free text (note, reminder): readable, not empty (`missing` is the message), bounded."""
    readable(field, value)
    value = value.strip()
    if not value:
        raise Rule(missing, f"{field} is empty")
    if len(value) > limit:
        raise Rule(
            "error.too_long", f"{field} is longer than {limit} characters", field=field, limit=limit
        )
    return value


def tags(values: list[str]) -> list[str]:
    """Tags lower-cased, deduplicated and sorted; at most MAX_TAGS of MAX_TAG characters."""
    out = sorted({name("tag", t, MAX_TAG).lower() for t in values if t.strip()})
    for tag in out:
        if len(tag) > MAX_TAG:
            raise Rule(
                "error.too_long",
                f"a tag is longer than {MAX_TAG} characters",
                field="tag",
                limit=MAX_TAG,
            )
    if len(out) > MAX_TAGS:
        raise Rule("error.too_many_tags", f"more than {MAX_TAGS} tags", limit=MAX_TAGS)
    return out


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes that are money somewhere (not XAU, XXX, or codes withdrawn before 2000)."""
    found: set[str] = set()
    for territory in get_global("territory_currencies"):
        found.update(
            get_territory_currencies(
                territory, start_date=date(2000, 1, 1), end_date=date(2100, 1, 1), tender=True
            )
        )
    return frozenset(found)


@cache
def home_currency(timezone: str) -> str | None:
    """The currency of the territory of a time zone (Asia/Taipei: TWD, Australia/Perth: AUD),
    by Babel; None for a zone with no territory (UTC)."""
    territory = zone_territory(timezone)
    if territory is None:
        return None
    # A fixed day past the data's last change, not the wall clock: the currency in use now.
    found = get_territory_currencies(territory, date(2030, 1, 1), tender=True)
    return str(found[0]) if found else None


def currency(value: str) -> str:
    """An upper-cased ISO 4217 code of a currency in use."""
    code = value.strip().upper()
    if code not in currencies():
        raise Rule(
            "error.currency_invalid", f"{value!r} is not an ISO 4217 currency in use", value=value
        )
    return code


def amount(value: Decimal) -> Decimal:
    """A non-negative amount in whole cents, below MAX_AMOUNT."""
    if not (Decimal(0) <= value <= MAX_AMOUNT and value == value.quantize(Decimal("0.01"))):
        raise Rule(
            "error.amount_invalid",
            f"amount {value} must be 0 to {MAX_AMOUNT} in whole cents",
            value=str(value),
        )
    return value


def day(field: str, value: date) -> date:
    """A calendar day within FIRST_DAY..LAST_DAY."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise Rule(
            "error.date_out_of_range",
            f"{field} {value.isoformat()} is outside {FIRST_DAY.year}..{LAST_DAY.year}",
            value=value.isoformat(),
            first=FIRST_DAY.year,
            last=LAST_DAY.year,
        )
    return value


def moment(field: str, value: datetime) -> datetime:
    """An aware moment whose UTC day is within FIRST_DAY..LAST_DAY."""
    day(field, value.astimezone(UTC).date())
    return value


def email(value: str | None) -> str | None:
    """An email address shaped like one, or None."""
    if value is None or not value.strip():
        return None
    readable("email", value)
    if not EMAIL.match(value.strip()):
        raise Rule("error.contact_email_invalid", f"{value!r} is not an email address", value=value)
    return value.strip()


def locale(value: str) -> str:
    """`en`, `zh`, `zh-Hant` (or a regional form: `zh-TW`, `zh-HK`, `zh-CN`, `en_GB`) as the
    catalogue it names."""
    parts = re.split(r"[-_]", value.strip().lower())
    code = parts[0]
    # Written Cantonese (`yue`, `yue-Hant-HK`, `zh-yue`) is Traditional unless it says Simplified.
    cantonese = code == "yue" or (code == "zh" and "yue" in parts[1:])
    if cantonese and "hans" in parts[1:]:
        return "zh"
    if cantonese or (code == "zh" and _HANT_REGIONS & set(parts[1:])):
        return "zh-Hant"
    if code not in LOCALES:
        raise Rule(
            "error.locale_invalid",
            f"locale {value!r} is not one of {', '.join(LOCALES)}",
            value=value,
            locales=", ".join(LOCALES),
        )
    return code


# -- custom fields ------------------------------------------------------------------------------

# The records an admin may declare fields on, and the kinds of field.
CUSTOM_RECORDS = ("customer", "contact", "deal")
CUSTOM_KINDS = ("text", "number", "date", "choice", "yesno")
# A record's own fields (and the words its edit already reads) cannot be declared again.
CUSTOM_RESERVED = {
    "customer": frozenset({"name", "industry", "city", "tags", "tag", "owner", "custom"}),
    "contact": frozenset(
        {"name", "title", "email", "phone", "birthday", "born", "bday", "customer", "custom"}
    ),
    "deal": frozenset(
        {
            "title",
            "amount",
            "currency",
            "close",
            "closes",
            "expected_close",
            "owner",
            "stage",
            "product",
            "customer",
            "custom",
        }
    ),
}
MAX_CUSTOM_NAME = 30
MAX_CUSTOM_TEXT = 200
MAX_CHOICES = 30
MAX_CHOICE = 50
# A field name: a letter (any script), then letters, digits or underscores.
_CUSTOM_NAME = re.compile(r"^[^\W\d_][\w]*$")
# Typed yes / no words, and what an import file or an undo gives (the stored booleans).
YES = ("yes", "y", "true", "1", "on", "是", "对", "有")
NO = ("no", "n", "false", "0", "off", "否", "不", "没有", "无")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
MAX_NUMBER = Decimal("1e15")
_THOUSANDS = re.compile(r"(?<=\d),\s?(?=\d{3}(?!\d))")


def custom_name(value: str) -> str:
    """A custom field's name: one word of letters, digits or `_`, lower-cased, at most 30."""
    readable("field name", value)
    cleaned = value.strip().lower()
    if not _CUSTOM_NAME.match(cleaned) or len(cleaned) > MAX_CUSTOM_NAME:
        raise Rule(
            "error.custom_name_invalid",
            f"field name {value!r} must be one word of letters, digits or _ "
            f"(at most {MAX_CUSTOM_NAME}), starting with a letter",
            value=value,
            limit=MAX_CUSTOM_NAME,
        )
    return cleaned


def custom_kind(value: str) -> str:
    """One of CUSTOM_KINDS."""
    kind = value.strip().lower()
    if kind not in CUSTOM_KINDS:
        raise Rule(
            "error.custom_kind_invalid",
            f"field kind {value!r} is not one of {', '.join(CUSTOM_KINDS)}",
            value=value,
            kinds=", ".join(CUSTOM_KINDS),
        )
    return kind


def custom_record(value: str) -> str:
    """One of CUSTOM_RECORDS."""
    record = value.strip().lower()
    if record not in CUSTOM_RECORDS:
        raise Rule(
            "error.custom_record_invalid",
            f"record {value!r} is not one of {', '.join(CUSTOM_RECORDS)}",
            value=value,
        )
    return record


def custom_choices(kind: str, values: list[str]) -> list[str]:
    """A choice field's choices (1..MAX_CHOICES distinct names, in order); none for the rest."""
    if kind != "choice":
        if values:
            raise Rule(
                "error.custom_choices_unwanted",
                f"only a choice field has choices, not a {kind} field",
                kind=kind,
            )
        return []
    out: list[str] = []
    for value in values:
        choice = name("choice", value, MAX_CHOICE)
        # "-" stands for "no value" in forms, so a choice needs a letter or a digit.
        if not re.search(r"[^\W_]", choice) or "," in choice or "，" in choice:
            raise Rule(
                "error.custom_choice_bad",
                f"choice {value!r} has no letter or digit, or has a comma",
                choice=value,
            )
        if choice.casefold() in {c.casefold() for c in out}:
            raise Rule(
                "error.custom_choice_twice", f"choice {choice!r} is given twice", choice=choice
            )
        out.append(choice)
    if not out or len(out) > MAX_CHOICES:
        raise Rule(
            "error.custom_choices_count",
            f"a choice field needs 1 to {MAX_CHOICES} choices",
            limit=MAX_CHOICES,
        )
    return out


def custom_value(field: str, kind: str, choices: list[str], value: Any) -> Any:
    """A custom field's value in stored form, or None (cleared).

    Stored forms: text as given (one line); number as a plain decimal string ("52000", "3.5");
    date as ISO (YYYY-MM-DD; phrases are read by the caller first); choice as declared; yes/no
    as a boolean. Each refusal says what to type.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "yesno":
        if isinstance(value, bool):
            return value
        word = str(value).strip().casefold()
        if word in YES:
            return True
        if word in NO:
            return False
        raise Rule(
            "error.custom_yesno", f"{field}: {value!r} is not yes or no", field=field, value=value
        )
    if not isinstance(value, str):
        raise Rule(
            "error.custom_value_type", f"{field}: {value!r} is not text", field=field, value=value
        )
    if kind == "text":
        return name(field, value, MAX_CUSTOM_TEXT)
    if kind == "number":
        # Thousands separators (a space may follow the comma: chat grammar spaces commas out).
        digits = _THOUSANDS.sub("", value.strip()).replace("_", "")
        if not _NUMBER.match(digits) or abs(Decimal(digits)) >= MAX_NUMBER:
            raise Rule(
                "error.custom_number",
                f"{field}: {value!r} is not a number such as 12 or 3.5",
                field=field,
                value=value,
            )
        number = Decimal(digits).normalize()
        # normalize() writes 52000 as 5.2E+4; the stored form is plain digits.
        return format(number, "f") if number != 0 else "0"
    if kind == "date":
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise Rule(
                "error.custom_date",
                f"{field}: {value!r} is not a date such as 2027-01-15",
                field=field,
                value=value,
            ) from None
        return day(field, parsed).isoformat()
    if kind == "choice":
        wanted = " ".join(value.split()).casefold()
        for choice in choices:
            if choice.casefold() == wanted:
                return choice
        raise Rule(
            "error.custom_choice",
            f"{field}: {value!r} is not one of {', '.join(choices)}",
            field=field,
            value=value,
            choices=", ".join(choices),
        )
    raise Rule("error.custom_kind_invalid", f"unknown kind {kind!r}", value=kind, kinds="")
