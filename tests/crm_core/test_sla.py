"""SLA arithmetic on business calendars: nights, weekends, holidays, 调休, DST, pauses, priority."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.business_calendar import BusinessCalendar
from crm_core.sla import DEFAULT_POLICIES, clock, due, running_spans, warn_time

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_CAL = BusinessCalendar()


def local(zone: ZoneInfo, *args: int) -> datetime:
    """A wall-clock moment in `zone`, as aware UTC."""
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    """An aware UTC moment."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


ADD_CASES = [
    # (why, calendar, start, business hours to add, expected moment)
    ("inside one day", UTC_CAL, utc(2026, 11, 23, 10), 2, utc(2026, 11, 23, 12)),
    ("across a night", UTC_CAL, utc(2026, 11, 23, 17), 2, utc(2026, 11, 24, 10)),
    ("started at night", UTC_CAL, utc(2026, 11, 23, 22), 1, utc(2026, 11, 24, 10)),
    ("before opening", UTC_CAL, utc(2026, 11, 23, 6), 1, utc(2026, 11, 23, 10)),
    ("across a weekend", UTC_CAL, utc(2026, 11, 27, 17), 2, utc(2026, 11, 30, 10)),
    ("started on a Sunday", UTC_CAL, utc(2026, 11, 29, 12), 1, utc(2026, 11, 30, 10)),
    ("a whole week", UTC_CAL, utc(2026, 11, 23, 9), 45, utc(2026, 11, 27, 18)),
    (
        "Thanksgiving is off in New York",
        BusinessCalendar(zone=NY, country="US"),
        local(NY, 2026, 11, 25, 17),
        2,
        local(NY, 2026, 11, 27, 10),
    ),
    (
        "Thanksgiving without a holiday country is a working day",
        BusinessCalendar(zone=NY),
        local(NY, 2026, 11, 25, 17),
        2,
        local(NY, 2026, 11, 26, 10),
    ),
    (
        "China's make-up Saturday (调休) is a working day",
        BusinessCalendar(zone=SHANGHAI, country="CN"),
        local(SHANGHAI, 2026, 2, 13, 17),
        2,
        local(SHANGHAI, 2026, 2, 14, 10),
    ),
    (
        "Spring Festival is off in China",
        BusinessCalendar(zone=SHANGHAI, country="CN"),
        local(SHANGHAI, 2026, 2, 14, 17),
        2,
        local(SHANGHAI, 2026, 2, 24, 10),
    ),
    (
        "New York springs forward over the weekend (EST Friday, EDT Monday)",
        BusinessCalendar(zone=NY),
        utc(2026, 3, 6, 22),  # Friday 17:00 EST
        8,
        utc(2026, 3, 9, 20),  # Monday 16:00 EDT
    ),
    (
        "Berlin springs forward over the weekend (CET Friday, CEST Monday)",
        BusinessCalendar(zone=BERLIN),
        utc(2026, 3, 27, 16),  # Friday 17:00 CET
        8,
        utc(2026, 3, 30, 14),  # Monday 16:00 CEST
    ),
    (
        "Berlin falls back over the weekend (CEST Friday, CET Monday)",
        BusinessCalendar(zone=BERLIN),
        utc(2026, 10, 23, 15),  # Friday 17:00 CEST
        8,
        utc(2026, 10, 26, 15),  # Monday 16:00 CET
    ),
    (
        "working hours of a team that works Saturdays 08:00-12:00 too",
        BusinessCalendar(days=frozenset(range(6)), start=time(8), end=time(12)),
        utc(2026, 11, 27, 11),
        2,
        utc(2026, 11, 28, 9),
    ),
]


@pytest.mark.parametrize(
    ("why", "calendar", "start", "hours", "expected"), ADD_CASES, ids=[c[0] for c in ADD_CASES]
)
def test_add_business_hours(
    why: str, calendar: BusinessCalendar, start: datetime, hours: float, expected: datetime
) -> None:
    assert calendar.add(start, hours * 3600) == expected
    # The inverse: exactly that much business time lies between the two moments.
    assert calendar.seconds_between(start, expected) == hours * 3600


def test_seconds_between_a_weekend_and_the_empty_interval() -> None:
    assert UTC_CAL.seconds_between(utc(2026, 11, 27, 17), utc(2026, 11, 30, 10)) == 2 * 3600
    assert UTC_CAL.seconds_between(utc(2026, 11, 28, 10), utc(2026, 11, 29, 20)) == 0
    assert UTC_CAL.seconds_between(utc(2026, 11, 30, 10), utc(2026, 11, 27, 10)) == 0


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(start=time(18), end=time(9))
    with pytest.raises(ValueError):
        BusinessCalendar(days=frozenset())


MON = utc(2026, 11, 23, 9)  # Monday, opening time


def h(hours: float) -> timedelta:
    """Hours as a timedelta."""
    return timedelta(hours=hours)


CLOCK_CASES = [
    # (why, history, target, now, stop, expected due, elapsed hours, breached, paused)
    (
        "running: due after the target in business hours",
        [(MON, "new")],
        h(8),
        MON + h(1),
        None,
        utc(2026, 11, 23, 17),
        1,
        False,
        False,
    ),
    (
        "a pause while waiting on the customer across a weekend",
        [
            (utc(2026, 11, 27, 16), "open"),
            (utc(2026, 11, 27, 17), "waiting"),
            (utc(2026, 11, 30, 12), "open"),
        ],
        DEFAULT_POLICIES["high"].resolution,
        utc(2026, 11, 30, 13),
        None,
        # Friday ran 1 h; from Monday 12:00 the other 23 h: Mon 6 + Tue 9 + Wed 8 -> 17:00.
        utc(2026, 12, 2, 17),
        2,
        False,
        False,
    ),
    (
        "still waiting: paused, no due time",
        [(MON, "open"), (MON + h(2), "waiting")],
        h(4),
        MON + h(30),
        None,
        None,
        2,
        False,
        True,
    ),
    (
        "priority raised to urgent mid-ticket counts from creation",
        [(MON, "new"), (MON + h(1.5), "new")],
        DEFAULT_POLICIES["urgent"].first_response,
        MON + h(1.5),
        None,
        MON + h(1),
        1.5,
        True,
        False,
    ),
    (
        "first response stops the clock for good",
        [(MON, "new"), (MON + h(0.5), "open")],
        h(1),
        MON + h(30),
        MON + h(0.5),
        None,
        0.5,
        False,
        False,
    ),
    (
        "resolved then reopened the next morning: the resolved night does not count",
        [(MON, "open"), (MON + h(2), "resolved"), (utc(2026, 11, 24, 9), "open")],
        h(4),
        utc(2026, 11, 24, 10),
        None,
        utc(2026, 11, 24, 11),
        3,
        False,
        False,
    ),
    (
        "breached overnight: a new ticket at 17:00 with a one-hour target",
        [(utc(2026, 11, 23, 17), "new")],
        h(1),
        utc(2026, 11, 24, 9, 30),
        None,
        utc(2026, 11, 23, 18),
        1.5,
        True,
        False,
    ),
]


@pytest.mark.parametrize(
    ("why", "history", "target", "now", "stop", "expected_due", "hours", "breached", "paused"),
    CLOCK_CASES,
    ids=[c[0] for c in CLOCK_CASES],
)
def test_clock(
    why: str,
    history: list[tuple[datetime, str]],
    target: timedelta,
    now: datetime,
    stop: datetime | None,
    expected_due: datetime | None,
    hours: float,
    breached: bool,
    paused: bool,
) -> None:
    state = clock(UTC_CAL, history, target, now, stop)
    assert state.due == expected_due
    assert state.elapsed == hours * 3600
    assert state.breached is breached
    assert state.paused is paused


def test_priority_change_resolution_due_and_warning_at_75_percent() -> None:
    spans = running_spans([(MON, "new"), (MON + h(1.5), "open")])
    assert due(UTC_CAL, spans, DEFAULT_POLICIES["urgent"].resolution) == MON + h(4)
    assert warn_time(UTC_CAL, spans, DEFAULT_POLICIES["urgent"].resolution) == MON + h(3)
    assert warn_time(UTC_CAL, spans, DEFAULT_POLICIES["urgent"].first_response) == MON + h(0.75)


def test_default_policies() -> None:
    assert {p: (v.first_response, v.resolution) for p, v in DEFAULT_POLICIES.items()} == {
        "urgent": (h(1), h(4)),
        "high": (h(4), h(24)),
        "normal": (h(8), h(48)),
        "low": (h(24), h(120)),
    }
