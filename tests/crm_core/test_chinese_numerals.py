"""Chinese numerals, shared by the time phrases and the question reader: 一二三…十, 两, 廿."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_core.timephrases import Recurrence, read_time_phrase
from crm_core.timephrases.chinese import cn_int
from crm_core.timephrases.english import MONTHS
from retrieval.question import shape_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 10 June 2026, 10:00 in Shanghai.
NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", 7),
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("二十五", 25),
        ("廿", 20),
        ("廿五", 25),
    ],
)
def test_numerals_read(text: str, value: int) -> None:
    assert cn_int(text) == value


@pytest.mark.parametrize("text", ["", "廿廿", "廿十", "十十", "五五", "二十五六", "x", "百"])
def test_what_is_no_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        cn_int(text)


def test_twenty_written_as_nian_in_dates_and_monthly_reminders() -> None:
    """廿五号 is the 25th, in a date and in a monthly schedule."""
    dated = read_time_phrase("12月廿五日 寄贺卡", NOW, SHANGHAI)
    assert dated is not None and dated.due.astimezone(SHANGHAI).date().isoformat() == "2026-12-25"
    assert dated.rest == "寄贺卡"
    monthly = read_time_phrase("每月廿五号上午10点 交报表", NOW, SHANGHAI)
    assert monthly is not None and monthly.recurrence is not None
    assert (monthly.recurrence.kind, monthly.recurrence.day) == ("monthly", 25)
    assert isinstance(monthly.recurrence, Recurrence)


def test_question_months_come_from_the_same_words() -> None:
    """The question reader's months are the time phrases' month words and numerals."""
    today = datetime(2026, 11, 20, tzinfo=UTC)
    for word, month in MONTHS.items():
        shape = shape_of(f"what happened in {word}?", today, ZoneInfo("UTC"))
        assert shape.since is not None and shape.since.month == month, word
    zh = shape_of("十一月的拜访说了什么", today, ZoneInfo("UTC"))
    assert zh.since is not None and zh.since.month == 11 and "visit" in (zh.kinds or ())
