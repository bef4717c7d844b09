"""Slash dates in the user's order: day first where their language and region write it so."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_core.date_order import day_first, month_first, slash_readings
from crm_core.timephrases import find_follow_up, read_time_phrase
from crm_core.when import parse_day, parse_when

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("locale", "tz", "expected"),
    [
        ("en", "Europe/London", True),
        ("en", "Australia/Sydney", True),
        ("en", "Pacific/Auckland", True),
        ("en", "Europe/Dublin", True),
        ("en", "Asia/Singapore", True),
        ("en", "Asia/Kolkata", True),
        ("zh-Hant", "Asia/Hong_Kong", True),
        ("en", "America/New_York", False),
        ("en", "Pacific/Honolulu", False),
        ("en", "UTC", False),
        ("zh", "Asia/Shanghai", False),
        ("zh-Hant", "Asia/Taipei", False),
    ],
)
def test_the_order_comes_from_the_language_in_the_zones_territory(
    locale: str, tz: str, expected: bool
) -> None:
    """en-GB/AU/NZ/IE/SG/IN and Hong Kong write day first; the US, mainland China and Taiwan
    (y/M/d) month first; a zone with no territory keeps month first."""
    assert day_first(locale, tz) is expected


@pytest.mark.parametrize(
    ("typed", "first", "expected"),
    [
        ("3/4", True, date(2027, 4, 3)),
        ("3/4", False, date(2027, 3, 4)),
        ("3/4/2027", True, date(2027, 4, 3)),
        ("by 3/4", True, date(2027, 4, 3)),
        ("18/12", True, date(2026, 12, 18)),
        # No 18th month: a day-first user's "12/18" can only be month first.
        ("12/18", True, date(2026, 12, 18)),
        ("12/18", False, date(2026, 12, 18)),
    ],
)
def test_parse_day_reads_slash_dates_in_the_users_order(
    typed: str, first: bool, expected: date
) -> None:
    """The day a slash date names, in either order."""
    assert parse_day(typed, LONDON, NOW, day_first=first) == expected


def test_parse_when_and_time_phrases_take_the_same_order() -> None:
    """A moment, a reminder's time and a follow-up read "3/4" the same way as a day."""
    moment = parse_when("3/4 3pm", LONDON, NOW, prefer="future", day_first=True)
    assert moment is not None and moment.astimezone(LONDON).date() == date(2027, 4, 3)
    us = parse_when("3/4 3pm", LONDON, NOW, prefer="future", day_first=False)
    assert us is not None and us.astimezone(LONDON).date() == date(2027, 3, 4)
    phrase = read_time_phrase("call acme 3/4 at 3pm", NOW, LONDON, day_first=True)
    assert phrase is not None and phrase.due.astimezone(LONDON).date() == date(2027, 4, 3)
    assert phrase.rest.strip() == "call acme"
    phrase = read_time_phrase("call acme 3/4 at 3pm", NOW, LONDON)
    assert phrase is not None and phrase.due.astimezone(LONDON).date() == date(2027, 3, 4)
    follow = find_follow_up("demo went well, follow up 3/4", NOW, LONDON, day_first=True)
    assert follow is not None and follow.due.astimezone(LONDON).date() == date(2027, 4, 3)


def test_month_first_keeps_lengths_and_phrases() -> None:
    """The swap keeps the text's length (spans stay true) and leaves "24/7" a phrase."""
    assert month_first("due 3/4, ok", True) == "due 4/3, ok"
    assert month_first("due 3/4, ok", False) == "due 3/4, ok"
    assert month_first("support 24/7", True) == "support 24/7"
    assert month_first("ref 2026/12/05", True) == "ref 2026/12/05"


def test_only_dates_that_read_two_ways_are_ambiguous() -> None:
    """ "3/4" reads two ways; "12/18", "4/4" and "24/7" one or none."""
    assert slash_readings("close 3/4", True) == [("3/4", 4, 3)]
    assert slash_readings("close 3/4", False) == [("3/4", 3, 4)]
    assert slash_readings("close 12/18, 4/4, 24/7", True) == []


@pytest.mark.parametrize(
    ("tz", "currency"),
    [("Asia/Calcutta", "INR"), ("Asia/Saigon", "VND"), ("Europe/Kiev", "UAH"), ("UTC", None)],
)
def test_old_zone_names_keep_their_territory(tz: str, currency: str | None) -> None:
    """Old names of zones (Babel's aliases) have their new name's order and home currency."""
    from crm_core.rules import home_currency

    assert day_first("en", tz) is (currency is not None)
    assert home_currency(tz) == currency


def test_two_digit_years_are_swapped_for_day_first_users() -> None:
    """ "3/4/27" is 3 April 2027 for a day-first user, as "3/4/2027" is."""
    perth = ZoneInfo("Australia/Perth")
    assert month_first("close 3/4/27", True) == "close 4/3/27"
    assert parse_day("3/4/27", perth, NOW, day_first=True) == date(2027, 4, 3)
    assert parse_day("3/4/27", perth, NOW) == date(2027, 3, 4)
    assert month_first("3/4/276", True) == "3/4/276"
