"""Fixtures shared by the handler tests: a small book typed in chat, and its ids by name; the
loose-reading evaluator and its runners on the evaluation books."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal
from tests.conftest import TestBot

ROOT = Path(__file__).resolve().parents[2]
# The evaluation books the loose tests read against, by the name the tests give them.
LOOSE_BOOKS = {
    "book": "loose_book.jsonl",
    "book5": "loose_book5.jsonl",
    "book6": "loose_book6.jsonl",
}


def loose_evaluator() -> Any:
    """bench/loose_eval.py as a module (bench/ is no package: loaded from its file)."""
    spec = importlib.util.spec_from_file_location("loose_eval", ROOT / "bench" / "loose_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up by name.
    sys.modules["loose_eval"] = module
    spec.loader.exec_module(module)
    return module


def book_runners(
    tmp_path_factory: pytest.TempPathFactory, books: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """One evaluation runner per book (name -> file in tests/data), removed when done."""
    le = loose_evaluator()
    out = {}
    for name, file in books.items():
        wd = tmp_path_factory.mktemp(name)
        out[name] = le.Runner(le.book_database(wd, ROOT / "tests" / "data" / file), wd)
    yield out
    for runner in out.values():
        shutil.rmtree(runner.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One evaluation runner per book of LOOSE_BOOKS: each message on a fresh copy of it."""
    yield from book_runners(tmp_path_factory, LOOSE_BOOKS)


@pytest.fixture
def book(request: pytest.FixtureRequest, testbot: TestBot) -> dict[str, int]:
    """The test module's BOOK typed in chat; ids of its customers, deals and contacts by name.

    BOOK is a sequence of (who, line): each line typed as that person. wei, a Chinese-speaking
    rep of East, is added when a line is hers. A module may define its own `book` instead.
    """
    lines: Sequence[tuple[str, str]] = request.module.BOOK
    if "wei" not in testbot.users and any(who == "wei" for who, _ in lines):
        testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    for who, line in lines:
        testbot(who, line)
    ids: dict[str, int] = {}
    with testbot.session_factory() as s:
        for c in s.scalars(select(Customer)):
            ids[c.name] = c.id
        for d in s.scalars(select(Deal)):
            ids[d.title] = d.id
        for p in s.scalars(select(Contact)):
            ids[p.name] = p.id
    return ids


def command(testbot: TestBot, who: str, text: str) -> str:
    """The grammar command of the confirm card `text` gets (it must be one)."""
    reply = testbot(who, text)
    assert reply.status == "confirm", (text, reply.status, reply.text)
    return str(reply.to_json()["command"])
