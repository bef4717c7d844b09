"""Text normalisation shared by lookup, dedup and command parsing."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

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


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to Simplified; other text unchanged."""
    return str(_t2s().convert(text))


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
    out = []
    for ch in text:
        folded = to_simplified(unicodedata.normalize("NFKC", ch)).lower()
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)
