"""The English grammar of time phrases: "tomorrow 3pm", "in 2 hours", "every monday 9am"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from crm_core.timephrases.core import (
    Bad,
    Clock,
    Day,
    Offset,
    Part,
    Recur,
    Rule,
    Value,
    const,
    rule,
)
from crm_core.timephrases.english import (
    DAY_WORDS,
    MONTHS,
    NUMBER_WORDS,
    WEAK_WORDS,
    WEEKDAYS,
)

# Word edges for Latin text (the view is lower-cased; digits count as word characters).
WORD_START = r"(?<![a-z0-9])"
WORD_END = r"(?![a-z0-9])"
_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MON = "|".join(sorted(MONTHS, key=len, reverse=True))
# Word numbers end at a word boundary, or "and" would read as "an d(ay)".
_NUM = (
    r"\d+(?:\.\d+)?|(?:half\s+an?|a\s+couple\s+of|couple\s+of|a\s+few|few|several|"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")(?![a-z])"
)
_UNIT = r"minutes?|mins?|m|hours?|hrs?|hr|h|days?|d|weeks?|wks?|wk|w|months?|mos?|mo"
# A unit may run into the next quantity: "1h30m".
_QTY = re.compile(rf"(?P<n>{_NUM})\s*(?P<u>{_UNIT})(?![a-z])")
_DUR = (
    rf"(?:{_NUM})\s*(?:{_UNIT})(?![a-z])(?:\s*,?\s*(?:and\s+)?(?:{_NUM})\s*(?:{_UNIT}){WORD_END})*"
    r"(?:\s+and\s+a\s+half)?"
)
_ORD = r"(?:st|nd|rd|th)"


def _duration(text: str) -> Value:
    """ "2 hours 30 minutes", "a week", "an hour and a half" as an offset."""
    exact, days, months = timedelta(), 0.0, 0.0
    last_unit = ""
    for m in _QTY.finditer(text):
        word, unit = re.sub(r"\s+", " ", m.group("n")), m.group("u")
        if word in ("a few", "few", "several"):
            return Bad()  # vague: never guess how many
        if word.startswith("half"):
            amount = 0.5
        elif word.endswith("couple of"):
            amount = 2.0
        elif word in NUMBER_WORDS:
            amount = float(NUMBER_WORDS[word])
        else:
            amount = float(word)
        exact, days, months = _add_unit(exact, days, months, unit, amount)
        last_unit = unit
    if re.search(r"and\s+a\s+half$", text):
        exact, days, months = _add_unit(exact, days, months, last_unit, 0.5)
    if days != int(days) or months != int(months):
        return Bad()  # "1.5 days": no calendar reading
    if not (exact or days or months):
        return Bad()
    return Offset(exact=exact, days=int(days), months=int(months))


def _add_unit(
    exact: timedelta, days: float, months: float, unit: str, amount: float
) -> tuple[timedelta, float, float]:
    """Adds `amount` of `unit`: minutes and hours exactly, days and longer on the calendar."""
    if unit.startswith("mi") or unit == "m":
        exact += timedelta(minutes=amount)
    elif unit.startswith("h"):
        exact += timedelta(hours=amount)
    elif unit.startswith("d"):
        days += amount
    elif unit.startswith("w"):
        days += 7 * amount
    else:
        months += amount
    return exact, days, months


def en_clock(m: re.Match[str]) -> Value:
    """ "3pm", "9:30 a.m.", "15:30", "at 8", "5 o'clock"."""
    hour_text = m.group("h")
    hour, minute = int(hour_text), int(m.group("m") or 0)
    ap = m.groupdict().get("ap")
    meridiem: Literal["am", "pm"] | None = None
    if ap:
        meridiem = "am" if ap.startswith("a") else "pm"
        if not 1 <= hour <= 12:
            return Bad()
    if hour > 23 or minute > 59:
        return Bad()
    return Clock(hour, minute, meridiem, padded=len(hour_text) == 2 and hour_text[0] == "0")


def _en_weekday(m: re.Match[str]) -> Value:
    """ "friday", "next tue", "this coming monday"."""
    mod = re.sub(r"\s+", " ", m.group("mod") or "")
    mode: Literal["roll", "next"] = "next" if mod == "next" else "roll"
    return Day("weekday", n=WEEKDAYS[m.group("wd")], mode=mode)


def _en_date(m: re.Match[str]) -> Value:
    """ "Dec 3", "3rd of December 2026", "2026-12-01"."""
    year = int(m.group("y")) if m.group("y") else None
    month = MONTHS[m.group("mon")] if m.groupdict().get("mon") else int(m.group("mo"))
    return Day("date", year=year, month=month, day=int(m.group("d")))


def _en_monthly(m: re.Match[str]) -> Value:
    """ "every month on the 1st" / "... the last day"."""
    if m.group("d") is None:
        return Recur("monthly", day=-1)
    day = int(m.group("d"))
    return Recur("monthly", day=day) if 1 <= day <= 31 else Bad()


EN_RULES: list[Rule] = [
    rule(rf"{WORD_START}in\s+(?P<dur>{_DUR})", lambda m: _duration(m.group("dur"))),
    rule(
        rf"{WORD_START}(?P<dur>{_DUR})\s+from\s+now{WORD_END}", lambda m: _duration(m.group("dur"))
    ),
    rule(
        rf"{WORD_START}(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr){WORD_END}",
        const(Day("offset", n=2)),
    ),
    # Read so that a reminder "yesterday 9am" is refused as past, not set for tomorrow 09:00.
    rule(
        rf"{WORD_START}(?:(?P<before>(?:the\s+)?day\s+before\s+)?yesterday){WORD_END}",
        lambda m: Day("offset", n=-2 if m.group("before") else -1),
    ),
    rule(
        rf"{WORD_START}(?P<w>{'|'.join(sorted(DAY_WORDS, key=len, reverse=True))}){WORD_END}",
        lambda m: Day(
            "offset",
            n=DAY_WORDS[m.group("w")],
            part="night" if m.group("w") == "tonight" else None,
        ),
    ),
    rule(
        rf"{WORD_START}this\s+(?P<p>morning|afternoon|evening){WORD_END}",
        lambda m: Day("offset", n=0, part=m.group("p")),
    ),
    rule(
        rf"{WORD_START}(?:(?P<mod>next|this\s+coming|this|coming)\s+)?(?P<wd>{_WD}){WORD_END}(?:\.(?=\s*\d))?",
        _en_weekday,
        lambda m: m.group("mod") is None and m.group("wd") in WEAK_WORDS,
    ),
    rule(rf"{WORD_START}next\s+week{WORD_END}", const(Day("next_week"))),
    rule(rf"{WORD_START}next\s+month{WORD_END}", const(Day("monthday", n=1, day=1))),
    rule(
        rf"{WORD_START}(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month|eom|month[\s-]end"
        rf"|(?:the\s+)?last\s+day\s+of\s+(?:the|this)\s+month){WORD_END}",
        const(Day("eom")),
    ),
    rule(
        rf"{WORD_START}(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week|eow){WORD_END}",
        const(Day("eow")),
    ),
    rule(
        r"(?<![\d-])(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?![\d-])",
        _en_date,
    ),
    # "12/18", "12/18/2026": month first, as the day parser reads it; a day-first user's text
    # is swapped to this order first (crm_core.date_order.month_first).
    rule(
        r"(?<![\d/.-])(?P<mo>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?:/(?P<y>\d{4}))?(?![\d/])",
        _en_date,
    ),
    rule(
        rf"{WORD_START}(?P<mon>{_MON})\.?\s*(?P<d>\d{{1,2}}){_ORD}?{WORD_END}(?![:.]\d)"
        rf"(?:,?\s*(?P<y>\d{{4}}){WORD_END})?",
        _en_date,
        lambda m: m.group("mon") in WEAK_WORDS,
    ),
    rule(
        rf"{WORD_START}(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}?\s+(?:of\s+)?(?P<mon>{_MON}){WORD_END}(?:\.(?=\s*\d))?"
        rf"(?:,?\s*(?P<y>\d{{4}}){WORD_END})?",
        _en_date,
        lambda m: m.group("mon") in WEAK_WORDS,
    ),
    rule(
        rf"{WORD_START}the\s+(?P<d>\d{{1,2}}){_ORD}{WORD_END}",
        lambda m: Day("monthday", mode="roll", day=int(m.group("d"))),
        lambda _m: True,
    ),
    rule(
        r"(?<![\d.:])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])",
        en_clock,
    ),
    rule(r"(?<![\d.:-])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d:])", en_clock),
    rule(rf"(?:{WORD_START}at|@)\s*(?P<h>\d{{1,2}})(?P<m>)(?![\d:]|\.\d|\s*[ap]\.?m)", en_clock),
    rule(rf"(?<![\d.:])(?P<h>\d{{1,2}})(?P<m>)\s*o'?clock{WORD_END}", en_clock),
    rule(rf"{WORD_START}(?:12\s*)?(?:noon|midday){WORD_END}", const(Clock(12, special="noon"))),
    rule(rf"{WORD_START}(?:12\s*)?midnight{WORD_END}", const(Clock(0, special="midnight"))),
    rule(
        rf"{WORD_START}(?P<in>in\s+the\s+)?(?P<p>morning|afternoon|evening|night){WORD_END}",
        lambda m: Part(m.group("p")),
        lambda m: m.group("in") is None,
    ),
    rule(
        rf"{WORD_START}(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:business\s+)?day|eod|cob"
        rf"|close\s+of\s+business){WORD_END}",
        const(Part("eod")),
    ),
    # Recurrences.
    rule(rf"{WORD_START}(?:every\s*day|daily|each\s+day){WORD_END}", const(Recur("daily"))),
    rule(
        rf"{WORD_START}every\s+(?P<p>morning|afternoon|evening|night){WORD_END}",
        lambda m: Recur("daily", part=m.group("p")),
    ),
    rule(
        rf"{WORD_START}(?:(?:every|each)\s+(?:week\s*day|working\s+day|work\s*day|business\s+day)"
        rf"|(?:on\s+)?weekdays|mon(?:day)?\s*[-–]\s*fri(?:day)?){WORD_END}",
        const(Recur("weekdays")),
    ),
    rule(
        rf"{WORD_START}(?:(?:every|each)\s+(?:week\s+on\s+)?|weekly\s+on\s+)(?P<wd>{_WD})s?{WORD_END}(?:\.(?=\s*\d))?",
        lambda m: Recur("weekly", weekday=WEEKDAYS[m.group("wd")]),
    ),
    rule(
        rf"{WORD_START}(?:on\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s{WORD_END}",
        lambda m: Recur("weekly", weekday=WEEKDAYS[m.group("wd")]),
    ),
    rule(
        rf"{WORD_START}(?:(?:every|each)\s+month|monthly)\s+on\s+the\s+"
        rf"(?:(?P<d>\d{{1,2}}){_ORD}?|last\s+day){WORD_END}",
        _en_monthly,
    ),
    rule(
        rf"{WORD_START}(?:on\s+)?the\s+(?:(?P<d>\d{{1,2}}){_ORD}?|last\s+day)\s+of\s+(?:every|each)"
        rf"\s+month{WORD_END}",
        _en_monthly,
    ),
    rule(
        rf"{WORD_START}every\s+(?P<d>\d{{1,2}}){_ORD}(?:\s+of\s+the\s+month)?{WORD_END}",
        _en_monthly,
    ),
    rule(
        rf"{WORD_START}(?:(?:at\s+the\s+)?end\s+of\s+(?:every|each)\s+month|every\s+month[\s-]end){WORD_END}",
        lambda _m: Recur("monthly", day=-1),
    ),
    # Schedules we do not offer: refuse rather than read "every other monday" as "monday".
    rule(
        rf"{WORD_START}(?:every\s+(?:other|second|2nd|\d+|two|three|few)|bi-?weekly|fortnightly"
        rf"|every\s+(?:week|month|year|hour|minute)|weekly|monthly|yearly|annually|hourly)"
        rf"{WORD_END}",
        const(Bad()),
    ),
]
