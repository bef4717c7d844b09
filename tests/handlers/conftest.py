"""Fixtures shared by the handler tests: a small book typed in chat, and its ids by name."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal
from tests.conftest import TestBot


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
