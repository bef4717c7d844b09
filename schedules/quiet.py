"""Working hours: outside them only explicitly timed reminders are sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core.settings import parse_hours

WEEKDAYS = frozenset(range(5))


@dataclass(frozen=True)
class WorkHours:
    """The working day in each person's own zone: start, end, and which weekdays (0 = Monday)."""

    start: time = time(8, 0)
    end: time = time(19, 0)
    days: frozenset[int] = field(default=WEEKDAYS)

    @classmethod
    def parse(cls, spec: str) -> WorkHours:
        """From the setting `08:00-19:00` (Monday to Friday)."""
        start, end = parse_hours(spec)
        return cls(start, end)

    def is_open(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether `moment` falls inside working hours in zone `tz`."""
        local = moment.astimezone(tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """`moment` itself when inside working hours, else when they next begin (UTC)."""
        if self.is_open(moment, tz):
            return moment
        local = moment.astimezone(tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, self.start, tzinfo=tz)
            if begin > local:
                return begin.astimezone(UTC)
        return moment  # no working days configured: never hold anything back
