"""Report periods: `this quarter`, `last month`, `2017`, `2017-Q1`, `from D to D`, 本季度 ..."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core.errors import Invalid
from crm_core.text import to_simplified


@dataclass(frozen=True)
class Period:
    """Local calendar days [start, end), either side open when None; `label` names it."""

    start: date | None
    end: date | None
    label: str

    def bounds(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The period as UTC instants: local midnight of start and of end."""

        def at(day: date | None) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

        return at(self.start), at(self.end)


ALL_TIME = Period(None, None, "all")


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after the day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_start(day: date) -> date:
    """The first day of the day's quarter."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_label(day: date) -> str:
    """`2027-Q1`."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter(year: int, q: int) -> Period:
    """The calendar quarter `q` (1-4) of `year`."""
    start = date(year, 3 * q - 2, 1)
    return Period(start, add_months(start, 3), f"{year}-Q{q}")


_RELATIVE = {
    # phrase -> (unit, offset)
    "this quarter": ("quarter", 0),
    "quarter": ("quarter", 0),
    "last quarter": ("quarter", -1),
    "next quarter": ("quarter", 1),
    "本季度": ("quarter", 0),
    # Taiwan and Hong Kong say 本季 / 上季 / 下季.
    "本季": ("quarter", 0),
    "这季": ("quarter", 0),
    "上季": ("quarter", -1),
    "下季": ("quarter", 1),
    "这季度": ("quarter", 0),
    "季度": ("quarter", 0),
    "上季度": ("quarter", -1),
    "上个季度": ("quarter", -1),
    "下季度": ("quarter", 1),
    "下个季度": ("quarter", 1),
    "this month": ("month", 0),
    "month": ("month", 0),
    "last month": ("month", -1),
    "next month": ("month", 1),
    "本月": ("month", 0),
    "这个月": ("month", 0),
    "上月": ("month", -1),
    "上个月": ("month", -1),
    "下月": ("month", 1),
    "下个月": ("month", 1),
    "this week": ("week", 0),
    "week": ("week", 0),
    "last week": ("week", -1),
    "next week": ("week", 1),
    "本周": ("week", 0),
    "这周": ("week", 0),
    "上周": ("week", -1),
    "下周": ("week", 1),
    "this year": ("year", 0),
    "year": ("year", 0),
    "last year": ("year", -1),
    "next year": ("year", 1),
    "今年": ("year", 0),
    "去年": ("year", -1),
    "明年": ("year", 1),
}
_DATE = r"(\d{4}-\d{1,2}-\d{1,2})"
_RANGE = re.compile(rf"^(?:from|从)\s*{_DATE}\s*(?:to|until|到|至|-)\s*{_DATE}$")
_YEAR = re.compile(r"^(\d{4})\s*年?$")
_QUARTER = re.compile(
    r"^(?:(\d{4})\s*[-\s]?\s*q([1-4])|q([1-4])\s*(\d{4})|(\d{4})\s*年\s*第?([1-4一二三四])季度?)$"
)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$|^(\d{4})\s*年\s*(\d{1,2})\s*月$")
_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4}


def _relative(unit: str, offset: int, today: date) -> Period:
    if unit == "quarter":
        start = add_months(quarter_start(today), 3 * offset)
        return Period(start, add_months(start, 3), quarter_label(start))
    if unit == "month":
        start = add_months(today, offset)
        return Period(start, add_months(start, 1), start.strftime("%Y-%m"))
    if unit == "week":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        end = start + timedelta(days=7)
        return Period(start, end, f"{start.isoformat()} – {(end - timedelta(days=1)).isoformat()}")
    start = date(today.year + offset, 1, 1)
    return Period(start, date(start.year + 1, 1, 1), str(start.year))


def _day(text: str) -> date:
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError as exc:
        raise Invalid("error.report_period", value=text) from exc


def parse_period(text: str, today: date) -> Period | None:
    """The period a phrase names, None for an empty phrase; Invalid names what to type."""
    phrase = " ".join(to_simplified(text).lower().split())
    if not phrase:
        return None
    if phrase in ("all", "all time", "全部", "所有"):
        return ALL_TIME
    if phrase in _RELATIVE:
        unit, offset = _RELATIVE[phrase]
        return _relative(unit, offset, today)
    m = _RANGE.match(phrase)
    if m:
        start, last = _day(m.group(1)), _day(m.group(2))
        if last < start:
            # Both days read fine: say which way round they go, not that they are unreadable.
            raise Invalid(
                "error.report_period_reversed", start=start.isoformat(), end=last.isoformat()
            )
        return Period(start, last + timedelta(days=1), f"{start.isoformat()} – {last.isoformat()}")
    m = _YEAR.match(phrase)
    if m:
        year = int(m.group(1))
        return Period(date(year, 1, 1), date(year + 1, 1, 1), str(year))
    m = _QUARTER.match(phrase)
    if m:
        if m.group(1):
            return quarter(int(m.group(1)), int(m.group(2)))
        if m.group(3):
            return quarter(int(m.group(4)), int(m.group(3)))
        q = m.group(6)
        return quarter(int(m.group(5)), _CN_DIGIT.get(q) or int(q))
    m = _MONTH.match(phrase)
    if m:
        year, month = (
            (int(m.group(1)), int(m.group(2)))
            if m.group(1)
            else (
                int(m.group(3)),
                int(m.group(4)),
            )
        )
        if not 1 <= month <= 12:
            raise Invalid("error.report_period", value=text)
        start = date(year, month, 1)
        return Period(start, add_months(start, 1), start.strftime("%Y-%m"))
    raise Invalid("error.report_period", value=text)


def between(start: date | None, end: date | None) -> Period:
    """A period from two optional inclusive days (the CLI's --from and --to)."""
    if start and end and end < start:
        raise Invalid("error.report_period_reversed", start=start.isoformat(), end=end.isoformat())
    label = f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}"
    return Period(start, end + timedelta(days=1) if end else None, label)


def utc_month(at: datetime) -> datetime:
    """The start of the UTC month an instant falls in."""
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_utc_month(month: datetime) -> datetime:
    """The start of the UTC month after the one starting at `month`."""
    return datetime.combine(add_months(month.date(), 1), time(0), tzinfo=UTC)


def month_number(month: datetime) -> int:
    """yyyymm, as the kept monthly totals key months."""
    return month.year * 100 + month.month
