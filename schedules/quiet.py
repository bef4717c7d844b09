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


@dataclass(frozen=True)
class QuietHours:
    """A person's own quiet hours (`quiet 20:00-08:00`), minutes after midnight in their zone."""

    start: int
    end: int

    @classmethod
    def of(cls, start: int | None, end: int | None) -> QuietHours | None:
        """From the stored columns; None when the person set none."""
        return None if start is None or end is None or start == end else cls(start, end)

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether `moment` falls inside them (a span over midnight wraps)."""
        local = moment.astimezone(tz)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def end_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """When the quiet hours holding `moment` end (UTC); `moment` itself outside them."""
        if not self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        at = time(self.end // 60, self.end % 60)
        for offset in range(2):
            end = datetime.combine(local.date() + timedelta(days=offset), at, tzinfo=tz)
            if end > local:
                return end.astimezone(UTC)
        return moment  # unreachable: an end comes within a day


def next_free(
    moment: datetime, tz: ZoneInfo, work: WorkHours, quiet: QuietHours | None
) -> datetime:
    """The first moment from `moment` inside working hours and outside the quiet hours (UTC)."""
    found = work.next_open(moment, tz)
    for _ in range(16):
        if quiet is None or not quiet.contains(found, tz):
            return found
        found = work.next_open(quiet.end_after(found, tz), tz)
    return found  # quiet hours that cover every working hour: never hold anything forever
