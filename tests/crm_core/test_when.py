"""Times and days typed by people, read in their own time zone against a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.when import parse_day, parse_when

# 03:30 UTC: still Monday 9 March in New York (EDT, a day after DST began), Tuesday in Europe/Asia.
NOW = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
NY, BERLIN, SHANGHAI = (ZoneInfo(z) for z in ("America/New_York", "Europe/Berlin", "Asia/Shanghai"))
ZONES = [NY, BERLIN, SHANGHAI]


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A UTC moment."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        (NY, utc(2026, 3, 8, 19, 0)),  # 15:00 EDT on Sunday 8 March
        (BERLIN, utc(2026, 3, 9, 14, 0)),  # 15:00 CET on Monday
        (SHANGHAI, utc(2026, 3, 9, 7, 0)),  # 15:00 CST on Monday
    ],
    ids=str,
)
@pytest.mark.parametrize("typed", ["yesterday 3pm", "Yesterday 3 PM", "昨天下午3点", "昨天下午3點"])
def test_yesterday_3pm(typed: str, tz: ZoneInfo, expected: datetime) -> None:
    """ "Yesterday" is the user's yesterday, and 3pm is on their clock."""
    found = parse_when(typed, tz, NOW)
    assert found == expected
    assert found is not None and found.tzinfo == UTC


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize(
    ("typed", "delta"),
    [("2 hours ago", timedelta(hours=-2)), ("30 minutes ago", timedelta(minutes=-30))],
)
def test_relative_times(typed: str, delta: timedelta, tz: ZoneInfo) -> None:
    """A duration ago is the same instant in every zone."""
    assert parse_when(typed, tz, NOW) == NOW + delta


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize(
    ("typed", "hour", "minute"),
    [
        ("昨天上午9点30分", 9, 30),
        ("昨天下午3点30分", 15, 30),
        ("昨天16:05", 16, 5),
        ("昨天晚上8点", 20, 0),
    ],
)
def test_chinese_times(typed: str, hour: int, minute: int, tz: ZoneInfo) -> None:
    """Chinese day words with a time of day, on the user's clock."""
    yesterday = NOW.astimezone(tz).date() - timedelta(days=1)
    local = datetime(yesterday.year, yesterday.month, yesterday.day, hour, minute, tzinfo=tz)
    assert parse_when(typed, tz, NOW) == local.astimezone(UTC)


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("昨天晚上8:15", datetime(2026, 3, 8, 20, 15)),
        ("明天上午9点", datetime(2026, 3, 10, 9, 0)),
        ("前天下午2点", datetime(2026, 3, 7, 14, 0)),
    ],
)
def test_chinese_day_words_in_new_york(typed: str, local: datetime) -> None:
    """Chinese day words count from the user's local date."""
    assert parse_when(typed, NY, NOW) == local.replace(tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize(("tz", "local_today"), [(NY, 9), (BERLIN, 10), (SHANGHAI, 10)], ids=str)
def test_plain_day_words(tz: ZoneInfo, local_today: int) -> None:
    """Today, yesterday, tomorrow and 後天 (Traditional) are local calendar days."""
    assert parse_day("today", tz, NOW) == date(2026, 3, local_today)
    assert parse_day("yesterday", tz, NOW) == date(2026, 3, local_today - 1)
    assert parse_day("tomorrow", tz, NOW) == date(2026, 3, local_today + 1)
    assert parse_day("後天", tz, NOW) == date(2026, 3, local_today + 2)


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_iso_dates(tz: ZoneInfo) -> None:
    """ISO dates are local midnight; ISO date-times are on the local clock."""
    assert parse_day("2026-04-03", tz, NOW) == date(2026, 4, 3)
    assert parse_day("2026-1-5", tz, NOW) == date(2026, 1, 5)
    assert parse_day("2024-02-29", tz, NOW) == date(2024, 2, 29)
    midnight = parse_when("2026-04-03", tz, NOW)
    assert midnight == datetime(2026, 4, 3, tzinfo=tz).astimezone(UTC)
    at = parse_when("2026-03-07 15:00", tz, NOW)
    assert at == datetime(2026, 3, 7, 15, 0, tzinfo=tz).astimezone(UTC)


def test_offset_is_that_of_the_day_typed() -> None:
    """Before the DST change New York is UTC-5, after it UTC-4."""
    assert parse_when("2026-03-07 15:00", NY, NOW) == utc(2026, 3, 7, 20, 0)
    assert parse_when("2026-03-09 15:00", NY, NOW) == utc(2026, 3, 9, 19, 0)


def test_past_and_future_preference() -> None:
    """A bare date is in the past for a log, in the future for a day (a due date)."""
    assert parse_when("Dec 15", BERLIN, NOW) == datetime(2025, 12, 15, tzinfo=BERLIN).astimezone(
        UTC
    )
    assert parse_day("Dec 15", BERLIN, NOW) == date(2026, 12, 15)
    assert parse_day("next friday", BERLIN, NOW) == date(2026, 3, 13)


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize(
    "typed", ["2026-02-30", "2025-02-29", "2026-04-31", "2026-02-30 10:00", "2026-00-10"]
)
def test_invalid_dates(typed: str, tz: ZoneInfo) -> None:
    """A date that does not exist is None, never a nearby one."""
    assert parse_when(typed, tz, NOW) is None
    assert parse_day(typed, tz, NOW) is None


@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize(
    "typed",
    ["", "   ", "banana", "hello world", "asdf 3pm", "13/13/2026", "今天25点", "昨天下午3点61分"],
)
def test_nonsense(typed: str, tz: ZoneInfo) -> None:
    """Text that is not a time is None."""
    assert parse_when(typed, tz, NOW) is None
    assert parse_day(typed, tz, NOW) is None


def test_iso_month_13_is_not_a_day_month_swap() -> None:
    """2026-13-01 is not a date: parse_when agrees with parse_day."""
    assert parse_day("2026-13-01", NY, NOW) is None
    assert parse_when("2026-13-01", NY, NOW) is None


def test_impossible_hour_is_none() -> None:
    """`yesterday 25pm` is not yesterday at the current time."""
    assert parse_when("yesterday 25pm", NY, NOW) is None


LATE_NOV = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mid november", date(2027, 11, 15)),
        ("11月初", date(2027, 11, 5)),
        ("11月20号", date(2027, 11, 20)),
        ("11月25号", date(2026, 11, 25)),
        ("end of this month", date(2026, 11, 30)),
        ("月底", date(2026, 11, 30)),
        ("early this month", None),
        ("本月初", None),
        ("月中", None),
        ("2026年11月初", None),
    ],
)
def test_a_part_of_a_month_is_never_past(typed: str, expected: date | None) -> None:
    """On Nov 23 a named month's gone day is next year's; this month's gone part is refused."""
    assert parse_day(typed, ZoneInfo("UTC"), LATE_NOV) == expected


def test_an_impossible_day_is_refused_and_next_month_is_its_first() -> None:
    """ "2月30号" is no day (not Feb 28); "下个月" is the 1st of next month, like "next month"."""
    utc = ZoneInfo("UTC")
    assert parse_day("2月30号", utc, LATE_NOV) is None
    assert parse_day("4月31日", utc, LATE_NOV) is None
    assert parse_day("2月28号", utc, LATE_NOV) == date(2027, 2, 28)
    assert parse_day("下个月", utc, LATE_NOV) == date(2026, 12, 1)
