"""The Chinese grammar of time phrases, read on the Simplified half-width view: "下周二10点"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from crm_core.timephrases.chinese import CN_DAY_WORDS, CN_PARTS, CN_WEEKDAYS, NUMERAL, cn_int
from crm_core.timephrases.core import (
    Bad,
    Clock,
    Day,
    Offset,
    Part,
    Recur,
    Rule,
    Value,
    const,
    guard,
    rule,
)

# A number: digits or up to three numerals ("十二", "二十五", "廿五").
_CN = rf"(?:\d{{1,4}}|{NUMERAL}{{1,3}})"
# The second letters of words that start with 整 (整理 tidy, 整合 merge, 整个 whole, ...):
# after a clock time such a 整 begins the text, it is not "o'clock sharp".
_ZHENG_WORDS = "[理合个体顿修份套批并备数齐洁治改装编]"


def _zh_offset(m: re.Match[str]) -> Value:
    """ "两小时后", "一个半小时后", "3天后", "一周后", "两个月后"."""
    n = 0.5 if m.group("n") == "半" else float(cn_int(m.group("n")))
    if m.group("half") or m.group("half2"):
        n += 0.5
    unit = m.group("u")
    if unit in ("小时", "钟头"):
        return Offset(exact=timedelta(hours=n))
    if unit in ("分钟", "分"):
        return Offset(exact=timedelta(minutes=n))
    days = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7}.get(unit)
    count = n * days if days else n
    if count != int(count) or count == 0:
        return Bad()  # 半个月, 半天: no calendar reading
    return Offset(days=int(count)) if days else Offset(months=int(count))


def _zh_weekday(m: re.Match[str]) -> Value:
    """ "周五", "下周二", "这个星期三", "下下周一"."""
    mod = (m.group("mod") or "").replace("个", "")
    weekday = CN_WEEKDAYS[m.group("wd")]
    if mod == "上":
        return Bad()  # last week: not a reminder time
    modes: dict[str, Literal["roll", "fixed", "next", "next2"]] = {
        "": "roll",
        "这": "fixed",
        "本": "fixed",
        "下": "next",
        "下下": "next2",
    }
    return Day("weekday", n=weekday, mode=modes[mod])


def _zh_clock(m: re.Match[str]) -> Value:
    """ "3点", "十点半", "8点30分", "8点一刻"."""
    hour_text = m.group("h")
    hour = cn_int(hour_text)
    minute = 0
    if m.group("half"):
        minute = 30
    elif m.group("q1"):
        minute = 15
    elif m.group("q3"):
        minute = 45
    elif m.group("amb"):
        return Bad()  # "3点5": 3:05 or 3:50? ("3点5分" and "3点05" are clear)
    elif m.group("m") or m.group("m2"):
        minute = cn_int(m.group("m") or m.group("m2"))
    if hour > 24 or minute > 59:
        return Bad()
    if hour == 24:
        return Clock(0, special="midnight") if minute == 0 else Bad()
    return Clock(hour, minute, padded=len(hour_text) == 2 and hour_text[0] == "0")


def _zh_date(m: re.Match[str]) -> Value:
    """ "12月3日", "2026年12月3号"."""
    year = int(m.group("y")) if m.group("y") else None
    return Day("date", year=year, month=cn_int(m.group("mo")), day=cn_int(m.group("d")))


def _zh_monthday(m: re.Match[str]) -> Value:
    """ "下个月1号", "本月15日", bare "15号"."""
    rel = (m.group("rel") or "").replace("个", "")
    day = cn_int(m.group("d"))
    if rel == "":
        return Day("monthday", mode="roll", day=day)
    return Day("monthday", n=1 if rel == "下月" else 0, day=day)


def _zh_monthly(m: re.Match[str]) -> Value:
    """ "每月1号", "每个月15日"."""
    day = cn_int(m.group("d"))
    return Recur("monthly", day=day) if 1 <= day <= 31 else Bad()


ZH_RULES: list[Rule] = [
    rule(
        rf"(?P<n>{_CN}|半)\s*个?\s*(?P<half>半)?\s*(?P<u>小时|钟头|分钟|分|天|日|周|星期|礼拜|月)"
        r"\s*(?P<half2>半)?\s*(?:之后|以后|过后|后)",
        guard(_zh_offset),
    ),
    # 後日 (Cantonese, and written Chinese): the day after tomorrow, 大後日 the day after it;
    # not the 后日 of 之后日程, 以后日子, 今后日常.
    rule(
        r"(?<![之以过然最今此前落先背随])(?P<big>大)?后日(?![子记志程期常益])",
        lambda m: Day("offset", n=3 if m.group("big") else 2),
    ),
    rule(
        "|".join(sorted(CN_DAY_WORDS, key=len, reverse=True)),
        lambda m: Day("offset", n=CN_DAY_WORDS[m.group(0)][0], part=CN_DAY_WORDS[m.group(0)][1]),
    ),
    rule(
        r"(?P<mod>下下个?|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])",
        guard(_zh_weekday),
    ),
    rule(r"下个?(?:周|星期|礼拜)(?![一二三四五六日天1-7])", const(Day("next_week"))),
    # 月尾: Hong Kong's month end; 呢个 is Cantonese for this.
    rule(r"(?:这个?|呢个|本)?月(?:底|末|尾)", const(Day("eom"))),
    rule(r"下个?月(?:底|末|尾)", const(Day("eom", n=1))),
    rule(r"(?:这个?|本)?(?:周|星期)末", const(Bad())),  # weekend: Saturday or Sunday?
    rule(rf"下个?月(?![底末尾\d]|{NUMERAL})", const(Day("monthday", n=1, day=1))),
    rule(
        rf"(?:(?P<y>\d{{4}})\s*年\s*)?(?<![\d月])(?P<mo>{_CN})\s*月\s*(?P<d>{_CN})\s*(?:日|号)",
        guard(_zh_date),
    ),
    rule(rf"(?P<rel>下个?月|本月|这个?月)\s*(?P<d>{_CN})\s*(?:日|号)", guard(_zh_monthday)),
    rule(
        rf"(?<![\d月])(?P<rel>)(?P<d>{_CN})\s*号(?![楼线门房机位码])",
        guard(_zh_monthday),
        lambda _m: True,
    ),
    rule(
        "|".join(CN_PARTS),
        lambda m: Part(CN_PARTS[m.group(0)]),
        lambda _m: True,
    ),
    rule(
        # 整 is "sharp" only written on (`5点整`) and not starting a word (`5点 整理`, `5点整合`).
        rf"(?<![\d.:])(?P<h>{_CN})\s*点(?:钟)?(?:整(?!{_ZHENG_WORDS})|\s*(?:(?P<half>半)|(?P<q1>一刻)"
        rf"|(?P<q3>三刻)|(?P<m>{_CN})\s*分|(?P<m2>\d{{2}}|[一二三四五]十[一二三四五六七八九]?)(?![\d分])"
        r"|(?P<amb>\d)(?![\d分])))?",
        guard(_zh_clock),
        lambda m: not m.group("h").isascii(),
    ),
    rule(
        r"(?<![\d.:])(?P<h>\d{1,2})\s*时(?P<half>)(?P<q1>)(?P<q3>)(?P<m>)(?P<m2>)(?P<amb>)",
        _zh_clock,
    ),
    rule(r"午夜", const(Clock(0, special="midnight"))),
    # Recurrences.
    rule(r"每天|每日|天天", const(Recur("daily"))),
    rule(r"每个?工作日|工作日", const(Recur("weekdays"))),
    rule(
        r"每个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])",
        lambda m: Recur("weekly", weekday=CN_WEEKDAYS[m.group("wd")]),
    ),
    rule(rf"每个?月的?\s*(?P<d>{_CN})\s*(?:号|日)", guard(_zh_monthly)),
    rule(r"每个?月的?(?:最后一天|底|末)", const(Recur("monthly", day=-1))),
    rule(r"每(?:个?(?:周|星期|礼拜|月)|年|小时|隔|两)|隔(?:周|天)", const(Bad())),
]
