"""Small parsing helpers shared by the verbs (colons, commas, keywords, kinds, amounts)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crm_core.errors import Invalid
from crm_core.models import InteractionKind
from crm_core.text import char_view, fold, hant_views
from crm_core.timephrases.chinese import cn_int

_COLON = re.compile(r"[:：]")
_COMMA = re.compile(r"[,，;；]")
_QUOTED = re.compile(r'^["“]([^"”]+)["”]')
_OPEN_QUOTE = ('"', "“")
# Separators left at the end of a value by the `名称，行业：物流；城市：上海` form.
_TRAILING_SEPARATORS = " ,，;；、"

KIND_WORDS: dict[str, InteractionKind] = {
    **{k.value: k for k in InteractionKind},
    "calls": InteractionKind.call,
    "phone": InteractionKind.call,
    "meet": InteractionKind.meeting,
    "mail": InteractionKind.email,
    "电话": InteractionKind.call,
    "通话": InteractionKind.call,
    "会议": InteractionKind.meeting,
    "会面": InteractionKind.meeting,
    "见面": InteractionKind.meeting,
    "拜访": InteractionKind.visit,
    "走访": InteractionKind.visit,
    "邮件": InteractionKind.email,
    "聊天": InteractionKind.chat,
    "微信": InteractionKind.chat,
    "备注": InteractionKind.note,
    "笔记": InteractionKind.note,
}


def split_colon(text: str) -> tuple[str, str | None]:
    """`head: body` -> (head, body); no colon -> (text, None).

    A colon between two digits is part of a clock time ("at 10:30: ..."), not the separator.
    """
    for m in _COLON.finditer(text):
        i = m.start()
        if 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        return text[:i].strip(), text[i + 1 :].strip()
    return text.strip(), None


def split_commas(text: str) -> list[str]:
    """Comma-separated parts (ASCII or full-width), trimmed, empty ones dropped."""
    return [p.strip() for p in _COMMA.split(text) if p.strip()]


def take_kind(text: str) -> tuple[InteractionKind | None, str]:
    """A leading interaction kind word (English or Chinese) and the rest."""
    stripped = text.strip()
    folded = fold(stripped)
    for word in sorted(KIND_WORDS, key=len, reverse=True):
        if folded.startswith(word):
            rest = stripped[len(word) :]
            if word.isascii() and rest and not rest[0].isspace():
                continue
            return KIND_WORDS[word], rest.strip()
    return None, stripped


def take_keywords(text: str, keywords: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Split `Name key1 value key2 value` on whole-word keywords (a word -> its field name).

    Returns the leading text and the values found; keywords inside a leading quoted part
    ("Kansas City Steaks") are not keywords.
    """
    text = text.strip()
    # Matched on the `char_view` of the text: a keyword typed in Taiwan's words (優先順序 for
    # 优先级) is read as the Simplified one it stands for.
    keywords = {**{v: f for k, f in keywords.items() for v in _views(k)}, **keywords}
    quoted = _QUOTED.match(text)
    start = quoted.end(1) + 1 if quoted else 0
    words = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
    # `city Shanghai`, `city: Shanghai`, and the form Chinese users type: `，城市：上海`
    # (after a comma or semicolon a keyword counts only when a colon follows it).
    pattern = re.compile(
        # Without a colon the space after a keyword is only looked at, not taken, so a keyword
        # right after a repeated one ("city Kansas City owner @bob") still has its space.
        rf"(?:(?:^|\s)({words})(?:\s*:\s*|(?=\s)|$)|[,;、]\s*({words})\s*:\s*)",
        re.I,
    )
    view = char_view(text)
    found: dict[str, str] = {}
    # Each keyword counts once: a later "city" is part of a value ("city Kansas City").
    pieces, seen = [], set()
    for hit in pattern.finditer(view, start):
        if not view[: hit.start()].strip():
            continue  # a leading keyword starts the name itself ("Close the gap", "City Bank")
        field = keywords[_key(keywords, hit.group(1) or hit.group(2))]
        if field not in seen:
            seen.add(field)
            pieces.append(hit)
    lead = text[: pieces[0].start()] if pieces else text
    for i, hit in enumerate(pieces):
        end = pieces[i + 1].start() if i + 1 < len(pieces) else len(text)
        value = text[hit.end() : end].strip()
        word = _key(keywords, hit.group(1) or hit.group(2))
        found[keywords[word]] = value.rstrip(_TRAILING_SEPARATORS)
    return lead.strip().rstrip(_TRAILING_SEPARATORS) if pieces else lead.strip(), found


def _views(word: str) -> set[str]:
    """A keyword and, when Chinese, its Taiwan forms as `char_view` shows them."""
    return {word} if word.isascii() else {word} | hant_views(word)


def _key(keywords: dict[str, str], hit: str) -> str:
    """The keyword a matched piece of the view is (as typed in the view, else folded)."""
    return hit.lower() if hit.lower() in keywords else fold(hit)


def unquote(text: str) -> tuple[str, str]:
    """A leading quoted part and the rest: `"Renewal 2027" 12k` -> (`Renewal 2027`, `12k`).

    A quote that is opened and never closed is refused: guessing where the title ends would
    swallow the amount into it.
    """
    m = _QUOTED.match(text.strip())
    if not m:
        if text.strip().startswith(_OPEN_QUOTE):
            raise Invalid("error.quote_unbalanced")
        return text.strip(), ""
    return m.group(1).strip(), text.strip()[m.end(1) + 1 :].strip()


# Matched in the `char_view`: 萬/億/新台幣 arrive as 万/亿/新台币, full-width signs as plain ones.
_AMOUNT = re.compile(
    # A sign before the amount (`NT$35万`, `HK$8万`), or a currency's name (`新台币 35万`).
    r"(?:^|\s)(?P<pre>nt\$|hk\$|us\$|[$€£¥]|(?:新台币|台币|人民币|港币|港元|美元|美金)\s*)?"
    # 48.000 / 1.234.567,50: dots group thousands (as a German rep writes 48,000).
    r"(?P<num>-?(?:\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d[\d,_]*(?:\.\d+)?))"
    r"(?P<mult>[km千万亿])?"
    r"(?:\s*(?P<cur>[a-z]{3}|[$€£¥]|元|美元|新台币|台币|人民币|港币|港元))?$",
    re.I,
)
_SYMBOLS = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "CNY",
    "元": "CNY",
    "美元": "USD",
    "nt$": "TWD",
    "hk$": "HKD",
    "us$": "USD",
    "美金": "USD",
    "新台币": "TWD",
    "台币": "TWD",
    # Said where 元 alone means another yuan-like dollar (a Taiwan rep's yuan is 人民幣).
    "人民币": "CNY",
    "rmb": "CNY",
    "港币": "HKD",
    "港元": "HKD",
}
_MULT = {
    "k": Decimal(1000),
    "m": Decimal(1_000_000),
    "千": Decimal(1000),
    "万": Decimal(10_000),
    "亿": Decimal(100_000_000),
}
# The end of a title that looks like money the reader did not take (`5 grand`, `$5.5.5`,
# `3百 TWD`): a digit next to a currency sign, code or Chinese unit.
_MONEYISH = re.compile(
    r"(?:[$€£¥]\s*\d|\d\s*(?:[$€£¥]|[百千万亿元]|台?币|[km]\b)|\d[\d.,]*\s+[a-z]{3}$)", re.I
)


def _number(text: str, currency: bool) -> Decimal:
    """`48,000.50`, `48.000 EUR`, `1.234.567,50` as a Decimal (InvalidOperation otherwise).

    One dot before three digits with no currency (`1.005`) stays a decimal point: the amount
    has too many decimals and is refused rather than guessed a thousand times larger.
    """
    grouped = re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", text)
    if grouped and (currency or text.count(".") > 1 or "," in text):
        return Decimal(text.replace(".", "").replace(",", "."))
    return Decimal(text.replace(",", "").replace("_", ""))


def take_amount(text: str) -> tuple[str, Decimal | None, str | None]:
    """A trailing amount with optional currency: `Fleet renewal 48000 USD` -> title, amount, cur."""
    text = text.strip()
    m = _AMOUNT.search(char_view(text))
    if not m:
        return text.strip(), None, None
    try:
        amount = _number(m.group("num"), bool(m.group("cur") or m.group("pre")))
    except InvalidOperation:
        return text.strip(), None, None
    if m.group("mult"):
        amount *= _MULT[m.group("mult").lower()]
    symbol = (m.group("cur") or m.group("pre") or "").strip()
    currency = _SYMBOLS.get(symbol.lower(), symbol.upper()) if symbol else None
    return text[: m.start()].strip(), amount, currency


def said_yuan(text: str) -> bool:
    """Whether the trailing amount of `text` names its currency by 元 alone (`50萬 元`): the
    unit word of yuan, of the Taiwan dollar and of the Hong Kong dollar alike, so the reader
    decides which (crm_core.services.deals.yuan_currency)."""
    m = _AMOUNT.search(char_view(text.strip()))
    return bool(m and m.group("cur") == "元")


def unread_amount(text: str) -> str | None:
    """The end of `text` when it reads as an amount that `take_amount` could not take
    (`3百 TWD`, `$5 mil`), as typed; None when it does not look like money."""
    words = text.strip().split()[-2:]
    m = _MONEYISH.search(char_view(" ".join(words)))
    if m is None:
        return None
    # Only the last word when the money starts in it (`Fleet ¥5百` -> `¥5百`).
    return words[-1] if len(words) == 2 and m.start() > len(words[0]) else " ".join(words)


_SPAN_EN = re.compile(
    # No "in" or "from now": "in 3 hours" counts from now (the time reader), not from the due time.
    r"^(?:(?:by|for|another)\s+)?(?:another\s+)?(?P<n>an?|one|two|three|four|five|six|ten|fifteen|"
    r"twenty|thirty|forty|half\s+an?|\d{1,3})\s*(?P<u>m|mins?|minutes?|h|hrs?|hours?|days?|weeks?)"
    r"(?:\s+(?:later|more))?\s*[.!]*$"
)
_SPAN_ZH = re.compile(
    r"^(?:晚|迟|推迟|延后|延迟|再过)?\s*(?P<n>半|[一二两三四五六七八九十]+|\d{1,3})\s*个?\s*"
    r"(?P<u>小时|钟头|钟|分钟|天|日|星期|礼拜)(?:后|之后|以后)?\s*(?:再)?(?:提醒(?:我)?)?(?:吧)?\s*[。.!！]*$"
)
_SPAN_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40}  # fmt: skip


def span_said(view: str) -> str | None:
    """A snooze length said in words ("by an hour", "two days", "兩個鐘", "晚半小时") as the
    grammar's length (`1h`, `2d`, `30m`); None when it is not one."""
    m = _SPAN_EN.match(view.strip())
    if m is not None:
        n, unit = m.group("n"), m.group("u")[0]
        half = n.startswith("half")
        count = _SPAN_WORDS.get(n) or (int(n) if n.isdigit() else 0)
    else:
        m = _SPAN_ZH.match(view.strip())
        if m is None:
            return None
        n = m.group("n")
        unit = {"小": "h", "钟": "h", "分": "m", "天": "d", "日": "d"}.get(m.group("u")[0], "w")
        half = n == "半"
        count = int(n) if n.isdigit() else (0 if half else cn_int(n))
    if unit == "w":
        if half:
            return None  # "half a week": no length of the grammar's says it
        unit, count = "d", count * 7
    if half:
        unit, count = {"h": ("m", 30), "d": ("h", 12)}.get(unit, (unit, 0))
    return f"{count}{unit}" if count > 0 else None
