"""The order of a user's slash dates ("3/4": 3 April or 4 March) and rewriting them month first."""

from __future__ import annotations

import re
from functools import lru_cache

# "3/4", "3/4/2027", "3/4/27": two numbers of a day and month, read month first unless the
# user's locale writes the day first. "24/7" is a phrase ("support 24/7"), never 24 July.
_SLASH = re.compile(
    r"(?<![\d/.-])(?!24/7(?![\d/]))(\d{1,2})/(\d{1,2})(?=(?:/(?:\d{4}|\d{2}))?(?![\d/]))"
)


def zone_territory(timezone: str) -> str | None:
    """The territory of a time zone by Babel, through its aliases ("Asia/Calcutta" is
    Asia/Kolkata's, IN; "Europe/Kiev" Europe/Kyiv's, UA); None for a zone with none (UTC)."""
    from babel.core import get_global

    territories = get_global("zone_territories")
    territory = territories.get(timezone)
    if territory is None:
        alias = get_global("zone_aliases").get(timezone)
        territory = territories.get(alias) if alias else None
    if not territory or territory in ("001", "ZZ"):
        return None
    return str(territory)


@lru_cache(maxsize=256)
def day_first(locale: str, timezone: str) -> bool:
    """Whether a user writes slash dates day first ("3/4" = 3 April): Babel's short date pattern
    for the user's language in the territory of their time zone (en + Europe/London is en_GB,
    "dd/MM/y"; en + America/New_York is en_US, "M/d/yy"; zh + Asia/Shanghai is "y/M/d", month
    first; zh + Asia/Hong_Kong is "d/M/y"). A zone with no territory (UTC) keeps month first."""
    from babel.core import Locale, UnknownLocaleError

    territory = zone_territory(timezone)
    if territory is None:
        return False
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    script = "_Hant" if language == "zh" and locale.lower().endswith("hant") else ""
    found = None
    for tag in (f"{language}{script}_{territory}", f"{language}_{territory}", f"und_{territory}"):
        try:
            found = Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
        if found.territory == territory:
            break
    if found is None:
        return False
    pattern = str(found.date_formats["short"].pattern)
    day, month = pattern.find("d"), pattern.find("M")
    return 0 <= day < month


def _is_day(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def month_first(text: str, day_first: bool) -> str:
    """`text` with its slash dates written month first, the order the date readers take; the
    same length, so spans found in it are spans of `text`. A day-first user's "3/4" becomes
    "4/3"; their "12/18" (no 18th month) is already month first and stays."""
    if not day_first:
        return text

    def swap(m: re.Match[str]) -> str:
        first, second = int(m.group(1)), int(m.group(2))
        if _is_day(first, second):
            return f"{m.group(2)}/{m.group(1)}"
        return m.group(0)

    return _SLASH.sub(swap, text)


def slash_readings(text: str, day_first: bool) -> list[tuple[str, int, int]]:
    """The slash dates in `text` that read two ways ("3/4": 3 April or 4 March), each as
    (what was typed, month, day) in the order this user's locale reads it."""
    out = []
    for m in _SLASH.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if a == b or not (_is_day(a, b) and _is_day(b, a)):
            continue
        out.append((m.group(0), b, a) if day_first else (m.group(0), a, b))
    return out
