"""Text normalisation shared by lookup, dedup and command parsing."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import opencc

# Legal-form words that do not tell two companies apart ("ACME logistics inc." is Acme Logistics).
_LEGAL_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "llp",
    "ltd",
    "limited",
    "co",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "bv",
    "nv",
    "plc",
    "pty",
    "pte",
    "srl",
    "spa",
    "oy",
    "ab",
    "as",
    "kk",
    "the",
}
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_DOTTED = re.compile(r"\b(?:\w\.){2,}")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to Simplified; other text unchanged."""
    return str(_t2s().convert(text))


@cache
def _opencc(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


# Taiwan and Hong Kong quote with corner brackets.
_CORNER_QUOTES = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})


def to_traditional(text: str, *, phrases: bool = True) -> str:
    """Simplified Chinese to Traditional with Taiwan wording (OpenCC s2twp); other text unchanged.

    `phrases=False` converts character by character (s2tw): the result folds back to `text`
    through `to_simplified`, which is what command words a person copies must do.
    """
    if phrases:
        return str(_opencc("s2twp").convert(text)).translate(_CORNER_QUOTES)
    return str(_opencc("s2tw").convert(text))


@lru_cache(maxsize=4096)
def hant_views(word: str) -> frozenset[str]:
    """The `char_view` forms of a Simplified command word as Traditional writers type it.

    Converted character by character it folds back to `word`; Taiwan's phrase for it may not
    (联系人 is 聯絡人 there, 回复 is 回覆, 优先级 is 優先順序), so that form is read too.
    """
    return frozenset(
        {
            char_view(word),
            char_view(to_traditional(word)),
            char_view(to_traditional(word, phrases=False)),
        }
    )


def has_cjk(text: str) -> bool:
    """Whether `text` holds a Chinese character."""
    return _HAN.search(text) is not None


# Characters OpenCC changes on their own that Traditional writing also uses in these words:
# 漏斗 (funnel), 群組 (group), 平台 (platform), 游標 (cursor).
_ALSO_TRADITIONAL = frozenset("斗群台游")


def simplified_only(text: str) -> set[str]:
    """The characters of `text` that Traditional writing does not use (`这`, `们`, `发`)."""
    s2t = _opencc("s2t")
    return {
        ch
        for ch in set(text)
        if has_cjk(ch) and ch not in _ALSO_TRADITIONAL and s2t.convert(ch) != ch
    }


def traditional_share(text: str) -> tuple[int, int]:
    """How many characters of `text` are Traditional-only and how many Simplified-only."""
    s2t, t2s = _opencc("s2t"), _t2s()
    trad = sum(1 for ch in text if has_cjk(ch) and t2s.convert(ch) != ch)
    simp = sum(1 for ch in text if has_cjk(ch) and s2t.convert(ch) != ch)
    return trad, simp


def fold(text: str) -> str:
    """Case-, width- and script-insensitive form of free text."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACE.sub(" ", to_simplified(text).casefold()).strip()


def name_key(name: str) -> str:
    """The comparison key of a customer or deal name."""
    # "S.A." and "L.L.C." are the legal forms SA and LLC: drop the dots before punctuation goes.
    folded = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), fold(name))
    text = _PUNCT.sub(" ", folded.replace("&", " and "))
    words = [w for w in text.split() if w]
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    key = " ".join(words)
    for suffix in _CJK_SUFFIXES:
        if key.endswith(suffix):
            if len(key) > len(suffix):
                key = key[: -len(suffix)].strip()
            break
    return key


def char_view(text: str) -> str:
    """`text` folded one character at a time (width, Traditional, case), same length.

    Parsers match on this view and cut the original at the same positions, so full-width
    signs (￥, ：), Traditional characters (萬, 階段) and capitals read as their plain forms.
    """
    if text.isascii():
        # NFKC and OpenCC leave ASCII as it is: only the case folds (this is most commands).
        return text.lower()
    return "".join(map(_char_folded, text))


# Taiwanese chat types some particles by their Zhuyin letter ("推到議價ㄌ", "信和ㄉ尾牙"):
# read as the characters they stand for, so "ㄌ" ends a done deed as "了" does.
_ZHUYIN_PARTICLES = {"ㄌ": "了", "ㄉ": "的", "ㄇ": "吗", "ㄅ": "吧", "ㄚ": "啊", "ㄛ": "哦"}


@lru_cache(maxsize=8192)
def _char_folded(ch: str) -> str:
    """One character of `char_view` (the same few recur in every line: remembered)."""
    if ch in _ZHUYIN_PARTICLES:
        return _ZHUYIN_PARTICLES[ch]
    folded = to_simplified(unicodedata.normalize("NFKC", ch)).lower()
    return folded if len(folded) == 1 else ch
