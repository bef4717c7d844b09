"""What a question asks for besides its topic: a kind of interaction, a time, recency."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.text import to_simplified
from crm_core.timephrases.chinese import cn_int
from crm_core.timephrases.english import MONTHS
from retrieval.tokens import normalize

# Words that name a kind of interaction; the question then looks only at that kind.
_KINDS: dict[str, tuple[str, ...]] = {
    # A phone number is asked for, not a call ("Dana's phone number", "电话号码").
    "call": (
        r"\bcalls?\b",
        r"\bcalled\b",
        r"\bphone\b(?!\s*(?:number|no\b|#))",
        r"\bphoned\b",
        "电话(?!号)",
        "通话",
        "致电",
    ),
    "visit": (r"\bvisits?\b", r"\bvisited\b", r"\bsite visit", "拜访", "走访", "上门", "来访"),
    "email": (r"\be-?mails?\b", r"\bemailed\b", "邮件", "电邮"),
    "meeting": (r"\bmeetings?\b", r"\bmet\b", "会议", "开会", "会面", "见面"),
    "chat": (r"\bchats?\b", r"\bmessaged\b", "聊天", "微信"),
}
# "last"/"first" only count before an interaction word: "first presented" is not a time order.
_EVENT = (
    r"(?:calls?|visits?|meetings?|e-?mails?|chats?|time|conversation|contact|touchpoint"
    r"|quote|offer)"
)
_RECENT = re.compile(
    rf"\b(?:latest|most recent|most recently|recently|newest|lately)\b"
    rf"|\b(?:last|previous|recent)\s+{_EVENT}\b"
    # "the last thing we heard", "when did we last talk to Marta": the newest note is asked.
    r"|\blast\s+(?:thing|word|news|update|heard|hear|talk(?:ed)?|spoke|spoken|speak|met|meet|"
    r"contacted|touched base)\b"
    r"|上次|上一次|最近|最新|最后一次|前一次|近期"
)
_EARLIEST = re.compile(rf"\bearliest\b|\b(?:first|initial)\s+{_EVENT}\b|第一次|首次|最早|最初")
_MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
# A month by number: 1-12 in digits or numerals (一 to 十二); "两月" and "廿" are no months.
_ZH_MONTH = r"(1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])\s*月(?:份)?"


@dataclass(frozen=True)
class QuestionShape:
    """Filters and ordering a question implies."""

    kinds: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    recent: bool = False
    earliest: bool = False


def _month(token: str) -> int:
    if token.isdigit():
        return int(token)
    # The time-phrase reader's words: one table of month names and numerals for the project.
    return MONTHS[token] if token.isascii() else cn_int(token)


def _month_start(year: int, month: int, tz: ZoneInfo) -> datetime:
    return datetime(year, month, 1, tzinfo=tz)


def _past_month(month: int, today: date, tz: ZoneInfo) -> datetime:
    """The start of the most recent `month` that has begun."""
    year = today.year if month <= today.month else today.year - 1
    return _month_start(year, month, tz)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)


def shape_of(question: str, now: datetime, tz: ZoneInfo) -> QuestionShape:
    """Read kinds, a time window and recency from a question (English and Chinese)."""
    q = normalize(question)
    kinds = frozenset(k for k, pats in _KINDS.items() if any(re.search(p, q) for p in pats))
    local = now.astimezone(tz)
    today = local.date()
    since: datetime | None = None
    until: datetime | None = None
    m = re.search(rf"\b(?:since|after|from)\s+(?:early\s+|mid\s+|late\s+)?({_MONTH_WORD})\b", q)
    zm = re.search(rf"(?:自|从)?{_ZH_MONTH}(?:以来|以后|之后|起|开始)", q)
    if m or zm:
        since = _past_month(_month(m.group(1) if m else zm.group(1)), today, tz)  # type: ignore[union-attr]
    else:
        # A month said of the future ("next January", "明年一月") plans, it does not filter.
        m = re.search(rf"\b(?:in|during|back in)\s+({_MONTH_WORD})\b(?!\s+next year)", q)
        zm = re.search(rf"(?<![0-9一二三四五六七八九十年下]){_ZH_MONTH}(?:里|中|的时候|时)?", q)
        if m or zm:
            since = _past_month(_month(m.group(1) if m else zm.group(1)), today, tz)  # type: ignore[union-attr]
            until = _next_month(since)
    if since is None:
        week_start = datetime.combine(
            today - timedelta(days=today.weekday()), datetime.min.time(), tz
        )
        month_start = _month_start(today.year, today.month, tz)
        rolling = re.search(
            r"\b(?:in|over|during|within) the (?:last|past) (week|month)\b"
            r"|(?:过去|最近|近)(?:一|1)个?(周|星期|礼拜|月)",
            q,
        )
        if rolling:
            # "in the last month", "过去一周": the days just gone, not the calendar's month.
            unit = rolling.group(1) or rolling.group(2)
            days = 30 if unit in ("month", "月") else 7
            since = local - timedelta(days=days)
        elif re.search(r"\blast week\b|上周|上星期|上个星期", q):
            since, until = week_start - timedelta(days=7), week_start
        elif re.search(r"\bthis week\b|本周|这周|这个星期", q):
            since = week_start
        elif re.search(r"\blast month\b|上个月|上月", q):
            until = month_start
            since = _month_start(today.year - (today.month == 1), (today.month - 2) % 12 + 1, tz)
        elif re.search(r"\bthis month\b|本月|这个月", q):
            since = month_start
        elif re.search(r"\bthis year\b|今年", q):
            since = _month_start(today.year, 1, tz)
        elif m := re.search(
            r"\b(?:past|last)\s+(\d{1,3})\s+days?\b|(?:过去|最近|近)(\d{1,3})\s*天", q
        ):
            since = local - timedelta(days=int(m.group(1) or m.group(2)))
        elif re.search(r"\byesterday\b|昨天", q):
            since = datetime.combine(today - timedelta(days=1), datetime.min.time(), tz)
            until = since + timedelta(days=1)
    earliest = bool(_EARLIEST.search(q))
    return QuestionShape(
        kinds=kinds or None,
        since=since,
        until=until,
        recent=bool(_RECENT.search(q)) and not earliest,
        earliest=earliest,
    )


def shape_words(question: str) -> str:
    """The question without its kind, time and recency words (what is left is the topic)."""
    # Its case is kept: "Rose" is a name where "rose" is a verb (retrieval.tokens).
    q = to_simplified(unicodedata.normalize("NFKC", question))
    i = re.IGNORECASE
    for pats in _KINDS.values():
        for p in pats:
            q = re.sub(p, " ", q, flags=i)
    q = re.sub(_RECENT.pattern, " ", q, flags=i)
    q = re.sub(_EARLIEST.pattern, " ", q, flags=i)
    q = re.sub(rf"\b(?:since|after|from|in|during)\s+({_MONTH_WORD})\b", " ", q, flags=i)
    q = re.sub(rf"{_ZH_MONTH}(?:以来|以后|之后|起|开始)?", " ", q)
    q = re.sub(
        r"\b(?:time|week|month|year|today|yesterday)\b|上周|上个月|今年|本月|时候|一次|次",
        " ",
        q,
        flags=i,
    )
    return q
