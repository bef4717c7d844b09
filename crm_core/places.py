"""Where a customer is, as the book records it, and the currency used there."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from crm_core.models import Customer

# Custom fields of a customer that say where it is ("country Singapore", "国家 日本").
_PLACE_FIELDS = frozenset(
    ("country", "nation", "region", "market", "territory", "国家", "國家", "地区", "地區", "市场")
)


def place_currency(customer: Customer) -> str | None:
    """The currency of the country the book records for a customer: a country custom field
    (`country SG`, `country Japan`, `国家 日本`), else its city when that names a country or a
    time zone's city (Singapore, Hong Kong, 台北); None when neither tells."""
    custom = customer.custom or {}
    for key, value in custom.items():
        if key.casefold() in _PLACE_FIELDS and isinstance(value, str):
            found = _currency_of(value, codes=True)
            if found is not None:
                return found
    return _currency_of(customer.city or "", codes=False)


_SHORT_PLACE = re.compile(r"\s+sar\s+china$|^中[国國](?=.)|特别行政区$|特別行政區$")


@cache
def _territories() -> dict[str, str]:
    """Country and territory names in English, Simplified and Traditional Chinese, folded, ->
    the territory code; "Hong Kong SAR China" and 中国香港特别行政区 by their short names too."""
    from babel import Locale

    names: dict[str, str] = {}
    for locale in ("en", "zh", "zh_Hant"):
        for code, name in Locale.parse(locale).territories.items():
            if code.isalpha():
                names.setdefault(name.casefold(), code)
                names.setdefault(_SHORT_PLACE.sub("", name.casefold()), code)
    return names


def _currency_of(value: str, *, codes: bool) -> str | None:
    """The currency of a place: with `codes` (a country field) a country's name or ISO code,
    else only a time zone's city (a city "LA" is no Laos)."""
    from babel.numbers import get_territory_currencies

    from crm_core.date_order import zone_territory
    from crm_core.errors import CrmError
    from crm_core.services.preferences import zone

    typed = " ".join(value.split())
    if not typed:
        return None
    # A city is read as a time zone's city only: a US city field "Georgia" is no country.
    territory = _territories().get(typed.casefold()) if codes else None
    if territory is None and codes and re.fullmatch(r"[A-Za-z]{2}", typed):
        territory = typed.upper() if typed.upper() in _territories().values() else None
    if territory is None:
        try:
            territory = zone_territory(zone(typed))
        except CrmError:
            return None
    if territory is None:
        return None
    found = get_territory_currencies(territory, date(2030, 1, 1), tender=True)
    return str(found[0]) if found else None
