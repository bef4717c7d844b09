"""Reading reminder times people type ("tomorrow 3pm", "every monday 9am", "下周二上午10点").

Every computation happens on the user's wall clock (zoneinfo) and results are aware UTC.
Where people are vague, these are the rules (the confirmation reply shows the resolved time,
so a user who meant something else sees it and taps "change"):

- Parts of the day: morning 09:00, noon 12:00, afternoon 14:00, evening 18:00 (傍晚 too),
  tonight / night / 晚上 20:00, end of day / EOD 17:00. 凌晨 needs a clock time.
- Bare hours with no am/pm, no part of the day and no leading zero read on the 24-hour clock
  ("at 8" = 08:00, "at 20" = 20:00, "8点" = 08:00); hours 1-6 read that way are refused as
  ambiguous ("at 3", "3:30", "明天3点"): nobody means 3 a.m., but we do not guess 15:00.
  A plain number is an hour only with "at" or right after a day ("friday 10 meet Bob" = 10:00,
  "tomorrow 3 quotes" is refused as 3 a.m./p.m.); elsewhere it is text ("10 people").
  A part of the day fixes the half: "tonight at 8", "下午3点", "晚上8点半". A clock that
  contradicts its part ("下午13点", "morning 3pm") is refused.
- A clock time or part of the day with no day ("3pm", "noon", "下午3点") is the next one: today
  if still ahead, otherwise tomorrow. "midnight" is the end of the named day (00:00 after it).
- A weekday alone ("friday", "on monday", "this fri", "周五") is the next such day whose time is
  still ahead: "friday 5pm" said on Friday morning is today, said on Friday evening is next
  week; "friday" (09:00) said on Friday at 10:00 is next Friday.
  "next <weekday>" and 下周X are that weekday in next calendar week (weeks start on Monday):
  "next friday" said on Monday is 11 days later, said on Saturday 6 days later. 这周X/本周X is
  this calendar week's day. "next week"/下周 is next Monday; "next month"/下个月 the 1st.
- "end of (the) month"/"eom"/月底 is the last day of the month at the default time (09:00),
  a working day to act before the deadline; "end of week"/"eow" is Friday.
- A day with no time takes `default_time` (09:00). When that day is today and the default time
  has passed ("today" said at 15:10, 月底 on the last afternoon, "this afternoon" at 15:00) the
  reminder comes in about an hour: now + 1h rounded up to the quarter hour (16:15), which may be
  just past midnight when said late at night; `explicit_time` is False so the confirmation can
  offer to change it. A part of the day that is already over ("this morning" at 15:00) is not
  moved: it stays in the past, like "today 5pm" said at 18:00 or "2025-01-01". Callers must
  refuse a `due` that is not after now ("that time has passed"); nothing else returns one.
- Dates without a year ("Dec 3", "12月3日") are this year's unless already past, then next
  year's; a date that does not exist ("Feb 30", "2月30日") is refused. Bare day-of-month
  ("the 15th", "15号") is this month's unless past, then next month's.
- "in 2h", "in 30 minutes", 两小时后, 半小时后 are real durations from now (2 real hours across
  a DST change). "in 3 days", "in a week", 3天后, 一周后, "in 2 months" are calendar days/months
  at the same wall-clock minute as now (or at a named time: "in 3 days at 3pm").
- A wall-clock time that does not exist (02:30 on a spring-forward night in New York) moves
  forward by the length of the gap (03:30, the same as RFC 5545 recurrences); an ambiguous one
  (01:30 on a fall-back night) is the first, daylight-time occurrence (fold=0).
- Recurrences: daily, weekdays (Mon-Fri), weekly on one weekday, monthly on a day (1-31, clamped
  to the month's last day: "every month on the 31st" fires on 28 Feb) or on the last day.

Not supported (read as no time phrase, or refused): word-number clocks ("at eight"), slash dates
("12/3", US and European readings disagree), past phrases ("yesterday"), vague ones ("soon",
"someday", "in a few days", 过两天), intervals ("every other monday", "every 2 hours", 隔周),
yearly recurrences, start dates on recurrences, and more than one time phrase combined.

dateparser is not used here: a reminder needs to know which characters were the phrase (to
keep the rest as the reminder text), which `dateparser.parse` cannot say, and
`search_dates` takes ~250 ms and reads "may 3" in "Dana may 3 times" and "sat" in "sat with
her" as dates. The grammar below is small, exact about spans and never guesses.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from crm_core.text import char_view

__all__ = ["Recurrence", "TimePhrase", "find_follow_up", "read_time_phrase"]

_WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_ZH = "一二三四五六日"


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _last_day(year: int, month: int) -> int:
    """The number of days in that month."""
    return calendar.monthrange(year, month)[1]


def _add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _last_day(year, month + 1)))


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock `at` on `day` in `tz` as UTC; fold=0 moves gaps forward, takes overlaps' first."""
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Recurrence:
    """A repeating schedule in the user's zone."""

    kind: Literal["daily", "weekdays", "weekly", "monthly"]
    at: time
    weekday: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        """Refuses schedules that cannot fire."""
        if self.kind == "weekly" and (self.weekday is None or not 0 <= self.weekday <= 6):
            raise ValueError("a weekly recurrence needs a weekday 0-6")
        if self.kind == "monthly" and (
            self.day is None or not (self.day == -1 or 1 <= self.day <= 31)
        ):
            raise ValueError("a monthly recurrence needs a day 1-31 or -1")
        if self.at.tzinfo is not None:
            raise ValueError("a recurrence time is local wall-clock time, without a zone")

    def _fires_on(self, day: date) -> bool:
        """Whether the schedule has an occurrence on that local day."""
        if self.kind == "daily":
            return True
        if self.kind == "weekdays":
            return day.weekday() < 5
        if self.kind == "weekly":
            return day.weekday() == self.weekday
        assert self.day is not None
        last = _last_day(day.year, day.month)
        return day.day == (last if self.day == -1 else min(self.day, last))

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The next occurrence strictly after `moment` (aware), in UTC."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        start = moment.astimezone(tz).date() - timedelta(days=1)
        # Two months of days always hold the next monthly occurrence; the rest need a week.
        for offset in range(64 if self.kind == "monthly" else 9):
            day = start + timedelta(days=offset)
            if self._fires_on(day):
                found = _at(day, self.at, tz)
                if found > moment:
                    return found
        raise AssertionError("unreachable: every schedule fires within two months")

    def describe(self, locale: str) -> str:
        """ "every Monday at 09:00" / "每周一 09:00"."""
        clock = f"{self.at.hour:02d}:{self.at.minute:02d}"
        if locale.lower().startswith("zh"):
            if self.kind == "daily":
                return f"每天 {clock}"
            if self.kind == "weekdays":
                return f"每个工作日 {clock}"
            if self.kind == "weekly":
                assert self.weekday is not None
                return f"每周{_WEEKDAY_ZH[self.weekday]} {clock}"
            day = "最后一天" if self.day == -1 else f"{self.day}日"
            return f"每月{day} {clock}"
        if self.kind == "daily":
            return f"every day at {clock}"
        if self.kind == "weekdays":
            return f"every weekday at {clock}"
        if self.kind == "weekly":
            assert self.weekday is not None
            return f"every {_WEEKDAY_EN[self.weekday]} at {clock}"
        assert self.day is not None
        day = "the last day" if self.day == -1 else f"the {_ordinal(self.day)}"
        return f"every month on {day} at {clock}"


@dataclass(frozen=True)
class TimePhrase:
    """A time expression found in a message, resolved in the user's zone."""

    due: datetime
    recurrence: Recurrence | None
    explicit_time: bool
    span: tuple[int, int]
    rest: str


# --- what the grammar finds -------------------------------------------------------------


class _Invalid(Exception):
    """A phrase that names a time but an impossible or ambiguous one."""


@dataclass(frozen=True)
class _Offset:
    """ "in 2h" (exact) / "in 3 days" (calendar)."""

    exact: timedelta = timedelta()
    days: int = 0
    months: int = 0


@dataclass(frozen=True)
class _Day:
    """A day: offset from today, weekday, date, or a named one (next week, end of month)."""

    kind: Literal["offset", "weekday", "date", "monthday", "next_week", "eom", "eow"]
    n: int = 0  # days for offset, weekday, month offset for monthday/eom
    mode: Literal["roll", "fixed", "next", "next2"] = "fixed"
    year: int | None = None
    month: int | None = None
    day: int | None = None
    part: str | None = None  # implied by the word: tonight, 明早


@dataclass(frozen=True)
class _Part:
    """A part of the day: morning, 下午, ..."""

    name: str


@dataclass(frozen=True)
class _Clock:
    """A clock time as typed; validated against its part of the day when resolved."""

    hour: int
    minute: int = 0
    meridiem: Literal["am", "pm"] | None = None
    padded: bool = False  # "03:00": a leading zero says 24-hour clock
    special: Literal["noon", "midnight"] | None = None


@dataclass(frozen=True)
class _Recur:
    """A repeating schedule, its time still to be read."""

    kind: Literal["daily", "weekdays", "weekly", "monthly"]
    weekday: int | None = None
    day: int | None = None
    part: str | None = None


@dataclass(frozen=True)
class _Bad:
    """Recognised but impossible or unsupported ("25:00", "every other monday")."""


_Value = _Offset | _Day | _Part | _Clock | _Recur | _Bad


@dataclass(frozen=True)
class _Atom:
    """One piece of a phrase and where it sits."""

    start: int
    end: int
    value: _Value
    weak: bool = False  # an everyday word too ("sat", "may 3", 晚上): needs company to count
    companion: bool = False  # only a time right after a day: the 10 of "tomorrow 10"


@dataclass(frozen=True)
class _Group:
    """Adjacent atoms forming one phrase, with connectors ("by", "on", 之前) around them."""

    start: int
    end: int
    atoms: tuple[_Atom, ...]
    prefixed: bool

    @property
    def weak(self) -> bool:
        """Only everyday words, no connector: "sat", 晚上."""
        return len(self.atoms) == 1 and self.atoms[0].weak and not self.prefixed


# part: (default time, when it is over; None = midnight)
_PARTS: dict[str, tuple[time | None, time | None]] = {
    "morning": (time(9), time(12)),
    "noon": (time(12), time(12)),
    "afternoon": (time(14), time(18)),
    "dusk": (time(18), time(20)),
    "evening": (time(18), None),
    "night": (time(20), None),
    "eod": (time(17), None),
    "early": (None, time(6)),
}
_AM_PARTS = {"morning", "early"}
_PM_PARTS = {"afternoon", "dusk", "evening", "night"}

# --- English ------------------------------------------------------------------------------

_B = r"(?<![a-z0-9])"
_E = r"(?![a-z0-9])"
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "weds": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Words that are also everyday English words or names.
_WEAK_WORDS = {"sat", "sun", "may", "mar", "jan", "june", "april", "august", "aug"}
_WD = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "ninety": 90,
}
# Word numbers end at a word boundary, or "and" would read as "an d(ay)".
_NUM = (
    r"\d+(?:\.\d+)?|(?:half\s+an?|a\s+couple\s+of|couple\s+of|a\s+few|few|several|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")(?![a-z])"
)
_UNIT = r"minutes?|mins?|m|hours?|hrs?|hr|h|days?|d|weeks?|wks?|wk|w|months?|mos?|mo"
# A unit may run into the next quantity: "1h30m".
_QTY = re.compile(rf"(?P<n>{_NUM})\s*(?P<u>{_UNIT})(?![a-z])")
_DUR = (
    rf"(?:{_NUM})\s*(?:{_UNIT})(?![a-z])(?:\s*,?\s*(?:and\s+)?(?:{_NUM})\s*(?:{_UNIT}){_E})*"
    r"(?:\s+and\s+a\s+half)?"
)
_ORD = r"(?:st|nd|rd|th)"


def _duration(text: str) -> _Value:
    """ "2 hours 30 minutes", "a week", "an hour and a half" as an offset."""
    exact, days, months = timedelta(), 0.0, 0.0
    last_unit = ""
    for m in _QTY.finditer(text):
        word, unit = re.sub(r"\s+", " ", m.group("n")), m.group("u")
        if word in ("a few", "few", "several"):
            return _Bad()  # vague: never guess how many
        if word.startswith("half"):
            amount = 0.5
        elif word.endswith("couple of"):
            amount = 2.0
        elif word in _NUMBER_WORDS:
            amount = float(_NUMBER_WORDS[word])
        else:
            amount = float(word)
        exact, days, months = _add_unit(exact, days, months, unit, amount)
        last_unit = unit
    if re.search(r"and\s+a\s+half$", text):
        exact, days, months = _add_unit(exact, days, months, last_unit, 0.5)
    if days != int(days) or months != int(months):
        return _Bad()  # "1.5 days": no calendar reading
    if not (exact or days or months):
        return _Bad()
    return _Offset(exact=exact, days=int(days), months=int(months))


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


def _en_clock(m: re.Match[str]) -> _Value:
    """ "3pm", "9:30 a.m.", "15:30", "at 8", "5 o'clock"."""
    hour_text = m.group("h")
    hour, minute = int(hour_text), int(m.group("m") or 0)
    ap = m.groupdict().get("ap")
    meridiem: Literal["am", "pm"] | None = None
    if ap:
        meridiem = "am" if ap.startswith("a") else "pm"
        if not 1 <= hour <= 12:
            return _Bad()
    if hour > 23 or minute > 59:
        return _Bad()
    return _Clock(hour, minute, meridiem, padded=len(hour_text) == 2 and hour_text[0] == "0")


def _en_weekday(m: re.Match[str]) -> _Value:
    """ "friday", "next tue", "this coming monday"."""
    mod = re.sub(r"\s+", " ", m.group("mod") or "")
    mode: Literal["roll", "next"] = "next" if mod == "next" else "roll"
    return _Day("weekday", n=_WEEKDAYS[m.group("wd")], mode=mode)


def _en_date(m: re.Match[str]) -> _Value:
    """ "Dec 3", "3rd of December 2026", "2026-12-01"."""
    year = int(m.group("y")) if m.group("y") else None
    month = _MONTHS[m.group("mon")] if m.groupdict().get("mon") else int(m.group("mo"))
    return _Day("date", year=year, month=month, day=int(m.group("d")))


def _en_monthly(m: re.Match[str]) -> _Value:
    """ "every month on the 1st" / "... the last day"."""
    if m.group("d") is None:
        return _Recur("monthly", day=-1)
    day = int(m.group("d"))
    return _Recur("monthly", day=day) if 1 <= day <= 31 else _Bad()


_Builder = Callable[[re.Match[str]], _Value]
_Test = Callable[[re.Match[str]], bool]
_Rule = tuple[re.Pattern[str], _Builder, _Test]


def _rule(
    pattern: str, build: _Builder, weak: Callable[[re.Match[str]], bool] | None = None
) -> _Rule:
    """A compiled grammar rule."""
    return re.compile(pattern), build, weak or (lambda _m: False)


def _const(value: _Value) -> _Builder:
    """A builder for a fixed value."""
    return lambda _m: value


_DAY_WORDS = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tomorow": 1,
    "tommorow": 1,
    "tommorrow": 1,
    "tmrw": 1,
    "tmr": 1,
    "tmw": 1,
    "tmrow": 1,
}

_EN_RULES: list[_Rule] = [
    _rule(rf"{_B}in\s+(?P<dur>{_DUR})", lambda m: _duration(m.group("dur"))),
    _rule(rf"{_B}(?P<dur>{_DUR})\s+from\s+now{_E}", lambda m: _duration(m.group("dur"))),
    _rule(rf"{_B}(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr){_E}", _const(_Day("offset", n=2))),
    _rule(
        rf"{_B}(?P<w>{'|'.join(sorted(_DAY_WORDS, key=len, reverse=True))}){_E}",
        lambda m: _Day(
            "offset",
            n=_DAY_WORDS[m.group("w")],
            part="night" if m.group("w") == "tonight" else None,
        ),
    ),
    _rule(
        rf"{_B}this\s+(?P<p>morning|afternoon|evening){_E}",
        lambda m: _Day("offset", n=0, part=m.group("p")),
    ),
    _rule(
        rf"{_B}(?:(?P<mod>next|this\s+coming|this|coming)\s+)?(?P<wd>{_WD}){_E}(?:\.(?=\s*\d))?",
        _en_weekday,
        lambda m: m.group("mod") is None and m.group("wd") in _WEAK_WORDS,
    ),
    _rule(rf"{_B}next\s+week{_E}", _const(_Day("next_week"))),
    _rule(rf"{_B}next\s+month{_E}", _const(_Day("monthday", n=1, day=1))),
    _rule(
        rf"{_B}(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month|eom|month[\s-]end"
        rf"|(?:the\s+)?last\s+day\s+of\s+(?:the|this)\s+month){_E}",
        _const(_Day("eom")),
    ),
    _rule(rf"{_B}(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week|eow){_E}", _const(_Day("eow"))),
    _rule(
        r"(?<![\d-])(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?![\d-])",
        _en_date,
    ),
    _rule(
        rf"{_B}(?P<mon>{_MON})\.?\s*(?P<d>\d{{1,2}}){_ORD}?{_E}(?![:.]\d)"
        rf"(?:,?\s*(?P<y>\d{{4}}){_E})?",
        _en_date,
        lambda m: m.group("mon") in _WEAK_WORDS,
    ),
    _rule(
        rf"{_B}(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}?\s+(?:of\s+)?(?P<mon>{_MON}){_E}(?:\.(?=\s*\d))?"
        rf"(?:,?\s*(?P<y>\d{{4}}){_E})?",
        _en_date,
        lambda m: m.group("mon") in _WEAK_WORDS,
    ),
    _rule(
        rf"{_B}the\s+(?P<d>\d{{1,2}}){_ORD}{_E}",
        lambda m: _Day("monthday", mode="roll", day=int(m.group("d"))),
        lambda _m: True,
    ),
    _rule(
        r"(?<![\d.:])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])",
        _en_clock,
    ),
    _rule(r"(?<![\d.:-])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d:])", _en_clock),
    _rule(rf"(?:{_B}at|@)\s*(?P<h>\d{{1,2}})(?P<m>)(?![\d:]|\.\d|\s*[ap]\.?m)", _en_clock),
    _rule(rf"(?<![\d.:])(?P<h>\d{{1,2}})(?P<m>)\s*o'?clock{_E}", _en_clock),
    _rule(rf"{_B}(?:12\s*)?(?:noon|midday){_E}", _const(_Clock(12, special="noon"))),
    _rule(rf"{_B}(?:12\s*)?midnight{_E}", _const(_Clock(0, special="midnight"))),
    _rule(
        rf"{_B}(?P<in>in\s+the\s+)?(?P<p>morning|afternoon|evening|night){_E}",
        lambda m: _Part(m.group("p")),
        lambda m: m.group("in") is None,
    ),
    _rule(
        rf"{_B}(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(?:business\s+)?day|eod|cob"
        rf"|close\s+of\s+business){_E}",
        _const(_Part("eod")),
    ),
    # Recurrences.
    _rule(rf"{_B}(?:every\s*day|daily|each\s+day){_E}", _const(_Recur("daily"))),
    _rule(
        rf"{_B}every\s+(?P<p>morning|afternoon|evening|night){_E}",
        lambda m: _Recur("daily", part=m.group("p")),
    ),
    _rule(
        rf"{_B}(?:(?:every|each)\s+(?:week\s*day|working\s+day|work\s*day|business\s+day)"
        rf"|(?:on\s+)?weekdays|mon(?:day)?\s*[-–]\s*fri(?:day)?){_E}",
        _const(_Recur("weekdays")),
    ),
    _rule(
        rf"{_B}(?:(?:every|each)\s+(?:week\s+on\s+)?|weekly\s+on\s+)(?P<wd>{_WD})s?{_E}(?:\.(?=\s*\d))?",
        lambda m: _Recur("weekly", weekday=_WEEKDAYS[m.group("wd")]),
    ),
    _rule(
        rf"{_B}(?:on\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s{_E}",
        lambda m: _Recur("weekly", weekday=_WEEKDAYS[m.group("wd")]),
    ),
    _rule(
        rf"{_B}(?:(?:every|each)\s+month|monthly)\s+on\s+the\s+"
        rf"(?:(?P<d>\d{{1,2}}){_ORD}?|last\s+day){_E}",
        _en_monthly,
    ),
    _rule(
        rf"{_B}(?:on\s+)?the\s+(?:(?P<d>\d{{1,2}}){_ORD}?|last\s+day)\s+of\s+(?:every|each)"
        rf"\s+month{_E}",
        _en_monthly,
    ),
    _rule(
        rf"{_B}every\s+(?P<d>\d{{1,2}}){_ORD}(?:\s+of\s+the\s+month)?{_E}",
        _en_monthly,
    ),
    _rule(
        rf"{_B}(?:(?:at\s+the\s+)?end\s+of\s+(?:every|each)\s+month|every\s+month[\s-]end){_E}",
        lambda _m: _Recur("monthly", day=-1),
    ),
    # Schedules we do not offer: refuse rather than read "every other monday" as "monday".
    _rule(
        rf"{_B}(?:every\s+(?:other|second|2nd|\d+|two|three|few)|bi-?weekly|fortnightly"
        rf"|every\s+(?:week|month|year|hour|minute)|weekly|monthly|yearly|annually|hourly)"
        rf"{_E}",
        _const(_Bad()),
    ),
]

# --- Chinese (read on the Simplified, half-width view) ------------------------------------

_CN = r"(?:\d{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
_CN_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_CN_WEEKDAY.update({str(i + 1): i for i in range(7)})
_CN_PARTS = {
    "上午": "morning",
    "早上": "morning",
    "早晨": "morning",
    "清晨": "morning",
    "中午": "noon",
    "下午": "afternoon",
    "傍晚": "dusk",
    "晚上": "night",
    "夜里": "night",
    "夜晚": "night",
    "凌晨": "early",
    "半夜": "early",
}
_CN_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "大后天": (3, None),
    "后天": (2, None),
    "明天": (1, None),
    "明日": (1, None),
    "今天": (0, None),
    "今日": (0, None),
    "今晚": (0, "night"),
    "明晚": (1, "night"),
    "今早": (0, "morning"),
    "明早": (1, "morning"),
    "明晨": (1, "morning"),
}


def _cn_int(text: str) -> int:
    """ "12", "十二", "两", "二十五" as an int."""
    if text.isascii() and text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            raise _Invalid(text)
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    if len(text) != 1 or text not in _CN_DIGITS:
        raise _Invalid(text)
    return _CN_DIGITS[text]


def _guard(build: Callable[[re.Match[str]], _Value]) -> _Builder:
    """A builder whose unreadable numbers make the atom bad instead of raising."""

    def safe(m: re.Match[str]) -> _Value:
        try:
            return build(m)
        except (_Invalid, KeyError):
            return _Bad()

    return safe


def _zh_offset(m: re.Match[str]) -> _Value:
    """ "两小时后", "一个半小时后", "3天后", "一周后", "两个月后"."""
    n = 0.5 if m.group("n") == "半" else float(_cn_int(m.group("n")))
    if m.group("half") or m.group("half2"):
        n += 0.5
    unit = m.group("u")
    if unit in ("小时", "钟头"):
        return _Offset(exact=timedelta(hours=n))
    if unit in ("分钟", "分"):
        return _Offset(exact=timedelta(minutes=n))
    days = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}.get(unit)
    count = n * days if days else n
    if count != int(count) or count == 0:
        return _Bad()  # 半个月, 半天: no calendar reading
    return _Offset(days=int(count)) if days else _Offset(months=int(count))


def _zh_weekday(m: re.Match[str]) -> _Value:
    """ "周五", "下周二", "这个星期三", "下下周一"."""
    mod = (m.group("mod") or "").replace("个", "")
    weekday = _CN_WEEKDAY[m.group("wd")]
    if mod == "上":
        return _Bad()  # last week: not a reminder time
    modes: dict[str, Literal["roll", "fixed", "next", "next2"]] = {
        "": "roll",
        "这": "fixed",
        "本": "fixed",
        "下": "next",
        "下下": "next2",
    }
    return _Day("weekday", n=weekday, mode=modes[mod])


def _zh_clock(m: re.Match[str]) -> _Value:
    """ "3点", "十点半", "8点30分", "8点一刻"."""
    hour_text = m.group("h")
    hour = _cn_int(hour_text)
    minute = 0
    if m.group("half"):
        minute = 30
    elif m.group("q1"):
        minute = 15
    elif m.group("q3"):
        minute = 45
    elif m.group("amb"):
        return _Bad()  # "3点5": 3:05 or 3:50? ("3点5分" and "3点05" are clear)
    elif m.group("m") or m.group("m2"):
        minute = _cn_int(m.group("m") or m.group("m2"))
    if hour > 24 or minute > 59:
        return _Bad()
    if hour == 24:
        return _Clock(0, special="midnight") if minute == 0 else _Bad()
    return _Clock(hour, minute, padded=len(hour_text) == 2 and hour_text[0] == "0")


def _zh_date(m: re.Match[str]) -> _Value:
    """ "12月3日", "2026年12月3号"."""
    year = int(m.group("y")) if m.group("y") else None
    return _Day("date", year=year, month=_cn_int(m.group("mo")), day=_cn_int(m.group("d")))


def _zh_monthday(m: re.Match[str]) -> _Value:
    """ "下个月1号", "本月15日", bare "15号"."""
    rel = (m.group("rel") or "").replace("个", "")
    day = _cn_int(m.group("d"))
    if rel == "":
        return _Day("monthday", mode="roll", day=day)
    return _Day("monthday", n=1 if rel == "下月" else 0, day=day)


def _zh_monthly(m: re.Match[str]) -> _Value:
    """ "每月1号", "每个月15日"."""
    day = _cn_int(m.group("d"))
    return _Recur("monthly", day=day) if 1 <= day <= 31 else _Bad()


_ZH_RULES: list[_Rule] = [
    _rule(
        rf"(?P<n>{_CN}|半)\s*个?\s*(?P<half>半)?\s*(?P<u>小时|钟头|分钟|分|天|日|周|星期|礼拜|月)"
        r"\s*(?P<half2>半)?\s*(?:之后|以后|过后|后)",
        _guard(_zh_offset),
    ),
    _rule(
        "|".join(sorted(_CN_DAY_WORDS, key=len, reverse=True)),
        lambda m: _Day("offset", n=_CN_DAY_WORDS[m.group(0)][0], part=_CN_DAY_WORDS[m.group(0)][1]),
    ),
    _rule(
        r"(?P<mod>下下个?|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])",
        _guard(_zh_weekday),
    ),
    _rule(r"下个?(?:周|星期|礼拜)(?![一二三四五六日天1-7])", _const(_Day("next_week"))),
    _rule(r"(?:这个?|本)?月(?:底|末)", _const(_Day("eom"))),
    _rule(r"下个?月(?:底|末)", _const(_Day("eom", n=1))),
    _rule(r"(?:这个?|本)?(?:周|星期)末", _const(_Bad())),  # weekend: Saturday or Sunday?
    _rule(r"下个?月(?![底末\d零〇一二两三四五六七八九十])", _const(_Day("monthday", n=1, day=1))),
    _rule(
        rf"(?:(?P<y>\d{{4}})\s*年\s*)?(?<![\d月])(?P<mo>{_CN})\s*月\s*(?P<d>{_CN})\s*(?:日|号)",
        _guard(_zh_date),
    ),
    _rule(rf"(?P<rel>下个?月|本月|这个?月)\s*(?P<d>{_CN})\s*(?:日|号)", _guard(_zh_monthday)),
    _rule(
        rf"(?<![\d月])(?P<rel>)(?P<d>{_CN})\s*号(?![楼线门房机位码])",
        _guard(_zh_monthday),
        lambda _m: True,
    ),
    _rule(
        "|".join(_CN_PARTS),
        lambda m: _Part(_CN_PARTS[m.group(0)]),
        lambda _m: True,
    ),
    _rule(
        rf"(?<![\d.:])(?P<h>{_CN})\s*点(?:钟)?(?:\s*(?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|整"
        rf"|(?P<m>{_CN})\s*分|(?P<m2>\d{{2}}|[一二三四五]十[一二三四五六七八九]?)(?![\d分])"
        r"|(?P<amb>\d)(?![\d分])))?",
        _guard(_zh_clock),
        lambda m: not m.group("h").isascii(),
    ),
    _rule(
        r"(?<![\d.:])(?P<h>\d{1,2})\s*时(?P<half>)(?P<q1>)(?P<q3>)(?P<m>)(?P<m2>)(?P<amb>)",
        _zh_clock,
    ),
    _rule(r"午夜", _const(_Clock(0, special="midnight"))),
    # Recurrences.
    _rule(r"每天|每日|天天", _const(_Recur("daily"))),
    _rule(r"每个?工作日|工作日", _const(_Recur("weekdays"))),
    _rule(
        r"每个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])",
        lambda m: _Recur("weekly", weekday=_CN_WEEKDAY[m.group("wd")]),
    ),
    _rule(rf"每个?月的?\s*(?P<d>{_CN})\s*(?:号|日)", _guard(_zh_monthly)),
    _rule(r"每个?月的?(?:最后一天|底|末)", _const(_Recur("monthly", day=-1))),
    _rule(r"每(?:个?(?:周|星期|礼拜|月)|年|小时|隔|两)|隔(?:周|天)", _const(_Bad())),
]

_RULES = _EN_RULES + _ZH_RULES

# A bare number: an hour only right after a day ("tomorrow 10", "friday 9"), never alone.
_BARE_HOUR = re.compile(
    r"(?<![\d.:,$€£¥#/-])(?P<h>\d{1,2})(?P<m>)(?![\d:%/]|[.,]\d|\s*(?:[%$€£¥]|(?:x|k|st|nd|rd|th)\b))"
)

# Between two atoms of one phrase: "tomorrow at 3pm", "friday, 5pm", "明天的下午".
_GLUE = re.compile(rf"(?:\s|,|{_B}(?:at|on){_E}|@|的|在)*")
# Before a phrase, part of it: "by friday", "on monday", "at 15:30", "在明天".
_PREFIX = re.compile(rf"(?:{_B}(?:on|by|at|around|due)|@|在|于)\s*$")
# After a phrase, part of it: "周五前" (by Friday).
_SUFFIX = re.compile(r"\s*(?:之前|以前|前(?![往去来台面夕景途期辈]))")
# Connectors dropped from the rest: "tomorrow 3pm to call Dana", "周五，发报价".
_LEAD = re.compile(rf"(?:[\s,:;.\-–—、]|{_B}(?:to|that|and|then){_E}|的)*")
_TRAIL = re.compile(rf"(?:[\s,:;\-–—、]|{_B}(?:on|at|by){_E})*$")


def _atoms(view: str) -> list[_Atom]:
    """The non-overlapping atoms of a phrase, longest first, in text order."""
    found: list[_Atom] = []
    for pattern, build, weak in _RULES:
        for m in pattern.finditer(view):
            if m.end() > m.start():
                found.append(_Atom(m.start(), m.end(), build(m), weak(m)))
    found.sort(key=lambda a: (a.start - a.end, a.start))
    kept: list[_Atom] = []
    for atom in found:
        if all(atom.end <= k.start or atom.start >= k.end for k in kept):
            kept.append(atom)
    for m in _BARE_HOUR.finditer(view):
        if all(m.end() <= k.start or m.start() >= k.end for k in kept):
            kept.append(_Atom(m.start(), m.end(), _en_clock(m), companion=True))
    kept.sort(key=lambda a: a.start)
    return kept


def _groups(view: str) -> list[_Group]:
    """Adjacent atoms joined into phrases, with their connectors."""
    runs: list[list[_Atom]] = []
    for atom in _atoms(view):
        if atom.companion:
            before = runs[-1][-1] if runs else None
            if (
                before is not None
                and isinstance(before.value, _Day | _Part | _Recur)
                and view[before.end : atom.start].isspace()
            ):
                runs[-1].append(atom)
        elif runs and _GLUE.fullmatch(view, runs[-1][-1].end, atom.start):
            runs[-1].append(atom)
        else:
            runs.append([atom])
    groups = []
    for run in runs:
        start, end = run[0].start, run[-1].end
        prefix = _PREFIX.search(view, 0, start)
        if prefix:
            start = prefix.start()
        suffix = _SUFFIX.match(view, end)
        if suffix:
            end = suffix.end()
        groups.append(_Group(start, end, tuple(run), prefix is not None))
    return groups


# --- resolving a phrase -------------------------------------------------------------------


def _soon(now: datetime) -> datetime:
    """About an hour from now, on a quarter hour."""
    later = (now + timedelta(hours=1)).astimezone(UTC)
    seconds = math.ceil(later.timestamp() / 900) * 900
    return datetime.fromtimestamp(seconds, UTC)


def _clock_time(clock: _Clock, part: str | None) -> tuple[time, int]:
    """The wall-clock time of a clock read with its part of the day, and days to add."""
    if clock.special == "noon":
        if part not in (None, "noon"):
            raise _Invalid("noon with another part of the day")
        return time(12), 0
    if clock.special == "midnight":
        return time(0), 1
    hour, minute = clock.hour, clock.minute
    if part == "eod":
        raise _Invalid("end of day with a clock time")
    if clock.meridiem:
        if part in _AM_PARTS and clock.meridiem == "pm":
            raise _Invalid("morning and pm")
        if part in _PM_PARTS and clock.meridiem == "am":
            raise _Invalid("evening and am")
        return time(hour % 12 + (12 if clock.meridiem == "pm" else 0), minute), 0
    if part is None:
        if 1 <= hour <= 6 and not clock.padded:
            raise _Invalid("a bare hour 1-6: a.m. or p.m.?")
        return time(hour, minute), 0
    if part == "morning" and 1 <= hour <= 12:
        return time(hour, minute), 0
    if part == "noon" and hour in (11, 12, 1, 2):
        return time(hour if hour >= 11 else hour + 12, minute), 0
    if part == "afternoon" and 1 <= hour <= 12:
        return time(hour if hour == 12 else hour + 12, minute), 0
    if part == "dusk" and 4 <= hour <= 8:
        return time(hour + 12, minute), 0
    if part in ("evening", "night") and 5 <= hour <= 12:
        if hour == 12:
            return time(0, minute), 1
        return time(hour + 12, minute), 0
    if part == "early" and 0 <= hour <= 6:
        return time(hour, minute), 0
    if part == "early" and hour == 12:
        return time(0, minute), 1
    raise _Invalid("the clock contradicts the part of the day")


def _time_of_day(
    clock: _Clock | None, part: str | None, default_time: time
) -> tuple[time, int, bool]:
    """(time, days to add, explicit) from a clock, a part of the day, or the default."""
    if clock is not None:
        at, shift = _clock_time(clock, part)
        return at, shift, True
    if part is not None:
        at_part = _PARTS[part][0]
        if at_part is None:
            raise _Invalid("凌晨 needs a clock time")
        return at_part, 0, True
    return default_time.replace(tzinfo=None), 0, False


def _ongoing(part: str | None, local_now: datetime) -> bool:
    """Whether the part of the day (the whole day without one) is not over yet."""
    end = _PARTS[part][1] if part else None
    return end is None or local_now.time() < end


_T = TypeVar("_T")
_Resolved = tuple[datetime, "Recurrence | None", bool]


def _one(values: list[_Value], kind: type[_T]) -> _T | None:
    """The single value of a kind in a phrase; two of them are ambiguous."""
    matching = [v for v in values if isinstance(v, kind)]
    if len(matching) > 1:
        raise _Invalid("two of the same kind")
    return matching[0] if matching else None


def _fixed_day(day: _Day, today: date) -> date:
    """The calendar day of a day atom that does not depend on the time."""
    if day.kind == "offset":
        return today + timedelta(days=day.n)
    if day.kind == "next_week":
        return today + timedelta(days=7 - today.weekday())
    if day.kind == "eow":
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if day.kind == "eom":
        month = _add_months(today.replace(day=1), day.n)
        return month.replace(day=_last_day(month.year, month.month))
    if day.kind == "weekday":
        monday = today - timedelta(days=today.weekday())
        weeks = {"fixed": 0, "next": 1, "next2": 2}[day.mode]
        return monday + timedelta(days=7 * weeks + day.n)
    assert day.day is not None
    try:
        if day.kind == "date":
            assert day.month is not None
            if day.year is not None:
                return date(day.year, day.month, day.day)
            found = date(today.year, day.month, day.day)
            return found if found >= today else date(today.year + 1, day.month, day.day)
        first = _add_months(today.replace(day=1), day.n)
        found = date(first.year, first.month, day.day)
        if day.mode == "roll" and found < today:
            first = _add_months(first, 1)
            found = date(first.year, first.month, day.day)
        return found
    except ValueError as error:
        raise _Invalid("no such date") from error


def _resolve(
    atoms: tuple[_Atom, ...], now: datetime, tz: ZoneInfo, default_time: time
) -> _Resolved:
    """(due, recurrence, explicit_time) of one phrase; _Invalid when it cannot be read."""
    values = [a.value for a in atoms]
    if any(isinstance(v, _Bad) for v in values):
        raise _Invalid("impossible or unsupported")
    offset = _one(values, _Offset)
    day = _one(values, _Day)
    part_atom = _one(values, _Part)
    clock = _one(values, _Clock)
    recur = _one(values, _Recur)
    named = [part_atom.name if part_atom else None, day.part if day else None]
    parts = {p for p in [*named, recur.part if recur else None] if p}
    if len(parts) > 1:
        raise _Invalid("two parts of the day")
    part = parts.pop() if parts else None
    local_now = now.astimezone(tz)
    today = local_now.date()

    if recur is not None:
        if offset or day:
            raise _Invalid("a recurrence with a start day")
        at, shift, explicit = _time_of_day(clock, part, default_time)
        if shift and recur.kind != "daily":
            raise _Invalid("midnight on a weekday: which side?")
        recurrence = Recurrence(recur.kind, at, recur.weekday, recur.day)
        return recurrence.next_after(now, tz), recurrence, explicit

    if offset is not None:
        if day:
            raise _Invalid("an offset and a day")
        if offset.days or offset.months:
            target = _add_months(today, offset.months) + timedelta(days=offset.days)
            if clock or part:
                at, shift, _ = _time_of_day(clock, part, default_time)
            else:
                at, shift = local_now.time().replace(second=0, microsecond=0), 0
            return _at(target + timedelta(days=shift), at, tz) + offset.exact, None, True
        if clock or part:
            raise _Invalid("an exact offset and a clock time")
        return now.astimezone(UTC) + offset.exact, None, True

    at, shift, explicit = _time_of_day(clock, part, default_time)
    if day is None:
        due = _at(today + timedelta(days=shift), at, tz)
        if due <= now:
            if clock is None and _ongoing(part, local_now) and part != "noon":
                return _soon(now), None, False
            due = _at(today + timedelta(days=shift + 1), at, tz)
        return due, None, explicit
    if day.kind == "weekday" and day.mode == "roll":
        for ahead in range(8):
            target = today + timedelta(days=ahead)
            due = _at(target + timedelta(days=shift), at, tz)
            if target.weekday() == day.n and due > now:
                return due, None, explicit
        raise AssertionError("unreachable: a weekday comes within a week")
    target = _fixed_day(day, today)
    due = _at(target + timedelta(days=shift), at, tz)
    if due <= now and target == today and clock is None and _ongoing(part, local_now):
        return _soon(now), None, False
    return due, None, explicit


def _phrase(text: str, view: str, group: _Group, resolved: _Resolved) -> TimePhrase:
    """The TimePhrase of a resolved group, with the rest of the text tidied."""
    due, recurrence, explicit = resolved
    start, end = group.start, group.end
    left_end = _TRAIL.search(view, 0, start)
    left_stop = left_end.start() if left_end else start
    left_start = _LEAD.match(view, 0, left_stop)
    left = text[left_start.end() if left_start else 0 : left_stop]
    right_start = _LEAD.match(view, end)
    right = text[right_start.end() if right_start else end :].rstrip()
    sep = ""
    if left and right and not _cjk(left[-1]) and not _cjk(right[0]) and right[0] not in ".,!?;:)":
        sep = " "
    return TimePhrase(due, recurrence, explicit, (start, end), left + sep + right)


def _cjk(ch: str) -> bool:
    """Chinese characters and full-width punctuation need no space around them."""
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def _checked_now(now: datetime) -> datetime:
    """`now` as aware UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def read_time_phrase(
    text: str, now: datetime, tz: ZoneInfo, *, default_time: time = time(9, 0)
) -> TimePhrase | None:
    """The one time expression in `text`, resolved in `tz`; None when none can be read."""
    now = _checked_now(now)
    view = char_view(text)
    lead = len(view) - len(view.lstrip())
    groups = [g for g in _groups(view) if not g.weak or g.start == lead]
    if not groups:
        return None
    tail = len(view.rstrip(" \t\r\n.!?,;。！？，；"))
    # A leading phrase is the usual form; then a trailing one ("call Dana tomorrow at 3pm");
    # otherwise the longest.
    leading = [g for g in groups if g.start == lead]
    trailing = [g for g in groups if g.end >= tail]
    group = (leading or trailing[-1:] or sorted(groups, key=lambda g: g.start - g.end))[0]
    try:
        resolved = _resolve(group.atoms, now, tz, default_time)
    except _Invalid:
        return None
    return _phrase(text, view, group, resolved)


# --- follow-ups in logged notes -----------------------------------------------------------

_INTENT = re.compile(
    rf"{_B}(?:f/u|f-u|fup|follow[\s-]*up|followup|call\s+(?:[^\s,.;]+\s+){{0,2}}back|callback"
    rf"|ring\s+(?:[^\s,.;]+\s+)?back|check\s+(?:back|in)|circle\s+back|touch\s+base"
    rf"|reach\s+out|get\s+back\s+to|reconnect|chase|ping|remind|revisit|next\s+steps?){_E}"
    r"|回访|跟进|跟踪|复访|回电话?|回个电话|再联系|联系|再约|约见|拜访|再打|催"
)
_NEGATED_BEFORE = re.compile(
    rf"(?:{_B}(?:no\s+need\s+to|don'?t|do\s+not|not|won'?t|never|no)\s+(?:need\s+to\s+)?"
    r"|已经?|刚刚?|不用|不必|无需|不需要)\s*$"
)
_NEGATED_AFTER = re.compile(rf"^(?:\s*(?:done|completed|sent|finished|made){_E}|了(?!解)|过(?!程))")
_CLAUSE_END = re.compile(r"[!?;\n。！？；]|\.(?=\s|$)")
_NEAR = 60  # characters between the intention and its time, within one sentence


def find_follow_up(note: str, now: datetime, tz: ZoneInfo) -> TimePhrase | None:
    """The time of a follow-up the note asks for ("f/u next Tue", "下周二回访"), else None."""
    now = _checked_now(now)
    view = char_view(note)
    intents = [
        m
        for m in _INTENT.finditer(view)
        if not _NEGATED_BEFORE.search(view, max(0, m.start() - 24), m.start())
        and not _NEGATED_AFTER.match(view[m.end() : m.end() + 12])
    ]
    best: tuple[int, _Group, _Resolved] | None = None
    for group in _groups(view):
        for intent in intents:
            if group.start >= intent.end():
                lo, hi = intent.end(), group.start
            elif intent.start() >= group.end:
                lo, hi = group.end, intent.start()
            else:
                lo = hi = group.start  # overlapping: "跟进" inside nothing, but be safe
            gap = hi - lo
            if gap > _NEAR or _CLAUSE_END.search(view, lo, hi):
                continue
            if group.weak and gap > 2:
                continue
            try:
                resolved = _resolve(group.atoms, now, tz, time(9, 0))
            except _Invalid:
                continue
            if resolved[0] <= now:
                continue
            if best is None or gap < best[0]:
                best = (gap, group, resolved)
    if best is None:
        return None
    return _phrase(note, view, best[1], best[2])
