"""Long notes split into passages that keep their note's id."""

from __future__ import annotations

import re
from dataclasses import dataclass

# e5-small reads 512 tokens; ~700 characters of English or ~350 of Chinese stay well inside.
MAX_CHARS = 700
# What is indexed of one note: the longest note chat and import accept (crm_core.rules.MAX_NOTE),
# so any note written today is indexed whole; a longer one (imported before import had that
# limit) is indexed by its opening, and stays whole in the database. Past this, a note would cost
# every process that builds the index time for text no question can reach among its passages.
INDEXED_CHARS = 20_000
# Bump whenever split_note cuts a note differently: stored vectors are keyed by passage number,
# and answers quote the passage of that number as split now (runtime.collection_name).
SPLITTER_VERSION = 2
_LEADING_SPACE = re.compile(r"\s*")
# A period ends a sentence only before a space or the end: "1.1万杯", "$3.10/tag" and "U.S."
# stay whole (each was cut in two, and neither half answered); nor does the period of an
# honorific ("the general manager, Mr. Lin Hua" named no one in its first half).
_SENTENCE_END = re.compile(
    r"(?<=[!?。！？])\s*"
    r"|(?<=\.)(?<!\b[MmDd][RrSs]\.)(?<!\b[Mm][Rr][Ss]\.)(?<!\b[Pp]rof\.)(?:\s+|$)"
    r"|\n+"
)


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


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _limit(text: str) -> int:
    cjk = sum(1 for ch in text if _is_cjk(ch))
    return MAX_CHARS // 2 if cjk * 3 > len(text) else MAX_CHARS


def indexed_text(text: str) -> str:
    """The part of a note the index reads and answers quote: stripped, at most INDEXED_CHARS."""
    start = _LEADING_SPACE.match(text)
    begin = start.end() if start else 0
    # Slice before stripping: a 50 MB note is never copied whole.
    return text[begin : begin + INDEXED_CHARS].rstrip()


def _hard_cut(sent: str) -> tuple[list[str], str]:
    """A sentence longer than a passage: its passage-sized pieces, and the rest that fits one.

    Each piece's size depends on the script of what is left; counting it from the end once keeps
    this linear (counting the rest again at every cut made a 1 MB note take 30 s).
    """
    cjk_after = [0] * (len(sent) + 1)
    for i in range(len(sent) - 1, -1, -1):
        cjk_after[i] = cjk_after[i + 1] + _is_cjk(sent[i])
    pieces: list[str] = []
    pos = 0
    while True:
        left = len(sent) - pos
        cut = MAX_CHARS // 2 if cjk_after[pos] * 3 > left else MAX_CHARS
        if left <= cut:
            return pieces, sent[pos:]
        pieces.append(sent[pos : pos + cut])
        pos += cut


def split_note(interaction_id: int, text: str) -> list[Passage]:
    """A short note is one passage; a long one is cut at sentences, one sentence overlapping."""
    text = indexed_text(text)
    if len(text) <= _limit(text):
        return [Passage(interaction_id, 0, text)]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for sent in sentences(text):
        if len(sent) > MAX_CHARS // 2:
            # A sentence longer than a passage is cut hard: rare, and better than dropping it.
            pieces, sent = _hard_cut(sent)
            if pieces and current:
                parts.append(" ".join(current))
                current, size = [], 0
            parts.extend(pieces)
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


# Here, not in retrieval.store, so that reading notes for the index and the lexical search
# does not import Chroma: commands that need no index must not pay for loading it.
@dataclass(frozen=True)
class NoteMeta:
    """What the index keeps beside a passage's vector, for filtering inside the query."""

    customer_id: int
    author_id: int
    kind: str
    occurred_at: int  # seconds since the epoch, UTC
