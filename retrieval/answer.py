"""Extractive answers: the sentences of the best notes that speak to the question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.notes import Cited
from retrieval.passages import indexed_text, sentences, split_note
from retrieval.tokens import normalize, tokens

if TYPE_CHECKING:
    from retrieval.verify import Want

_MAX_QUOTE = 280
# Sentences of one note scored by meaning when a question shares no word with it.
_MEANING_SENTENCES = 6


@dataclass(frozen=True)
class Quote:
    """A sentence taken from a cited note."""

    number: int
    text: str


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1].rstrip() + "…"


def best_sentences(
    note: Cited,
    seq: int,
    topic: set[str],
    limit: int = 2,
    *,
    want: Want | None = None,
    meaning: Callable[[list[str]], Sequence[float]] | None = None,
    across: frozenset[str] = frozenset(),
) -> list[str]:
    """Up to `limit` sentences of `note` sharing most terms with the topic, in note order.

    `across` are the topic's words in the other language (retrieval.glossary): a note in that
    language shares those, not the question's own. A sentence holding what the question
    wants (a number, a time) goes first among equals.
    With no shared term (a question in the other language), the sentences holding what it
    wants, else those closest in meaning (`meaning` scores them against the question), else
    the matched passage's start are quoted.
    """
    text = indexed_text(note.text)
    sents = sentences(text) or [text]
    scored: list[tuple[float, float, int, str]] = []
    words = topic | across
    for i, s in enumerate(sents):
        overlap = len(words & set(tokens(s)))
        if overlap:
            typed = int(want is not None and want.search(normalize(s)))
            scored.append((overlap, typed, -i, s))
    if not scored and len(sents) > limit and want is not None:
        # Across languages a sentence holding what the question wants (a number, a date) is the
        # answer's best guess, and costs no model call.
        for i, s in enumerate(sents):
            if want.search(normalize(s)):
                scored.append((1, 0.0, -i, s))
    if not scored and len(sents) > limit and meaning is not None:
        window = sents[:_MEANING_SENTENCES]
        scores = meaning(window)
        for i, (s, score) in enumerate(zip(window, scores, strict=True)):
            typed = int(want is not None and want.search(normalize(s)))
            scored.append((typed, float(score), -i, s))
    if scored:
        chosen = sorted(scored, reverse=True)[:limit]
        order = {s: i for i, s in enumerate(sents)}
        return [_clip(s) for *_, s in sorted(chosen, key=lambda c: order[c[-1]])]
    passages = split_note(note.id, text)
    passage = passages[min(seq, len(passages) - 1)]
    return [_clip(s) for s in (sentences(passage.text) or [passage.text])[:limit]]


def coverage(note: Cited, topic: set[str]) -> float:
    """Share of the question's topic terms that the note contains."""
    if not topic:
        return 0.0
    return len(topic & set(tokens(indexed_text(note.text)))) / len(topic)
