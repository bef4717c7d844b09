"""Loose commands: a sentence that says what to do, read into a command of the grammar.

`interpret` turns "can you move the Acme fleet deal to won" into `move #3 to won` with the
records it resolved, or into a read to run at once, or into one question. It never writes:
the dispatcher shows a write as a confirm card whose Confirm runs the grammar command.
The rules: a question, a hypothetical or a negation before the action never becomes a
write; a record is taken only when the sentence names it by its own words (a typo or two
matches is a question with buttons); a write with a missing part is a question, not a guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from rapidfuzz import fuzz
from sqlalchemy import select

from crm_core.access import book_filter, customer_filter
from crm_core.context import Ctx
from crm_core.errors import Ambiguous, Candidate, Invalid
from crm_core.mentions import (
    Mention,
    find_contacts,
    find_customers,
    find_deals,
    find_users,
    find_users_by_sound,
    title_words_named,
    words_of,
)
from crm_core.models import (
    Contact,
    Customer,
    Deal,
    InteractionKind,
    Reminder,
    ReminderStatus,
    Role,
    User,
)
from crm_core.resolve import contact_named, user_by_chinese_name
from crm_core.services import deals as deal_svc
from crm_core.services.reminders import can_remind
from crm_core.text import char_view, name_key
from crm_core.timephrases import read_time_phrase
from crm_core.timephrases.chinese import CN_WEEKDAYS, cn_int
from crm_core.timephrases.core import last_day
from crm_core.timephrases.english import WEEKDAYS
from crm_core.when import parse_day
from handlers import format as fmt
from handlers import loose_words as w
from handlers.args import Value
from handlers.grammar import span_said, take_kind
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import OpenForm

_CLAUSE = re.compile(r"[.!?;\n。！？；]")
# The ends of a clause that may be asked: marks and separators, so a note after "log call X,"
# keeps its own question mark.
_ASKED_CLAUSE = re.compile(r"[.!?;\n。！？；,，:：]|\s[-–—]\s")
# "please" (or "kindly", "can you") and the line after it, anywhere in a paragraph.
_PLEASE_LINE = re.compile(
    r"\b(?:please|kindly|pls|plz|(?:can|could|would)\s+you(?:\s+please)?)\s+(?P<line>[a-z])"
)
# Words that close a request's clause but are no part of its line ("… for now", "… asap").
_LINE_TAIL = re.compile(
    r"(?:\s+(?:for\s+now|asap|today|please|pls|thanks|thank\s+you|when\s+you\s+can))+\s*$",
    re.IGNORECASE,
)
# A request said with "please" before its verb ("so please archive X").
_PLEASE_VERB = re.compile(r"\b(?:please|kindly|pls|plz)\s+(?:do\s+)?[a-z]{3,}")
_SEPARATOR = re.compile(r"\s*(?:[:：,，;；]|\s[-–—]\s)\s*")
# A question in a sentence of its own after a statement ("X is won. btw is Donna still CFO?",
# "签了！…要不要我先开发票？"), or a polite request after a comma ("X is won, can you mark it?"):
# it asks about something else, or asks for the write itself; the statement is not asked. A
# tag asking whether the statement holds ("right?", "对吗？") still makes it asked.
_OTHER_QUESTION = re.compile(
    r"(?:(?<=\S)(?:\.(?=\s)|[!！。])|[,，;；](?=\s*(?:can|could|would|will)\s+(?:you|u)\b))\s*"
    r"(?!\s*(?:right|correct|ok|okay|yes|no|or\s+not|is\s+that\s+(?:right|ok|correct)|"
    r"对吗|对不对|是吗|是不是|没错吧|对吧|对嘛)\s*[?？])"
    r"[^.!。！?？]*[?？][\s\W_]*$"
)
# A run of more than three blanks reads as one (a line break if it holds one): the patterns
# chain optional parts joined by \s*, and a long run makes them try every split of it
# (minutes for 2,000 spaces); no sentence means anything by its fourth space.
_BLANK_RUN = re.compile(r"\s{4,}")


# An item number of a list: "1.", "2)", "3、", "(4)", at the start or after a blank or a mark.
_LIST_MARK = re.compile(
    r"(?:^|(?<=[\s;；,，。.!！?？]))[(（]?(?P<n>[1-9])\s*(?:[.)）、:：]|(?<=[(（]\d)[)）])(?=\s|[^\d\s])"
)


def _unnumbered(view: str) -> str:
    """The view with a numbered list's item numbers ("1. ... 2. ...", "1、…；2、…") read as the
    ends of sentences: never a record's number, an amount or a day. Only a list counted from 1
    at the start of the message is one; a lone "2." is left as it is."""
    marks = list(_LIST_MARK.finditer(view))
    if not marks or view[: marks[0].start()].strip() or marks[0].group("n") != "1":
        return view
    listed = [marks[0]]
    for m in marks[1:]:
        if int(m.group("n")) == int(listed[-1].group("n")) + 1:
            listed.append(m)
    if len(listed) < 2:
        return view
    out = list(view)
    for i, m in enumerate(listed):
        out[m.start() : m.end()] = (" " if i == 0 else ";") + " " * (m.end() - m.start() - 1)
    return "".join(out)


# Zhuyin letters typed for the particles they sound like in Taiwanese chat ("簽ㄌ" 簽了,
# "婚禮ㄉ新娘" 婚禮的, "改一下ㄅ" 吧, "可以ㄇ" 嗎): read as those particles, one character for
# one, so spans still cut the text.
_ZHUYIN_PARTICLE = str.maketrans(
    {"ㄌ": "了", "ㄉ": "的", "ㄅ": "吧", "ㄇ": "吗", "ㄚ": "啊", "ㄋ": "呢"}
)
_ZHUYIN_AFTER = re.compile(r"(?<=[\u3400-\u9fff])[ㄌㄉㄅㄇㄚㄋ]+")


def _zhuyin_particles(view: str) -> str:
    """The view with Zhuyin particles after a Chinese character read as the particles."""
    return _ZHUYIN_AFTER.sub(lambda m: m.group(0).translate(_ZHUYIN_PARTICLE), view)


def _squeeze(text: str) -> str:
    """`text` with every run of more than three blanks read as one."""
    return _BLANK_RUN.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text)


_AMOUNT = re.compile(
    r"(?<![a-z0-9_.#%])(?P<pre>nt\$|hk\$|us\$|a\$|s\$|c\$|[$€£¥])?\s?(?P<num>\d[\d,]*(?:\.\d+)?)"
    # "w" is 万 as Chinese chat types it ("3.5w"), read only in a Chinese sentence.
    # "350jt": Indonesian juta (a million).
    r"\s?(?P<mult>million|mil|thousand|grand|juta|jt|lakhs?|lacs?|crores?|k|m|mm|w|万|千)?"
    # 3万5 (35,000), 1千2 (1,200): one digit after 万 / 千 is its tenth.
    # "3万5月底签": the 5 is a day's, not the tenth.
    r"(?:(?<=[万千])(?P<tail>\d)(?![\d月日号点个年%]))?"
    r"(?![a-z0-9%])"
    r"\s?(?P<cur>usd|eur|gbp|cny|rmb|jpy|sgd|sek|aud|cad|hkd|twd|ntd|nzd|元|块|蚊|美元|美金|欧元|欧|英镑|"
    r"新币|新加坡元|瑞典克朗|澳门币|澳门元|澳元|澳币|港币|港元|港纸|新台币|台币|日元|加元|加币|人民币|纽币|"
    r"比索|披索|mop|php|pesos?|dollars|bucks|euros)?"
)
_CURRENCY = {
    "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY", "usd": "USD", "eur": "EUR", "gbp": "GBP",
    "cny": "CNY", "rmb": "CNY", "jpy": "JPY", "元": "CNY", "块": "CNY", "蚊": "HKD", "美元": "USD",
    "欧元": "EUR", "英镑": "GBP", "美金": "USD", "dollars": "USD", "bucks": "USD", "euros": "EUR",
    "sgd": "SGD", "sek": "SEK", "aud": "AUD", "cad": "CAD", "hkd": "HKD", "欧": "EUR",
    "新币": "SGD", "新加坡元": "SGD", "瑞典克朗": "SEK", "澳元": "AUD", "港币": "HKD",
    "twd": "TWD", "ntd": "TWD", "nzd": "NZD", "澳币": "AUD", "港元": "HKD", "新台币": "TWD",
    "台币": "TWD", "日元": "JPY", "加元": "CAD", "加币": "CAD", "人民币": "CNY", "纽币": "NZD",
    "nt$": "TWD", "hk$": "HKD", "us$": "USD", "a$": "AUD", "s$": "SGD", "c$": "CAD",
    "澳门币": "MOP", "澳门元": "MOP", "mop": "MOP", "港纸": "HKD", "比索": "PHP", "披索": "PHP",
    "php": "PHP", "peso": "PHP", "pesos": "PHP",
}  # fmt: skip
_MULT = {
    "k": 1000, "m": 1_000_000, "mm": 1_000_000, "万": 10_000, "千": 1000, "million": 1_000_000,
    "mil": 1_000_000, "thousand": 1000, "grand": 1000, "w": 10_000, "juta": 1_000_000,
    "jt": 1_000_000, "lakh": 100_000, "lakhs": 100_000, "lac": 100_000, "lacs": 100_000,
    "crore": 10_000_000, "crores": 10_000_000,
}  # fmt: skip
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}  # fmt: skip
# 八十万, 两万五 (25,000), 一万二美金, 十二万欧元: Chinese numerals before 万 / 千 / 亿. 千万 alone
# before 要 / 别 / 不 / 记得 is the adverb "be sure to" ("千万要在月底前报价"), no number.
_ZH_UNITS = (
    "美金|美元|欧元|欧|英镑|日元|港币|港元|港纸|新币|新加坡元|瑞典克朗|澳门币|澳门元|澳元|澳币|加元|加币|"
    "新台币|台币|人民币|比索|披索|元|块|蚊"
)
_ZH_AMOUNT = re.compile(
    r"(?<![零〇一二两三四五六七八九十百千])(?!千[万萬](?:要|别|別|不|记|記|得|注意|小心|莫|勿|务必|務必))"
    r"(?P<num>半百|[零〇一二两三四五六七八九十百千]+)(?P<mult>亿|万|千)(?P<tail>[一二三四五六七八九](?![十百千万]))?"
    rf"\s?(?P<cur>{_ZH_UNITS})?"
)
# 三千五百元: hundreds (and tens) said after 千, the whole numeral the amount (not 三千).
_ZH_THOUSANDS = re.compile(
    rf"(?P<n>[零〇一二两三四五六七八九十百千]+)(?![万亿])\s?(?P<cur>{_ZH_UNITS})?"
)
_ZH_CURRENCY = {"美金": "USD", "美元": "USD", "欧元": "EUR", "欧": "EUR", "英镑": "GBP",
                "日元": "JPY", "港币": "HKD", "港元": "HKD", "新币": "SGD", "新加坡元": "SGD",
                "瑞典克朗": "SEK", "澳元": "AUD", "澳币": "AUD", "加元": "CAD", "人民币": "CNY",
                "加币": "CAD", "新台币": "TWD", "台币": "TWD", "澳门币": "MOP", "澳门元": "MOP",
                "港纸": "HKD", "比索": "PHP", "披索": "PHP",
                "元": "CNY", "块": "CNY", "蚊": "HKD"}  # fmt: skip
# 12月31号, 明年1月15号, 1 月 20 日, 明年4月底, 三月底, 明年三月 (a month alone: its end).
_ZH_DAY = re.compile(
    # Not the last digit of an amount ("四万五 月尾" is 45,000 and the month's end, not May).
    r"(?:(?P<next>明年)|(?P<year>\d{4})\s*年)?\s*(?<![万千百])"
    r"(?P<month>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月"
    # The day's 日 / 号 may be left off at the end of a clause ("截止日期改到一月十五").
    r"\s*(?:(?P<day>\d{1,2}|[一二三四五六七八九十廿]{1,3})\s*(?:[日号號]|(?=\s*(?:[,，。.!！;；~]|"
    r"啦|吧|了|喇|嘞|$|\s)))|(?P<part>初|上旬|中旬|中|下旬|底|末|尾))?"
)
# The end of this or next month with no month named, standing alone as the close: "月底",
# "月尾" (Cantonese), "下个月底"; not inside other words ("千万要在月底前报价" is no close).
_ZH_MONTH_END = re.compile(
    r"(?:^|(?<=[\s,，;；:：、]))(?P<rel>下下个?|下个?|这个?|本|今个?)?月(?:底|尾|末)"
    r"(?=\s|[,，。.!！;；]|$)"
)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}  # fmt: skip
_PART_OF_MONTH = re.compile(
    r"\b(?P<part>mid|middle\s+of|early|beginning\s+of|start\s+of|late|end\s+of)[\s-]+"
    r"(?P<month>[a-z]+)\b|(?P<zm>\d{1,2})月(?P<zp>初|中|中旬|底|末|下旬|上旬)"
)
_CLOSE_CUE = re.compile(
    r"\b(?:closing|close|closes|to\s+close|expected\s+to\s+close|by|due|in)\s+"
    r"(?:on\s+|by\s+|in\s+|to\s+|until\s+|till\s+|(?:->|→|=>)\s*)?"
    r"|预计|成交于|截止"
)
_YESTERDAY = re.compile(
    r"\b(?:the\s+day\s+before\s+yesterday|yesterday)(?:\s+(?:at\s+)?\d{1,2}(?::\d\d)?\s*(?:am|pm))?"
    r"(?:\s+(?:morning|afternoon|evening))?\b|昨天(?:上午|下午|晚上)?|前天"
    # Cantonese 琴日 / 寻日, Taglish "kahapon", chat's "yday", "last night": yesterday
    # (written as the grammar reads it).
    r"|琴日|寻日|\bkahapon\b|\by'?day\b|\blast\s+night\b"
    # Teochew and Hokkien 昨日 / 昨昏, romanised Cantonese "kam yat" (琴日); not Swahili "jana",
    # which is also a given name.
    r"|昨日|昨昏|\bkam\s?yat\b"
)
# A verb of the call, visit or meeting itself, next to which a day dates it.
_LOG_VERB_NEAR = re.compile(
    r"\b(?:call(?:ed)?|rang|phoned|spoke|spoken|talked|met|meeting|visit(?:ed)?|e-?mail(?:ed)?|"
    r"messaged|texted|chatted|saw|caught\s+up|dropped\s+by|popped\s+in(?:to)?)\b"
    r"|电话|電話|拜访|拜訪|见了|見了|见面|見面|聊了|开会|開會|去了|微信|邮件|郵件|打畀|打俾|倾咗|傾咗"
)


# A write held off after a story ("咪住move住", "先别推进", "don't move it yet").
_LOG_THEN_HOLD = re.compile(
    r"(?:咪住|先别|先不要|暂时不要|暂时别|唔好住?)\s*(?:move|推进|推|改|动|郁|移)"
    r"|\b(?:don'?t|dont|do\s+not)\s+(?:move|push|mark|close)\s+(?:it|that|this|them)\s+(?:yet|for\s+now)\b"
)
# The book's own records spoken of: a record by its number, "these two records", duplicates.
_ABOUT_THE_BOOK = re.compile(
    r"#\s*\d|(?:两|几|2)\s*(?:条|个|個)\s*(?:记录|客户记录|条目)|重复(?:的)?(?:记录|客户)"
    r"|\b(?:two|both|these|those|the)\s+(?:duplicate\s+)?(?:records|entries)\b"
    r"|\bduplicate\s+(?:records?|entries|customers?)\b"
)
_NOTE_APART = re.compile(r"(?:[,，:：;；.。!！]|\s[-–—])\s*$")


def _dates_the_log(r: _Reading, when: re.Match[str], body: str) -> bool:
    """Whether a "yesterday" / "last night" dates the log: said before the note's words, at
    their start or at the message's end (a time adverbial), or next to the verb of the call;
    not one inside what was told ("the storm last night damaged two of their panels")."""
    at = r.text.find(body) if body and body in r.text else -1
    if at < 0 or when.start() < at + 2 or not _NOTE_APART.search(r.view, 0, at):
        # No mark between the call and the note ("log call lakeshore general with doctor amy
        # bishop yesterday she wants ..."): the day cannot be told from the call's; it dates it.
        return True
    if not r.view[when.end() :].strip(" \t\n.!。！~"):
        return True
    near = r.view[max(0, when.start() - 16) : when.end() + 16]
    return bool(_LOG_VERB_NEAR.search(near))


# A weekday a log may be dated by: "on Thursday", "last thu", "this past friday", 上周四, 周四,
# 禮拜四 (the view is Simplified: 礼拜四); "next", "every", "by" and 下周 days are plans, not dates.
_WEEKDAY_SAID = re.compile(
    r"(?<![\w])(?:(?P<rel>last|this\s+past|this|past)\s+)?(?:on\s+)?"
    r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|(?<![\w])(?:(?P<rel2>last|this\s+past|this|past)\s+|on\s+)"
    r"(?P<short>mon|tues?|weds?|thu(?:rs?)?|fri|sat|sun)\b"
    r"|(?<![每下])(?P<zrel>上个?|这个?|本)?(?:周|星期|礼拜)(?P<zday>[一二三四五六日天])"
)
_WEEKDAY_PLAN = re.compile(
    r"\b(?:next|coming|every|each|by|until|till|before|from|following)\s+(?:on\s+)?$|下个?$|每个?$"
)


_LEADING_DAY = re.compile(
    r"\s*(?P<day>\d{1,2}[./-]\d{1,2})(?![./-]?\d)\s*(?:[-–—:：,，]\s*)?(?=\S)"
)


def _leading_day(ctx: Ctx, r: _Reading) -> date | None:
    """The day a message opens with ("04/12 went for a visit", "03.12 - called X"), read in
    the person's date order, when it is a past day of the last month (today adds no date)."""
    m = _LEADING_DAY.match(r.view)
    if m is None:
        return None
    a, b = (int(x) for x in re.split(r"[./-]", m.group("day")))
    today = ctx.now().astimezone(ctx.tz).date()
    # The person's own date order first; a diary's day is recent, so the other order is read
    # when only it gives a day of the last month ("04/12" on 5 December is the 4th).
    orders = ((a, b), (b, a)) if ctx.day_first else ((b, a), (a, b))
    for d, mo in orders:
        try:
            day = date(today.year, mo, d)
            if day > today:
                day = date(today.year - 1, mo, d)  # "28/12" said in January: last year's
        except ValueError:
            continue
        if day == today:
            return None  # today's date adds none
        if timedelta(days=1) <= today - day <= timedelta(days=31):
            return day
    return None


def _past_weekday(ctx: Ctx, r: _Reading, m: re.Match[str]) -> date | None:
    """The day a weekday phrase names in the past, in the sender's zone: last week's for 上周X,
    this week's for "this X"/这周X (None when it is still to come), else the latest such day
    before today."""
    if _WEEKDAY_PLAN.search(r.view[max(0, m.start() - 12) : m.start()]):
        return None
    word = m.group("day") or m.group("short")
    if word is not None:
        day = WEEKDAYS[word]
        # "last thursday" is the latest one before today, as "on thursday" is.
        rel = "this" if (m.group("rel") or m.group("rel2")) == "this" else ""
    else:
        day = CN_WEEKDAYS[m.group("zday")]
        rel = {"上": "last week", "这": "this", "本": "this"}.get((m.group("zrel") or " ")[0], "")
    today = ctx.now().astimezone(ctx.tz).date()
    monday = today - timedelta(days=today.weekday())
    if rel == "last week":
        return monday - timedelta(days=7 - day)
    if rel == "this":
        this_week = monday + timedelta(days=day)
        return this_week if this_week <= today else None
    back = (today.weekday() - day) % 7 or 7
    return today - timedelta(days=back)


def _weekday_dates_the_log(r: _Reading, m: re.Match[str], start: int, body: str) -> bool:
    """Whether a weekday dates the log: said before the note's words ("visited Acme on
    Thursday, they want a demo"), not inside what was told ("they want a demo on Thursday")."""
    at = r.text.find(body, start) if body else -1
    return at >= 0 and m.end() <= at


_YESTERDAY_SAID = {
    "琴日": "昨天", "寻日": "昨天", "kahapon": "yesterday", "yday": "yesterday",
    "y'day": "yesterday", "last night": "yesterday", "昨日": "昨天", "昨昏": "昨天",
    "kam yat": "yesterday", "kamyat": "yesterday",
}  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# An amount told of the past ("the amount was 42k", "原来是30万"): nothing to set.
_WAS_AMOUNT = re.compile(
    r"\b(?:was|were|used\s+to\s+be|had\s+been)\s*(?:~|about|around|roughly)?\s*$"
    r"|(?:原来|之前|以前|本来|去年)(?:是|为)?\s*$"
)
# An address dictated after the word e-mail: "email nadia dot haddad at acme dot example".
_SPOKEN_EMAIL = re.compile(
    r"\be-?mail\s+(?:is\s+|address\s+(?:is\s+)?)?(?P<local>[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*)"
    r"\s+at\s+(?P<domain>[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)+)\b"
)
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_CALLED = re.compile(
    r"\b(?:called|named)\s+(?P<name>.+?)(?=\s*(?:,|，|\bin\b|\bbased\b|\bfrom\b|$))"
    r"|(?:叫|名叫|名为)(?P<zh>[^,，。\s]+)"
)
_IN_CITY = re.compile(
    r"\b(?:in|based\s+in|from|located\s+in)\s+(?P<city>[A-Za-z][\w .'-]+?)\s*(?:[,.!]|$)"
)
_DEAL_WORD = re.compile(
    r"\bdeal\b|\bopp(?:ortunity)?\b|商机|项目|单子|案子|那张单|这张单|那个单|这单|那单"
)
_NOISE = re.compile(
    r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]|:\)|:-\)|;\)|:\(|:-\(|:d\b|\bxd\b"
)


def writes(verb: Verb, args: str) -> bool:
    """Whether `verb` with these arguments changes anything: `forecast` only with a deal
    (`forecast #12 commit`), `digest` only with a setting (`digest off`)."""
    if verb.name == "forecast":
        return "#" in args
    if verb.name == "digest":
        return bool(args.strip())
    return verb.writes


@dataclass
class Proposal:
    """A grammar command read from a sentence, with what its records are, in words."""

    verb: Verb
    values: dict[str, Value]
    # (argument name, what it is) for the card: "#3 Fleet tracking upgrade (Acme Logistics)".
    shown: list[tuple[str, str]] = field(default_factory=list)
    # The verb's form filled with these values, for the card's Edit button.
    form: OpenForm | None = None
    # A grammar line found as typed (inside courtesy), used as it is.
    line: str | None = None

    @property
    def command(self) -> str:
        """The grammar line that runs it."""
        return self.line if self.line is not None else self.verb.line(self.values)

    @property
    def writes(self) -> bool:
        """Whether running it changes anything (`forecast` and `digest` alone only show)."""
        # The arguments as the line writes them: `forecast #12 commit` writes, `forecast` reads.
        return writes(self.verb, self.command[len(self.verb.name) :])


@dataclass
class Unsure:
    """No command: a message saying why, and the verbs whose help may help."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    verbs: tuple[str, ...] = ()


Outcome = Proposal | Unsure


@dataclass
class _Reading:
    """The message and its view, with what kind of sentence it is."""

    text: str
    view: str
    body: int  # where the request starts, after greetings and courtesy
    polite: bool
    question: bool
    hypothetical: bool
    note_at: int  # where an explicit log's note starts ("log call X: ..."), else the end

    @classmethod
    def of(cls, text: str) -> _Reading:
        view = char_view(text)
        # Emoji and smileys are read as spaces: same length, so spans still cut the text.
        view = _NOISE.sub(lambda m: " " * len(m.group(0)), view)
        view = _unnumbered(view)
        view = _zhuyin_particles(view)
        lead = w.LEAD_FILLER.match(view)
        body = lead.end() if lead else 0
        for remark in (w.DECLINED, w.DONE_REPORT):
            done = remark.search(view, body)
            request = w.REQUEST_AFTER.search(view, done.end()) if done else None
            if request is not None:
                # "I already logged the call, remind me fri to ...": the request after the remark.
                body = request.start("req")
        polite = bool(
            w.POLITE.search(view[: max(body, 1) + 12])
            # "…转畀佳慧跟，可以吗？": a request with "is that OK?" after it.
            or w.TAG_REQUEST.search(view)
        )
        # What was done, then what was said: "log visit Rainier, Paul says they may re-tender?"
        # has its maybe and its question mark in the note, not in the request.
        said_at = note_at = len(view)
        sep = _SEPARATOR.search(view, body)
        if sep is not None and (
            w.LOG_CUE.match(view, body)
            or any(p.search(view, body, sep.start()) for p, _ in w.LOG_EVENT)
        ):
            said_at = sep.start()
        if sep is not None and w.LOG_CUE.match(view, body):
            note_at = sep.start()
        head = view[:said_at]
        other = _OTHER_QUESTION.search(head, body)
        if other is not None and view[body : other.start()].strip():
            head = view[: other.start()]
        question = bool(
            w.QUESTION_START.match(view[body:])
            or w.QUESTION_END.search(head)
            or w.WHO_ASKED.search(head, body)
        )
        hyp = w.HYPOTHETICAL.search(head)
        if hyp is not None:
            # "…, so please archive X for now; we can bring it back if they return": a "please"
            # request, then a supposition in a later sentence about what may come after it.
            req = _PLEASE_VERB.search(view, body, hyp.start())
            if (
                req is not None
                and not w.HYPOTHETICAL.search(view, body, req.start())
                and _CLAUSE.search(view, req.end(), hyp.start())
            ):
                hyp = None
        hypothetical = hyp is not None
        return cls(text, view, body, polite, question, hypothetical, note_at)

    @property
    def no_write(self) -> bool:
        """A question (not a request in question form), a hypothetical or a write said to be done
        already or not wanted: never a write."""
        return (
            self.hypothetical
            or (self.question and not self.polite)
            or bool(w.DECLINED.search(self.view, self.body))
            or bool(w.ASKS_NOTHING.search(self.view, self.body, self.note_at))
            or bool(w.DONE_REPORT.search(self.view, self.body))
        )

    def negated_before(self, at: int) -> bool:
        """Whether a negation or someone else's words come before `at` in its clause
        ("don't move acme yet", "Carol said she'd move the Falcon deal")."""
        start = max((m.end() for m in _CLAUSE.finditer(self.view, 0, at)), default=0)
        # A request after a comma starts its own clause ("Carol said it's gone, so move ...").
        start = max(
            (
                m.start("req")
                for m in w.REQUEST_AFTER.finditer(self.view, start, at + 40)
                if m.start("req") <= at
            ),
            default=start,
        )
        return bool(
            w.NEGATION.search(self.view, start, at) or w.REPORTED.search(self.view, start, at)
        )

    def asked_at(self, at: int) -> bool:
        """Whether the clause holding `at` is a question ("unarchive 晴光 要 admin 嗎？我只是問問",
        "摘要週末也會寄嗎？還是只有平日"): asked, even with more said after it."""
        if self.polite:
            return False
        end = _ASKED_CLAUSE.search(self.view, at)
        if end is None:
            return False
        # "...也會寄嗎，還是只有平日": a question particle ends the clause, no mark needed.
        return end.group(0) in ("?", "？") or bool(
            re.search(r"(?:吗|嗎|么|麼)\s*$", self.view[at : end.start()])
        )

    def cut(self, start: int, end: int | None = None) -> str:
        """The original text between two view positions."""
        return self.text[start:end].strip()


# "华东物流 不给 alice 接手", "没转给 carol": a bare 不/没/别 right before the handing verb
# (NEGATION holds only its longer forms, since a bare 不 is part of too many other words).
_NEGATED_VERB = re.compile(r"(?:不|没|别)(?:要|有|能|想)?\s*(?:把\S*\s*)?$")


# 林总, 陈生, 王经理: a Chinese title after a surname (the search takes the surname).
_ZH_TITLE_END = re.compile(r"(?:总|经理|工|老师|主任|董|先生|女士|小姐|生|太)$")


class _SharedName(Ambiguous):
    """Several visible customers share the exact words typed (not a typo of either)."""


class Desk(Protocol):
    """The readings kept in handlers.loose_desk (tickets, reminders by their words, contacts,
    archived customers, settings); handed in so that module may build on this one."""

    @property
    def writes(self) -> tuple[Callable[[Ctx, _Reading], Outcome | str | None], ...]: ...

    def tickets(self, ctx: Ctx, r: _Reading) -> Outcome | None: ...


class Interpreter:
    """Reads loose sentences for one registry (the verbs they become)."""

    def __init__(self, registry: Registry, desk: Callable[[Interpreter], Desk]) -> None:
        self.registry = registry
        # Tickets, reminders named by their words, contacts, archived customers, settings.
        self.desk = desk(self)

    def verb(self, name: str) -> Verb:
        """A declared verb (the interpreter only proposes declared ones)."""
        found = self.registry.get(name)
        if found is None:
            raise LookupError(name)
        return found

    def courteous(self, text: str) -> str | None:
        """The grammar line inside courtesy ("can you archive Acme please?" -> `archive Acme`),
        or None when there is no such line."""
        lines = self.courteous_lines(text)
        return lines[0] if lines else None

    def courteous_lines(self, text: str) -> list[str]:
        """The grammar lines courtesy may hold, the likeliest first: the whole request, then
        the line before a reason said after it ("please archive X, the campus is closing"),
        for the caller to try in turn (a name may hold a comma)."""
        text = _squeeze(text)
        r = _Reading.of(text)
        first = self._courteous(text, r)
        lines = [first] if first is not None else []
        why = w.WHY_AFTER.search(r.view, r.body)
        if first is not None and why is not None and first == r.cut(r.body, len(r.view)):
            head = r.cut(r.body, why.start())
            found = self.registry.match(head)
            if (
                found is not None
                and found[0].name in _ONE_RECORD
                and found[1].strip()
                and not w.NEGATION.search(r.view, why.end())
                and head not in lines
            ):
                lines.append(head)
        if not lines and not r.no_write and not w.LEAD_NEGATION.match(r.view, r.body):
            # A request inside a paragraph ("Dear all, … so please archive X for now; we can
            # bring it back if they return. Thank you …"): the line after "please" to the end
            # of its clause, for the one-record verbs only.
            for asked in _PLEASE_LINE.finditer(r.view, r.body):
                end = _CLAUSE.search(r.view, asked.start("line"))
                head = r.cut(asked.start("line"), end.start() if end else None)
                head = _LINE_TAIL.sub("", head)
                found = self.registry.match(head)
                if (
                    found is not None
                    and found[0].name in _ONE_RECORD
                    and found[1].strip()
                    and not r.negated_before(asked.start("line"))
                    and head not in lines
                ):
                    lines.append(head)
        return lines

    def _courteous(self, text: str, r: _Reading) -> str | None:
        """The likeliest grammar line inside courtesy, or None."""
        trail = w.TRAIL_FILLER.search(r.view, r.body)
        end = trail.start() if trail else len(r.view)
        line = r.cut(r.body, end)
        if not line or (r.no_write and not r.polite) or w.LEAD_NEGATION.match(r.view, r.body):
            return None
        if line != text.strip() and self.registry.match(line) is not None:
            return line
        zh = w.ZH_ARCHIVE.search(r.view, r.body) or w.ZH_ARCHIVE_BARE.match(r.view, r.body)
        if (
            zh is not None
            and zh.group(0).rstrip(" !！。.").endswith("了")
            and w.ZH_DONE_BEFORE.search(r.view, r.body, zh.start())
        ):
            # "上周已经把华东物流归档了": a report of what was done, not a request.
            return None
        if zh is not None:
            # "麻烦把 Rossi Fuels 归档": the verb after its customer.
            verb = (
                "unarchive"
                if zh.group("verb") in ("取消归档", "恢复归档", "重新启用", "恢复")
                else "archive"
            )
            return f"{verb} {r.cut(zh.start('name'), zh.end('name'))}"
        why = w.WHY_AFTER.search(r.view, r.body)
        if why is not None:
            # A one-record verb's line, then why ("unarchive highland pharma, bob archived it by
            # mistake", "undo edit #345, wrong customer"): the line alone.
            head = r.cut(r.body, why.start())
            found = self.registry.match(head)
            if (
                found is not None
                and found[0].name in _ONE_RECORD
                and found[1].strip()
                and not w.NEGATION.search(r.view, why.end())
            ):
                return head
        return None

    def interpret(self, ctx: Ctx, text: str, *, reads: bool = True) -> Outcome | None:
        """The command `text` means, a read to run, or why not (never a write done here).

        With `reads=False`, None when no write is seen (the caller tries other readings
        before the reads: a grammar line inside courtesy, "please archive Acme").
        """
        r = _Reading.of(_squeeze(text))
        if w.CHIT_CHAT.match(r.view) or not r.view[r.body :].strip():
            return Unsure("loose.chat", verbs=("help",))
        if w.TO_COLLEAGUE.match(r.view) or _named_colleague_first(ctx, r):
            return Unsure("loose.for_colleague", verbs=("help",))
        noted = w.NOTED_DEED.match(r.view, r.body)
        if noted is not None and any(
            u.exact and u.id != ctx.actor.id for u in find_users(ctx, noted.group("who"))
        ):
            return Unsure("loose.no_write", {"verb": "help"}, ("help",))
        if (queue := self.desk.tickets(ctx, r)) is not None:
            return queue
        if w.PASTED_THEN_WAIT.search(r.view, r.body):
            # A customer's pasted words, then "let's wait": nothing is asked of the bot yet.
            return Unsure("loose.no_write", {"verb": _closest(r)[0]}, _closest(r))
        if (
            r.question
            and not r.hypothetical
            and (w.READ_QUESTION.search(r.view, r.body) or w.REMINDERS_ASKED.search(r.view, r.body))
            and not w.LEAD_NEGATION.match(r.view, r.body)
        ):
            # "who logged the most activity?", "why did we lose X?": asked about, a read.
            read = self._read(ctx, r)
            if read is not None:
                return read
        if (
            w.WRITE_WORDS.search(r.view)
            and (r.no_write or w.LEAD_NEGATION.match(r.view, r.body))
            and not w.DONT_FORGET.search(r.view)
        ):
            # A write asked about, supposed or refused: nothing is done, not even a read
            # ("don't move acme yet" is not a request to see Acme).
            return Unsure("loose.no_write", {"verb": _closest(r)[0]}, _closest(r))
        held = w.HOLD.search(r.view, r.body) or w.KEEP.search(r.view, r.body, r.note_at)
        # "move X to won. keep the old close date though": a later clause keeps another field;
        # the write stands unless it changes that very field ("keep it as is" keeps all).
        kept = _kept_apart(r, held) if held is not None else None
        if w.LEAD_NEGATION.match(r.view, r.body) or (held is not None and kept is None):
            return Unsure("loose.no_write", {"verb": "help"}, ("help",))
        if r.hypothetical:
            return Unsure("loose.no_write", {"verb": _closest(r)[0]}, _closest(r))
        if r.no_write:
            # A question with no write in it may be a read ("马超电话多少", "Acme's pipeline?").
            return self._read(ctx, r) or Unsure("loose.unsure", verbs=_closest(r))
        for reader in (
            *self.desk.writes,
            self._reminder_first,
            self._remind,
            self._snooze,
            self._cancel_reminder,
            self._digest,
            self._done,
            self._reminder_by_number,
            self._edit_contact,
            self._delete_deal,
            self._quota,
            self._link_code,
            self._deal_owner,
            self._reassign,
            self._new_deal,
            self._new_customer,
            self._contact_add,
            self._forecast_category,
            self._forecast_clause,
            self._edit_deal,
            self._move,
            self._tag,
            self._edit_customer,
            self._log,
        ):
            found = reader(ctx, r)
            if found is None:
                continue
            if isinstance(found, str):
                # A write asked about, supposed or negated: nothing is done, not even a read
                # ("don't move acme yet" is not a request to see Acme).
                return Unsure("loose.no_write", {"verb": found}, (found,))
            if isinstance(found, Proposal) and _verb_refused(r, found.verb.name):
                # "X is basically won but dont move it till the PO comes": that very write.
                return Unsure("loose.no_write", {"verb": found.verb.name}, (found.verb.name,))
            if kept and isinstance(found, Proposal) and kept & _changed_fields(found):
                # "change Dana's phone to ..., keep the old number": the kept field is the one
                # the write changes: nothing is asked after all.
                return Unsure("loose.no_write", {"verb": found.verb.name}, (found.verb.name,))
            return found
        if not reads:
            return None
        read = self._read(ctx, r)
        if read is not None:
            return read
        return Unsure("loose.unsure", verbs=_closest(r))

    # -- what each write looks like ------------------------------------------------------------

    def _refused(self, r: _Reading, at: int) -> bool:
        # A write's words inside quotation marks are words mentioned ("the docs say 'contact
        # add'", a customer's “请把…改到…” pasted), not asked for.
        return r.no_write or r.negated_before(at) or r.asked_at(at) or _quoted(r, at)

    def _move(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        found = _stage_cue(r)
        if found is None:
            return None
        stage_word, at, stage_span, bare = found
        if w.SHOW_FIRST.match(r.view, r.body) and not (
            w.THEN_WRITE.search(r.view, r.body, stage_span[0])
            and re.match(r"\s*(?:look\s+up|find\s+me)\b", r.view[r.body :])
        ):
            # "show me the old deal at swan river, the one they signed last year": a read;
            # "look up initech and move the rollout to negotiation" asks for the move too.
            return None
        stage_name = w.STAGE_WORDS.get(stage_word, stage_word)
        stage = ctx.pipeline.get(stage_name)
        if stage is None:
            return None
        ready = re.match(r"\s*了", r.view[stage_span[1] :]) and re.search(
            r"可以\s*$", r.view[: stage_span[0]]
        )
        if not _moved_by_verb(r) and (
            # "可以 qualified 了": ready for it now, not a plan.
            (
                not ready
                and w.FUTURE_BEFORE.search(r.view[max(r.body, stage_span[0] - 6) : stage_span[0]])
            )
            or any(p.search(r.view, r.body, stage_span[0]) for p, _ in w.LOG_EVENT)
        ):
            # "林杰说车队系统下周签约", "met Dana, they signed": an outcome told inside a note
            # or planned for later is the note's, not a move.
            return None
        implied = _implied(r, stage_span)
        if implied and _implied_doubted(r, stage_span, stage.lost):
            return None
        clause = max(
            (m.end() for m in _IMPLIED_CLAUSE.finditer(r.view, r.body, stage_span[0])),
            default=r.body,
        )
        if not _moved_by_verb(r) and w.STAGE_HEDGE.search(r.view, clause, stage_span[0]):
            # "X is basically won", "X 应该快赢单了": a guess or an "almost", not a move.
            return None if implied else "move"
        if w.MOVED_BACK.search(r.view, stage_span[1]):
            return None
        if (
            (not _moved_by_verb(r) and w.LONG_SINCE.search(r.view, r.body))
            # "早就推到方案了": moved long since; "下周推到谈判": to move later.
            or w.LONG_SINCE.search(r.view, max(r.body, at - 8), at + 1)
            or w.LATER_BEFORE.search(r.view, max(r.body, at - 6), at)
        ):
            # A remark or a plan: nothing is done, not even a read of the customer.
            return None if implied else "move"
        if w.MOVE_CONDITION.search(r.view, r.body) or (
            not stage.lost and w.MOVE_UNTIL.search(r.view, r.body)
        ):
            return None if implied else "move"
        if w.LATER_AFTER.search(r.view, stage_span[1]) or w.LONG_SINCE.search(
            r.view, stage_span[1]
        ):
            # "move it to negotiation tomorrow", "... after the call next week", "moved to
            # negotiation a while back": a plan or a remark, not a move to make now.
            return None if implied else "move"
        if (done_by := _DONE_BY.search(r.view, r.body, stage_span[0])) is not None and any(
            u.exact for u in find_users(ctx, done_by.group(1))
        ):
            return None if implied else "move"  # "carol moved X to negotiation": her doing
        if self._refused(r, at):
            # A stage only implied ("Karen says the budget is approved") refuses nothing: the
            # sentence may still be a note.
            return None if _implied(r, stage_span) else "move"
        # The deal is named before the stage ("move X to won") or after it ("we won X"),
        # never in the lost reason.
        end = len(r.view)
        if stage.lost and (why := w.LOST_REASON.search(r.view, stage_span[1])) is not None:
            end = why.start()
        open_names = [s.name for s in ctx.pipeline.open_stages]
        if bare:
            # A bare outcome word is a move only with a deal's own title words around it.
            before = stage_span[0] > r.body + 1
            within = (r.body, stage_span[0]) if before else (stage_span[1], end)
            named = self._customer(ctx, r, required=False, within=within)
            if not isinstance(named, Customer) or not find_deals(
                ctx, r.text[within[0] : within[1]], customer_id=named.id, open_stages=open_names
            ):
                return None
            end = within[1]
        customer = self._customer(ctx, r, required=False, within=(r.body, end))
        if isinstance(customer, Unsure):
            return customer
        if customer is None and not bare:
            # "高明说除虫合约可以签了，先推到谈判": no customer named, but one of its people and
            # one of its deals by title; the person alone (no title) moves nothing.
            via = self._customer(ctx, r, required=False, within=(r.body, end), contacts=True)
            said = r.text[r.body : end]
            if isinstance(via, Customer) and find_deals(
                ctx, said, customer_id=via.id, open_stages=open_names
            ):
                customer = via
        deal = self._deal(ctx, r, customer, open_names, within=(r.body, end))
        if isinstance(deal, Unsure):
            return deal
        if deal is None:
            return Unsure("loose.which_deal", {"stage": stage.name}, ("move", "deals"))
        current = ctx.pipeline.get(deal.stage)
        if (
            implied
            and current is not None
            and deal.stage != stage.name
            and (current.closed or (not stage.closed and current.order >= stage.order))
        ):
            # "quote went out months ago, they're haggling now" of a deal in negotiation: told
            # of the past, never a move back (or out of a closed stage) on implied words.
            return None
        t = Translator(ctx.actor.locale)
        if deal.stage == stage.name:
            return Unsure(
                "loose.already_there",
                {"deal": _deal_label(deal), "stage": fmt.stage(t, stage.name)},
            )
        values: dict[str, Value] = {"deal": deal.id, "stage": stage.name}
        if stage.lost:
            m = w.LOST_REASON.search(r.view, stage_span[1])
            reason = r.cut(m.start("reason"), m.end("reason")).strip(" ,，:：") if m else ""
            if not reason:
                reason = _after_outcome(r, stage_span[1], deal)
            if not reason and implied and _WENT_ELSEWHERE.search(r.view, *stage_span):
                # "客户改用别家了", "fechou com concorrente": the words that lose it are its
                # reason.
                reason = r.cut(*stage_span).strip(" ,，.。!！")
            if not reason:
                return Unsure(
                    "loose.lost_reason",
                    {"command": f"move #{deal.id} to {stage.name}: "},
                    ("move",),
                )
            values["reason"] = reason
        shown = [
            ("deal", _deal_label(deal)),
            ("stage", f"{fmt.stage(t, deal.stage)} → {fmt.stage(t, stage.name)}"),
        ]
        if "reason" in values:
            shown.append(("reason", str(values["reason"])))
        return Proposal(self.verb("move"), values, shown)

    def _forecast_category(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A deal put in a forecast category ("put the X renewal into commit for the forecast",
        "X 预测放 best case", "请把 X 放到 best case"): `forecast #12 commit`."""
        view = r.view
        # The putting verb opens the request or one of its clauses ("the co-op renewal - put it
        # in commit"), never stands inside a remark ("we put ... in commit").
        starts = [r.body] + [
            r.body + c.end() for c in re.finditer(r"[,，:：;；.!?]\s*|\s[-–—]\s*", view[r.body :])
        ]
        m = next((f for at in starts if (f := w.FORECAST_PUT.match(view, at))), None)
        m = m or w.FORECAST_ZH.search(view, r.body)
        m = m or next((f for at in starts if (f := w.FORECAST_BARE.match(view, at))), None)
        if m is None:
            return self._forecast_said(ctx, r)
        if m.re is w.FORECAST_BARE and w.FORECAST_BARE_TOLD.search(m.group("deal")):
            return None  # "we moved X into commit for the forecast": told, not asked
        if m.re is w.FORECAST_ZH and m.group("spaced") and not m.group("forecast"):
            # "放commit 稳得很": a clause after a blank ends the category only when the forecast
            # was named right before it ("预测放commit 稳得很").
            return None
        if m.group("verb") == "tag" and not m.group("forecast"):
            return None  # "tag falcon as best case": a tag, not a forecast category
        at = m.start("verb")
        if w.FORECAST_NOT_NOW.search(view, 0, at) or _speaker_before(ctx, r, at):
            # "bob: put X in commit", "老板说 X 预测放 commit", "下周再放 commit": someone's
            # words, a plan or an opinion; nothing is done.
            return "forecast"
        said = re.sub(r"[\s-]+", " ", m.group("cat"))
        category = w.FORECAST_CATEGORY.get(said.replace("bestcase", "best case"))
        if category is None:
            return None
        forecast_said = bool(m.group("forecast")) or bool(
            re.search(r"\bforecast\b|预测", view[r.body :])
        )
        if m.re is w.FORECAST_PUT:
            # "pipeline" and "commit" are everyday words: the forecast is named, or the deal is
            # put *in/into/as* the category ("commit to the plan" is no category).
            prep = re.search(r"\s(in|into|on|as|to|under)\s+(?:the\s+)?\S+$", view[: m.end("cat")])
            if category == "pipeline" and not forecast_said:
                return None
            if category == "commit" and not forecast_said and (not prep or prep.group(1) == "to"):
                return None
        elif not forecast_said and not said.isascii():
            return None  # 乐观, 最佳, 承诺 are a forecast's words only when it is named
        elif category == "pipeline" and not forecast_said:
            return None
        at = m.start("verb")
        if w.FORECAST_DONE.search(view, r.body, at) or (
            m.re is w.FORECAST_ZH
            and re.match(r"\s*了", view[m.end("cat") :])
            and not r.polite
            and "把" not in view[r.body : at]
        ):
            # "已经放到 commit 了", "X 放 commit 了": told as done.
            return "forecast"
        if self._refused(r, at):
            return "forecast"
        within = (r.body, m.start("cat"))
        customer = self._customer(ctx, r, required=False, within=within)
        if isinstance(customer, Unsure):
            return customer
        open_names = [s.name for s in ctx.pipeline.open_stages]
        deal = self._deal(ctx, r, customer, open_names, within=within)
        if isinstance(deal, Unsure):
            return deal
        if deal is None:
            return Unsure(
                "loose.which_deal_forecast", {"category": category}, ("forecast", "deals")
            )
        values: dict[str, Value] = {"deal": deal.id, "category": category}
        shown = [("deal", _deal_label(deal)), ("category", category)]
        return Proposal(self.verb("forecast"), values, shown)

    def _forecast_said(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """The forecast named with its category and a deal named by its title anywhere else
        ("NDA cabin crew uniform, forecast am as best case abeg", "weka commit kwa forecast"):
        `forecast #12 best case`."""
        m = w.FORECAST_SAID.search(r.view, r.body)
        if m is None:
            return None
        cat = "cat" if m.group("cat") else "cat2"
        verb = "verb" if m.group("verb") else "verb2"
        category = w.FORECAST_CATEGORY.get(re.sub(r"[\s-]+", " ", m.group(cat)))
        if category is None:
            return None
        at = min(m.start(verb), m.start(cat))
        if (
            w.FORECAST_NOT_NOW.search(r.view, 0, at)
            or _speaker_before(ctx, r, at)
            or w.FORECAST_DONE.search(r.view, r.body, at)
            or self._refused(r, at)
        ):
            return "forecast"
        # The deal's words: before the forecast's, or between "forecast the" and the category
        # ("Forecast the bed linen deal as commit, Sandton Crown": its customer after).
        said = r.text[: m.start()] + " " * (m.end() - m.start()) + r.text[m.end() :]
        if m.group("what") and m.group("what").strip() not in ("am", "it", "this", "that", "them"):
            said = r.text[: m.start(cat)] + " " * (m.end() - m.start(cat)) + r.text[m.end() :]
        within = (r.body, len(r.view))
        blank = _Reading.of(said)
        customer = self._customer(ctx, blank, required=False, within=within)
        if isinstance(customer, Unsure):
            return customer
        open_names = [s.name for s in ctx.pipeline.open_stages]
        if not find_deals(
            ctx,
            said[r.body :],
            customer_id=customer.id if customer is not None else None,
            open_stages=open_names,
        ):
            return None  # no deal named by its title: a customer's only deal is not guessed
        deal = self._deal(ctx, blank, customer, open_names, within=within)
        if not isinstance(deal, Deal):
            return deal
        values: dict[str, Value] = {"deal": deal.id, "category": category}
        shown = [("deal", _deal_label(deal)), ("category", category)]
        return Proposal(self.verb("forecast"), values, shown)

    def _forecast_clause(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A deal, then its forecast category in a clause of its own ("AV rig. Commit.",
        "Bandra SUV launch, put in commit only", "X - commit it"): `forecast #12 commit`."""
        m = w.FORECAST_CLAUSE.search(r.view, r.body)
        if m is None or not r.view[r.body : m.start()].strip():
            return None
        said = re.sub(r"[\s-]+", " ", m.group("cat") or m.group("bare"))
        category = w.FORECAST_CATEGORY.get(said)
        if category is None:
            return None
        at = m.start("cat") if m.group("cat") else m.start("bare")
        if w.FORECAST_NOT_NOW.search(r.view, r.body, m.start()) or _speaker_before(ctx, r, at):
            return "forecast"
        if self._refused(r, at):
            return "forecast"
        within = (r.body, m.start())
        customer = self._customer(ctx, r, required=False, within=within)
        if isinstance(customer, Unsure):
            return customer
        open_names = [s.name for s in ctx.pipeline.open_stages]
        # The clause says no deal: the words before it must name one by its title, never a
        # customer's only deal taken for a category said alone.
        said_deals = find_deals(
            ctx,
            r.text[within[0] : within[1]],
            customer_id=customer.id if customer is not None else None,
            open_stages=open_names,
        )
        if not said_deals:
            return None
        deal = self._deal(ctx, r, customer, open_names, within=within)
        if not isinstance(deal, Deal):
            return deal
        values: dict[str, Value] = {"deal": deal.id, "category": category}
        shown = [("deal", _deal_label(deal)), ("category", category)]
        return Proposal(self.verb("forecast"), values, shown)

    def _log(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        cue = w.LOG_CUE.match(r.view, r.body)
        named_first = None if cue else w.LOG_CUE_AFTER_NAME.search(r.view, r.body)
        if named_first is not None:
            return self._log_named_first(ctx, r, named_first)
        kind: InteractionKind | None = None
        event_at = None
        names: list[tuple[int, int]] | None = None
        for pattern, k in w.LOG_EVENT:
            m = pattern.search(r.view, r.body)
            while m is not None and cue is None:
                if names is None:
                    names = [(c.start, c.end) for c in find_customers(ctx, r.text) if c.exact]
                inside = next((b for a, b in names if a <= m.start() < b), None)
                if inside is None:
                    break
                # An event word inside a customer's name ("松湖会议中心"): no event.
                m = pattern.search(r.view, inside)
            if m and (event_at is None or m.start() < event_at):
                kind, event_at = k, m.start()
        if event_at is not None and (
            w.LOG_UNDONE_AFTER.search(r.view, event_at)
            or w.LOG_UNDONE_BEFORE.search(r.view, cue.end() if cue else r.body, event_at)
        ):
            # Not done as told: no log of that kind (after 记一笔 it stays a note).
            if cue is None:
                return "log"
            kind, event_at = None, None
        if cue is None and (
            event_at is None
            or (
                event_at - r.body > 30
                # "和 Allen Manufacturing 的 Michael Young 开了会，...": names before the event
                # may be long; still in the first clause, it is what happened.
                and (event_at - r.body > 60 or _SEPARATOR.search(r.view, r.body, event_at))
            )
        ):
            return None
        at = cue.start() if cue else event_at
        assert at is not None
        if self._refused(r, at) or (cue is None and r.question):
            return "log"
        if cue is None and (
            re.search(r"[?？]", r.view[r.body : at])
            or _LOG_THEN_HOLD.search(r.view, at)
            or _ABOUT_THE_BOOK.search(r.view, at)
        ):
            # "X回复了没有？Y刚给我打电话问进度": a question, the call told as its reason; "met
            # Alan, ... we keep waiting, 咪住move住": the story of why nothing is to be done;
            # "called Y, ... so #3 is kind of done", "…这两条记录该分开": about the book's own
            # records, told to a colleague, not a note of the customer's.
            return "log"
        if cue is None:
            head = max((m.end() for m in _SEPARATOR.finditer(r.view, r.body, at)), default=r.body)
            tail = _SEPARATOR.search(r.view, at)
            # The event word itself moved ("会议改到周五"), not a change it told of ("通电话...
            # 培训要改到三月"): the few characters after it.
            near = min(at + 8, tail.start() if tail else len(r.view))
            if w.LOG_NOT_YET.search(r.view, head, at) or w.LOG_CHANGED.search(r.view, at, near):
                # "明天跟联创电话", "記得打畀陳生": to do, not done; "电话会议改到周五": moved.
                return None
            if (
                at == r.body
                and re.match(r"(?:line|whatsapp|wechat|微信)\s?(?=[\u4e00-\u9fff])", r.view[at:])
                and not re.search(r"咗|了|过|昨|琴日|前日|今朝|头先|啱啱|刚|聊|倾", r.view[at:])
            ):
                # "WhatsApp 陳生問下幾時得閒": the app and a person first, nothing said done: an
                # errand to run (message him), not a chat to log.
                return None
        clause = max((m.end() for m in _CLAUSE.finditer(r.view, 0, at)), default=r.body)
        # "already" in an earlier comma clause is that clause's: "samples already sent, met
        # Dana today, she wants ..." logs the meeting.
        clause = (
            max((m.end() for m in re.finditer(r"[,，]", r.view[clause:at])), default=0) + clause
        )
        if (
            cue is None
            and w.ALREADY.search(r.view, clause, at)
            and not _SEPARATOR.search(r.view, at)
        ):
            # "上個月已經拜訪過永盛了", "already visited Acme last month": done, and nothing
            # told about it; a remark, not a note to keep.
            return "log"
        start = cue.end() if cue else r.body
        if cue is not None:
            # The grammar's own kind word right after the cue: "pls log call acme: ...",
            # "log a call w cynthia", "log metting w/ Karen" (one typo in a long kind word).
            lead = re.match(r"(?:(?:a|an|the|my)\s+|一下\s*|一个\s*|个\s*)", r.view[start:])
            at_kind = start + (lead.end() if lead else 0)
            said, rest = take_kind(r.text[at_kind:])
            if said is None:
                said, rest = _kind_typo(r.text[at_kind:])
            if said is not None:
                kind, start = said, len(r.text) - len(rest)
            elif re.match(r"\s*(?:(?:quick\s+)?note|备注)", cue.group(0)):
                # "note on Sterling Care: I met Karen at dinner": a note, whatever it tells.
                kind = None
        customer = self._customer(ctx, r, required=True, within=(start, len(r.view)), contacts=True)
        if isinstance(customer, Unsure):
            return customer
        assert customer is not None
        body = self._note_text(r, start, customer)
        if not body:
            return Unsure("loose.note_text", {"customer": customer.name}, ("log",))
        values: dict[str, Value] = {"customer": customer.id}
        if kind is not None:
            values["kind"] = kind.value
        shown = [("customer", _customer_label(customer))]
        t = Translator(ctx.actor.locale)
        if kind is not None:
            shown.insert(0, ("kind", fmt.kind(t, kind.value)))
        when = _YESTERDAY.search(r.view, start)
        if when and not _dates_the_log(r, when, body):
            # "called Donna, the storm last night damaged two panels": the day of what was told,
            # not of the call.
            when = None
        if when:
            day = r.cut(when.start(), when.end())
            values["when"] = _YESTERDAY_SAID.get(char_view(day), day)
            shown.append(("when", str(values["when"])))
        else:
            weekday = next(
                (
                    m
                    for m in _WEEKDAY_SAID.finditer(r.view, start)
                    if _weekday_dates_the_log(r, m, start, body)
                ),
                None,
            )
            past = _past_weekday(ctx, r, weekday) if weekday is not None else None
            # "04/12 went for UoC visit": a day written first, as a diary dates its lines.
            past = past or _leading_day(ctx, r)
            if past is not None:
                # "visited Acme on Thursday": that day, written as a date the grammar reads.
                values["when"] = past.isoformat()
                shown.append(("when", fmt.short_day(t, past)))
        # Who it was with: the contact named before the note's words ("called David at Acme,
        # ..."), or one met, called or written to anywhere ("拜访了X，见了Kathleen Rivera，...",
        # "log chat greenfield, rebecca lopez: ..."); one the note only talks about ("Karen
        # wants a demo") is not "with", and two named people are left to the note.
        head_end = r.text.find(body) if body and body in r.text else len(r.text)
        # In a call, meeting, visit, email or chat, the customer's one contact named is the one
        # it was with ("call w Acme, Karen wants a demo"); in a note, only one named before its
        # words, after "with", before a colon or as the one who said it ("何霞说...").
        people = [
            p
            for p in find_contacts(ctx, r.text[start:], customer_id=customer.id)
            if kind not in (None, InteractionKind.note)
            or start + p.start < head_end
            or w.WITH_BEFORE.search(r.view[max(0, start + p.start - 14) : start + p.start])
            or re.match(r"\s*[:：]", r.view[start + p.end :])
            or w.SAID_AFTER.match(r.view, start + p.end)
        ]
        contact = people[0] if len({p.id for p in people}) == 1 else None
        if contact is not None:
            values["contact"] = contact.id
            shown.append(("contact", contact.label))
        deals = find_deals(ctx, r.text, customer_id=customer.id, translate=False)
        top = _one(deals)
        # A deal is attached when the sentence says "deal" or names it by two of its title's
        # words ("the data migration quote"), or by four Chinese characters of its title.
        if top is None or not (_DEAL_WORD.search(r.view) or top.weight >= 2):
            # Else a title typed in part or in the other language ("the renewal", "續約", "the
            # scanner proposal"): the one open deal of the customer it fits, by a word that
            # says which (not "upgrade" or "phase").
            open_names = [s.name for s in ctx.pipeline.open_stages]
            top = _one(find_deals(ctx, r.text, customer_id=customer.id, open_stages=open_names))
            if top is not None and not (
                _names_deal(ctx, r.text, top)
                and (
                    _DEAL_WORD.search(r.view)
                    or _owned_title(r, customer, top)
                    or (not top.label.isascii() and top.weight >= 1.5)
                )
            ):
                top = None
        if top is not None:
            values["deal"] = top.id
            shown.append(("deal", top.label))
        values["text"] = body
        shown.append(("text", fmt.preview(body)))
        form = OpenForm(
            "log",
            {
                "customer": customer.id,
                "kind": values.get("kind", InteractionKind.note.value),
                "notes": body,
            },
            {"customer": customer.name},
        )
        return Proposal(self.verb("log"), values, shown, form)

    def _log_named_first(self, ctx: Ctx, r: _Reading, cue: re.Match[str]) -> Outcome | str | None:
        """ "华东物流 记个笔记：...": the customer before the cue, the note after it."""
        customer = self._customer(ctx, r, required=False, within=(r.body, cue.start()))
        if not isinstance(customer, Customer):
            return None
        if self._refused(r, cue.start()):
            return "log"
        body = r.cut(cue.end())
        if not body:
            return Unsure("loose.note_text", {"customer": customer.name}, ("log",))
        values: dict[str, Value] = {"customer": customer.id}
        shown = [("customer", _customer_label(customer))]
        # What the note tells in its first clause: "给太古里记一笔：今天和周敏开会，..." is a
        # meeting with 周敏 (a call, visit, e-mail or chat likewise); a plan is still a note.
        first = _SEPARATOR.search(r.view, cue.end())
        clause_end = first.start() if first else len(r.view)
        events = [
            (m.start(), k)
            for p, k in w.LOG_EVENT
            if (m := p.search(r.view, cue.end(), clause_end)) is not None
        ]
        if (
            events
            and not w.LOG_NOT_YET.search(r.view, cue.end(), min(events)[0])
            # "今天没跟高磊开会，改期了", "林杰问能不能拜访", "高磊说下次再call": a note of what
            # did not happen, a question or someone's words; it stays a note.
            and not w.LOG_UNDONE_BEFORE.search(r.view, cue.end(), min(events)[0])
            and not w.LOG_UNDONE_AFTER.search(r.view, min(events)[0])
        ):
            kind = min(events)[1]
            values["kind"] = kind.value
            t = Translator(ctx.actor.locale)
            shown.insert(0, ("kind", fmt.kind(t, kind.value)))
            people = find_contacts(ctx, r.text[cue.end() : clause_end], customer_id=customer.id)
            if len({p.id for p in people}) == 1:
                values["contact"] = people[0].id
                shown.append(("contact", people[0].label))
        values["text"] = body
        shown.append(("text", fmt.preview(body)))
        form = OpenForm(
            "log",
            {
                "customer": customer.id,
                "kind": values.get("kind", InteractionKind.note.value),
                "notes": body,
            },
            {"customer": customer.name},
        )
        return Proposal(self.verb("log"), values, shown, form)

    def _note_text(self, r: _Reading, start: int, customer: Customer) -> str:
        """What the note says: after the first separator following the customer, else all."""
        key = char_view(customer.name)[:4]
        at = r.view.find(key, start) if key else -1
        after = at + len(key) if at >= 0 else start
        sep = _SEPARATOR.search(r.view, after)
        if sep is not None:
            rest = r.cut(sep.end())
            if len(rest.split()) >= 2 or (rest and not rest.isascii() and len(rest) >= 4):
                return rest
        whole = r.cut(start).lstrip(":：,，- ")
        # "log call Acme" says nothing beyond the kind and the customer: no note yet.
        said = whole.replace(r.text[at:after] if at >= 0 else "", " ")
        said = re.sub(r"\b(?:call|meeting|visit|email|chat|note|with|at|for)\b", " ", said)
        if len(said.split()) < 2 and not (not said.isascii() and len(said.strip()) >= 4):
            return ""
        return whole

    def _remind(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.REMIND_CUE.search(r.view, r.body)
        if m is None:
            return None
        dont_forget = "forget" in m.group(0) or "忘" in m.group(0)
        if (
            r.no_write
            or (not dont_forget and r.negated_before(m.start()))
            or _quoted(r, m.start() + 1)
        ):
            return "remind"
        who = m.group("who") or m.group("zwho") or m.group("nudge") or m.group("ping")
        rest = r.cut(m.end())
        values: dict[str, Value] = {"who": "me"}
        if who and who not in ("me", "myself"):
            users = [u.id for u in find_users(ctx, who) if u.exact]
            if not users and (zh := user_by_chinese_name(ctx, who)) is not None:
                if zh[2] or not contact_named(ctx, who[: zh[1]]):
                    users = [zh[0].id]
                else:
                    # "提醒汪薇明天..." with 汪薇 a contact the sender sees: a contact wins over
                    # a colleague's sound-alike; the sender's own reminder, the name kept.
                    named_at = next(
                        m.start(g) for g in ("who", "zwho", "nudge", "ping") if m.group(g)
                    )
                    users, rest = [ctx.actor.id], r.cut(named_at)
            if len(users) != 1 and m.group("ping"):
                # "ping Priya tomorrow about the PO": Priya is no colleague, so it is the
                # sender's reminder to ping her.
                users, rest = [ctx.actor.id], r.cut(m.start())
            if len(users) != 1:
                return None
            if users[0] != ctx.actor.id:
                owner = ctx.session.get(User, users[0])
                assert owner is not None
                if not can_remind(ctx.actor, owner):
                    # A rep reminds only themself: said now, not after Confirm.
                    return Unsure("error.remind_not_allowed", {"user": owner.name}, ("remind",))
                values["who"] = _handle(ctx, users[0])
        # "12/18 前把 PO 追回来": by that day (前 after a day is "before", not a word of it).
        rest = re.sub(r"^(\S*?\d)\s*(?:之前|以前|前)\s*", r"\1 ", rest)
        phrase = _time_phrase(ctx, rest)
        before = r.cut(r.body, m.start())
        if phrase is None and before:
            # The time said first: "每周五下午5点提醒我更新商机", "tomorrow 9am remind me to ...".
            early = _time_phrase(ctx, before)
            if early is not None and not early.rest.strip(" ,，"):
                phrase, rest = early, before + " " + rest
        if phrase is None:
            return Unsure("loose.remind_when", verbs=("remind",))
        what = (rest[: phrase.span[0]] + " " + rest[phrase.span[1] :]).strip(" ,，:：")
        what = re.sub(r"^(?:to|that|about|我|要)\s*", "", what, flags=re.I).strip()
        what = re.sub(r"\s{2,}", " ", what)
        if not what:
            return Unsure("loose.remind_what", verbs=("remind",))
        typed = rest[phrase.span[0] : phrase.span[1]].strip()
        values["when"] = typed
        values["what"] = what
        shown = [
            ("when", fmt.local_time(phrase.due, ctx.tz)),
            ("what", fmt.preview(what)),
        ]
        if values["who"] != "me":
            shown.insert(0, ("who", str(values["who"])))
        return Proposal(self.verb("remind"), values, shown)

    def _reminder_first(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """ "#10 搞定了", "#2 那个提醒取消", "#11 推迟到下周二上午9点": done, cancel or snooze of
        the sender's own pending reminder of that number (another record's number is not one)."""
        m = w.REMINDER_FIRST.match(r.view, r.body)
        if m is None:
            return None
        rid = int(m.group("id"))
        mine = ctx.session.scalar(
            select(Reminder.id).where(
                Reminder.id == rid,
                Reminder.owner_id == ctx.actor.id,
                Reminder.status == ReminderStatus.pending,
            )
        )
        if mine is None:
            return None
        verb = "done" if m.group("done") else "cancel" if m.group("cancel") else "snooze"
        if self._refused(r, m.start()):
            return verb
        if verb != "snooze" and (ask := self._reminder_or_deal(ctx, r, rid, verb)) is not None:
            return ask
        shown = [("reminder", f"#{rid}")]
        if verb != "snooze":
            return Proposal(self.verb(verb), {"reminder": rid}, shown)
        g = "when" if m.group("when") else "later"
        said = r.cut(m.start(g), m.end(g)).strip(" 。.!！")
        span = span_said(char_view(said))
        if span is not None:
            shown.append(("when", span))
            return Proposal(self.verb("snooze"), {"reminder": rid, "when": span}, shown)
        phrase = _time_phrase(ctx, said)
        if phrase is None or phrase.rest.strip(" ,，。"):
            return Unsure("loose.remind_when", verbs=("snooze",))
        shown.append(("when", fmt.local_time(phrase.due, ctx.tz)))
        return Proposal(self.verb("snooze"), {"reminder": rid, "when": said}, shown)

    def _done(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.DONE_CUE.search(r.view, r.body)
        if m is None or m.group("id2"):
            # "#2 done" is read with what else is said of #2 (its clause, a hedge, whose it is).
            return None
        if self._refused(r, m.start()):
            return "done"
        hash_at = r.view.find("#", m.start())
        if hash_at >= 0 and w.NOT_REMINDER_BEFORE.search(
            r.view, max(r.body, hash_at - 12), hash_at
        ):
            return None  # "finished step #2": the step's number
        rid = int(m.group("id") or m.group("id3"))
        return Proposal(self.verb("done"), {"reminder": rid}, [("reminder", f"#{rid}")])

    def _reminder_by_number(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A reminder by its number and what became of it, in its clause ("#2 sorted, ...",
        "reminder #3 can go", "kill #4 please", "#9 唔使提喇", "#8 往后挪到周三下午两点")."""
        for ref in w.REMINDER_REF.finditer(r.view, r.body):
            said = ref.group("id") or ref.group("zid") or ref.group("zid2")
            rid = int(said) if said.isdigit() else cn_int(said)
            if not rid:
                continue
            after = r.view[ref.end() : ref.end() + 40]
            clause = _CLAUSE.search(after)
            after = after[: clause.start()] if clause else after
            verb: str | None = None
            when = None
            if w.NOT_REMINDER_BEFORE.search(r.view, max(r.body, ref.start() - 12), ref.start()):
                continue  # "invoice #2 is sorted": the invoice's number
            done = w.REMINDER_DONE.match(after)
            if done and re.search(r"can\s+(?:go|be\s+done)$", done.group(0)):
                done = done if w.REMINDER_CAN_TAIL.match(after, done.end()) else None
            if w.CANCEL_BEFORE_REF.search(r.view, max(r.body, ref.start() - 20), ref.start()):
                verb = "cancel"
            elif done:
                verb = "done"
            elif w.REMINDER_CANCEL.match(after):
                verb = "cancel"
            elif (later := w.REMINDER_LATER.match(after)) is not None:
                verb = "snooze"
                start = ref.end() + later.start("when")
                when = r.cut(start, ref.end() + later.end("when"))
            if verb is None:
                continue
            mine = ctx.session.scalar(
                select(Reminder.id).where(
                    Reminder.id == rid,
                    Reminder.owner_id == ctx.actor.id,
                    Reminder.status == ReminderStatus.pending,
                )
            )
            if mine is None:
                return None  # another record's number, or not the sender's reminder
            part = re.compile(r"[,，]|" + _CLAUSE.pattern)
            start = max((m.end() for m in part.finditer(r.view, 0, ref.start())), default=0)
            stop = part.search(r.view, ref.end())
            if not when and w.REMINDER_HEDGE.search(
                r.view, start, stop.start() if stop else len(r.view)
            ):
                # "tempted to kill #4", "#2 can be done after the call tomorrow": not done yet.
                return verb
            if self._refused(r, ref.start()) or r.question:
                return verb
            if (ask := self._reminder_or_deal(ctx, r, rid, verb)) is not None:
                return ask
            if when is not None:
                phrase = read_time_phrase(when, ctx.now(), ctx.tz, day_first=ctx.day_first)
                if phrase is None or phrase.span[0] > 0:
                    return Unsure("loose.remind_when", verbs=("snooze",))
                # The time phrase only: "周三下午两点 文慧出差" says why after it.
                when = when[: phrase.span[1]].strip()
                shown = [("reminder", f"#{rid}"), ("when", fmt.local_time(phrase.due, ctx.tz))]
                return Proposal(self.verb("snooze"), {"reminder": rid, "when": when}, shown)
            return Proposal(self.verb(verb), {"reminder": rid}, [("reminder", f"#{rid}")])
        return None

    def _reminder_or_deal(self, ctx: Ctx, r: _Reading, rid: int, verb: str) -> Unsure | None:
        """When #N is also a deal the sender sees and the sentence speaks of that deal (its
        customer, its title, or its outcome: "#8 搞定了, 腾跃签了合同"), which is asked."""
        visible = ctx.session.scalar(
            select(Deal.id)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(Deal.id == rid, customer_filter(ctx.actor))
        )
        if visible is None:
            return None
        deal = ctx.session.get(Deal, rid)
        reminder = ctx.session.get(Reminder, rid)
        assert deal is not None and reminder is not None
        if reminder.customer_id == deal.customer_id or any(
            c.id == deal.customer_id for c in find_customers(ctx, reminder.text)
        ):
            return None  # the reminder is about that customer: its words fit either
        named = any(c.id == deal.customer_id for c in find_customers(ctx, r.text))
        if (
            named
            or find_deals(ctx, r.text, customer_id=deal.customer_id)
            or w.DEAL_TALK.search(r.view, r.body)
        ):
            return Unsure("loose.unsure", verbs=(verb, "move"))
        return None

    def _deal_owner(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """One deal handed to someone ("make carol the owner of the acme erp deal", "华东物流的
        续约这单先交给 carol 跟"): `edit deal ... owner`, not the customer's reassign."""
        m = w.DEAL_OWNER_CUE.search(r.view, r.body)
        if m is None:
            return None
        g = next(n for n in ("who", "who2", "zh") if m.group(n))
        who = m.group(g)
        if who in ("me", "myself", "我"):
            user_id = ctx.actor.id
        else:
            users = [u for u in find_users(ctx, who) if u.exact]
            if len(users) != 1:
                return None
            user_id = users[0].id
        customer = self._customer(ctx, r, required=False, within=(r.body, len(r.view)))
        if not isinstance(customer, Customer):
            return None
        named = _one(find_deals(ctx, r.text, customer_id=customer.id))
        if named is None or not (
            _DEAL_WORD.search(r.view)
            or named.weight >= 2
            or not r.text[named.start : named.end].isascii()
        ):
            return None  # no deal named: the customer's reassign, read next
        if self._refused(r, m.start()):
            return "edit deal"
        deal = ctx.session.get(Deal, named.id)
        assert deal is not None
        handle = _handle(ctx, user_id)
        shown = [("deal", _deal_label(deal)), ("owner", handle)]
        return Proposal(self.verb("edit deal"), {"deal": deal.id, "owner": handle}, shown)

    def _reassign(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.REASSIGN_CUE.search(r.view, r.body)
        if m is None or w.NEW_CUSTOMER_CUE.search(r.view, r.body, m.start()):
            return None  # "new customer X, ..., give it to carol": its owner, read there
        g = next((n for n in ("who", "zh", "zh2", "zh3", "zh4", "arrow") if m.group(n)), "who")
        who = m.group(g) or ""
        if g in ("zh4", "arrow"):
            # Only the customer's name before it: "把报价发给 alice" hands nothing over.
            named = [c for c in find_customers(ctx, r.text) if c.exact and c.start <= r.body + 1]
            if not named or r.view[named[0].end : m.start()].strip(" 的,，:：") not in (
                "",
                "这个客户",
                "那边",
            ):
                return None
        if who in ("me", "myself", "我"):
            users = [Mention(ctx.actor.id, ctx.actor.name, 0, 0, True, 1.0)]
        else:
            users = [u for u in find_users(ctx, who) if u.exact]
        if len(users) != 1:
            return None
        if self._refused(r, m.start()) or _NEGATED_VERB.search(r.view, r.body, m.start()):
            return "reassign"
        customer = self._customer(
            ctx,
            r,
            required=True,
            within=(r.body, m.start(g) if g in ("who", "zh", "zh4", "arrow") else len(r.view)),
        )
        if isinstance(customer, Unsure):
            return customer
        assert customer is not None
        values: dict[str, Value] = {"customer": customer.id, "owner": _handle(ctx, users[0].id)}
        if re.search(
            r"(?:\b(?:with|and|plus|incl\w*)\.?|\bw/)\s*(?:(?:its|their|the|all)\s+)*(?:open\s+)?deals\b"
            r"|\bdeals\s+(?:too|as\s+well|included)\b"
            r"|连同?(?:商机|单子)|和商机|包括商机|(?:商机|单子)(?:也)?一起|商机也",
            r.view,
        ):
            values["deals"] = "with deals"
        shown = [("customer", _customer_label(customer)), ("owner", users[0].label)]
        return Proposal(self.verb("reassign"), values, shown)

    def _new_deal(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.NEW_DEAL_CUE.search(r.view, r.body)
        if m is None:
            return None
        if self._refused(r, m.start()):
            return "new deal"
        customer = self._customer(
            ctx, r, required=True, within=(r.body, len(r.view)), contacts=True
        )
        if isinstance(customer, Unsure):
            return customer
        assert customer is not None
        taken: list[tuple[int, int]] = [(r.body, m.end())]
        cust_span = _span_of(r, customer)
        if cust_span:
            taken.append(cust_span)
        values: dict[str, Value] = {"customer": customer.id}
        amount = _amount(r, m.end())
        if amount is not None:
            (value, currency), span = amount
            local = deal_svc.local_currency(ctx, customer)
            if not _currency_said(r, span) or (local is not None and _unit_only(r, span, local)):
                # "25k", "一千兩百萬": the customer's deals' currency, else the one of the
                # customer's country or city as the book records it, else the one of the
                # user's region (a rep in Taipei means NT$, not yuan or the default). 元 / 塊 /
                # 蚊 alone are the unit word of that currency when it is a yuan-like one (NT$,
                # HK$), as "$" is of a dollar one.
                currency = local or currency
            values["amount"] = (value, currency or ctx.default_currency)
            taken.append(span)
        close = _close(ctx, r, m.end())
        if close is not None:
            values["close"], span = close
            taken.append(span)
        said = w.STAGE_SAID.search(r.view, m.end())
        if said is not None:
            word = next(
                said.group(g) for g in ("stage", "zstage", "said", "zsaid") if said.group(g)
            )
            stage = ctx.pipeline.get(w.STAGE_WORDS.get(word, word))
            if stage is not None:
                values["stage"] = stage.name
                taken.append(said.span())
        title = re.sub(r"(?:\s*[,，]\s*){2,}", ", ", _leftover(r, taken)).strip(" ,，")
        if not title:
            return Unsure("loose.deal_title", {"customer": customer.name}, ("new deal",))
        values = {
            "customer": customer.id,
            "title": title,
            **{k: v for k, v in values.items() if k != "customer"},
        }
        t = Translator(ctx.actor.locale)
        shown = [("customer", _customer_label(customer)), ("title", title)]
        if "amount" in values:
            a = values["amount"]
            assert isinstance(a, tuple)
            # In the reader's money words (NT$1,200,000), as every other reply shows it.
            shown.append(("amount", fmt.money(a[0], a[1], t)))
        if "close" in values:
            c = values["close"]
            assert isinstance(c, date)
            shown.append(("close", fmt.short_day(t, c)))
        if "stage" in values:
            shown.append(("stage", fmt.stage(t, str(values["stage"]))))
        return Proposal(self.verb("new deal"), values, shown)

    def _new_customer(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.NEW_CUSTOMER_CUE.search(r.view, r.body)
        if m is None:
            return None
        if self._refused(r, m.start()):
            return "new customer"
        named = _CALLED.search(r.view, m.end())
        if named:
            g = "name" if named.group("name") else "zh"
            name_end = named.end(g)
            name = r.cut(named.start(g), name_end)
        else:
            rest = r.view[m.end() :]
            stop = re.search(r"\s*(?:,|，|、|\bin\b|\bbased\b|\bfrom\b|$)", rest)
            name_end = m.end() + (stop.start() if stop else len(rest))
            name = r.cut(m.end(), name_end)
        name = name.strip(" :：,，\"'“”")
        if re.search(r"[\"“”]", name):
            return None  # a quoted name the grammar refused is not read again
        if not name:
            return Unsure("loose.customer_name", verbs=("new customer",))
        values: dict[str, Value] = {"name": name}
        city = _IN_CITY.search(r.text, m.end())
        if city and city.group("city").lower() not in name.lower():
            values["city"] = city.group("city").strip()
        # "X, logistics, Rotterdam, owner dave, tag new-logo", "X，物流，杭州，标签 new-logo".
        parts = [p for p in re.split(r"\s*[,，、;；]\s*", r.text[name_end:]) if p.strip()]
        views = [char_view(p.strip(" :：")) for p in parts]
        if views and not any(w.CUSTOMER_PART.match(v) or _industry(ctx, v) for v in views):
            # "Smith, Jones & Co": no industry, owner or tag after the comma, so the comma is
            # the name's own (the grammar's reading).
            return None
        for part in parts:
            said = part.strip(" .。!！:：")
            view = char_view(said)
            field = w.CUSTOMER_PART.match(view)
            if not said:
                continue
            if field is not None and field.group("key") in w.CUSTOMER_PART_KEYS:
                key = w.CUSTOMER_PART_KEYS[field.group("key")]
                value = said[field.end() :].strip(" :：")
                if key == "owner":
                    users = [u for u in find_users(ctx, value) if u.exact]
                    if len(users) != 1:
                        return Unsure("loose.which_owner", {"who": value}, ("new customer",))
                    value = _handle(ctx, users[0].id)
                if value:
                    values[key] = value
            elif (industry := _industry(ctx, view)) is not None and "industry" not in values:
                values["industry"] = industry
            elif "city" not in values and not re.search(r"\d", said):
                values["city"] = re.sub(
                    r"^(?:based\s+in|located\s+in|out\s+of|in|from)\s+|^(?:在|位于|总部在)\s*",
                    "",
                    said,
                    flags=re.I,
                )
        shown = [("name", name)] + [
            (k, str(values[k])) for k in ("industry", "city", "owner", "tags") if k in values
        ]
        return Proposal(self.verb("new customer"), values, shown)

    def _contact_add(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m: re.Match[str] | None = w.CONTACT_CUE.search(r.view, r.body)
        if m is None:
            # "add Lukas Brandt to jetstream, ...", "highland pharma — add Omar Haddad, CFO,
            # +1 602 ...": a full name that is no contact yet, with an address or number.
            m = w.ADD_PERSON.search(r.text, r.body)
            if m is None or not (_EMAIL.search(r.text) or _PHONE.search(r.text)):
                return None
            if find_contacts(ctx, m.group("name")):
                return None
        if self._refused(r, m.start()):
            return "contact add"
        customer = self._customer(ctx, r, required=True, within=(r.body, len(r.view)))
        if isinstance(customer, Unsure):
            return customer
        assert customer is not None
        email = _EMAIL.search(r.text)
        phone = _PHONE.search(r.text)
        taken = [(m.start(), m.start("name") if "name" in m.groupdict() else m.end())]
        span = _span_of(r, customer)
        if span:
            taken.append(span)
        for found in (email, phone):
            if found:
                taken.append((found.start(), found.end()))
        name = _leftover(
            r,
            taken,
            drop=r"\b(?:add|to|at|for|as|a|an|new|contact|with|from|please|pls)\b|的|到|给|帮我|帮|@"
            r"|\s[-–—]\s",
        )
        parts = [p.strip() for p in re.split(r"\s*[,，、]\s*", name) if p.strip()]
        if "name" in m.groupdict() and parts and parts[0].startswith(m.group("name")):
            # "add Lena Hoffmann as procurement lead at Jetstream": the capitals are the name,
            # the words after it the title.
            said_title = parts[0][len(m.group("name")) :].strip()
            parts = [m.group("name"), *([said_title] if said_title else []), *parts[1:]]
        name = parts[0] if parts else ""
        if not name:
            return Unsure("loose.contact_name", {"customer": customer.name}, ("contact add",))
        values: dict[str, Value] = {"customer": customer.id, "name": name}
        # The part after the name is their title ("Omar Haddad, COO, ..."; "he's their new IT
        # lead"), when it is a few words.
        title = re.sub(
            r"^(?:(?:he|she)(?:'s|’s|\s+is)\s+(?:(?:their|the|our)\s+)?|(?:is\s+)?(?:their|the)\s+)",
            "",
            parts[1] if len(parts) > 1 else "",
            flags=re.I,
        ).strip()
        if title and len(title.split()) <= 5 and not re.search(r"\d", title):
            values["title"] = title
        if email:
            values["email"] = email.group(0)
        if phone:
            values["phone"] = phone.group(0).strip()
        shown = [("customer", _customer_label(customer)), ("name", name)]
        shown += [(k, str(values[k])) for k in ("title", "email", "phone") if k in values]
        return Proposal(self.verb("contact add"), values, shown)

    def _edit_deal(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A deal's amount or close day set ("put the Thompson Stores analytics dashboard at
        30k", "金额改成9万英镑", "close date -> 15 feb", "改到明年4月底结单"), one or both."""
        stage = _stage_cue(r)
        close_said = w.CLOSE_WORD.search(r.view, r.body)
        # "预计签约改去12月30号": the stage word is the close date's own ("signing").
        if stage and close_said and close_said.start() <= stage[2][0] < close_said.end():
            stage = None
        if w.LOG_CUE.match(r.view, r.body) or stage is not None:
            return None
        amount = None
        word = w.AMOUNT_WORD.search(r.view, r.body)
        found = _amount(r, word.end() if word else r.body)
        if found is None and word is not None and r.text.isascii():
            found = _worded_amount(r, word.end())  # "set the amount to eighteen thousand"
        if found is not None and (then := _AMOUNT_THEN.match(r.view, found[1][1])) is not None:
            # "金额23w改成26w", "amount from 23k to 26k": the old figure, then the new one.
            second = _amount(r, then.end())
            if second is not None and second[1][0] == then.end():
                found = second
        if found is not None and _WAS_AMOUNT.search(
            r.view, max(r.body, found[1][0] - 16), found[1][0]
        ):
            return None  # "the amount was 42000 last year": told of the past, nothing to set
        if found is not None:
            before = r.view[max(r.body, found[1][0] - 16) : found[1][0]]
            if word is not None or w.AMOUNT_SET.search(before):
                amount = found
        if amount is not None and (
            w.AMOUNT_NOT_SET.search(r.view, 0, amount[1][0])
            or w.AMOUNT_IF_AFTER.match(r.view, amount[1][1])
        ):
            # "报价不能改成28万", "高磊说报价改成28万就签", "对方报价降到28万了": refused, someone
            # else's figure or a condition; nothing is set.
            return "edit deal"
        close = None
        cue = w.CLOSE_WORD.search(r.view, r.body)
        if cue is not None:
            if re.match(r"\s*(?:date\s+)?(?:was|used\s+to\s+be)\b", r.view[cue.end() :]):
                return "edit deal"  # "close date was january 31st": told of the past
            if (gone := _no_such_day(ctx, r, cue.end())) is not None:
                return Unsure("loose.no_such_day", {"day": gone}, ("edit deal",))
            close = _close(ctx, r, r.body, any_phrase=True)
            if close is not None and _quoted(r, cue.start()):
                # 'the chiller deal "closing next week", for the fourth week running': words
                # quoted, someone's promise mocked, not a day asked for.
                return "edit deal"
            if (
                close is not None
                and w.VALUE_HEDGE.search(r.view, cue.end(), close[1][0])
                and not w.SET_WORD.search(r.view, cue.end(), close[1][0])
            ):
                return "edit deal"  # "预计成交日好像还是十二月": hedged or still so, a remark
        if amount is None and close is None:
            if word is not None and w.SET_WORD.search(r.view, word.end()):
                return Unsure("loose.which_deal_edit", verbs=("edit deal",))
            return None
        spans = [x[1] for x in (amount, close) if x is not None]
        at = min(cue.start() if cue else len(r.view), word.start() if word else len(r.view))
        if self._refused(r, min(at, *(a for a, _ in spans))):
            return "edit deal"
        first = min(a for a, _ in spans)
        customer = self._customer(ctx, r, required=False, within=(r.body, first))
        if (
            customer is None
            and (word is not None or cue is not None)
            and _TITLED_SET.search(r.view, at, max(b for _, b in spans))
        ):
            # "舞台燈光租賃 金額加到二十萬": a deal named by its whole title alone, its field
            # set with a verb ("returns consolidation closing march 1" is a remark).
            return self._edit_titled_deal(ctx, r, amount, close, (r.body, min(at, first)))
        if not isinstance(customer, Customer):
            return None
        named = find_deals(ctx, r.text[r.body : first], customer_id=customer.id)
        if not named and word is None and cue is None:
            return None  # "Acme is at 30k" names no deal: not an edit
        # An open deal is the one whose amount or close day moves ("2026 renewal": the open
        # one, not last year's lost one of the same title); a closed one only when no open
        # deal fits.
        open_names = [s.name for s in ctx.pipeline.open_stages]
        deal = (
            self._deal(ctx, r, customer, open_names, within=(r.body, first))
            if _names_open_deal(ctx, r.text[r.body : first], customer, named, open_names)
            else None
        )
        if deal is None or isinstance(deal, Unsure):
            deal = self._deal(ctx, r, customer, None, within=(r.body, first))
        if isinstance(deal, Unsure):
            return deal
        if deal is None:
            return Unsure("loose.which_deal_edit", verbs=("edit deal",))
        return self._deal_edit_proposal(Translator(ctx.actor.locale), r, deal, amount, close)

    def _edit_titled_deal(
        self,
        ctx: Ctx,
        r: _Reading,
        amount: tuple[tuple[Decimal, str | None], tuple[int, int]] | None,
        close: tuple[date, tuple[int, int]] | None,
        within: tuple[int, int],
    ) -> Outcome | None:
        """An edit of a deal named by its whole title and no customer, when exactly one
        visible deal has that title (a part of one, or a title two customers share, is asked)."""
        said = r.text[within[0] : within[1]]
        found = find_deals(ctx, said)
        if not found:
            return None
        titled = ctx.session.get(Deal, found[0].id)
        if titled is None or _beside_title(said, titled.title):
            # Other words beside the title ("羊城电商 mailer boxes amount 50k"): a customer the
            # person cannot find or see may be named; never their own deal of that title.
            return None
        deal = self._deal(ctx, r, None, None, within=within)
        if not isinstance(deal, Deal):
            return deal
        return self._deal_edit_proposal(Translator(ctx.actor.locale), r, deal, amount, close)

    def _deal_edit_proposal(
        self,
        t: Translator,
        r: _Reading,
        deal: Deal,
        amount: tuple[tuple[Decimal, str | None], tuple[int, int]] | None,
        close: tuple[date, tuple[int, int]] | None,
    ) -> Proposal:
        """`edit deal #id: amount ..., close ...` for the amount and day read."""
        values: dict[str, Value] = {"deal": deal.id}
        shown = [("deal", _deal_label(deal))]
        if amount is not None:
            (value, currency), span = amount
            if not _currency_said(r, span) or _unit_only(r, span, deal.currency):
                # "改做 18 萬" on a Hong Kong dollar deal: 萬 is a size, not yuan; "80萬元" on
                # a Taiwan dollar deal and "$50k" on an Australian one say the deal's own unit.
                currency = None
            values["amount"] = (value, currency or deal.currency)
            after = fmt.money(value, currency or deal.currency, t)
            shown.append(("amount", f"{fmt.money(deal.amount, deal.currency, t)} → {after}"))
        if close is not None:
            values["close"] = close[0]
            shown.append(("close", f"{fmt.day(deal.expected_close)} → {fmt.day(close[0])}"))
        return Proposal(self.verb("edit deal"), values, shown)

    def _snooze(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.SNOOZE_CUE.search(r.view, r.body)
        if m is None:
            return None
        if self._refused(r, m.start()):
            return "snooze"
        rid = int(m.group("id") or m.group("zid"))
        g = "when" if m.group("when") else "zwhen"
        said = r.cut(m.start(g), m.end(g))
        said = span_said(r.view[m.start(g) : m.end(g)]) or said
        phrase = read_time_phrase(said, ctx.now(), ctx.tz, day_first=ctx.day_first)
        if phrase is None and not re.match(r"^\d+\s*\w+$", said):
            return Unsure("loose.remind_when", verbs=("snooze",))
        shown = [
            ("reminder", f"#{rid}"),
            ("when", fmt.local_time(phrase.due, ctx.tz) if phrase else said),
        ]
        return Proposal(self.verb("snooze"), {"reminder": rid, "when": said}, shown)

    def _cancel_reminder(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.CANCEL_CUE.search(r.view, r.body)
        if m is None:
            return None
        if self._refused(r, m.start()):
            return "cancel"
        rid = int(m.group("id") or m.group("zid"))
        return Proposal(self.verb("cancel"), {"reminder": rid}, [("reminder", f"#{rid}")])

    def _digest(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.DIGEST_CUE.search(r.view, r.body)
        if m is None:
            return None
        if self._refused(r, m.start()) or w.THIRD_PERSON_SAID.search(r.view, r.body, m.start()):
            return "digest"
        said = m.group("at") or m.group("zat") or m.group("zat2")
        if said:
            found = re.match(r"(\d{1,2})(?:[:：](\d{2})|点(半)?)", said)
            assert found is not None
            hour, minute = int(found.group(1)), int(found.group(2) or (30 if found.group(3) else 0))
            if (m.group("zpart") or m.group("zpart2") or "") in ("下午", "晚上") and hour < 12:
                hour += 12
            if hour > 23 or minute > 59:
                return Unsure("loose.remind_when", verbs=("digest",))
            setting = f"{hour:02d}:{minute:02d}"
        elif m.group("zweek"):
            setting = "weekdays"
        elif m.group("onoff") == "on" or m.group("zon"):
            setting = "on"
        else:
            setting = "off"
        return Proposal(self.verb("digest"), {"setting": setting}, [("setting", setting)])

    def _edit_contact(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.CONTACT_FIELD.search(r.view, r.body)
        if m is None:
            return self._contact_news(ctx, r)
        people = find_contacts(ctx, r.text[: m.start()])
        if not people:
            return None
        if self._refused(r, m.start()):
            return "edit contact"
        top = _pick_contact(ctx, r, people)
        if _another_surname(ctx, r, top):
            return None
        if w.ANOTHER_PERSON.match(r.view[top.end : m.start()]) or re.search(
            r"['’]s\s+(?:assistant|secretary|colleague|coworker|boss|manager|husband|wife|partner|"
            r"replacement|successor|deputy|son|daughter|pa|ea|friend|driver)\b",
            r.view[max(0, top.start - 4) : m.start()],
        ):
            return None  # "陈老板的太太手机是…", "farah's colleague phone is …": someone else's
        field_word = (m.group("field") or m.group("zfield") or "").strip()
        name = w.CONTACT_FIELDS.get(re.sub(r"\s+", " ", field_word))
        g = "value" if m.group("value") else "zvalue"
        value = r.cut(m.start(g), m.end(g)).strip(" .。")
        # An email or a phone number is the address itself, not the courtesy after it
        # ("..., please save it", "，帮我更新下").
        exact = {"email": _EMAIL, "phone": _PHONE}.get(name or "")
        if exact is not None and (found := exact.search(value)) is not None:
            value = found.group(0).strip()
        elif name == "phone":
            return None  # "set carol's Q1 number to 400k": a figure, not a phone number
        elif name == "email":
            # No address typed: one dictated ("... dot ... at ... dot ...") is read as news.
            return self._contact_news(ctx, r)
        if name == "title":
            # "title is Marketing Manager now": when it holds is no part of the title.
            value = _TITLE_WHEN.sub("", value)
        if name is None or not value:
            return None
        if re.match(r"(?:still|already)\b", value) or re.search(
            r"\b(?:right|isn'?t\s+it)\s*\??$", value
        ):
            # "title is still ops manager right": the value as it stands, asked; no edit.
            return "edit contact"
        shown = [("contact", top.label), (name, value)]
        return Proposal(self.verb("edit contact"), {"contact": top.id, name: value}, shown)

    def _contact_news(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A contact's new address, number, title or birthday said as news: "jessica at
        driftwood has a new email x@y.com", "Jennifer Gonzalez is CIO now", "何霞手机换了，新号
        +86 ...", "杨敏升了，现在是董事长", "林杰生日是1972年8月8号"."""
        if w.CONTACT_CUE.search(r.view, r.body) or w.LOG_CUE.match(r.view, r.body):
            return None
        email = _EMAIL.search(r.text)
        phone = None if email else _PHONE.search(r.text)
        # A number said in a call's or visit's note ("called Grace on her mobile +852 ...") is
        # the note's, unless the sentence says it is new.
        told = any(p.search(r.view, r.body) for p, _ in w.LOG_EVENT)
        title = w.TITLE_NEWS.search(r.view, r.body)
        birthday = w.BIRTHDAY_NEWS.search(r.view, r.body)
        at: int
        if email is not None and re.search(
            r"still\s+(?:works|valid|good|the\s+same)|(?:is\s+)?unchanged|没变|不变|还能用", r.view
        ):
            email = None  # "..., kenji@x.com still works": the address is not the news
        if email is not None and (
            w.NEWS_WORD.search(r.view, r.body)
            or (not told and w.FIELD_BEFORE.search(r.view, 0, email.start()))
        ):
            field_name, value, at = "email", email.group(0), email.start()
        elif (
            email is None
            and (spoken := _SPOKEN_EMAIL.search(r.view, r.body)) is not None
            and w.NEWS_WORD.search(r.view, r.body)
        ):
            # Dictated: "new email nadia dot haddad at lakeshoregrand dot example".
            local = re.sub(r"\s+dot\s+", ".", spoken.group("local"))
            local = re.sub(r"\s+underscore\s+", "_", re.sub(r"\s+dash\s+", "-", local))
            domain = re.sub(r"\s+dot\s+", ".", spoken.group("domain"))
            field_name, value, at = "email", f"{local}@{domain}", spoken.start()
        elif phone is not None and (
            w.NEWS_WORD.search(r.view, r.body)
            or (not told and w.FIELD_BEFORE.search(r.view, 0, phone.start()))
        ):
            field_name, value, at = "phone", phone.group(0).strip(), phone.start()
        elif birthday is not None:
            day = _birthday(r.cut(birthday.start("value"))) or _birthday_no_year(
                r.cut(birthday.start("value"))
            )
            if day is None:
                return None
            field_name, value, at = "birthday", day.isoformat(), birthday.start()
        elif title is not None:
            g = next(
                n
                for n in ("value", "nvalue", "pvalue", "tvalue", "zvalue", "zvalue2", "zvalue3")
                if title.group(n)
            )
            value = r.cut(title.start(g), title.end(g)).strip(" .。,，!！")
            if not value or char_view(value) in w.STAGE_WORDS or len(value.split()) > 5:
                return None
            field_name, at = "title", title.start()
        else:
            return None
        people = [p for p in find_contacts(ctx, r.text) if p.start < at]
        if not people:
            return None
        if self._refused(r, at):
            return "edit contact"
        top = _pick_contact(ctx, r, people)
        if _another_surname(ctx, r, top):
            return None
        if field_name == "title" and not (top.end <= at <= top.end + 40):
            return None  # "X is CIO now" says it of the person just named
        if field_name == "title" and (owner := ctx.session.get(Customer, top.owner_id)):
            # "现在是软件园工程部经理": the title at their company, without the company's name.
            said = char_view(value)
            full = char_view(owner.name)
            names = {full, *(char_view(t) for t in owner.tags or [] if isinstance(t, str))}
            # Its name's first four characters or more count too ("华东物流董事长").
            pairs = enumerate(zip(said, full, strict=False))
            common = next((i for i, (a, b) in pairs if a != b), min(len(said), len(full)))
            if common >= 4 and not said.isascii():
                names.add(said[:common])
            for known in sorted(names, key=len, reverse=True):
                if len(known) >= 2 and said.startswith(known) and len(said) > len(known) + 1:
                    value = value[len(known) :].lstrip(" 的")
                    break
        between = r.text[top.end : at]
        for named in find_customers(ctx, between):
            between = (
                between[: named.start] + " " * (named.end - named.start) + between[named.end :]
            )
        if re.search(r"[A-Z][a-z]+\s+[A-Z][a-z]+", between):
            # Another person named between ("Paul Baker left, new IT director is Sam Ortiz,
            # sam@..."): the address is not Paul's.
            return None
        if field_name == "email":
            contact = ctx.session.get(Contact, top.id)
            local = value.split("@")[0].casefold()
            parts = [p for p in name_key(contact.name if contact else "").split() if len(p) >= 3]
            if parts and not any(p in local for p in parts):
                return None
        shown = [("contact", top.label), (field_name, value)]
        return Proposal(self.verb("edit contact"), {"contact": top.id, field_name: value}, shown)

    def _edit_customer(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.CUSTOMER_FIELD.search(r.view, r.body)
        if m is None:
            return None
        if w.UNDECIDED.search(r.view, r.body):
            # "大館想改城市做九龍，但係未決定", "改名做X嘅事未定": a wish not yet decided.
            return "edit customer"
        customer = self._customer(ctx, r, required=False, within=(r.body, m.start()))
        if m.group("rename") and customer is None:
            # "rename Driftwood to Driftwood Retail BV": the customer between the verb and
            # "to", read alone (the new name would be its better match).
            top = _one([c for c in find_customers(ctx, r.text[: m.start("rename")]) if c.exact])
            if top is not None and top.start >= m.start():
                customer = ctx.session.get(Customer, top.id)
        if m.group("zrename") and customer is None:
            # "松德医院改名叫台北松德纪念医院": the new name holds the old one's words, so the
            # customer is the one named before the verb, read alone.
            top = _one([c for c in find_customers(ctx, r.text[: m.start()]) if c.exact])
            if top is not None and top.start >= r.body:
                customer = ctx.session.get(Customer, top.id)
        if not isinstance(customer, Customer):
            return None
        if self._refused(r, m.start()):
            return "edit customer"
        city = next((g for g in ("city", "city2") if m.group(g)), None)
        rename = next((g for g in ("rename", "rename2", "zrename") if m.group(g)), None)
        if city is not None:
            name, value = "city", r.cut(m.start(city), m.end(city))
            if w.NOT_A_CITY.match(char_view(value)) or any(
                p.match(r.view, r.body) for p, _ in w.LOG_EVENT
            ):
                # "whatsapp w jason, the go-live moved to feb": a time, or news told in a
                # call or chat, is no move of the customer.
                return None
        elif rename is not None:
            if rename == "zrename" and (
                any(p.search(r.view, r.body, m.start()) for p, _ in w.LOG_EVENT)
                or re.search(r"提到|说|表示|讲|话|计划|打算|准备|考虑", r.view[r.body : m.start()])
            ):
                # "跟 Initech 开会，他们提到要改名成 Initech Holdings": news told in a meeting.
                return None
            name, value = "name", r.cut(m.start(rename), m.end(rename))
            # A closing particle is no part of the new name ("改名叫 X 了", "X 啦").
            value = re.sub(r"\s*(?:了|啦|喇|咯|喔|哦|呀)$", "", value)
        else:
            g = next(x for x in ("value", "zvalue", "zvalue2") if m.group(x))
            name = w.CUSTOMER_FIELDS[m.group("field") or m.group("zfield") or m.group("zfield2")]
            value = r.cut(m.start(g), m.end(g))
            # What follows a question or exclamation mark is another sentence ("... city to
            # North York? They moved their office").
            value, *asked = re.split(r"\s*([?？])", value, maxsplit=1)
            value = re.split(r"\s*[!！]\s+", value)[0]
            asked = asked or [re.match(r"\s*(?:吧|啦|喇|喔|哦|呀)?\s*[?？]", r.view[m.end(g) :])]
            if any(asked) and not r.polite:
                return "edit customer"  # "大館改城市做中環？唔係啩": asked, not asked for
        # "…改成高雄市旗津区，可以帮手吗？": the favour asked after it is no part of the value.
        value = w.TAG_REQUEST.sub("", value)
        value = value.strip(" 。\"'“”")
        if not re.search(r"\b(?:co|inc|ltd|corp|llc)\.$|\.\w+\.$", value, re.I):
            # A legal form keeps its dot ("Torres Retail Co.", "Carter S.p.A.", "Rossi B.V.").
            value = value.rstrip(".")
        if not value or char_view(value) in w.STAGE_WORDS:
            return None
        shown = [("customer", _customer_label(customer)), (name, value)]
        return Proposal(self.verb("edit customer"), {"customer": customer.id, name: value}, shown)

    def _tag(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A tag added to a customer ("tag Driftwood as at-risk", "华东物流加个标签 vip"): the
        customer's tags with the new one, so none is lost."""
        every = w.TAGS_SET.search(r.view, r.body)
        if every is not None and (
            # "tags to" only after set/change ("set acme's tags to fleet"): "they asked what
            # tags to use" sets none; nor does a call or visit told.
            (
                every.group("to")
                and not re.search(
                    r"\b(?:set|change|changed|update|updated)\b", r.view[r.body : every.start()]
                )
            )
            or any(p.search(r.view, r.body) for p, _ in w.LOG_EVENT)
        ):
            every = None
        if every is not None:
            if self._refused(r, every.start()):
                return "edit customer"
            named = self._customer(ctx, r, required=False, within=(r.body, every.start()))
            if not isinstance(named, Customer):
                return None
            said = [
                _tag_said(t) for t in re.split(r"[,，、/]|\band\b|和", r.cut(every.start("tags")))
            ]
            listed = ", ".join(t for t in said if t)
            if not listed:
                return None
            shown = [("customer", _customer_label(named)), ("tags", listed)]
            return Proposal(
                self.verb("edit customer"), {"customer": named.id, "tags": listed}, shown
            )
        m = w.TAG_CUE.search(r.view, r.body)
        if m is None:
            return None
        g = next(n for n in ("tag", "tag2", "ztag", "ztag2", "ztag3", "tag4") if m.group(n))
        tag = _tag_said(r.cut(m.start(g), m.end(g)))
        if not tag or char_view(tag) in w.STAGE_WORDS:
            return None  # "mark the acme deal as won" is a move
        if self._refused(r, m.start()):
            return "edit customer"
        customer = self._customer(ctx, r, required=True, within=(r.body, m.start(g)))
        if isinstance(customer, Unsure):
            return customer
        assert customer is not None
        tags = list(customer.tags or [])
        said = [tag]
        if m.group("tagb"):
            said.append(_tag_said(r.cut(m.start("tagb"), m.end("tagb"))))
        new = [x for x in said if x and x.casefold() not in (t.casefold() for t in tags)]
        if not new:
            return Unsure("loose.already_tagged", {"customer": customer.name, "tag": tag})
        tags += list(dict.fromkeys(new))
        shown = [("customer", _customer_label(customer)), ("tags", ", ".join(tags))]
        return Proposal(
            self.verb("edit customer"), {"customer": customer.id, "tags": ", ".join(tags)}, shown
        )

    def _delete_deal(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        m = w.DELETE_DEAL_CUE.search(r.view, r.body)
        if m is None:
            return None
        if w.PUT_SOMEWHERE.search(r.view, m.start()):
            # "drop the falcon deal to pipeline for the forecast": dropped *into* a category or
            # stage is a putting, never a deletion.
            return None
        # The reason after it is no part of the name ("..., it's a duplicate of the X one").
        sep = _SEPARATOR.search(r.view, m.end("bare") if m.group("bare") else r.body)
        end = sep.start() if sep is not None and sep.start() > m.start() else len(r.view)
        if m.group("bare"):
            if (
                r.view.startswith("了", m.end("bare"))
                or w.ZH_DONE_BEFORE.search(r.view, r.body, m.start())
                or re.search(r"说|要求|表示|提到", r.view[r.body : m.start()])
            ):
                # "我删除了…", "上周已经删除…", "青岛联创说要删除…": done, or someone's words.
                return None
            named = self._customer(ctx, r, required=False, within=(r.body, end))
            if not isinstance(named, Customer):
                return None
            top = _one(find_deals(ctx, r.text[r.body : end], customer_id=named.id))
            rest = r.view[r.body + top.end : end] if top is not None else ""
            title = char_view(top.label) if top is not None else ""
            while (word := re.match(r"\s*([a-z0-9]+)", rest)) and word.group(1) in title:
                rest = rest[word.end() :]  # the rest of the title's own words
            if (
                top is None
                or not (top.weight >= 2 or not top.label.isascii())
                # The title ends the request ("删掉日升咖啡机采购的折扣" deletes no deal).
                or not re.fullmatch(
                    r"[\s的]*(?:那笔|这笔|那单|这单|那个|这个|商机|项目|单子|吧|了|掉|一下|\s)*[!！。.]*",
                    rest,
                )
            ):
                return None  # a customer's deal not named by its title: nothing to delete
        if self._refused(r, m.start()):
            return "delete deal"
        customer = self._customer(ctx, r, required=False, within=(r.body, end))
        if isinstance(customer, Unsure):
            return customer
        deal = self._deal(ctx, r, customer, None, within=(r.body, end))
        if isinstance(deal, Unsure):
            return deal
        if deal is None:
            return Unsure("loose.which_deal_edit", verbs=("delete deal",))
        return Proposal(self.verb("delete deal"), {"deal": deal.id}, [("deal", _deal_label(deal))])

    def _link_code(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A link code for one colleague, named by handle, first name or Chinese name."""
        cue = w.LINK_CODE_CUE.search(r.view, r.body)
        if cue is None or ctx.actor.role != Role.admin:
            return None  # only an admin makes one: the grammar's refusal says so
        if self._refused(r, cue.start()):
            return "link code"
        users = {u.id for u in find_users(ctx, r.text) if u.exact}
        for at in range(r.body, len(r.view)):
            if (zh := user_by_chinese_name(ctx, r.view[at:])) is not None:
                users.add(zh[0].id)
        if not users:
            # "雅慧Q1指标", "小于的指标": a name in characters read as a romanized one.
            users = {u.id for u in find_users_by_sound(ctx, r.text)}
        if not users and w.MY_OWN.search(r.view, r.body):
            users = {ctx.actor.id}
        if len(users) != 1:
            return None
        handle = _handle(ctx, users.pop())
        return Proposal(self.verb("link code"), {"user": handle}, [("user", handle)])

    def _quota(self, ctx: Ctx, r: _Reading) -> Outcome | str | None:
        """A rep's quota for a quarter: `quota @dave 2027-Q1 400000`."""
        cue = w.QUOTA_CUE.search(r.view, r.body)
        quarter = w.QUARTER.search(r.view, r.body)
        if cue is None or quarter is None:
            return None
        amount = _amount(r, r.body)
        if amount is None or not (quarter.end() <= amount[1][0] or amount[1][1] <= quarter.start()):
            return None
        if self._refused(r, cue.start()) or w.WAS_BEFORE_AMOUNT.search(
            r.view, min(cue.end(), quarter.end()), amount[1][0]
        ):
            # "alice's quota for 2027-Q1 was 400k last year": what it was, not what to set.
            return "quota"
        if cue.group(0).startswith("number") and (
            not (w.NUMBER_SET.search(r.view, r.body) or re.match(r"\s*[:：=]", r.view[cue.end() :]))
            or w.NUMBER_TOLD.search(r.view, r.body)
        ):
            return None
        if w.QUOTA_NOT_SET.search(r.view, cue.end()):
            return "quota"
        users = {u.id for u in find_users(ctx, r.text) if u.exact}
        if not users and w.MY_OWN.search(r.view, r.body):
            users = {ctx.actor.id}
        if not users:
            # "雅慧Q1指标", "小于的指标": a name in characters read as a romanized one, where a
            # name stands ("别小于300万" is "not less than", "小雨下了一天" is rain).
            users = {
                u.id
                for u in find_users_by_sound(ctx, r.text)
                if w.SOUND_NAME_BEFORE.search(r.view[r.body : u.start])
                and w.SOUND_NAME_AFTER.match(r.view, u.end)
            }
        if len(users) != 1:
            return None
        today = ctx.now().astimezone(ctx.tz).date()
        now_q = (today.month - 1) // 3 + 1
        said_q = quarter.group("q") or quarter.group("zq")
        ordinal = quarter.group("ord")
        next_year = w.NEXT_YEAR.search(r.view, max(r.body, quarter.start() - 8), quarter.end() + 12)
        period = None
        if (
            quarter.group("zyear") is not None
            or "全年" in quarter.group(0)
            or "year" in (quarter.group(0))
        ):
            # A year's quota: "zhou 明年全年指标 八百万人民币", "full year 2027".
            said_y = quarter.group("y4")
            year = int(said_y) if said_y else today.year + (1 if next_year else 0)
            period = str(year)
        elif said_q or ordinal:
            if ordinal:
                q = (
                    ("first", "second", "third", "fourth").index(ordinal) + 1
                    if ordinal[0].isalpha()
                    else int(ordinal[0])
                )
            else:
                q = int(said_q) if said_q.isdigit() else "一二三四".index(said_q) + 1
            said_y = (
                quarter.group("y1")
                or quarter.group("y2")
                or quarter.group("zy")
                or quarter.group("y3")
            )
            if said_y:
                year = int(said_y)
            elif next_year:
                year = today.year + 1
            else:
                year = today.year + (1 if q < now_q else 0)
        else:
            ahead = (quarter.group("rel") or "") == "next" or (quarter.group("zrel") or "")[
                :1
            ] == "下"
            q, year = now_q + ahead, today.year
            if q > 4:
                q, year = 1, year + 1
        (value, currency), _ = amount
        handle = _handle(ctx, users.pop())
        if period is None:
            period = f"{year}-Q{q}"
        values: dict[str, Value] = {
            "user": handle,
            "period": period,
            # No currency said: none written, as a person types it (the verb's own default).
            "amount": (value, currency) if currency else value,
        }
        shown = [
            ("user", handle),
            ("period", period),
            (
                "amount",
                fmt.money(value, currency or ctx.default_currency, Translator(ctx.actor.locale)),
            ),
        ]
        return Proposal(self.verb("quota"), values, shown)

    # -- reads ---------------------------------------------------------------------------------

    def _read(self, ctx: Ctx, r: _Reading) -> Outcome | None:
        try:
            return self._read_named(ctx, r)
        except _SharedName as exc:
            # "Quarry?", "deals for allen?", "幫我查 Allen": several customers share the word
            # typed, so nothing tells which is meant; the search lists them all (a read). A
            # grammar write typed with courtesy ("merge Beacon Express into Beacon ...") keeps
            # its question.
            line = self.registry.match(r.cut(r.body))
            if line is not None and writes(*line):
                raise
            return Proposal(self.verb("find"), {"words": exc.query})

    def _read_named(self, ctx: Ctx, r: _Reading) -> Outcome | None:
        view = r.view
        if w.CONTACT_FIELD_CUE.search(view) or (r.question and w.WHO_IS.search(view)):
            # "Lisa King's number?", "who's Aisha Perez", "Harris 那边的 Kathleen 是干嘛的": a
            # search for the person, whose line shows their title, phone and email.
            people = find_contacts(ctx, r.text)
            contact = _one(people)
            if contact is not None and contact.owner_id is not None:
                return Proposal(self.verb("find"), {"words": r.cut(contact.start, contact.end)})
            tied = [p for p in people if people and p.weight == people[0].weight]
            named = {m.id for m in find_customers(ctx, r.text) if m.exact}
            if (
                len({(p.start, p.end) for p in tied}) == 1
                and len(tied) > 1
                # "青岛联创林总": the customer named tells the two apart.
                and len([p for p in tied if p.owner_id in named]) != 1
            ):
                # Two people by the words typed ("who's Jessica Scott again", "林总的电话是多少"):
                # the search lists both; a surname said with a title is searched by the surname.
                start, end = tied[0].start, tied[0].end
                title = _ZH_TITLE_END.search(r.view, start, end)
                said = r.cut(start, title.start() if title and title.start() > start else end)
                return Proposal(self.verb("find"), {"words": said})
        for pattern, name in w.READ_CUES:
            if not pattern.search(view):
                continue
            if name in ("win rate", "forecast", "funnel", "report", "chart"):
                return self._report(r, name)
            if name in ("pipeline", "deals", "history"):
                customer = self._customer(ctx, r, required=False, within=(r.body, len(view)))
                if isinstance(customer, Customer) and name == "history":
                    # "who changed the acme ERP deal?", "车队管理系统采购这单谁改过金额": the deal's
                    # history when the sentence names one of the customer's deals.
                    top = _one(find_deals(ctx, r.text, customer_id=customer.id))
                    if top is not None and (
                        _DEAL_WORD.search(view)
                        or top.weight >= 2
                        or not r.text[top.start : top.end].isascii()
                    ):
                        return Proposal(
                            self.verb("history"), {"record": "deal", "customer": top.id}
                        )
                if isinstance(customer, Customer):
                    verb = "history" if name == "history" else "deals"
                    return Proposal(self.verb(verb), {"customer": customer.id})
                if name == "history" and customer is None:
                    deal = self._deal(ctx, r, None, None, within=(r.body, len(view)))
                    if isinstance(deal, Deal):
                        return Proposal(
                            self.verb("history"), {"record": "deal", "customer": deal.id}
                        )
                if name == "history":
                    continue
                return Proposal(self.verb(name), {})
            if name == "customers":
                page = re.search(r"\bpage\s*(\d+)|第\s*(\d+|[一二三四五六七八九十]+)\s*页", view)
                if page:
                    n = page.group(1) or page.group(2)
                    return Proposal(
                        self.verb(name), {"page": int(n) if n.isdigit() else _cn_int(n)}
                    )
            return Proposal(self.verb(name), {})
        found = w.FIND_CUE.match(view, r.body)
        if (
            found is not None
            and found.group("words")
            and w.THEN_WRITE.search(view, found.start("words"))
        ):
            # "look up ken grand, barista training is won": a write after the look-up is not
            # words to search for.
            return None
        if found is not None:
            g = "words" if found.group("words") else "zwords"
            return Proposal(self.verb("find"), {"words": r.cut(found.start(g), found.end(g))})
        customer = self._customer(ctx, r, required=False, within=(r.body, len(view)))
        if isinstance(customer, Customer) and _DEAL_WORD.search(view) and w.SHOW_CUE.search(view):
            deal = self._deal(ctx, r, customer, None, within=(r.body, len(view)))
            if isinstance(deal, Deal):
                return Proposal(self.verb("deal"), {"deal": deal.id})
        if isinstance(customer, Customer) and w.DEAL_READ_CUE.search(view):
            # "whats the status of the copper creek dallas fleet tracking", "X 那个单子现在什么
            # 阶段": one of the customer's deals named by its title is the deal's card.
            top = _one(find_deals(ctx, r.text, customer_id=customer.id))
            if top is None and _DEAL_WORD.search(view):
                # "carol 的 Falcon deal 现在什么 stage": the customer's one deal, or a question.
                deal = self._deal(ctx, r, customer, None, within=(r.body, len(view)))
                if isinstance(deal, Deal):
                    return Proposal(self.verb("deal"), {"deal": deal.id})
            if top is not None and (
                _DEAL_WORD.search(view)
                or top.weight >= 2
                or (not r.text[top.start : top.end].isascii() and top.weight >= 1)
            ):
                return Proposal(self.verb("deal"), {"deal": top.id})
        if customer is None and r.question:
            # A question about what a contact said ("did Olga say anything about budget?")
            # searches their customer's notes.
            people = find_contacts(ctx, r.text)
            owners = {p.owner_id for p in people if p.weight == people[0].weight}
            if len(owners) == 1 and (owner := owners.pop()) is not None:
                customer = ctx.session.get(Customer, owner)
        if isinstance(customer, Customer):
            if r.question and not w.SHOW_CUE.search(view) and not w.STATUS_CUE.search(view):
                question = r.cut(r.body)
                return Proposal(self.verb("ask"), {"customer": customer.id, "question": question})
            return Proposal(self.verb("customer"), {"customer": customer.id})
        return None

    def _report(self, r: _Reading, name: str) -> Proposal:
        values: dict[str, Value] = {}
        verb = self.verb(name)
        names = {a.name for a in verb.args}
        if name in ("report", "chart"):
            # Which report or chart: the words name it ("activity", "funnel", "赢单率").
            kinds = (
                ("win rate", r"\bwin[\s-]*rate\b|赢单率|胜率|赢得最多"),
                ("funnel", r"\bfunnel\b|漏斗"),
                ("forecast", r"\bforecast\b|预测"),
                ("activity", r"\bactivit(?:y|ies)\b|活动|记录得?最多"),
                ("cycle", r"\bhow\s+long\b|\bcycle\b|周期"),
            )
            choices = next(a.choices for a in verb.args if a.name in ("report", "chart"))
            said = next(
                (k for k, pattern in kinds if k in choices and re.search(pattern, r.view)), None
            )
            if said is None:
                return Proposal(verb, {})
            values[name] = said
        by = w.BY.search(r.view)
        if values.get(name) in ("funnel", "activity", "forecast", "tickets"):
            names.discard("by")  # these are not grouped: the report itself, not an error
        if by and "by" in names:
            values["by"] = by.group("by") or w.BY_ZH[by.group("zh") or by.group("zh2")]
        elif "by" in names and (
            w.BY_REP.search(r.view)
            or (
                values.get("report") == "cycle"
                and re.search(r"\b(?:who|team|everyone|our)\b|所有人|团队|我们|大家", r.view)
            )
        ):
            # "who on the team logged the most activity", "everyone's win rate": per rep.
            values["by"] = "rep"
        period = w.PERIOD.search(r.view)
        if period and "period" in names:
            values["period"] = w.PERIOD_WORDS.get(period.group(0), period.group(0))
        currency = re.search(r"\bin\s+(usd|eur|gbp|cny|jpy|sgd|aud|sek)\b", r.view)
        if currency and "currency" in names:
            values["currency"] = currency.group(1).upper()
        return Proposal(verb, values)

    # -- records -------------------------------------------------------------------------------

    def _customer(
        self,
        ctx: Ctx,
        r: _Reading,
        *,
        required: bool,
        within: tuple[int, int],
        contacts: bool = False,
    ) -> Customer | Unsure | None:
        """The one visible customer the sentence names; a question when it is not sure."""
        picked = ctx.picks.pop("customer", None)
        if picked is not None:
            chosen = ctx.session.scalar(
                select(Customer).where(Customer.id == picked, customer_filter(ctx.actor))
            )
            if chosen is None and required:
                # A pick of a record the person may not see reads like one that never existed.
                return Unsure("loose.which_customer", verbs=("customers", "find"))
            return chosen
        found = [m for m in find_customers(ctx, r.text) if within[0] <= m.start < within[1]]
        if not found and contacts:
            people = find_contacts(ctx, r.text[within[0] : within[1]])
            # The best-named people only: "Jessica Scott" is not also every other Scott.
            people = [p for p in people if p.weight == people[0].weight]
            owners = {p.owner_id for p in people if p.owner_id is not None}
            if len(owners) == 1:
                owner = ctx.session.get(Customer, owners.pop())
                said = r.text[within[0] : within[1]]
                if owner is not None and _names_another_company(said, owner):
                    # "Jennifer at Jetstream" when no Jetstream is visible: the person's own
                    # customer is not the one typed; asked, like a customer that is missing.
                    return Unsure("loose.which_customer", verbs=("customers", "find"))
                return owner
            if len(owners) > 1:
                raise Ambiguous("customer", people[0].label, _cands_customers(ctx, owners))
        if not found and required:
            gone = _archived_named(ctx, r.text[within[0] : within[1]])
            if gone is not None:
                # "open a deal for Zeta" when Zeta is archived: say so and how to bring it back,
                # as the grammar line does, rather than ask for a customer that is right there.
                raise Invalid("error.customer_archived", name=gone.name, id=gone.id)
        if not found:
            return Unsure("loose.which_customer", verbs=("customers", "find")) if required else None
        top = found[0]
        same = [m for m in found if m.weight == top.weight and m.exact == top.exact]
        if len(same) > 1 and top.exact:
            # Two customers share the words ("allen"): the one whose deal, contact or city the
            # sentence also names is meant; when none or several fit, it is asked.
            told = _told_apart(ctx, r, [m.id for m in same], (top.start, top.end))
            if told is not None:
                return told
        if len(same) > 1 and top.exact:
            raise _SharedName(
                "customer", r.cut(top.start, top.end), [Candidate(m.id, m.label) for m in same[:8]]
            )
        if len(same) > 1 or not top.exact:
            typed = r.cut(top.start, top.end)
            raise Ambiguous(
                "customer",
                typed,
                [Candidate(m.id, m.label) for m in (same if top.exact else found)[:8]],
            )
        chosen = ctx.session.get(Customer, top.id)
        if chosen is not None and _names_another_customer(r, chosen, top):
            # "鹭岛银行的年会" when only 汉口银行 is visible: the words said are another
            # customer's name, one the person cannot find (or see); asked like a missing one,
            # never taken as their own customer that shares a word of it.
            return Unsure("loose.which_customer", verbs=("customers", "find"))
        return chosen

    def _deal(
        self,
        ctx: Ctx,
        r: _Reading,
        customer: Customer | Unsure | None,
        open_names: list[str] | None,
        *,
        within: tuple[int, int],
    ) -> Deal | Unsure | None:
        """The one deal the sentence names (of the named customer), or a question."""
        picked = ctx.picks.pop("deal", None)
        if picked is not None:
            return ctx.session.scalar(
                select(Deal)
                .join(Customer, Customer.id == Deal.customer_id)
                .where(Deal.id == picked, customer_filter(ctx.actor))
            )
        cust = customer if isinstance(customer, Customer) else None
        text = r.text[within[0] : within[1]]
        found = find_deals(ctx, text, customer_id=cust.id if cust else None, open_stages=open_names)
        if cust is None:
            # With no customer named, one shared word ("车队", "renewal") is not enough: a
            # deal of a customer the person cannot see must not turn into one they can.
            found = [m for m in found if m.weight >= 2]
        if found and cust is None and found[0].exact:
            top = found[0]
            lead = _LEAD_WORD.search(r.view, within[0], within[0] + top.start)
            if lead is not None and lead.group(1) not in _LEAD_OK:
                # "the globex route upgrade" with no Globex visible: a word before the title that
                # names nothing may be a customer the person cannot find (or see); its deal is
                # asked, never taken as the deal of that title at one of their own customers
                # (and answered alike whether that customer is missing or hidden).
                raise Ambiguous(
                    "deal",
                    r.cut(lead.start(1), top.end + within[0]),
                    [Candidate(m.id, m.label) for m in found[:8]],
                )
        if found:
            top = found[0]
            same = [m for m in found if m.weight == top.weight]
            # With no customer named, a deal is taken only by its whole title; a part of
            # one ("the inventory API deal") is asked, even when one deal fits.
            if len(same) == 1 and (cust is not None or top.exact):
                return ctx.session.get(Deal, top.id)
            raise Ambiguous(
                "deal",
                r.cut(top.start + within[0], top.end + within[0]),
                [Candidate(m.id, m.label) for m in same[:8]],
            )
        if cust is None:
            return None
        stmt = select(Deal).where(Deal.customer_id == cust.id)
        if open_names is not None:
            stmt = stmt.where(Deal.stage.in_(open_names))
        deals = ctx.session.scalars(stmt.order_by(Deal.id)).all()
        if len(deals) == 1:
            return deals[0]
        if not deals:
            return Unsure("loose.no_open_deal", {"customer": cust.name}, ("deals",))
        raise Ambiguous(
            "deal",
            cust.name,
            [Candidate(d.id, f"{d.title} ({cust.name})", d.stage) for d in deals[:8]],
        )


# -- helpers --------------------------------------------------------------------------------

# The Latin word right before a deal's title, and the words that may stand there without naming
# anything else (a verb, an article, "for", "deal").
_LEAD_WORD = re.compile(r"([a-z0-9][a-z0-9'’&-]*)\s*$")
_LEAD_OK = frozenset((
    "the", "a", "an", "our", "my", "this", "that", "these", "those", "his", "her", "their",
    "its", "put", "move", "mark", "set", "stick", "drop", "push", "bump", "slot", "flag", "tag",
    "change", "update", "edit", "for", "on", "of", "and", "so", "please", "pls", "plz", "it",
    "to", "in", "into", "delete", "remove", "close", "won", "lost", "log", "re", "about", "with",
    "from", "at", "now", "then", "also", "just", "ok", "okay", "yes", "yep", "pop", "chuck",
    "bang", "call", "kindly", "can", "you", "could", "would",
))  # fmt: skip

# A colleague's name then a moving verb in the past: "carol moved X to negotiation".
_DONE_BY = re.compile(r"\b([a-z][a-z'’-]+)\s+(?:moved|pushed|put|marked|bumped)\b")
_SAID_BY = re.compile(r"[:：,，]|\s[-–—]\s")


# The fields a "keep ..." clause may name, by the word the grammar writes them with.
_KEPT_FIELDS = (
    ("close", re.compile(r"\b(?:close|closing|date|deadline)\b|日期|结案日|成交日|截止|预计")),
    ("amount", re.compile(r"\b(?:amount|value|price|size|total)\b|金额|价格|价钱|数额|报价|总价")),
    ("stage", re.compile(r"\bstage\b|阶段")),
    ("title", re.compile(r"\b(?:title|role|job|position)\b|职位|职务|职称|标题|头衔")),
    ("name", re.compile(r"\bname\b|名字|姓名|名称")),
    ("email", re.compile(r"\be-?mail\b|邮箱|电邮|邮件地址")),
    ("phone", re.compile(r"\b(?:phone|number|mobile|cell)\b|电话|手机|号码")),
    ("owner", re.compile(r"\bowner\b|负责人")),
    ("city", re.compile(r"\b(?:city|address)\b|城市|地址")),
    ("industry", re.compile(r"\bindustry\b|行业")),
    ("tags", re.compile(r"\btags?\b|标签")),
)
_KEEP_CLAUSE = re.compile(r"[,，;；.。!！?？\n]|\s[-–—]\s")


def _kept_apart(r: _Reading, held: re.Match[str]) -> frozenset[str] | None:
    """The fields a "keep"/"don't change" clause names when it follows a clause of its own
    ("move X to won. keep the old close date", "改电话…，邮箱保留"); None when it stands first
    or names no field ("keep it as is": the whole write is refused)."""
    start = max((m.end() for m in _KEEP_CLAUSE.finditer(r.view, r.body, held.start())), default=-1)
    if start < 0 or not r.view[r.body : start].strip(" ,，;；.。!！?？\n-–—"):
        return None
    end_at = _KEEP_CLAUSE.search(r.view, held.end())
    clause = r.view[start : end_at.start() if end_at else len(r.view)]
    named = frozenset(name for name, pattern in _KEPT_FIELDS if pattern.search(clause))
    return named or None


def _changed_fields(found: Proposal) -> frozenset[str]:
    """The fields a proposed write changes, as `_KEPT_FIELDS` names them (a move: the stage;
    an edit: the field words of its line)."""
    verb = found.verb.name
    if verb == "move":
        return frozenset({"stage"})
    if verb == "forecast":
        return frozenset({"forecast"})
    if verb not in ("edit deal", "edit contact", "edit customer"):
        return frozenset()
    _, _, parts = found.command.partition(":")
    return frozenset(
        word for part in parts.split(",") if (word := part.strip().split(" ", 1)[0].lower())
    )


# A command in backticks inside a sentence ("mikko wrote `remind me …` in the wiki") is shown,
# not typed.
_QUOTES = (('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("`", "`"))


# Words in single quotes ("i keep typing 'new contact'", "ben texted 'pls cancel tuesday'"):
# the quote opens after a blank or a mark and closes before one, so an apostrophe ("don't",
# "Northshore's") is never one.
_SINGLE_QUOTED = re.compile(
    r"(?:^|(?<=[\s(\[:：,，]))['‘][^'‘’\n]{1,60}?['’](?=[\s.,，;:!?)\]—–-]|$)"
)


def _quoted(r: _Reading, at: int) -> bool:
    """Whether `at` lies inside quotation marks ("…", “…”, 「…」, '…') closed after it."""
    for opening, closing in _QUOTES:
        before = r.view[:at]
        if opening == closing:
            if before.count(opening) % 2 == 1 and opening in r.view[at:]:
                return True
        elif before.rfind(opening) > before.rfind(closing) and closing in r.view[at:]:
            return True
    return any(m.start() < at < m.end() for m in _SINGLE_QUOTED.finditer(r.view))


def _verb_refused(r: _Reading, verb: str) -> bool:
    """Whether the message refuses the write `verb` in words ("dont move it"), outside an
    explicit log's note."""
    return any(
        verb.split()[0] in w.REFUSED_VERBS[m.group("verb")]
        for m in w.REFUSED_VERB.finditer(r.view, r.body, r.note_at)
    )


# The first word of a message and what follows it: "雅琴 你1号提醒…", "Keisha, your …".
_LEAD_NAME = re.compile(r"\s*([^\s,，:：;；.。!！?？]{2,20})(?:\s*[,，:：]\s*|\s+)")
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|u|ur)\b|你|您")


def _named_colleague_first(ctx: Ctx, r: _Reading) -> bool:
    """Whether the message opens by naming a colleague (handle, first name, full name, or a
    Chinese given name) and then speaks to "you": said to them, as "@name ..." is. A name said
    again after it ("Hello Rohan, ... please set Rohan's quiet hours") is talked about: the
    greeting is a courtesy and the request is the bot's."""
    lead = _LEAD_NAME.match(r.view, r.body)
    if lead is None or not _SECOND_PERSON.search(r.view, lead.end()):
        return False
    said = lead.group(1).lstrip("@")
    if re.search(rf"(?<![a-z]){re.escape(said)}(?![a-z])", r.view[lead.end() :]):
        return False
    for user in ctx.session.scalars(select(User).where(User.active.is_(True))):
        if user.id == ctx.actor.id:
            continue
        full = char_view(user.name).replace(" ", "")
        names = {(user.external_id or "").casefold(), char_view(user.name).split()[0], full}
        if re.fullmatch(r"[\u4e00-\u9fff]{3,4}", full):
            names.add(full[-2:])  # 陈雅琴 is 雅琴 to her colleagues
        if said in names - {""}:
            return True
    return False


def _speaker_before(ctx: Ctx, r: _Reading, at: int) -> bool:
    """A colleague's or a contact's name then ':' (or a comma, a dash) in the clause before `at`:
    their words reported ("bob: put it in commit", "高磊：X 预测放 commit")."""
    pieces = _SAID_BY.split(r.text[r.body : at])[:-1]  # each piece is followed by a separator
    for piece in pieces:
        name = piece.strip()
        if not name or len(name.split()) > 3 or len(name) > 24:
            continue
        for found in (find_users(ctx, name), find_contacts(ctx, name)):
            if any(f.exact and f.start == 0 and f.end >= len(name) - 1 for f in found):
                return True
    return False


# Verbs whose line names one record and nothing else: a reason typed after it is no part of it.
_ONE_RECORD = frozenset(
    {
        "archive",
        "unarchive",
        "undo",
        "undo edit",
        "undo deal edit",
        "done",
        "cancel",
        "link code",
        # Two customers, but named apart by "into": "merge X into Y, same client twice".
        "merge",
    }
)


def _time_phrase(ctx: Ctx, said: str) -> Any:
    """The time phrase in `said`, or None; a number past any calendar ("in 69890793 hours")
    is no time here (the grammar's own reading says which years it takes)."""
    try:
        return read_time_phrase(said, ctx.now(), ctx.tz, day_first=ctx.day_first)
    except (OverflowError, ValueError):
        return None


# Words after "at" / "from" that say when or where, not which company.
_NOT_A_COMPANY = re.compile(
    r"(?:the|an?|his|her|their|our|my|your|its|this|that|last|next|first|least|all|around|about|"
    r"home|office|work|lunch|dinner|breakfast|noon|night|midnight|morning|evening|afternoon|"
    r"once|length|end|start|beginning|top|bottom|trade|expo|conference|booth|hq|site|"
    r"mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|"
    r"sun(?:day)?|today|tomorrow|tmrw|tonight|yesterday)"
)
_AT_COMPANY = re.compile(
    r"(?:\bat|\bfrom|@|^\s*for\b|\b(?:visit|call|meeting|email|note)\s+for)"
    r"\s*([A-Za-z][\w&.'-]*)",
    re.I,
)


# The CJK run a customer's name is said in, and the characters that end it on its left (a verb
# or a pronoun before the name, never a part of it).
_CJK_RUN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ebef]+$")
_CJK_LEAD_STOPS = frozenset(
    "把将帮给跟和同与替说我你他她们请麻烦呢吧啊了咗嘅今昨明前后天日周週月年早晚刚已经再又还也都就才"
    "改推移搬放转见约打问催签看查找搜示列下"
)
# Capitalised Latin words after a part of a name, up to the mark of a name owning a deal:
# " Bank's".
_LATIN_TAIL = re.compile(r"((?:[ \t-]+[A-Z][A-Za-z0-9&]*){1,3}?)(?:['’]s?\b|\s+deal\b)")
# What follows a name said as the owner of a deal: "X的…", "X嗰單", "X's …", "X deal".
_OWNER_MARK = re.compile(r"(?:的|嗰|\U00020bb6|嘅|个|那边|这边|单|\s*['’]s\b|\s+deal\b)")


def _names_another_customer(r: _Reading, customer: Customer, top: Mention) -> bool:
    """True when a part of `customer`'s name is said inside a longer name owning a deal
    ("鹭岛银行的年会", "Pelican Bank's gala") whose other words are none of `customer`'s."""
    if top.whole:
        return False
    names = [char_view(n) for n in (customer.name, *(customer.tags or []))]
    key = " ".join(names)
    tail = _LATIN_TAIL.match(r.text, top.end)
    if tail is not None:
        # "Pelican Bank's gala" when Pelican Logistics is the one visible: the capitalised
        # words after the name said belong to another name unless they are its own or its
        # deals' words.
        own = set(re.findall(r"[a-z0-9'’&-]+", key))
        for deal in customer.deals:
            own.update(re.findall(r"[a-z0-9'’&-]+", char_view(deal.title)))
        said = re.findall(r"[a-z0-9&]+", char_view(tail.group(1)))
        return any(word not in own for word in said)
    if not _OWNER_MARK.match(r.view, top.end) or any(
        name.startswith(r.view[top.start : top.end]) for name in names
    ):
        # Only a part said from inside the name ("银行" of 汉口银行信用卡中心) may be the
        # end of another name; its start or a tag said is this customer.
        return False
    before = r.view[r.body : top.start]
    run = _CJK_RUN.search(before)
    if run is not None:
        lead = run.group()
        cut = max((i for i, ch in enumerate(lead) if ch in _CJK_LEAD_STOPS), default=-1)
        lead = lead[cut + 1 :]
        return len(lead) >= 2 and any(ch not in key for ch in lead)
    word = _LEAD_WORD.search(before)
    return (
        word is not None
        and word.group(1) not in _LEAD_OK
        and word.group(1) not in re.findall(r"[a-z0-9'’&-]+", key)
    )


def _names_another_company(text: str, customer: Customer) -> bool:
    """Whether `text` names a company after "at" / "from" / "@" whose first word is not in the
    customer's name ("jennifer gonzalez at jetstream" for a Jennifer Gonzalez at Northwind)."""
    words = set(re.findall(r"[a-z0-9]+", customer.name.lower()))
    for m in _AT_COMPANY.finditer(text):
        first = m.group(1).lower().strip(".'-")
        if first and first not in words and not _NOT_A_COMPANY.fullmatch(first):
            return True
    return False


def _told_apart(ctx: Ctx, r: _Reading, ids: list[int], named: tuple[int, int]) -> Customer | None:
    """The one of several same-named customers the rest of the sentence points at: by one of
    its deals' title words, one of its contacts, or its city; None when that is not one."""
    rest = r.text[: named[0]] + " " * (named[1] - named[0]) + r.text[named[1] :]
    view = char_view(rest)
    scores: dict[int, float] = {}
    for cid in ids:
        customer = ctx.session.get(Customer, cid)
        if customer is None:
            continue
        deals = find_deals(ctx, rest, customer_id=cid)
        score = deals[0].weight if deals else 0.0
        if find_contacts(ctx, rest, customer_id=cid):
            score += 2
        city = char_view(customer.city or "").strip()
        if len(city) >= 2 and re.search(rf"(?<![a-z]){re.escape(city)}(?![a-z])", view):
            score += 2
        scores[cid] = score
    best = max(scores.values(), default=0.0)
    winners = [cid for cid, score in scores.items() if score == best]
    if best <= 0 or len(winners) != 1:
        return None
    return ctx.session.get(Customer, winners[0])


def _implied(r: _Reading, span: tuple[int, int]) -> bool:
    """Whether the stage at `span` is only implied by its words ("quote went out")."""
    return any(
        m is not None and span in (m.span(g) for g in ("stage", "s2", "s3") if m.groupdict().get(g))
        for m in (p.search(r.view, r.body) for p, _ in w.IMPLIED_STAGE)
    )


_IMPLIED_CLAUSE = re.compile(r"[,，.!?;；。！？\n]|\s[-–—]\s")


def _implied_doubted(r: _Reading, span: tuple[int, int], lost: bool) -> bool:
    """Whether a stage only implied at `span` is hedged, conditional, asked, undone by what
    follows, or said of an event rather than the deal ("nearly in the bag", "demo is off")."""
    view = r.view
    start = max((m.end() for m in _IMPLIED_CLAUSE.finditer(view, r.body, span[0])), default=r.body)
    before = view[start : span[0]]
    if w.IMPLIED_HEDGE.search(before) or w.IMPLIED_AFTER.search(view[span[1] :]):
        return True
    if lost:
        return bool(w.EVENT_CALLED_OFF.search(before))
    # "quote went out, but they want changes": a lost reason may hold a "but", a step forward
    # with one is a remark.
    return bool(w.IMPLIED_UNDONE.search(view, span[1]))


def _stage_cue(r: _Reading) -> tuple[str, int, tuple[int, int], bool] | None:
    """The stage a sentence moves a deal to: (stage word, where the action starts, its span).

    A bare outcome word ("acme label printers lost") comes last; `_move` takes it only
    with the deal named by its title before it (or right after it, "lost carter dock ...").
    """
    view = r.view
    verb = w.MOVE_VERB.search(view, r.body)
    if verb is not None:
        to = w.MOVE_TO.search(view, verb.end())
        if to is not None:
            group = "stage" if to.group("stage") else "on"
            return to.group(group), verb.start(), to.span(group), False
    end = w.TO_STAGE_END.search(view, r.body)
    if end is not None:
        return end.group("stage"), end.start(), end.span("stage"), False
    zh = w.ZH_MOVE.search(view, r.body)
    if zh is not None:
        return zh.group("stage"), zh.start(), zh.span("stage"), False
    state = w.STATE.search(view, r.body)
    if state is not None:
        for group in ("stage", "last", "arrow"):
            if state.group(group):
                return state.group(group), state.start(), state.span(group), False
        word = state.group("verb")
        stage = {"won": "won", "signed": "won", "closed": "won", "lost": "lost"}[word]
        return stage, state.start(), state.span("verb"), False
    zs = w.ZH_STATE.search(view, r.body)
    if zs is not None:
        return zs.group("stage"), zs.start(), zs.span("stage"), False
    outcome = w.BARE_OUTCOME.search(view, r.body)
    if outcome is not None:
        return outcome.group("stage"), outcome.start(), outcome.span("stage"), True
    typo = _stage_typo(r)
    if typo is not None:
        return typo
    for pattern, stage in w.IMPLIED_STAGE:
        m = pattern.search(view, r.body)
        if m is not None:
            group = next(g for g in ("stage", "s2", "s3") if m.groupdict().get(g))
            return stage, m.start(group), m.span(group), True
    return None


# The stage last in a request, after "to", an arrow, a colon or the deal's words: "... to
# negotation pls", "... -> negotiaton", "sterling label printers: negotiation".
_LAST_WORD = re.compile(
    r"(?P<lead>\b(?:to|into|as)\s+|(?:->|=>|→|>>|>)\s*|[:：]\s*|\s)(?:the\s+)?"
    r"(?P<word>[a-z]{6,})(?:\s+stage)?(?:\s*(?:please|pls|plz|thanks|thx|asap|now|[!.~]))*\s*$"
)
_STAGE_NAMES = ("negotiation", "proposal", "qualified")


def _stage_typo(r: _Reading) -> tuple[str, int, tuple[int, int], bool] | None:
    """A stage named last, spelt a letter or two off ("negotation", "proposl", "qualifed"), or
    right after the deal's words with no "to" ("rodriguez ERP phase 2 negotiation": bare, so
    taken only with the deal named)."""
    m = _LAST_WORD.search(r.view, r.body)
    if m is None:
        return None
    word = m.group("word")
    near = [s for s in _STAGE_NAMES if s == word or fuzz.ratio(word, s) >= 85]
    if len(near) != 1:
        return None
    bare = m.group("lead").isspace()
    if (
        bare
        and (
            near[0] == "proposal"  # "the acme label printers proposal" names a document
            or re.search(r"\bthe\s+$", r.view[: m.start("word")])
            or len(r.view[r.body :].split()) > 8
        )
    ):
        return None  # a telegraphic "<deal> <stage>" only
    return near[0], m.start(), m.span("word"), bare


def _pick_contact(ctx: Ctx, r: _Reading, people: list[Mention]) -> Mention:
    """The best-named contact; two of one name ("Jessica Scott") are told apart by their
    customer or title named in the sentence, else asked."""
    top = people[0]
    same = [p for p in people if p.weight == top.weight]
    if len(same) == 1:
        return top
    rest = r.text[: top.start] + " " * (top.end - top.start) + r.text[top.end :]
    named = find_customers(ctx, rest)
    owners = {m.id for m in named}
    fits = [p for p in same if p.owner_id in owners]
    if len(fits) > 1:
        # "四川华西康宁医院的马丽" names 华西康宁医院 too, inside the longer name: the customer
        # named best tells the two apart.
        best = {m.id for m in named if m.exact and m.weight == named[0].weight}
        fits = [p for p in fits if p.owner_id in best] or fits
    if len(fits) != 1:
        view = char_view(rest)
        fits = []
        for p in same:
            contact = ctx.session.get(Contact, p.id)
            title = (
                [x for x in name_key(contact.title or "").split() if len(x) >= 3] if contact else []
            )
            zh = char_view(contact.title or "") if contact else ""
            if any(re.search(rf"(?<![a-z]){re.escape(x)}", view) for x in title) or (
                zh and not zh.isascii() and zh in view
            ):
                fits.append(p)
    if len(fits) == 1:
        return fits[0]
    raise Ambiguous(
        "contact", r.cut(top.start, top.end), [Candidate(p.id, p.label) for p in people[:8]]
    )


# Words that may follow a contact's first name when the sentence is about their details.
_AFTER_FIRST_NAME = frozenset((
    "phone", "number", "mobile", "cell", "email", "e", "mail", "title", "role", "job",
    "position", "is", "has", "now", "new", "at", "from", "of", "in", "with", "got", "just",
    "finally", "moved", "changed", "updated", "s",
    # Honorifics said after a first name ("Sunita madam's number", "Anil ji", "Meera ma'am",
    # "Kenji san"): the person, addressed politely, not another surname.
    "madam", "madame", "maam", "ma", "ji", "sir", "san", "sahib", "saab", "bhai", "aunty",
    "uncle", "sensei", "sama", "kun", "chan",
))  # fmt: skip


# Words after a title that say when it holds, not what it is.
_TITLE_WHEN = re.compile(
    r"\s*[,，]?\s+(?:now|from\s+now\s+on|from\s+today|onwards|as\s+of\s+today|effective\s+today)"
    r"\s*[.!]*$",
    re.I,
)


def _another_surname(ctx: Ctx, r: _Reading, top: Mention) -> bool:
    """Whether a contact matched by first name only is followed by another word that stands
    where a surname would ("change joy santos phone" is not Joy Young's)."""
    contact = ctx.session.get(Contact, top.id)
    if contact is None or not contact.name.isascii():
        return False
    parts = [p for p in name_key(contact.name).split() if p not in ("dr", "mr", "mrs", "ms")]
    if top.weight >= len(parts):
        return False
    after = re.match(r"['’]?\s*([a-z]+)", r.view[top.end :])
    if after is None or after.group(1) in _AFTER_FIRST_NAME:
        return False
    # Their own surname typed loosely ("paul bakers phone") is no other person.
    said, own = after.group(1), parts[min(int(top.weight), len(parts) - 1)]
    return not (said.startswith(own) or fuzz.ratio(said, own) >= 80)


def _birthday(said: str) -> date | None:
    """A birthday written out ("1972年8月8号", "1980 年 3 月 14 日", "March 14 1980")."""
    m = re.search(r"((?:19|20)\d\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})", said)
    if m is None:
        m2 = re.search(r"([a-z]{3,9})\s+(\d{1,2}),?\s+((?:19|20)\d\d)", said.lower())
        if m2 is None or m2.group(1) not in _MONTHS:
            return None
        y, mo, d = int(m2.group(3)), _MONTHS[m2.group(1)], int(m2.group(2))
    else:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return date(y, mo, d)
    except ValueError:
        return None


_ZH_MONTH_DAY = re.compile(
    r"^\s*(?P<m>[一二三四五六七八九十\d]{1,3})\s*月\s*(?P<d>[一二三四五六七八九十\d]{1,3})\s*(?:日|号|號)?"
)
_SLASH_DAY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})(?!\s*/|\d)")


def _birthday_no_year(said: str) -> date | None:
    """A birthday said without its year ("八月八号", "五月三號", "3/21", "March 21", "21st
    March"), as the book stores one (the year NO_YEAR); a slash date only when it can be read
    one way (a part above 12)."""
    from crm_core.errors import CrmError
    from crm_core.services.contacts import parse_birthday

    said = said.strip(" 。.!！,，")
    if m := _ZH_MONTH_DAY.match(said):
        said = f"{cn_int(m.group('m'))}月{cn_int(m.group('d'))}日"
    elif m := _SLASH_DAY.match(said):
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 and b <= 12:
            a, b = b, a
        elif not (b > 12 and a <= 12):
            return None  # "5/3": May 3 or 5 March
        said = f"{a:02d}-{b:02d}"
    else:
        said = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", r"\1", said)
    try:
        return parse_birthday(said)
    except CrmError:
        return None


def _moved_by_verb(r: _Reading) -> bool:
    """Whether the sentence asks for a move in words ("move X to won", "推进到谈判"), not
    only says a deal's state ("X 成交了")."""
    verb = w.MOVE_VERB.search(r.view, r.body)
    return bool(
        (verb is not None and w.MOVE_TO.search(r.view, verb.end()))
        or w.TO_STAGE_END.search(r.view, r.body)
        or w.ZH_MOVE.search(r.view, r.body)
    )


# Lost words that say why: the customer went with someone else.
_WENT_ELSEWHERE = re.compile(
    r"went\s+with|改用|改找|找了|选了|换了|用了|转用|fech(?:ou|aram)\s+com"
)


def _after_outcome(r: _Reading, at: int, deal: Deal) -> str:
    """The words after an outcome that name no record: its reason ("丢单了 对方自建系统",
    "lost :( went with Tableau"); empty when they name the deal ("we lost the acme deal")."""
    # Sentence particles after it are no part of the reason ("掉了啦 学校说经费被砍").
    m = re.match(r"(?:\s|了|啦|喇|嘞|咯|哈|呀|啊|哦|喔|嘛|it\b|[!！.。,，~～])*", r.view[at:])
    rest = r.cut(at + (m.end() if m else 0))
    if len(rest) < 2 or name_key(deal.customer.name)[:4] in char_view(rest):
        return ""
    title = [p for p in name_key(deal.title).split() if len(p) >= 4]
    if any(p in char_view(rest) for p in title) or char_view(deal.title)[:2] in char_view(rest):
        return ""
    return rest


def _industry(ctx: Ctx, said: str) -> str | None:
    """The industry a word names ("food & bev", "物流业"), as the book already spells it."""
    said = re.sub(r"^(?:做|搞|从事|是)(.+?)(?:的|行业的?)?$", r"\1", said.strip())
    canonical = w.INDUSTRY_WORDS.get(said.strip())
    if canonical is None:
        return None
    known = ctx.session.scalars(
        select(Customer.industry).where(Customer.industry.is_not(None)).distinct().limit(200)
    ).all()
    return next((k for k in known if k and k.casefold() == canonical.casefold()), canonical)


# Short forms people type for a kind: "log mtg w/ Lisa", "log mtng".
_KIND_SHORT = {
    "mtg": InteractionKind.meeting,
    "mtng": InteractionKind.meeting,
    "mtgs": InteractionKind.meeting,
    "vst": InteractionKind.visit,
    "eml": InteractionKind.email,
}


def _kind_typo(text: str) -> tuple[InteractionKind | None, str]:
    """A misspelt kind word leading `text` ("metting", "vist"), and the rest."""
    m = re.match(r"\s*([A-Za-z]{3,})\b", text)
    if m is None:
        return None, text
    word = m.group(1).lower()
    if word in _KIND_SHORT:
        return _KIND_SHORT[word], text[m.end() :].strip()
    for kind in InteractionKind:
        if word != kind.value and fuzz.ratio(word, kind.value) >= 80:
            return kind, text[m.end() :].strip()
    return None, text


_GENERIC_ZH_TITLE = frozenset(
    {"采购", "系统", "项目", "升级", "一期", "二期", "三期", "年度", "合同", "管理", "服务", "扩容"}
    | {"上线", "试点", "方案", "应用"}
)
# Title words that say what kind of deal, not which one.
_GENERIC_TITLE = frozenset(
    {"upgrade", "rollout", "expansion", "replace", "legacy", "phase", "pilot", "seats", "site"}
    | {"project", "contract", "deal", "support", "program", "programme", "service", "services"}
    | {"system", "systems", "package"}
)


def _names_deal(ctx: Ctx, text: str, found: Mention) -> bool:
    """Whether `text` names the deal by a word of its title that is not generic."""
    deal = ctx.session.get(Deal, found.id)
    if deal is None:
        return False
    if not deal.title.isascii():
        # Three characters of a Chinese title ("司机端"), or two that are not generic ("续约").
        piece = char_view(text[found.start : found.end])
        return found.weight >= 1.5 or (found.weight >= 1 and piece not in _GENERIC_ZH_TITLE)
    return bool(title_words_named(text, deal.title) - _GENERIC_TITLE)


def _owned_title(r: _Reading, customer: Customer, found: Mention) -> bool:
    """Whether the title's word follows the customer's name as its own ("the thunderbird
    renewal", "Frontier 的续约", "Jones 那边 2027 續約"), not said elsewhere in the note."""
    span = _span_of(r, customer)
    if span is None or found.start < span[1]:
        return False
    return bool(
        re.fullmatch(r"(?:\s|的|那边|那裡|那里|这边|'s|’s|\d{4})*", r.view[span[1] : found.start])
    )


def _one(found: list[Mention]) -> Mention | None:
    """The single best mention, or None when two tie."""
    if not found:
        return None
    top = found[0]
    if len([m for m in found if m.weight == top.weight]) > 1:
        return None
    return top


def _span_of(r: _Reading, customer: Customer) -> tuple[int, int] | None:
    for m in find_customers_in(r, customer):
        return m
    return None


def find_customers_in(r: _Reading, customer: Customer) -> list[tuple[int, int]]:
    """Where the customer's name (its first words) stands in the sentence."""
    key = name_key(customer.name)
    words = words_of(r.text)
    if not key.isascii():
        for size in range(len(key), 1, -1):
            at = r.view.find(key[:size])
            if at >= 0:
                # Its legal form belongs to the name too ("永盛能源有限公司", key "永盛能源").
                tail = re.match(r"(?:股份)?(?:有限)?(?:责任)?(?:公司|集团)", r.view[at + size :])
                return [(at, at + size + (tail.end() if tail else 0))]
        return []
    parts = key.split()
    for i, word in enumerate(words):
        if word.text == parts[0]:
            n = 1
            while n < len(parts) and i + n < len(words) and words[i + n].text == parts[n]:
                n += 1
            end = words[i + n - 1].end
            # Its legal form and possessive belong to the name too.
            tail = re.match(
                r"(?:\s+(?:inc|llc|ltd|corp|co|gmbh|group)\.?)?(?:'s|’s)?", r.view[end:]
            )
            return [(word.start, end + (tail.end() if tail else 0))]
    return []


# A currency said before its amount: "港币一百五十万", "配额：台币 400万", "HKD 1.5m".
_CURRENCY_BEFORE = re.compile(
    r"(?P<cur>港币|港元|新台币|台币|人民币|美元|美金|欧元|英镑|日元|新币|澳门币|澳元|澳币|加元|加币|"
    r"\b(?:usd|eur|gbp|cny|rmb|sgd|aud|cad|hkd|twd|ntd|nzd|jpy|mop|php))\s?$"
)
# Currencies said as words after the amount ("60,000 Australian dollars", "45k quid").
_CURRENCY_WORDS = re.compile(
    r"\s?(?P<cur>australian\s+dollars?|aussie\s+dollars?|singapore(?:an)?\s+dollars?|"
    r"hong\s+kong\s+dollars?|hk\s+dollars?|canadian\s+dollars?|new\s+zealand\s+dollars?|"
    r"(?:new\s+)?taiwan(?:ese)?\s+dollars?|us\s+dollars?|pounds?(?:\s+sterling)?|quid|sterling)\b"
)
_CURRENCY_SAID = re.compile(
    r"[$€£¥元块蚊币欧镑]|美金|美元|克朗|卢布|法郎|比索|披索|卢比|林吉特|泰铢|港纸|usd|eur|gbp|cny|rmb|jpy|sgd|sek|"
    # The words _CURRENCY_WORDS reads after an amount ("60k pounds", "45k quid") say it too.
    r"aud|cad|hkd|twd|ntd|nzd|mop|php|pesos?|dollars?|bucks|euros?|pounds?|quid|sterling"
)
_WORD_CURRENCY = {
    "australian": "AUD", "aussie": "AUD", "singapore": "SGD", "singaporean": "SGD", "hong": "HKD",
    "hk": "HKD", "canadian": "CAD", "new": "NZD", "taiwan": "TWD", "taiwanese": "TWD", "us": "USD",
    "pound": "GBP", "pounds": "GBP", "quid": "GBP", "sterling": "GBP",
}  # fmt: skip


# Between an old amount and its new one: "23w改成26w", "九十萬改一百一十萬", "23k to 26k".
_AMOUNT_THEN = re.compile(r"\s*(?:改成|改为|改到|改做|改|换成|变成|调到|调成|\bto\b|->|→|=>)\s*")


def _amount(r: _Reading, start: int) -> tuple[tuple[Decimal, str | None], tuple[int, int]] | None:
    """The first amount after `start` (not a percentage, a date, a year or a record number),
    in digits ("48k", "9万英镑") or Chinese numerals ("八十萬", "兩萬五"), with a currency said
    before it ("港币一百五十万") or in words after it ("60,000 Australian dollars")."""
    found = _amount_at(r, start)
    if found is None:
        return None
    (value, currency), (a, b) = found
    said = r.view[a:b]
    if not _CURRENCY_SAID.search(said):
        # No currency in the amount's own words: one said right before or after it counts.
        if (before := _CURRENCY_BEFORE.search(r.view, max(0, a - 6), a)) is not None:
            cur = before.group("cur")
            currency = _ZH_CURRENCY.get(cur) or _CURRENCY.get(cur) or currency
            # The currency word is the amount's: a new deal's title does not keep "MOP".
            a = before.start()
        elif (after := _CURRENCY_WORDS.match(r.view, b)) is not None:
            words = after.group("cur").split()
            # "new taiwan dollars" are Taiwan's, "new zealand dollars" New Zealand's.
            currency = _WORD_CURRENCY[
                words[1] if words[0] == "new" and words[1] != "zealand" else words[0]
            ]
            b = after.end()
    return (value, currency), (a, b)


_UNITS = {
    w: i
    for i, w in enumerate((
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen",
    ))
}  # fmt: skip
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                           "ninety"))
}  # fmt: skip
_NUMBER_WORD = (
    r"(?:" + "|".join([*_UNITS, *_TENS, "hundred", "thousand", "million", "and", "a"]) + r")"
)
# An amount said in words, as dictation writes it: "eighteen thousand", "two hundred fifty k".
_WORDED_AMOUNT = re.compile(
    rf"\b(?P<words>{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*)\b(?:\s*(?P<k>k|grand)\b)?"
)


def _worded_amount(
    r: _Reading, start: int
) -> tuple[tuple[Decimal, str | None], tuple[int, int]] | None:
    """The first amount said in English words after `start` ("eighteen thousand"), with a
    thousand or more in it (a bare "two" is no amount)."""
    for m in _WORDED_AMOUNT.finditer(r.view, start):
        total, part = 0, 0
        words = [x for x in re.split(r"[\s-]+", m.group("words")) if x not in ("and", "a")]
        if not words:
            continue
        if not _WORDED_GAP.fullmatch(r.view, start, m.start()):
            # "amount? they mentioned two thousand seats": a number told further on is not
            # the amount set.
            return None
        if (
            re.match(r"\s+point\b", r.view[m.end() :])
            or _COUNTED.match(r.view, m.end())
            or any(_run_on(a, b) for a, b in itertools.pairwise(words))
        ):
            # "one point five million", "twelve fifty k" (1,250 or 62 thousand?), "two thousand
            # seats" (a count): asked, never read as another figure.
            return None
        for word in words:
            if word in _UNITS:
                part += _UNITS[word]
            elif word in _TENS:
                part += _TENS[word]
            elif word == "hundred":
                part = (part or 1) * 100
            else:
                total += (part or 1) * (1000 if word == "thousand" else 1_000_000)
                part = 0
        total += part
        if m.group("k"):
            total *= 1000
        if total >= 1000:
            return (Decimal(total), None), m.span()
        return None
    return None


# Between the amount's word and the figure: only the setting words ("amount to", "value is
# about", "amount: ").
_WORDED_GAP = re.compile(
    r"\s*(?:[:=~-]|->|→)?\s*(?:(?:is|to|at|now|of|be|should\s+be|set\s+to|changed?\s+to|"
    r"updated?\s+to|bump(?:ed)?\s+to|about|around|roughly|approximately|usd|\$)\s*)*"
)
# A number that counts things, not money: "two thousand seats", "three thousand users".
_COUNTED = re.compile(
    r"\s*(?:k\s+)?(?:seats?|users?|staff|people|employees|licen[cs]es?|units?|devices?|"
    r"stores?|sites?|trucks?|vehicles?|customers?|members?|students?|hours?|days?|orders?)\b"
)


def _run_on(first: str, then: str) -> bool:
    """Two number words that do not make one number ("twelve fifty", "two five"): a figure read
    out in pieces, whose value cannot be told."""
    if first in _UNITS:
        return then in _UNITS or then in _TENS
    if first in _TENS:
        return then in _TENS or (then in _UNITS and _UNITS[then] in (0, *range(10, 20)))
    return False


# Deals whose currency is said as 元/块/蚊 (yuan, Hong Kong and Taiwan dollars) or as a bare "$".
_YUAN_LIKE = {"CNY", "HKD", "TWD", "MOP"}
_DOLLAR_LIKE = {"USD", "AUD", "SGD", "HKD", "TWD", "NZD", "CAD"}


def _unit_only(r: _Reading, span: tuple[int, int], deal_currency: str) -> bool:
    """Whether the amount at `span` says only a unit its deal's currency is also called by:
    元/块/蚊 of a yuan-like currency, a bare "$", "dollars" or "bucks" of a dollar one."""
    said = r.view[max(0, span[0] - 3) : span[1] + 8]
    if _CURRENCY_BEFORE.search(r.view, max(0, span[0] - 6), span[0]) or re.search(
        r"港|台|美|欧|英|日|澳|加|新|人民|\b(?:usd|eur|gbp|cny|rmb|jpy|sgd|aud|cad|hkd|twd|ntd|nzd)\b"
        r"|[a-z]\$|\b(?:us|australian|aussie|singapore|canadian|hong\s+kong|taiwan|zealand)\b",
        said,
    ):
        return False
    if deal_currency in _YUAN_LIKE and re.search(r"[元块蚊]", said):
        return True
    return deal_currency in _DOLLAR_LIKE and bool(re.search(r"\$|\bdollars?\b|\bbucks\b", said))


def _archived_named(ctx: Ctx, said: str) -> Customer | None:
    """The archived customer of the actor's book whose name the words contain (the longest
    name when several), or None; Latin names only as whole words."""
    key = name_key(said)
    if not key:
        return None
    rows = ctx.session.scalars(
        select(Customer)
        .where(
            book_filter(ctx.actor),
            Customer.merged_into.is_(None),
            Customer.archived_at.is_not(None),
        )
        .order_by(Customer.archived_at.desc())
        .limit(1000)
    )
    hits = [
        c
        for c in rows
        if c.name_key
        and (
            re.search(rf"(?<![a-z0-9]){re.escape(c.name_key)}(?![a-z0-9])", key)
            if c.name_key.isascii()
            else c.name_key in key
        )
    ]
    return max(hits, key=lambda c: len(c.name_key), default=None)


def _currency_said(r: _Reading, span: tuple[int, int]) -> bool:
    """Whether the amount at `span` says its currency (in it or right before it)."""
    a, b = span
    return bool(
        _CURRENCY_SAID.search(r.view, a, b) or _CURRENCY_BEFORE.search(r.view, max(0, a - 6), a)
    )


def _amount_at(
    r: _Reading, start: int
) -> tuple[tuple[Decimal, str | None], tuple[int, int]] | None:
    digits = _digit_amount(r, start)
    zh = _ZH_AMOUNT.search(r.view, start)
    if zh is None or (digits is not None and digits[1][0] < zh.start()):
        return digits
    # 半百万: half of a hundred ten-thousands (500,000).
    num = 50 if zh.group("num") == "半百" else _cn_int(zh.group("num"))
    value = num * _MULT.get(zh.group("mult"), 100_000_000)
    if zh.group("tail"):
        value += _CN_DIGIT[zh.group("tail")] * _MULT.get(zh.group("mult"), 100_000_000) // 10
    cur = zh.group("cur")
    span = zh.span()
    whole = _ZH_THOUSANDS.match(r.view, zh.start("num"))
    if (
        zh.group("mult") == "千"
        and whole is not None
        and len(whole.group("n").partition("千")[2]) > 1
    ):
        # "三千五百元", "两千零五十": 3500 and 2050, not the thousands before the rest.
        value = _cn_int(whole.group("n"))
        cur, span = whole.group("cur"), whole.span()
    # 五千二 alone is the deal's own currency (as "5200" is); 万 with no unit is yuan.
    currency = _ZH_CURRENCY[cur] if cur else ("CNY" if zh.group("mult") in ("万", "亿") else None)
    return (Decimal(value), currency), span


def _cn_int(text: str) -> int:
    """A Chinese numeral below ten thousand: 八十 -> 80, 十二 -> 12, 两百 -> 200, 一千两百 ->
    1200."""
    total, digit = 0, 0
    places = {"十": 10, "百": 100, "千": 1000}
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in places:
            total += (digit or 1) * places[ch]
            digit = 0
    return total + digit


def _zh_day(ctx: Ctx, r: _Reading, start: int) -> tuple[date, tuple[int, int]] | None:
    """The first Chinese date after `start` ("明年1月15号", "三月底"), never in the past."""
    m = _ZH_DAY.search(r.view, start)
    today = ctx.now().astimezone(ctx.tz).date()
    if m is None:
        end = _ZH_MONTH_END.search(r.view, start)
        if end is None:
            return None
        ahead = {"下下": 2, "下": 1}.get((end.group("rel") or "").rstrip("个"), 0)
        year, month = divmod(today.month - 1 + ahead, 12)
        year, month = today.year + year, month + 1
        return date(year, month, last_day(year, month)), end.span()
    month_said = m.group("month")
    month = int(month_said) if month_said.isdigit() else _cn_int(month_said)
    if not 1 <= month <= 12:
        return None
    year = int(m.group("year")) if m.group("year") else today.year + (1 if m.group("next") else 0)
    part = m.group("part")
    if m.group("day"):
        nth = cn_int(m.group("day"))
    elif part in ("初", "上旬"):
        nth = 5
    elif part in ("中", "中旬"):
        nth = 15
    else:
        nth = last_day(year, month)
    try:
        value = date(year, month, min(nth, last_day(year, month)))
    except ValueError:
        return None
    if value < today and not (m.group("year") or m.group("next")):
        value = date(year + 1, month, min(nth, last_day(year + 1, month)))
    return value, m.span()


def _digit_amount(
    r: _Reading, start: int
) -> tuple[tuple[Decimal, str | None], tuple[int, int]] | None:
    for m in _AMOUNT.finditer(r.view, start):
        if m.group("mult") == "w" and r.text.isascii():
            continue  # "2w" in English is two weeks
        if (
            not (m.group("pre") or m.group("mult") or m.group("cur"))
            and len(m.group("num").replace(",", "")) < 4
        ):
            continue
        if re.match(
            r"\s*(?:%|percent|seats|users|units|people|days|weeks|months|years|点|号|日|月|年|人|台)"
            r"|[-/.]\d",
            r.view[m.end("num") :],
        ):
            continue
        if not (m.group("pre") or m.group("mult") or m.group("cur")) and re.fullmatch(
            r"(?:19|20)\d\d", m.group("num")
        ):
            continue  # a year ("2026 renewal"), not an amount
        try:
            value = Decimal(m.group("num").replace(",", ""))
        except InvalidOperation:
            continue
        if m.group("mult"):
            value *= _MULT[m.group("mult")]
            if m.group("tail"):
                value += int(m.group("tail")) * _MULT[m.group("mult")] // 10
        symbol = m.group("cur") or m.group("pre")
        if value == value.to_integral():
            value = Decimal(int(value))
        currency = _CURRENCY.get(symbol) if symbol else None
        if currency is None and (
            m.group("mult") in ("万", "w", "千") or (not r.text.isascii() and not m.group("mult"))
        ):
            # 50万 in a Chinese sentence is yuan; "45k" keeps the deal's own currency.
            currency = "CNY"
        return (value, currency), m.span()
    return None


_ORDINALS = {
    w: i + 1
    for i, w in enumerate((
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
        "seventeenth", "eighteenth", "nineteenth",
    ))
}  # fmt: skip
_ORDINALS.update({"twentieth": 20, "thirtieth": 30})
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_ALT = (
    r"\d{1,2}(?:st|nd|rd|th)?|(?:(?:twenty|thirty)[\s-])?(?:"
    + "|".join(sorted(_ORDINALS, key=len, reverse=True))
    + ")"
)
# A month and a day said with it, either way round ("june 31", "the thirty first of march").
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH_ALT})\.?\s+(?:the\s+)?(?P<day>{_DAY_ALT})\b"
    rf"|\b(?:the\s+)?(?P<day2>{_DAY_ALT})\s+(?:of\s+)?(?P<month2>{_MONTH_ALT})\b"
)


def _no_such_day(ctx: Ctx, r: _Reading, start: int) -> str | None:
    """A month's day that does not exist ("june 31", "february the twenty ninth" in 2027), as
    said: it is asked again, never read as the month alone."""
    today = ctx.now().astimezone(ctx.tz).date()
    for m in _MONTH_DAY.finditer(r.view, start):
        month = _MONTHS[m.group("month") or m.group("month2")]
        said = (m.group("day") or m.group("day2")).replace("-", " ")
        digits = re.match(r"\d+", said)
        if digits:
            day_no = int(digits.group())
        else:
            day_no = _ORDINALS[said.split()[-1]]
            if said.startswith("twenty"):
                day_no += 20
            elif said.startswith("thirty"):
                day_no += 30
        year = today.year if month >= today.month else today.year + 1
        if day_no > last_day(year, month):
            return r.cut(m.start(), m.end())
    return None


# "now" right after "date" or "is" (then a day): a filler, not today.
_FILLER_NOW = re.compile(r"now\b")
_FILLER_NOW_AFTER = re.compile(r"\b(?:date|is|was|be)\s*[:：]?\s*$")


def _close(
    ctx: Ctx, r: _Reading, start: int, *, any_phrase: bool = False
) -> tuple[date, tuple[int, int]] | None:
    """An expected close day after a cue ("closing mid January", "by end of March", "预计1月底")."""
    today = ctx.now().astimezone(ctx.tz).date()
    zh = _zh_day(ctx, r, start)
    if zh is not None:
        return zh
    worded = next(
        (
            m
            for m in _MONTH_DAY.finditer(r.view, start)
            if not (m.group("day") or m.group("day2"))[0].isdigit()
        ),
        None,
    )
    if worded is not None:
        # "january thirty first", "the thirty first of march": a day in ordinal words, as
        # dictation writes it.
        said_month = _MONTHS[worded.group("month") or worded.group("month2")]
        said = (worded.group("day") or worded.group("day2")).replace("-", " ")
        day_no = _ORDINALS[said.split()[-1]]
        if said.startswith(("twenty", "thirty")):
            day_no += 20 if said.startswith("twenty") else 30
        year = today.year if said_month >= today.month else today.year + 1
        if day_no <= last_day(year, said_month):
            value = date(year, said_month, day_no)
            if value < today:
                value = date(year + 1, said_month, day_no)
            return value, worded.span()
    part = _PART_OF_MONTH.search(r.view, start)
    if part is not None:
        if part.group("month"):
            month = _MONTHS.get(part.group("month"))
            kind = part.group("part").split()[0]
        else:
            month = int(part.group("zm"))
            kind = {"初": "early", "上旬": "early", "中": "mid", "中旬": "mid"}.get(
                part.group("zp"), "end"
            )
        if month is not None and 1 <= month <= 12:
            year = today.year if month >= today.month else today.year + 1
            nth = {"mid": 15, "middle": 15, "early": 5, "beginning": 5, "start": 5}.get(kind)
            value = date(year, month, nth if nth else last_day(year, month))
            if value < today:
                # "closing mid november" on the 23rd: its next one, never a day gone.
                value = date(year + 1, month, nth if nth else last_day(year + 1, month))
            cue_start = max(
                (c.start() for c in _CLOSE_CUE.finditer(r.view, start, part.start())),
                default=part.start(),
            )
            return value, (cue_start, part.end())
    for cue in _CLOSE_CUE.finditer(r.view, start):
        rest = r.text[cue.end() :]
        for stop in range(min(len(rest), 24), 0, -1):
            piece = rest[:stop].strip(" ,，.")
            if not piece or (stop < len(rest) and rest[stop].isalnum() and rest[stop].isascii()):
                continue
            said = parse_day(piece, ctx.tz, ctx.now(), day_first=ctx.day_first)
            if said is not None and said >= today:
                return said, (cue.start(), cue.end() + stop)
    if any_phrase:
        # A day anywhere after the cue ("close date -> 15 feb", "push close to feb 1").
        # Words start after a space or a mark, and where digits follow characters ("改成2/15");
        # never inside a date ("/15").
        starts = r"(?<![\w/.-])[\w-]|(?<=[\u3400-\u9fff])[0-9a-z]"
        for word in list(re.finditer(starts, r.view[start:]))[:14]:
            at = start + word.start()
            if _FILLER_NOW.match(r.view, at) and _FILLER_NOW_AFTER.search(r.view, start, at):
                # "close date now 14/2", "close date is now 14/2": "now" says the change, the
                # day is after it.
                continue
            rest = r.text[at:]
            for stop in range(min(len(rest), 16), 0, -1):
                # A Chinese character ends the day ("改到1/20啦"); a letter or digit goes on.
                if stop < len(rest) and rest[stop].isalnum() and rest[stop].isascii():
                    continue
                if re.fullmatch(r"\d{3,}", rest[:stop].strip(" ,，.")):
                    # A long number alone ("2027" of a title "员工制服2027") is no day; a day
                    # of the month alone ("→ 20 de dezembro") still is.
                    continue
                said = parse_day(
                    rest[:stop].strip(" ,，."), ctx.tz, ctx.now(), day_first=ctx.day_first
                )
                if said is not None and said >= today:
                    return said, (at, at + stop)
    return None


_FILLER_WORDS = (
    r"\b(?:for|with|at|on|to|a|an|the|new|deal|opp|opportunity|called|named|worth|about|"
    r"please|pls|thanks|of|around|roughly|approx|approximately|~)\b|的|给|为|建个|个|一下|吧|了|商机|约|大概"
    r"|预计|成交|新建|创建"
)


def _leftover(r: _Reading, taken: list[tuple[int, int]], drop: str = _FILLER_WORDS) -> str:
    """The original text outside the taken spans, without filler words: a title or a name."""
    keep = [True] * len(r.text)
    for a, b in taken:
        for i in range(max(0, a), min(len(keep), b)):
            keep[i] = False
    for i in range(r.body):
        keep[i] = False
    chars = [c if k else " " for c, k in zip(r.text, keep, strict=True)]
    view_chars = [c if k else " " for c, k in zip(r.view, keep, strict=True)]
    view = "".join(view_chars)
    for m in re.finditer(drop, view):
        for i in range(m.start(), m.end()):
            chars[i] = " "
    out = re.sub(r"\s+", " ", "".join(chars)).strip(" ,，.:：!！-–—'\"")
    return out


def _closest(r: _Reading) -> tuple[str, ...]:
    """Verbs whose words the sentence uses, for help buttons."""
    found = []
    for pattern, name in (
        (w.LOG_CUE, "log"),
        (w.REMIND_CUE, "remind"),
        (w.NEW_DEAL_CUE, "new deal"),
        (w.MOVE_VERB, "move"),
        (w.NEW_CUSTOMER_CUE, "new customer"),
    ):
        if pattern.search(r.view):
            found.append(name)
    return tuple(found[:3]) or ("help",)


# Words that may stand beside a deal's title when it alone names the deal.
_TITLE_FILLER = re.compile(
    r"\b(?:the|our|my|this|that|deal|deal's|s|please|pls|kindly|for|of|on)\b|的|个|那个|嗰个|嗰單|呢个|这个|單|单"
)


def _beside_title(said: str, title: str) -> bool:
    """Whether `said` holds words other than the deal's title and filler ("羊城电商 mailer
    boxes": a name beside the title)."""
    view, own = char_view(said), char_view(title)
    if own in view:
        view = view.replace(own, " ")
    else:
        for word in own.split():
            view = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", view)
    return bool(_TITLE_FILLER.sub(" ", view).strip(" \t,，:：-–—→>'’"))


# Words around a tag that are not the tag: "add pavilion also", "加多個 LFB" (one more),
# "riverside, BRCH, southbank." (the sentence's full stop).
_TAG_AROUND = re.compile(
    r"^(?:(?:多|一)?[个個](?=\s|[A-Za-z])\s*)|\s+(?:also|too|as\s+well|please|pls|thanks)$|\s*(?:吧|啦|喔)$",
    re.I,
)


def _tag_said(said: str) -> str:
    """A tag as said, without the words and marks around it."""
    said = said.strip(" .。!！,，~")
    return _TAG_AROUND.sub("", said).strip(" .。!！,，~")


# The setting verb an edit of a deal named by its title alone must say.
_TITLED_SET = re.compile(
    r"\b(?:to|change[sd]?|update[sd]?|set|revised?|make\s+it|move[sd]?)\b|->|=>|→"
    r"|改|调|加到|减到|降到|提高到|涨到|填|设为|设成|变成"
    # A day moved: "结案日期拉到明年二月底", "延到三月", "推迟到", "提前到".
    r"|拉到|推到|延到|延后到|推迟到|挪到|移到|提前到|改期到|押后到"
)


def _names_open_deal(
    ctx: Ctx, said: str, customer: Customer, named: list[Mention], open_names: list[str]
) -> bool:
    """Whether an open deal is the one meant: one is named, or none of any stage is. A closed
    deal named by its title ("江城汽车试驾会茶歇 金额改成4.2w", a won deal) is that deal, not
    a question over the customer's open ones."""
    if not named:
        return True
    return bool(find_deals(ctx, said, customer_id=customer.id, open_stages=open_names))


def _deal_label(deal: Deal) -> str:
    return f"#{deal.id} {deal.title} ({deal.customer.name})"


def _customer_label(customer: Customer) -> str:
    return f"#{customer.id} {customer.name}"


def _handle(ctx: Ctx, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    assert user is not None
    return user.external_id or user.name


def _cands_customers(ctx: Ctx, ids: set[int]) -> list[Candidate]:
    rows = ctx.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all()
    return [Candidate(r[0], r[1]) for r in rows]
