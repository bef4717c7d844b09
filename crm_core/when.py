"""Reading times and dates people type ("yesterday 3pm", "2026-12-15") in their own zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core import rules
from crm_core.date_order import month_first
from crm_core.errors import Invalid
from crm_core.text import to_simplified

_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_ISO_MOMENT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?$")
# Clock times typed in a phrase; dateparser silently drops impossible ones ("25pm").
_AMPM = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)\b", re.I)
_HHMM = re.compile(r"\b(\d{1,2}):(\d{2})\b")
# Plain Chinese day words dateparser does not read; richer Chinese phrases belong to reminders.
_ZH_DAYS = {"今天": 0, "昨天": -1, "前天": -2, "明天": 1, "后天": 2}
# A weekday of last week (上周五, 上个星期五), this week (这周一, 本周三) or bare (周五: the latest
# one not after today), as a logged call's time: "last Friday" is read where a past is wanted.
_ZH_DAY = re.compile(
    r"^(?:(?P<day>今天|昨天|前天|明天|后天)|(?P<mod>上个?|这个?|本)?(?:周|星期|礼拜)"
    r"(?P<wd>[一二三四五六日天1-7]))"
    r"(?:(?P<part>上午|下午|晚上)?(?P<h>\d{1,2})[点:：](?P<m>\d{1,2})?分?)?$"
)
_ZH_WEEKDAYS = (
    {w: i for i, w in enumerate("一二三四五六日")}
    | {"天": 6}
    | {str(n): n - 1 for n in range(1, 8)}
)


def out_of_range(value: str) -> rules.Rule:
    """The refusal of a date at the ends of the calendar (year 1, 9999, a huge duration)."""
    first, last = rules.FIRST_DAY.year, rules.LAST_DAY.year
    return rules.Rule(
        "error.date_out_of_range",
        f"{value} is outside {first}..{last}",
        value=value,
        first=first,
        last=last,
    )


def to_utc(local: datetime, tz: ZoneInfo, typed: str) -> datetime:
    """A wall-clock time in `tz` as UTC; refuses times the zone skips and dates out of range."""
    try:
        moment = local.astimezone(UTC)
        back = moment.astimezone(tz)
    except OverflowError:
        raise out_of_range(typed) from None
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        # 02:30 on the night clocks spring forward: dateparser and zoneinfo would say 03:30.
        raise Invalid("error.time_not_exist", value=local.strftime("%Y-%m-%d %H:%M"), tz=tz.key)
    if not rules.FIRST_DAY <= moment.date() <= rules.LAST_DAY:
        raise out_of_range(typed)
    return moment


def _zh(text: str, tz: ZoneInfo, now: datetime, prefer: str) -> datetime | None:
    m = _ZH_DAY.match(to_simplified(text).replace(" ", ""))
    if not m:
        return None
    local = now.astimezone(tz)
    try:
        day = local.date() + timedelta(days=_zh_shift(m, local.date(), prefer))
    except OverflowError:
        raise out_of_range(text) from None
    hour, minute = (local.hour, local.minute) if m.group("h") is None else (int(m.group("h")), 0)
    if m.group("m"):
        minute = int(m.group("m"))
    if m.group("part") in ("下午", "晚上") and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def _zh_shift(m: re.Match[str], today: date, prefer: str) -> int:
    """Days from `today` to the day a `_ZH_DAY` match names."""
    if m.group("day"):
        return _ZH_DAYS[m.group("day")]
    weekday = _ZH_WEEKDAYS[m.group("wd")]
    mod = (m.group("mod") or "").replace("个", "")
    if mod == "上":
        return weekday - today.weekday() - 7  # last calendar week (weeks start on Monday)
    if mod in ("这", "本"):
        return weekday - today.weekday()
    if prefer == "future":
        return (weekday - today.weekday()) % 7  # the next such day, today included
    return -((today.weekday() - weekday) % 7)  # the latest such day, today included


def _impossible_clock(text: str) -> bool:
    for m in _AMPM.finditer(text):
        if not 1 <= int(m.group(1)) <= 12 or (m.group(2) and int(m.group(2)) > 59):
            return True
    return any(int(m.group(1)) > 23 or int(m.group(2)) > 59 for m in _HHMM.finditer(text))


def _iso(text: str, tz: ZoneInfo) -> datetime | None:
    m = _ISO_MOMENT.match(text)
    assert m is not None
    y, mo, d, h, mi = (int(g) if g else 0 for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, tzinfo=tz)
    except ValueError:
        return None


def parse_when(
    text: str, tz: ZoneInfo, now: datetime, *, prefer: str = "past", day_first: bool = False
) -> datetime | None:
    """A moment typed by a person in zone `tz`, as aware UTC; None when it cannot be read.
    `day_first`: slash dates are day/month (crm_core.date_order.day_first of the user)."""
    text = month_first(text.strip(), day_first)
    if not text or _impossible_clock(text):
        return None
    if _ISO_MOMENT.match(text):
        # ISO dates are year-month-day, never a day-month swap of an impossible month.
        moment = _iso(text, tz)
        return to_utc(moment, tz, text) if moment else None
    found = _zh(text, tz, now, prefer)
    if found is None:
        local_now = now.astimezone(tz).replace(tzinfo=None)
        # dateparser takes about 0.15 s to import: only a phrase that needs it pays for it.
        import dateparser

        parsed = dateparser.parse(
            text,
            languages=["en"],
            settings={
                "RELATIVE_BASE": local_now,
                "PREFER_DATES_FROM": prefer,
                "RETURN_AS_TIMEZONE_AWARE": False,
                "STRICT_PARSING": False,
            },
        )
        if parsed is None:
            return None
        found = parsed.replace(tzinfo=tz)
    return to_utc(found, tz, text)


_MONTH_NAMES = {
    name: i + 1
    for i, names in enumerate(
        (
            "january jan", "february feb", "march mar", "april apr", "may", "june jun",
            "july jul", "august aug", "september sep sept", "october oct", "november nov",
            "december dec",
        )
    )
    for name in names.split()
}  # fmt: skip
# "end of march", "mid-jan", "early next month", "march end", "the end of the month".
_EN_PART = re.compile(
    r"^(?:by\s+|before\s+|in\s+|until\s+|till\s+)?(?:the\s+)?"
    r"(?:(?P<part>end|mid|middle|early|beginning|start|late)(?:\s+of|-)?\s+(?:the\s+)?"
    r"(?P<month>[a-z]+|(?:next|this)\s+month|month)|(?P<month2>[a-z]+)\s+(?P<part2>end))$"
)
# 三月底, 明年4月底, 下个月初, 月底, 一月十五号, 12月中旬 (the Chinese numerals as well).
_ZH_PART = re.compile(
    r"^(?:(?P<next>明年)|(?P<year>\d{4})\s*年)?\s*(?:(?P<rel>下个?|本|这个?|呢个)?月|"
    r"(?P<month>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月)"
    # 月尾 and 呢个月: Hong Kong's month end and this month.
    r"\s*(?:(?P<day>\d{1,2}|[一二三四五六七八九十廿]{1,3})\s*[日号號]"
    r"|(?P<part>初|上旬|中旬|中|下旬|底|末|尾))?"
    r"\s*(?:之前|以前|前)?$"
)


class _NoSuchDay(ValueError):
    """A day that is read but cannot be: 2月30号, or one already gone this month or year."""


def _month_part(text: str, today: date) -> date | None:
    """A day named by its part of a month ("end of march", "三月底", "下个月初"), never past: a
    named month's day already gone is next year's; this month's or a given year's is refused."""
    from crm_core.timephrases.chinese import cn_int

    low = " ".join(to_simplified(text).lower().split())
    if low == "next month":
        # Its first day, as "下个月" (not today's day of the month next month).
        return date(today.year + today.month // 12, today.month % 12 + 1, 1)
    if m := _EN_PART.match(low):
        part = m.group("part") or m.group("part2")
        said = m.group("month") or m.group("month2") or ""
        rolls = False
        if said in ("month", "this month"):
            year, month = today.year, today.month
        elif said == "next month":
            year, month = today.year + today.month // 12, today.month % 12 + 1
        elif said in _MONTH_NAMES:
            month = _MONTH_NAMES[said]
            year = today.year if month >= today.month else today.year + 1
            rolls = True
        else:
            return None
        nth = {"mid": 15, "middle": 15, "early": 5, "beginning": 5, "start": 5}.get(part, 0)
        return _not_past(year, month, nth or _last_day(year, month), today, rolls=rolls)
    m = _ZH_PART.match(low)
    if m is None or not (m.group("month") or m.group("rel") is not None or m.group("part")):
        return None
    rolls = False
    if m.group("month"):
        month = cn_int(m.group("month"))
        if not 1 <= month <= 12:
            return None
        year = int(m.group("year")) if m.group("year") else today.year + bool(m.group("next"))
        rolls = not (m.group("year") or m.group("next"))
        if rolls and month < today.month:
            year += 1
    else:
        year, month = today.year, today.month
        if (m.group("rel") or "").startswith("下"):
            year, month = today.year + today.month // 12, today.month % 12 + 1
    part = m.group("part")
    try:
        nth = cn_int(m.group("day")) if m.group("day") else 0
    except ValueError:
        return None
    if nth > _last_day(year, month):
        raise _NoSuchDay(text)  # "2月30号": no such day, not the month's last
    if not nth and not part and (m.group("rel") or "").startswith("下"):
        nth = 1  # "下个月", like "next month": its first day
    if not nth:
        nth = {"初": 5, "上旬": 5, "中": 15, "中旬": 15}.get(part or "底", 0)
    return _not_past(year, month, nth or _last_day(year, month), today, rolls=rolls)


def _not_past(year: int, month: int, day: int, today: date, *, rolls: bool) -> date:
    """The day, or a year on when it is gone and `rolls` ("mid november" on Nov 23)."""
    found = date(year, month, day)
    if found >= today:
        return found
    if not rolls:
        raise _NoSuchDay(found.isoformat())  # "early this month" on the 23rd
    return date(year + 1, month, min(day, _last_day(year + 1, month)))


def _last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


# "by friday", "before wed", "12/18 前", "周三之前": the day itself.
_BY = re.compile(r"^(?:by|before|until|till|no\s+later\s+than)\s+|\s*(?:之前|以前|前)$", re.I)


def parse_day(text: str, tz: ZoneInfo, now: datetime, *, day_first: bool = False) -> date | None:
    """A calendar day (`2026-12-15`, `Dec 15`, `next friday`, `end of march`, `三月底`, `周三前`);
    None when it cannot be read. `day_first`: slash dates are day/month."""
    text = month_first(text.strip(), day_first)
    if _ISO_DATE.match(text):
        try:
            y, m, d = (int(p) for p in text.split("-"))
            return date(y, m, d)
        except ValueError:
            return None
    today = now.astimezone(tz).date()
    try:
        part = _month_part(text, today)
    except _NoSuchDay:
        return None  # read, but no such day to come: the caller says what to type
    except ValueError:
        part = None
    if part is not None:
        return part
    bare = _BY.sub("", text).strip()
    if not bare:
        return None
    moment = parse_when(bare, tz, now, prefer="future")
    if moment is not None:
        return moment.astimezone(tz).date()
    # The reminders' reader knows more ways to say a day ("下周五", "下下周一", "in 3 days").
    from crm_core.timephrases import read_time_phrase

    try:
        phrase = read_time_phrase(bare, now, tz)
    except (OverflowError, ValueError):
        return None
    if phrase is None or phrase.rest.strip(" ,，.。") or phrase.recurrence is not None:
        return None
    return phrase.due.astimezone(tz).date()
