"""Business calendars: working days and hours in a zone, public holidays, China's make-up days.

Pure arithmetic on aware datetimes (no database): how many business seconds lie between two
moments, and which moment is a number of business seconds after another. Service-level targets
(crm_core.sla) are counted with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

WEEKDAYS = frozenset(range(5))  # Monday..Friday
# A calendar with no working day at all would loop for ever; ten years of nothing is an error.
MAX_DAYS = 3660


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of a country in a year (the `holidays` package)."""
    return frozenset(holidays.country_holidays(country, years=year))


def country_known(country: str) -> bool:
    """Whether the `holidays` package knows this ISO 3166 country code."""
    return country.upper() in holidays.list_supported_countries()


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and hours in one zone; holidays of `country` (none when None) are off.

    For China ("CN") the official calendar decides each day where `chinese_calendar` has data:
    holidays are off and the make-up working days (调休, often a Saturday or Sunday) are on.
    """

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    days: frozenset[int] = WEEKDAYS
    start: time = time(9, 0)
    end: time = time(18, 0)
    country: str | None = None

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must end after they start")
        if not self.days:
            raise ValueError("a calendar needs at least one working day")

    def is_workday(self, day: date) -> bool:
        """Whether `day` (a local date) is a working day."""
        if self.country == "CN" and self.days == WEEKDAYS:
            try:
                # The State Council's calendar: holidays and make-up working days (调休).
                return bool(chinese_calendar.is_workday(day))
            except NotImplementedError:
                pass  # a year it has no data for: weekdays and the `holidays` package
        if day.weekday() not in self.days:
            return False
        return not (self.country and day in _holidays(self.country, day.year))

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of a local day, in UTC; None when it is not a working day."""
        if not self.is_workday(day):
            return None
        # Built from the local wall clock, so a DST change moves the UTC window with it.
        opens = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def seconds_between(self, begin: datetime, end: datetime) -> float:
        """Business seconds in [begin, end); 0 when end is not after begin."""
        if end <= begin:
            return 0.0
        total = 0.0
        day = begin.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            w = self.window(day)
            if w is not None:
                lo, hi = max(w[0], begin), min(w[1], end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add(self, begin: datetime, seconds: float) -> datetime:
        """The moment `seconds` business seconds after `begin`."""
        if seconds <= 0:
            return begin
        remaining = seconds
        day = begin.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            w = self.window(day)
            if w is not None and w[1] > begin:
                lo = max(w[0], begin)
                room = (w[1] - lo).total_seconds()
                if remaining <= room:
                    return lo + timedelta(seconds=remaining)
                remaining -= room
            day += timedelta(days=1)
        raise ValueError("no working time within ten years")
