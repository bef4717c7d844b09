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


def undictated(text: str) -> str:
    """`text` with spoken punctuation as marks, when the message is dictated; else unchanged."""
    if not text.isascii():
        return text
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
