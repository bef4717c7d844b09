"""What every language's time phrases are read into: schedules, found phrases, grammar values."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from crm_core.timephrases.chinese import WEEKDAY_CHARS
from crm_core.timephrases.english import WEEKDAY_NAMES


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def last_day(year: int, month: int) -> int:
    """The number of days in that month."""
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, last_day(year, month + 1)))


def wall_time(day: date, at: time, tz: ZoneInfo) -> datetime:
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
        last = last_day(day.year, day.month)
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
                found = wall_time(day, self.at, tz)
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
                return f"每周{WEEKDAY_CHARS[self.weekday]} {clock}"
            day = "最后一天" if self.day == -1 else f"{self.day}日"
            return f"每月{day} {clock}"
        if self.kind == "daily":
            return f"every day at {clock}"
        if self.kind == "weekdays":
            return f"every weekday at {clock}"
        if self.kind == "weekly":
            assert self.weekday is not None
            return f"every {WEEKDAY_NAMES[self.weekday]} at {clock}"
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


# --- what the grammar finds (every language's rules build these) -------------------------


class ImpossibleTime(Exception):
    """A phrase that names a time but an impossible or ambiguous one."""


@dataclass(frozen=True)
class Offset:
    """ "in 2h" (exact) / "in 3 days" (calendar)."""

    exact: timedelta = timedelta()
    days: int = 0
    months: int = 0


@dataclass(frozen=True)
class Day:
    """A day: offset from today, weekday, date, or a named one (next week, end of month)."""

    kind: Literal["offset", "weekday", "date", "monthday", "next_week", "eom", "eow"]
    n: int = 0  # days for offset, weekday, month offset for monthday/eom
    mode: Literal["roll", "fixed", "next", "next2"] = "fixed"
    year: int | None = None
    month: int | None = None
    day: int | None = None
    part: str | None = None  # implied by the word: tonight, 明早


@dataclass(frozen=True)
class Part:
    """A part of the day: morning, 下午, ..."""

    name: str


@dataclass(frozen=True)
class Clock:
    """A clock time as typed; validated against its part of the day when resolved."""

    hour: int
    minute: int = 0
    meridiem: Literal["am", "pm"] | None = None
    padded: bool = False  # "03:00": a leading zero says 24-hour clock
    special: Literal["noon", "midnight"] | None = None


@dataclass(frozen=True)
class Recur:
    """A repeating schedule, its time still to be read."""

    kind: Literal["daily", "weekdays", "weekly", "monthly"]
    weekday: int | None = None
    day: int | None = None
    part: str | None = None


@dataclass(frozen=True)
class Bad:
    """Recognised but impossible or unsupported ("25:00", "every other monday")."""


Value = Offset | Day | Part | Clock | Recur | Bad


@dataclass(frozen=True)
class Atom:
    """One piece of a phrase and where it sits."""

    start: int
    end: int
    value: Value
    weak: bool = False  # an everyday word too ("sat", "may 3", 晚上): needs company to count
    companion: bool = False  # only a time right after a day: the 10 of "tomorrow 10"


@dataclass(frozen=True)
class Group:
    """Adjacent atoms forming one phrase, with connectors ("by", "on", 之前) around them."""

    start: int
    end: int
    atoms: tuple[Atom, ...]
    prefixed: bool

    @property
    def weak(self) -> bool:
        """Only everyday words, no connector: "sat", 晚上."""
        return len(self.atoms) == 1 and self.atoms[0].weak and not self.prefixed


# part: (default time, when it is over; None = midnight)
PARTS: dict[str, tuple[time | None, time | None]] = {
    "morning": (time(9), time(12)),
    "noon": (time(12), time(12)),
    "afternoon": (time(14), time(18)),
    "dusk": (time(18), time(20)),
    "evening": (time(18), None),
    "night": (time(20), None),
    "eod": (time(17), None),
    "early": (None, time(6)),
}
AM_PARTS = {"morning", "early"}
PM_PARTS = {"afternoon", "dusk", "evening", "night"}


Builder = Callable[[re.Match[str]], Value]
Test = Callable[[re.Match[str]], bool]
Rule = tuple[re.Pattern[str], Builder, Test]


def rule(pattern: str, build: Builder, weak: Callable[[re.Match[str]], bool] | None = None) -> Rule:
    """A compiled grammar rule."""
    return re.compile(pattern), build, weak or (lambda _m: False)


def const(value: Value) -> Builder:
    """A builder for a fixed value."""
    return lambda _m: value


def guard(build: Callable[[re.Match[str]], Value]) -> Builder:
    """A builder whose unreadable numbers make the atom bad instead of raising."""

    def safe(m: re.Match[str]) -> Value:
        try:
            return build(m)
        except (ImpossibleTime, ValueError, KeyError):
            return Bad()

    return safe
