"""Reminder time phrases, read on the user's own clock (English and Chinese, across DST)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from crm_core.timephrases import Recurrence, TimePhrase, find_follow_up, read_time_phrase

NY, BERLIN, SHANGHAI = "America/New_York", "Europe/Berlin", "Asia/Shanghai"
# Wednesday 10 June 2026, 10:00 on the user's clock, unless a row says otherwise.
WED = "2026-06-10 10:00"


def local(zone: str, stamp: str) -> datetime:
    """ "2026-06-10 10:00" on a zone's wall clock (fold=0), or "...Z" in UTC, as aware UTC."""
    if stamp.endswith("Z"):
        return datetime.fromisoformat(stamp[:-1]).replace(tzinfo=UTC)
    return datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def read(text: str, zone: str = NY, now: str = WED) -> TimePhrase | None:
    """The phrase in `text`, read in `zone` at local time `now`."""
    return read_time_phrase(text, local(zone, now), ZoneInfo(zone))


# (phrase, zone, now on the user's clock, expected due on their clock or "...Z", recurrence)
Row = tuple[str, str, str, str | None, str | None]
ROWS: list[Row] = [
    # English, said on Wednesday 10 June at 10:00 in New York.
    ("tomorrow 3pm", NY, WED, "2026-06-11 15:00", None),
    ("Tomorrow 3 PM", NY, WED, "2026-06-11 15:00", None),
    ("today 5pm", NY, WED, "2026-06-10 17:00", None),
    ("tonight", NY, WED, "2026-06-10 20:00", None),
    ("tomorrow morning", NY, WED, "2026-06-11 09:00", None),
    ("tomorrow afternoon", NY, WED, "2026-06-11 14:00", None),
    ("tomorrow evening", NY, WED, "2026-06-11 18:00", None),
    ("tomorrow night", NY, WED, "2026-06-11 20:00", None),
    ("tmrw 8:30am", NY, WED, "2026-06-11 08:30", None),
    ("this afternoon", NY, WED, "2026-06-10 14:00", None),
    ("next tue 9:00", NY, WED, "2026-06-16 09:00", None),
    ("next tuesday", NY, WED, "2026-06-16 09:00", None),
    ("next friday", NY, WED, "2026-06-19 09:00", None),  # next week's, not the day after tomorrow
    ("on monday", NY, WED, "2026-06-15 09:00", None),
    ("this friday", NY, WED, "2026-06-12 09:00", None),
    ("thursday 10am", NY, WED, "2026-06-11 10:00", None),
    ("wednesday 9am", NY, WED, "2026-06-17 09:00", None),  # today's 9am has passed
    ("in 2h", NY, WED, "2026-06-10 12:00", None),
    ("in 30 minutes", NY, WED, "2026-06-10 10:30", None),
    ("in 2 hours", NY, WED, "2026-06-10 12:00", None),
    ("in 90 mins", NY, WED, "2026-06-10 11:30", None),
    ("in half an hour", NY, WED, "2026-06-10 10:30", None),
    ("in an hour and a half", NY, WED, "2026-06-10 11:30", None),
    ("in 1h30m", NY, WED, "2026-06-10 11:30", None),
    ("in 3 days", NY, WED, "2026-06-13 10:00", None),
    ("in a week", NY, WED, "2026-06-17 10:00", None),
    ("in 2 weeks", NY, WED, "2026-06-24 10:00", None),
    ("in 3 days at 3pm", NY, WED, "2026-06-13 15:00", None),
    ("2 days from now", NY, WED, "2026-06-12 10:00", None),
    ("next week", NY, WED, "2026-06-15 09:00", None),
    ("next month", NY, WED, "2026-07-01 09:00", None),
    ("end of month", NY, WED, "2026-06-30 09:00", None),
    ("end of the month", NY, WED, "2026-06-30 09:00", None),
    ("end of week", NY, WED, "2026-06-12 09:00", None),
    ("by EOD", NY, WED, "2026-06-10 17:00", None),
    ("at 15:30", NY, WED, "2026-06-10 15:30", None),
    ("3pm", NY, WED, "2026-06-10 15:00", None),
    ("9am", NY, WED, "2026-06-11 09:00", None),  # passed today: tomorrow
    ("8:30 p.m.", NY, WED, "2026-06-10 20:30", None),
    ("noon", NY, WED, "2026-06-10 12:00", None),
    ("midnight", NY, WED, "2026-06-11 00:00", None),
    ("tomorrow at noon", NY, WED, "2026-06-11 12:00", None),
    ("tonight at 8", NY, WED, "2026-06-10 20:00", None),
    ("at 8", NY, WED, "2026-06-11 08:00", None),  # 24-hour clock; passed today
    ("at 20", NY, WED, "2026-06-10 20:00", None),
    ("03:30", NY, WED, "2026-06-11 03:30", None),  # the leading zero says 24-hour clock
    ("the day after tomorrow", NY, WED, "2026-06-12 09:00", None),
    ("2026-12-01 10:00", NY, WED, "2026-12-01 10:00", None),
    ("Dec 3", NY, WED, "2026-12-03 09:00", None),
    ("3 Dec 14:00", NY, WED, "2026-12-03 14:00", None),
    ("December 3rd at 2pm", NY, WED, "2026-12-03 14:00", None),
    ("Jan 15", NY, WED, "2027-01-15 09:00", None),  # already past this year
    ("on the 15th", NY, WED, "2026-06-15 09:00", None),
    ("friday 10", NY, WED, "2026-06-12 10:00", None),  # a number right after a day is its hour
    ("2026-06-16", NY, WED, "2026-06-16 09:00", None),  # the follow-up button's own form
    # Recurrences: the first occurrence and the schedule.
    ("every monday 9am", NY, WED, "2026-06-15 09:00", "every Monday at 09:00"),
    ("every day at 8", NY, WED, "2026-06-11 08:00", "every day at 08:00"),
    ("every day at 11am", NY, WED, "2026-06-10 11:00", "every day at 11:00"),
    ("every weekday 8:30", NY, WED, "2026-06-11 08:30", "every weekday at 08:30"),
    ("weekly on friday", NY, WED, "2026-06-12 09:00", "every Friday at 09:00"),
    ("every wednesday 9am", NY, WED, "2026-06-17 09:00", "every Wednesday at 09:00"),
    ("every month on the 1st", NY, WED, "2026-07-01 09:00", "every month on the 1st at 09:00"),
    (
        "every month on the last day",
        NY,
        WED,
        "2026-06-30 09:00",
        "every month on the last day at 09:00",
    ),
    ("every morning", NY, WED, "2026-06-11 09:00", "every day at 09:00"),
    ("mondays 9am", NY, WED, "2026-06-15 09:00", "every Monday at 09:00"),
    # Friday said on a Friday.
    ("friday 5pm", NY, "2026-06-12 09:30", "2026-06-12 17:00", None),
    ("friday 5pm", NY, "2026-06-12 17:30", "2026-06-19 17:00", None),
    ("on friday at 4pm", NY, "2026-06-12 16:00", "2026-06-19 16:00", None),  # not after now
    ("friday", NY, "2026-06-12 08:00", "2026-06-12 09:00", None),
    ("friday", NY, "2026-06-12 10:00", "2026-06-19 09:00", None),
    ("next friday", NY, "2026-06-12 09:00", "2026-06-19 09:00", None),
    ("周五下午5点", SHANGHAI, "2026-06-12 09:30", "2026-06-12 17:00", None),
    ("週五下午五点", SHANGHAI, "2026-06-12 18:00", "2026-06-19 17:00", None),
    ("下周五", SHANGHAI, "2026-06-12 08:00", "2026-06-19 09:00", None),
    # A day for today with no time, after the default time: in about an hour.
    ("today", NY, "2026-06-10 08:00", "2026-06-10 09:00", None),
    ("today", NY, "2026-06-10 15:10", "2026-06-10 16:15", None),
    ("今天", SHANGHAI, "2026-06-10 15:00", "2026-06-10 16:00", None),
    ("tonight", NY, "2026-06-10 21:05", "2026-06-10 22:15", None),
    ("end of month", NY, "2026-06-30 11:00", "2026-06-30 12:00", None),
    # A moment that has passed stays in the past; the caller refuses it.
    ("this morning", NY, "2026-06-10 15:00", "2026-06-10 09:00", None),
    ("today 5pm", NY, "2026-06-10 18:00", "2026-06-10 17:00", None),
    # New York DST: spring forward 2026-03-08 02:00, fall back 2026-11-01 02:00.
    ("tomorrow 9am", NY, "2026-03-07 20:00", "2026-03-08 13:00Z", None),  # 09:00 EDT
    ("tomorrow 9am", NY, "2026-10-31 20:00", "2026-11-01 14:00Z", None),  # 09:00 EST
    ("明天上午9点", NY, "2026-03-07 20:00", "2026-03-08 13:00Z", None),
    ("in 2h", NY, "2026-03-08 01:30", "2026-03-08 04:30", None),  # two real hours
    ("in 2h", NY, "2026-11-01 00:30", "2026-11-01 06:30Z", None),  # 01:30 EST, the second
    ("tomorrow 2:30am", NY, "2026-03-07 12:00", "2026-03-08 03:30", None),  # gap: forward
    ("tomorrow 1:30am", NY, "2026-10-31 12:00", "2026-11-01 05:30Z", None),  # overlap: EDT
    ("in 3 days", NY, "2026-03-06 10:00", "2026-03-09 10:00", None),  # wall clock kept
    ("in 72 hours", NY, "2026-03-06 10:00", "2026-03-09 11:00", None),  # real hours
    ("every day at 9am", NY, "2026-03-08 08:00", "2026-03-08 09:00", "every day at 09:00"),
    # Berlin DST: spring forward 2026-03-29 02:00, fall back 2026-10-25 03:00.
    ("tomorrow 9am", BERLIN, "2026-03-28 20:00", "2026-03-29 07:00Z", None),  # 09:00 CEST
    ("tomorrow 9am", BERLIN, "2026-10-24 20:00", "2026-10-25 08:00Z", None),  # 09:00 CET
    ("tomorrow 2:30am", BERLIN, "2026-03-28 12:00", "2026-03-29 03:30", None),
    ("tomorrow 2:30am", BERLIN, "2026-10-24 12:00", "2026-10-25 00:30Z", None),  # CEST
    ("in 2h", BERLIN, "2026-03-29 01:30", "2026-03-29 02:30Z", None),  # 04:30 CEST
    ("明天下午3点", BERLIN, "2026-10-24 20:00", "2026-10-25 14:00Z", None),
    # Shanghai has no DST.
    ("tomorrow 9am", SHANGHAI, "2026-03-07 20:00", "2026-03-08 01:00Z", None),
    ("tomorrow 9am", SHANGHAI, "2026-10-31 20:00", "2026-11-01 01:00Z", None),
    ("in 2h", SHANGHAI, "2026-11-01 00:30", "2026-11-01 02:30", None),
    # Chinese, Simplified and Traditional, said on Wednesday 10 June at 10:00 in Shanghai.
    ("明天下午3点", SHANGHAI, WED, "2026-06-11 15:00", None),
    ("明天下午3點", SHANGHAI, WED, "2026-06-11 15:00", None),
    ("今天下午5点", SHANGHAI, WED, "2026-06-10 17:00", None),
    ("今晚8点", SHANGHAI, WED, "2026-06-10 20:00", None),
    ("今晚", SHANGHAI, WED, "2026-06-10 20:00", None),
    ("明早", SHANGHAI, WED, "2026-06-11 09:00", None),
    ("明天上午10点半", SHANGHAI, WED, "2026-06-11 10:30", None),
    ("明天中午", SHANGHAI, WED, "2026-06-11 12:00", None),
    ("后天上午9点", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("下周二上午10点", SHANGHAI, WED, "2026-06-16 10:00", None),
    ("下週二", SHANGHAI, WED, "2026-06-16 09:00", None),
    ("下下周一", SHANGHAI, WED, "2026-06-22 09:00", None),
    ("周五", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("本周五", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("週五下午五点", SHANGHAI, WED, "2026-06-12 17:00", None),
    ("星期五", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("礼拜五", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("禮拜五", SHANGHAI, WED, "2026-06-12 09:00", None),
    ("星期天", SHANGHAI, WED, "2026-06-14 09:00", None),
    ("两小时后", SHANGHAI, WED, "2026-06-10 12:00", None),
    ("兩小時後", SHANGHAI, WED, "2026-06-10 12:00", None),
    ("半小时后", SHANGHAI, WED, "2026-06-10 10:30", None),
    ("一个半小时后", SHANGHAI, WED, "2026-06-10 11:30", None),
    ("10分钟后", SHANGHAI, WED, "2026-06-10 10:10", None),
    ("3天后", SHANGHAI, WED, "2026-06-13 10:00", None),
    ("一周后", SHANGHAI, WED, "2026-06-17 10:00", None),
    ("月底", SHANGHAI, WED, "2026-06-30 09:00", None),
    ("下个月1号", SHANGHAI, WED, "2026-07-01 09:00", None),
    ("下個月1號", SHANGHAI, WED, "2026-07-01 09:00", None),
    ("15号下午2点", SHANGHAI, WED, "2026-06-15 14:00", None),
    ("12月3日 14:00", SHANGHAI, WED, "2026-12-03 14:00", None),
    ("12月3号", SHANGHAI, WED, "2026-12-03 09:00", None),
    ("１２月３日 １４：００", SHANGHAI, WED, "2026-12-03 14:00", None),  # full width
    ("中午", SHANGHAI, WED, "2026-06-10 12:00", None),
    ("下午3点", SHANGHAI, WED, "2026-06-10 15:00", None),
    ("晚上8点半", SHANGHAI, WED, "2026-06-10 20:30", None),
    ("晚上12点", SHANGHAI, WED, "2026-06-11 00:00", None),
    ("上午10点一刻", SHANGHAI, WED, "2026-06-10 10:15", None),
    ("十点", SHANGHAI, WED, "2026-06-11 10:00", None),  # 10:00 now is not ahead
    ("每周一上午9点", SHANGHAI, WED, "2026-06-15 09:00", "every Monday at 09:00"),
    ("每天早上8点", SHANGHAI, WED, "2026-06-11 08:00", "every day at 08:00"),
    ("每个工作日8:30", SHANGHAI, WED, "2026-06-11 08:30", "every weekday at 08:30"),
    ("每個工作日8：30", SHANGHAI, WED, "2026-06-11 08:30", "every weekday at 08:30"),
    ("每月最后一天", SHANGHAI, WED, "2026-06-30 09:00", "every month on the last day at 09:00"),
    ("每个月15号", SHANGHAI, WED, "2026-06-15 09:00", "every month on the 15th at 09:00"),
    # Nothing readable, or impossible or ambiguous: no guess.
    ("someday", NY, WED, None, None),
    ("at 25:00", NY, WED, None, None),
    ("soon", NY, WED, None, None),
    ("明天下午13点", SHANGHAI, WED, None, None),
    ("", NY, WED, None, None),
    ("call Dana", NY, WED, None, None),
    ("at 3", NY, WED, None, None),  # 3 a.m. or 3 p.m.?
    ("tomorrow 3:30", NY, WED, None, None),
    ("明天3点", SHANGHAI, WED, None, None),
    ("tomorrow 13pm", NY, WED, None, None),
    ("on the 31st of February", NY, WED, None, None),
    ("Feb 30", NY, WED, None, None),
    ("2月30日", SHANGHAI, WED, None, None),
    ("上午15点", SHANGHAI, WED, None, None),
    ("下午3点5", SHANGHAI, WED, None, None),  # 3:05 or 3:50?
    ("every other monday", NY, WED, None, None),
    ("every 2 hours", NY, WED, None, None),
    ("每隔两天", SHANGHAI, WED, None, None),
    ("in a few days", NY, WED, None, None),
    # Read as the past day it is, so that a reminder for it is refused as past.
    ("yesterday", NY, WED, "2026-06-09 09:00", None),
    ("tomorrow friday", NY, WED, None, None),
    ("in 2h at 3pm", NY, WED, None, None),
    ("tomorrow morning at 3pm", NY, WED, None, None),
    ("tomorrow 3 quotes", NY, WED, None, None),  # 3 a.m. or 3 p.m.?
]


@pytest.mark.parametrize(("phrase", "zone", "now", "expected", "recurrence"), ROWS)
def test_phrase_table(
    phrase: str, zone: str, now: str, expected: str | None, recurrence: str | None
) -> None:
    """Each phrase resolves on the user's clock to the expected moment, or to nothing."""
    found = read(phrase, zone, now)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert found.due == local(zone, expected)
    assert found.due.tzinfo == UTC
    described = found.recurrence.describe("en") if found.recurrence else None
    assert described == recurrence


def test_the_table_is_big_enough() -> None:
    """The issue asks for a real table, not a handful of rows."""
    assert len(ROWS) >= 80
    assert sum(1 for row in ROWS if row[3] is None) >= 10


@pytest.mark.parametrize(
    ("text", "phrase", "rest"),
    [
        ("tomorrow 3pm to call Dana", "tomorrow 3pm", "call Dana"),
        ("tomorrow 3pm call Dana about Acme", "tomorrow 3pm", "call Dana about Acme"),
        ("call Dana tomorrow at 3pm", "tomorrow at 3pm", "call Dana"),
        ("send the quote by friday", "by friday", "send the quote"),
        ("call Dana tomorrow about Acme", "tomorrow", "call Dana about Acme"),
        ("next tue 9:00 send the quote", "next tue 9:00", "send the quote"),
        ("in 2h: check the contract", "in 2h", "check the contract"),
        ("every monday 9am pipeline review", "every monday 9am", "pipeline review"),
        ("on Monday, follow up with Bob", "on Monday", "follow up with Bob"),
        (
            "tomorrow 3pm call Dana re the Friday demo",
            "tomorrow 3pm",
            "call Dana re the Friday demo",
        ),
        ("Call Dana tomorrow.", "tomorrow", "Call Dana"),
        ("  Tomorrow  9am   call Dana  ", "Tomorrow  9am", "call Dana"),
        ("明天下午3点给王总打电话", "明天下午3点", "给王总打电话"),
        ("给王总打电话，明天下午3点", "明天下午3点", "给王总打电话"),
        ("周五前发报价", "周五前", "发报价"),
        ("下週二上午10點 回訪客戶", "下週二上午10點", "回訪客戶"),  # the user's own script kept
        ("每周一上午9点 周会", "每周一上午9点", "周会"),
        ("friday 10 meet Bob", "friday 10", "meet Bob"),
        ("friday 10 people", "friday 10", "people"),  # read as 10:00; the confirmation shows it
        ("2026-06-16 09:00 follow up with Acme", "2026-06-16 09:00", "follow up with Acme"),
        ("review 10 deals tomorrow", "tomorrow", "review 10 deals"),
    ],
)
def test_rest_and_span(text: str, phrase: str, rest: str) -> None:
    """The phrase is cut out where it sits and the rest is tidied into the reminder text."""
    found = read(text, SHANGHAI if not text.isascii() else NY)
    assert found is not None
    assert text[found.span[0] : found.span[1]] == phrase
    assert found.rest == rest


@pytest.mark.parametrize(
    ("text", "explicit"),
    [
        ("tomorrow", False),
        ("next tue", False),
        ("end of month", False),
        ("every monday", False),
        ("下周二", False),
        ("tomorrow 3pm", True),
        ("in 2h", True),
        ("in 3 days", True),
        ("tonight", True),
        ("tomorrow morning", True),
        ("every monday 9am", True),
        ("明天下午3点", True),
        ("两小时后", True),
    ],
)
def test_explicit_time(text: str, explicit: bool) -> None:
    """A clock time, a part of the day or an offset is explicit; a bare day is not."""
    found = read(text)
    assert found is not None and found.explicit_time is explicit


def test_default_time_is_used_for_bare_days() -> None:
    """A day with no time takes the caller's default time."""
    found = read_time_phrase("next tue", local(NY, WED), ZoneInfo(NY), default_time=time(8, 30))
    assert found is not None and found.due == local(NY, "2026-06-16 08:30")


def test_weak_words_in_the_middle_are_not_dates() -> None:
    """ "may", "sat" and 一点 are ordinary words unless they lead or have company."""
    assert read("Dana may 3 times ask for a discount") is None
    assert read("I sat with Dana") is None
    assert read("早一点给他打电话", SHANGHAI) is None
    found = read("on sat call Dana")
    assert found is not None and found.due == local(NY, "2026-06-13 09:00")


def test_naive_now_is_refused() -> None:
    """A naive `now` is a programming error, not a user's phrase."""
    with pytest.raises(ValueError):
        read_time_phrase("tomorrow", datetime(2026, 6, 10, 10), ZoneInfo(NY))


@pytest.mark.parametrize(
    ("note", "zone", "expected"),
    [
        ("f/u next Tue", NY, "2026-06-16 09:00"),
        ("follow up tomorrow", NY, "2026-06-11 09:00"),
        ("follow-up on Friday", NY, "2026-06-12 09:00"),
        ("call back in 2 weeks", NY, "2026-06-24 10:00"),
        ("Talked pricing. Will call him back tomorrow afternoon.", NY, "2026-06-11 14:00"),
        ("Met on Monday. Next step: demo next tue 10am", NY, "2026-06-16 10:00"),
        ("Dana is out until Monday, follow up then", NY, "2026-06-15 09:00"),
        ("Follow up with Dana about the Acme renewal quote next Tue", NY, "2026-06-16 09:00"),
        ("下周二回访", SHANGHAI, "2026-06-16 09:00"),
        ("明天跟进", SHANGHAI, "2026-06-11 09:00"),
        ("下週二回訪", SHANGHAI, "2026-06-16 09:00"),
        ("客户很满意，月底回访", SHANGHAI, "2026-06-30 09:00"),
        ("客户说下周二再联系", SHANGHAI, "2026-06-16 09:00"),
        ("明天跟进了解需求", SHANGHAI, "2026-06-11 09:00"),
    ],
)
def test_follow_up_found(note: str, zone: str, expected: str) -> None:
    """A note that says when to follow up yields that time."""
    found = find_follow_up(note, local(zone, WED), ZoneInfo(zone))
    assert found is not None
    assert found.due == local(zone, expected)


@pytest.mark.parametrize(
    "note",
    [
        "we met yesterday",
        "Met Dana on Monday, she liked the demo",
        "followed up yesterday",
        "follow up soon",
        "no need to follow up next week",
        "follow up done on Friday",
        "Sent the quote tomorrow's draft",
        "已经回访了",
        "昨天见了王总",
        "明天开会",  # a plan, but no follow-up intention
        "",
    ],
)
def test_follow_up_not_found(note: str) -> None:
    """Times without a follow-up intention, and intentions without a time, are not offers."""
    zone = SHANGHAI if not note.isascii() else NY
    assert find_follow_up(note, local(zone, WED), ZoneInfo(zone)) is None


DAILY_9 = Recurrence("daily", time(9))


@pytest.mark.parametrize(
    ("recurrence", "zone", "after", "expected"),
    [
        (DAILY_9, NY, "2026-03-07 10:00", "2026-03-08 13:00Z"),  # 09:00 EDT, first EDT day
        (DAILY_9, NY, "2026-03-08 13:00Z", "2026-03-09 13:00Z"),  # strictly after
        (DAILY_9, NY, "2026-10-31 10:00", "2026-11-01 14:00Z"),  # 09:00 EST
        (DAILY_9, BERLIN, "2026-03-28 10:00", "2026-03-29 07:00Z"),
        (DAILY_9, BERLIN, "2026-10-24 10:00", "2026-10-25 08:00Z"),
        (DAILY_9, SHANGHAI, "2026-03-07 10:00", "2026-03-08 01:00Z"),
        (Recurrence("daily", time(2, 30)), NY, "2026-03-07 12:00", "2026-03-08 07:30Z"),  # 03:30
        (Recurrence("daily", time(1, 30)), NY, "2026-10-31 12:00", "2026-11-01 05:30Z"),  # EDT
        (Recurrence("daily", time(1, 30)), NY, "2026-11-01 05:30Z", "2026-11-02 06:30Z"),  # once
        (Recurrence("weekdays", time(8, 30)), NY, "2026-06-12 09:00", "2026-06-15 08:30"),
        (Recurrence("weekly", time(9), weekday=0), NY, "2026-03-01 12:00", "2026-03-02 09:00"),
        (Recurrence("weekly", time(9), weekday=0), NY, "2026-03-02 12:00", "2026-03-09 09:00"),
        (Recurrence("monthly", time(9), day=31), NY, "2026-02-01 12:00", "2026-02-28 09:00"),
        (Recurrence("monthly", time(9), day=-1), NY, "2026-02-28 09:00", "2026-03-31 09:00"),
        (Recurrence("monthly", time(9), day=1), BERLIN, "2026-10-01 10:00", "2026-11-01 09:00"),
    ],
)
def test_recurrence_next_after(
    recurrence: Recurrence, zone: str, after: str, expected: str
) -> None:
    """The next occurrence keeps the wall-clock time across DST changes."""
    found = recurrence.next_after(local(zone, after), ZoneInfo(zone))
    assert found == local(zone, expected)
    assert found.tzinfo == UTC


@pytest.mark.parametrize(
    ("recurrence", "en", "zh"),
    [
        (DAILY_9, "every day at 09:00", "每天 09:00"),
        (Recurrence("weekdays", time(8, 30)), "every weekday at 08:30", "每个工作日 08:30"),
        (Recurrence("weekly", time(9), weekday=0), "every Monday at 09:00", "每周一 09:00"),
        (Recurrence("weekly", time(17), weekday=6), "every Sunday at 17:00", "每周日 17:00"),
        (Recurrence("monthly", time(9), day=1), "every month on the 1st at 09:00", "每月1日 09:00"),
        (
            Recurrence("monthly", time(9), day=22),
            "every month on the 22nd at 09:00",
            "每月22日 09:00",
        ),
        (
            Recurrence("monthly", time(9), day=-1),
            "every month on the last day at 09:00",
            "每月最后一天 09:00",
        ),
    ],
)
def test_describe(recurrence: Recurrence, en: str, zh: str) -> None:
    """Schedules read back in the user's language."""
    assert recurrence.describe("en") == en
    assert recurrence.describe("zh") == zh


@pytest.mark.parametrize(
    "make",
    [
        lambda: Recurrence("weekly", time(9)),
        lambda: Recurrence("weekly", time(9), weekday=7),
        lambda: Recurrence("monthly", time(9), day=0),
        lambda: Recurrence("monthly", time(9), day=32),
    ],
)
def test_recurrence_refuses_impossible_schedules(make: object) -> None:
    """A schedule that can never fire is a bug at the call site."""
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("提醒 聽朝早十點 打俾培正文主任", "2026-06-11 10:00"),
        ("聽朝早", "2026-06-11 09:00"),
        ("後日十點", "2026-06-12 10:00"),
        ("后日下午三点", "2026-06-12 15:00"),
        ("大後日", "2026-06-13 09:00"),
    ],
)
def test_cantonese_mornings_and_the_day_after_tomorrow(text: str, expected: str) -> None:
    """聽朝早 is tomorrow morning (its hour kept), 後日 the day after tomorrow, 大後日 the next."""
    found = read(text, "Asia/Hong_Kong")
    assert found is not None and found.due == local("Asia/Hong_Kong", expected), text


@pytest.mark.parametrize("text", ["之后日程再说", "以后日子好过", "今后日常维护"])
def test_hou_ri_inside_other_words_is_no_day(text: str) -> None:
    """之后日程 (the schedule after), 以后日子 (the days to come): no day read."""
    assert read(text, "Asia/Hong_Kong") is None


TAIPEI = "Asia/Taipei"


@pytest.mark.parametrize(
    ("text", "due", "rest"),
    [
        # 整 that starts a word (整理 tidy, 整合 merge, 整個 whole) stays in the reminder's text.
        ("下午4點 整理客戶名片", "2026-06-10 16:00", "整理客戶名片"),
        ("明天早上9點整合兩家的報價", "2026-06-11 09:00", "整合兩家的報價"),
        ("下午3点 整个方案再过一遍", "2026-06-10 15:00", "整个方案再过一遍"),
        ("後天下午2點 整 理好樣品", "2026-06-12 14:00", "整 理好樣品"),
        # Written on, 整 alone is "o'clock sharp" and is taken with the time.
        ("明天下午3點整 拜訪台積", "2026-06-11 15:00", "拜訪台積"),
        ("明天下午三點整開會", "2026-06-11 15:00", "開會"),
    ],
)
def test_zheng_after_a_clock_time(text: str, due: str, rest: str) -> None:
    """`5點 整理…` is 5 o'clock and the text 整理…, not 5 sharp and 理…."""
    found = read(text, TAIPEI)
    assert found is not None
    assert found.due == local(TAIPEI, due)
    assert found.rest == rest


HONG_KONG = "Asia/Hong_Kong"


@pytest.mark.parametrize(
    ("text", "due", "rest"),
    [
        ("月尾 交報銷單", "2026-06-30 09:00", "交報銷單"),
        ("呢個月尾 同客對數", "2026-06-30 09:00", "同客對數"),
        ("下個月尾 續約", "2026-07-31 09:00", "續約"),
    ],
)
def test_cantonese_month_end(text: str, due: str, rest: str) -> None:
    """月尾 (Hong Kong's month end) reads as 月底."""
    found = read(text, HONG_KONG)
    assert found is not None
    assert found.due == local(HONG_KONG, due)
    assert found.rest == rest
