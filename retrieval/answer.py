"""Extractive answers: the sentences of the best notes that speak to the question."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.models import Interaction
from retrieval.passages import indexed_text, sentences, split_note
from retrieval.tokens import tokens

_MAX_QUOTE = 280


@dataclass(frozen=True)
class Quote:
    """A sentence taken from a cited note."""

    number: int
    text: str


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1].rstrip() + "…"


def best_sentences(note: Interaction, seq: int, topic: set[str], limit: int = 2) -> list[str]:
    """Up to `limit` sentences of `note` sharing most terms with the topic, in note order.

    With no shared term (a question in the other language), the passage the vector search
    matched is quoted from its start.
    """
    text = indexed_text(note.text)
    sents = sentences(text) or [text]
    scored = []
    for i, s in enumerate(sents):
        overlap = len(topic & set(tokens(s)))
        if overlap:
            scored.append((overlap, -i, s))
    if scored:
        chosen = sorted(scored, reverse=True)[:limit]
        order = {s: i for i, s in enumerate(sents)}
        return [_clip(s) for _, _, s in sorted(chosen, key=lambda c: order[c[2]])]
    passages = split_note(note.id, text)
    passage = passages[min(seq, len(passages) - 1)]
    return [_clip(s) for s in (sentences(passage.text) or [passage.text])[:limit]]


def coverage(note: Interaction, topic: set[str]) -> float:
    """Share of the question's topic terms that the note contains."""
    if not topic:
        return 0.0
    return len(topic & set(tokens(indexed_text(note.text)))) / len(topic)
