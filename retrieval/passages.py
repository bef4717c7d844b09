"""Long notes split into passages that keep their note's id."""

from __future__ import annotations

import re
from dataclasses import dataclass

# e5-small reads 512 tokens; ~700 characters of English or ~350 of Chinese stay well inside.
MAX_CHARS = 700
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*|\n+")


@dataclass(frozen=True)
class Passage:
    """One indexed piece of a note."""

    interaction_id: int
    seq: int
    text: str

    @property
    def key(self) -> str:
        """The passage's id in the vector store."""
        return f"{self.interaction_id}:{self.seq}"


def sentences(text: str) -> list[str]:
    """Sentences of a note (English and Chinese punctuation, line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _limit(text: str) -> int:
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return MAX_CHARS // 2 if cjk * 3 > len(text) else MAX_CHARS


def split_note(interaction_id: int, text: str) -> list[Passage]:
    """A short note is one passage; a long one is cut at sentences, one sentence overlapping."""
    text = text.strip()
    if len(text) <= _limit(text):
        return [Passage(interaction_id, 0, text)]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for sent in sentences(text):
        # A sentence longer than a passage is cut hard: rare, and better than dropping it.
        while len(sent) > _limit(sent):
            cut = _limit(sent)
            if current:
                parts.append(" ".join(current))
                current, size = [], 0
            parts.append(sent[:cut])
            sent = sent[cut:]
        if current and size + len(sent) > _limit(sent):
            parts.append(" ".join(current))
            # The last sentence carries over so a fact split across the cut stays findable.
            current = current[-1:]
            size = len(current[0])
        current.append(sent)
        size += len(sent) + 1
    if current:
        parts.append(" ".join(current))
    return [Passage(interaction_id, i, p) for i, p in enumerate(parts)]
