"""Slash dates typed by a day-first user (en-GB) and a month-first one (en-US), in grammar
commands and loose sentences; a date that reads two ways is shown in words on the card."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crm_core.models import Deal
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Acme Logistics"),
    ("alice", "new deal Acme Logistics: Fleet tracking 30k stage qualified"),
)
ZONES = {"gb": "Europe/London", "us": "America/New_York"}
# START is 2026-11-23: "3/4" is next year's either way.
READS = {"gb": date(2027, 4, 3), "us": date(2027, 3, 4)}


@pytest.fixture
def owner(testbot: TestBot, book: dict[str, int], request: pytest.FixtureRequest) -> str:
    """gb or us, owning Acme Logistics."""
    who = str(request.param)
    testbot.add_user(who, timezone=ZONES[who])
    testbot("admin", f"reassign Acme Logistics to @{who}")
    return who


def close_of(testbot: TestBot, title: str) -> date | None:
    """A deal's expected close."""
    with testbot.session_factory() as s:
        return s.scalars(select(Deal.expected_close).where(Deal.title == title)).one()


@pytest.mark.parametrize("owner", ["gb", "us"], indirect=True)
def test_grammar_commands_read_slash_dates_in_the_users_order(testbot: TestBot, owner: str) -> None:
    """`edit deal ...: close 3/4` and `new deal ... close 3/4`: 3 April in London, 4 March in
    New York; "18/12" is 18 December for both (no 18th month)."""
    assert testbot(owner, "edit deal Fleet tracking: close 3/4").status == "ok"
    assert close_of(testbot, "Fleet tracking") == READS[owner]
    assert testbot(owner, "new deal Acme Logistics: Pilot 5k close 3/4").status == "ok"
    assert close_of(testbot, "Pilot") == READS[owner]
    assert testbot(owner, "edit deal Pilot: close 18/12").status == "ok"
    assert close_of(testbot, "Pilot") == date(2026, 12, 18)
    reply = testbot(owner, "remind me 3/4 to call acme")
    assert READS[owner].isoformat() in str(reply.text)


@pytest.mark.parametrize("owner", ["gb", "us"], indirect=True)
def test_a_loose_slash_date_is_read_in_the_users_order_and_shown_in_words(
    testbot: TestBot, book: dict[str, int], owner: str
) -> None:
    """The card's command carries the user's reading, and a field says it in words."""
    deal = book["Fleet tracking"]
    text = "push the acme fleet tracking close date to 3/4"
    assert command(testbot, owner, text) == f"edit deal #{deal}: close {READS[owner].isoformat()}"
    shown = {f.label: f.value for f in testbot(owner, text).fields}
    words = "3 April (day first" if owner == "gb" else "4 March (month first"
    assert words in shown["Date read as"]


@pytest.mark.parametrize("owner", ["gb"], indirect=True)
def test_a_date_that_reads_one_way_is_not_flagged(
    testbot: TestBot, book: dict[str, int], owner: str
) -> None:
    """ "18/12" and "12/18" name 18 December for everyone: no "read as" field."""
    deal = book["Fleet tracking"]
    for typed in ("18/12", "12/18"):
        text = f"push the acme fleet tracking close date to {typed}"
        assert command(testbot, owner, text) == f"edit deal #{deal}: close 2026-12-18"
        assert "Date read as" not in {f.label for f in testbot(owner, text).fields}


def test_a_chinese_user_in_hong_kong_writes_day_first(testbot: TestBot) -> None:
    """zh-Hant in Hong Kong (d/M/y) reads 3/4 as 4月3日; in Shanghai (y/M/d) as 3月4日."""
    testbot.add_user("hk", locale="zh-Hant", timezone="Asia/Hong_Kong")
    testbot.add_user("sh", locale="zh", timezone="Asia/Shanghai")
    for who, expected in (("hk", date(2027, 4, 3)), ("sh", date(2027, 3, 4))):
        testbot(who, f"新客户 {who}公司")
        assert testbot(who, f"新商机 {who}公司：试点 5万 元 close 3/4").status == "ok"
        assert close_of(testbot, "试点") == expected
        testbot(who, "edit deal 试点: close 2027-01-01")
        testbot(who, "edit deal 试点: title 旧试点")
