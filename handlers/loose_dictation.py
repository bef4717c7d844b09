"""Messages dictated by voice: spoken punctuation read as the marks it names.

Voice-to-text keystrokes come out as words ("visited tamaki poly yesterday comma hemi walked me
through the hall full stop"). A mark said where a mark stands (between words, or at the end) is
read as that mark; the word used as a noun is left as typed ("the comma in the contract", "a
full stop to the project").
"""

from __future__ import annotations

import re

# A mark said as words, with the blanks around it. "comma" stands between two words; "full stop",
# "period", "question mark", "exclamation mark" and "new line" after a word, at the end or before
# the next word.
_SPOKEN_MARK = re.compile(
    r"(?<=\w)\s+(?P<mark>comma|full\s+stop|question\s+mark|exclamation\s+(?:mark|point)|"
    r"new\s+line|semicolon)(?=\s+\w|\s*$)",
    re.IGNORECASE,
)
_MARKS = {
    "comma": ",",
    "full stop": ".",
    "question mark": "?",
    "exclamation mark": "!",
    "exclamation point": "!",
    "new line": "\n",
    "semicolon": ";",
}
# "comma" alone in the middle of a line is dictation only when it is not a noun: no article or
# possessive before it ("the comma", "a comma", "its comma").
_NOUN_BEFORE = re.compile(r"\b(?:the|a|an|this|that|its|one|no|every|each|of)\s*$", re.IGNORECASE)


# An address dictated: "rose dot baker at tamaki dot example" (the local part's words joined by
# dot / underscore / dash, then "at", then a domain of two or more words joined by "dot" whose
# last is a top-level domain). A place said with "at" ("lena at pohutukawa pharma") has no dots.
_SPOKEN_EMAIL = re.compile(
    r"\b(?P<local>[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*)\s+at\s+"
    r"(?P<domain>[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+"
    r"(?:com|org|net|edu|gov|io|co|biz|info|example|[a-z]{2}))\b",
    re.IGNORECASE,
)
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_DIGIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
# A number dictated digit by digit, seven digits or more ("plus two five four seven one two ...",
# "oh two one five five five oh one nine nine", "double five"): a phone number. "o" is a digit
# only inside the run.
_SPOKEN_NUMBER = re.compile(
    rf"\b(?P<plus>plus\s+)?(?:(?:double|triple)\s+)?{_DIGIT}"
    rf"(?:[\s-]+(?:(?:double|triple)\s+)?(?:{_DIGIT}|o)){{6,}}\b",
    re.IGNORECASE,
)


def _spoken_number(m: re.Match[str]) -> str:
    """The digits of a number dictated word by word."""
    out: list[str] = []
    times = 1
    for word in re.split(r"[\s-]+", m.group(0).lower()):
        if word == "plus":
            out.append("+")
        elif word in ("double", "triple"):
            times = 2 if word == "double" else 3
        else:
            out.append(_DIGIT_WORDS[word] * times)
            times = 1
    return "".join(out)


def _spoken_email(m: re.Match[str]) -> str:
    """The address of an email dictated word by word."""
    marks = {"dot": ".", "underscore": "_", "dash": "-"}
    local = re.sub(
        r"\s+(dot|underscore|dash)\s+", lambda d: marks[d.group(1).lower()], m.group("local")
    )
    domain = re.sub(r"\s+dot\s+", ".", m.group("domain"), flags=re.IGNORECASE)
    return f"{local}@{domain}".lower()


def undictated(text: str) -> str:
    """`text` with spoken punctuation as marks, and a dictated address or phone number as
    typed, when the message is dictated; else unchanged."""
    if not text.isascii():
        return text
    text = _SPOKEN_EMAIL.sub(_spoken_email, text)
    text = _SPOKEN_NUMBER.sub(_spoken_number, text)
    marks = [m for m in _SPOKEN_MARK.finditer(text) if not _NOUN_BEFORE.search(text, 0, m.start())]
    if not marks:
        return text
    out: list[str] = []
    last = 0
    for m in marks:
        mark = _MARKS[re.sub(r"\s+", " ", m.group("mark").lower())]
        out.append(text[last : m.start()])
        out.append(mark)
        last = m.end()
    out.append(text[last:])
    return "".join(out)
