"""Notes split into passages: linear in the note's length, and capped at what is indexed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import pytest

from crm_core.models import Interaction, InteractionKind
from crm_core.rules import MAX_NOTE
from retrieval.answer import best_sentences, coverage
from retrieval.passages import INDEXED_CHARS, MAX_CHARS, indexed_text, sentences, split_note


def python_lines(fn: Callable[[], Any]) -> int:
    """Lines of Python that `fn()` runs: a count of work that no machine's speed changes."""
    count = 0

    def line(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return line

    before = sys.gettrace()
    sys.settrace(lambda frame, event, arg: line)
    try:
        fn()
    finally:
        sys.settrace(before)
    return count


def _note(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Words with no sentence end (a pasted transcript), Chinese with none, and ordinary prose.
UNITS = ("word ", "客户关心价格和交付时间", "Dana asked for 12% off the renewal. ")


@pytest.mark.parametrize("unit", UNITS)
def test_splitting_a_note_twice_as_long_is_about_twice_the_work(unit: str) -> None:
    half = INDEXED_CHARS // 2
    small = python_lines(lambda: split_note(1, _note(unit, half)))
    large = python_lines(lambda: split_note(1, _note(unit, 2 * half)))
    # Linear doubles (plus a little); the old split rescanned what was left at every cut: 4x.
    assert large < 2.5 * small, (small, large)


@pytest.mark.parametrize("unit", UNITS)
def test_a_huge_note_is_indexed_by_its_opening(unit: str) -> None:
    huge = _note(unit, 5_000_000) + " zebracorn"
    capped = python_lines(lambda: split_note(1, _note(unit, INDEXED_CHARS)))
    passages: list[Any] = []
    work = python_lines(lambda: passages.extend(split_note(1, huge)))
    # A 5 MB note costs what a note at the cap costs: the rest is never read.
    assert work <= capped * 1.1 + 100, (capped, work)
    opening = huge[:INDEXED_CHARS]
    assert all(p.text in opening for p in passages)
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    # The opening is indexed to its end; nothing after it is.
    assert opening.rstrip()[-20:] in passages[-1].text
    assert "zebracorn" not in " ".join(p.text for p in passages)


def test_answers_read_a_huge_note_as_far_as_it_is_indexed() -> None:
    huge = "We met Dana. " + _note("word ", 5_000_000) + " She wants a discount."
    note = Interaction(
        id=1,
        customer_id=1,
        author_id=1,
        kind=InteractionKind.note,
        occurred_at=datetime(2026, 9, 1, tzinfo=UTC),
        text=huge,
    )
    note.text = indexed_text(huge)
    capped = python_lines(lambda: coverage(note, {"dana"}))
    note.text = huge
    # The rest of the note is never tokenized: same work as for its indexed opening.
    assert python_lines(lambda: coverage(note, {"dana"})) <= capped * 1.1 + 200
    assert coverage(note, {"dana", "discount"}) == 0.5
    assert best_sentences(note, 0, {"dana", "discount"}) == ["We met Dana."]


def test_every_note_chat_and_import_accept_is_indexed_whole() -> None:
    text = "  " + _note("Dana asked for 12% off the renewal. ", MAX_NOTE) + "\n"
    assert INDEXED_CHARS >= MAX_NOTE
    assert indexed_text(text) == text.strip()
    assert " ".join(p.text for p in split_note(1, text)).count("Dana") >= text.count("Dana")


def test_a_period_inside_a_number_ends_no_sentence() -> None:
    text = "共卖了1.1万杯，周经理很满意。Quoted $3.10/tag to the U.S. team. Next.\nsecond line"
    assert sentences(text) == [
        "共卖了1.1万杯，周经理很满意。",
        "Quoted $3.10/tag to the U.S.",
        "team.",
        "Next.",
        "second line",
    ]
