"""Input at the edges (bad bytes, NUL, the ends of the calendar, misleading text) is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Interaction
from tests.conftest import TestBot
from tests.handlers.test_bad_input import TABLES

# (who types it, the line, a fragment the reply must contain). `ny` is an admin in New York.
ODD = [
    ("alice", "find \udcff", "valid UTF-8"),
    ("alice", "new customer Bad\udcffName", "valid UTF-8"),
    ("alice", "log call Acme: price \udcff", "valid UTF-8"),
    ("alice", "find a\x00b", "control character"),
    ("alice", "new customer Nul\x00Co", "control character"),
    ("alice", "log call Acme: a\x00b", "control character"),
    ("alice", "edit #1: a\x00b", "control character"),
    ("alice", "remind me tomorrow 9am call a\x00b", "control character"),
    ("alice", "new deal Acme: Nul\x00 10", "control character"),
    ("ny", "log call Acme, 9999-12-31 23:59: x", "1970 to 2100"),
    ("alice", "log call Acme, 0001-01-01: x", "1970 to 2100"),
    ("alice", "log call Acme, 1969-12-31: x", "1970 to 2100"),
    ("alice", "remind me in 99999999999 hours x", "1970 to 2100"),
    ("ny", "remind me 9999-12-31 23:59 x", "1970 to 2100"),
    ("alice", "snooze #1 9999-12-31 23:59", "1970 to 2100"),
    ("ny", "snooze #1 9999-12-31 23:59", "1970 to 2100"),
    ("alice", "new deal Acme: Fleet2 10 close 0001-01-01", "1970 to 2100"),
    ("alice", "new deal Acme: Fleet2 10 close 9999-12-31", "1970 to 2100"),
    ("alice", "new deal Acme: Fleet2 10 close 2101-01-01", "1970 to 2100"),
    ("alice", 'new deal Acme: "Renewal 2027 12k', '"Renewal 2027" 12k'),
    ("alice", "new customer “Acme East", '"Renewal 2027" 12k'),
    ("ny", "log call Acme, 2026-03-08 02:30: x", "does not exist in America/New_York"),
    ("alice", "new deal Acme: Gold 10 XAU", "not a currency"),
    ("alice", "new deal Acme: Test 10 XXX", "not a currency"),
    ("alice", "new deal Acme: Made up 10 ABC", "not a currency"),
    ("alice", "new customer Ev\u202eil Corp", "right-to-left"),
    ("alice", "new deal Acme: \u202eFleet3 10", "right-to-left"),
    ("alice", "move Fleet to lost: \u202eprice", "right-to-left"),
]


@pytest.fixture
def book(testbot: TestBot) -> TestBot:
    """Acme with a deal, note #1 and reminder #1 (alice's), and `ny`, an admin in New York."""
    testbot.add_user("ny", role="admin", team=None, timezone="America/New_York")
    assert testbot("alice", "new customer Acme").status == "ok"
    assert testbot("alice", "new deal Acme: Fleet 100").status == "ok"
    assert testbot("alice", "log call Acme: first").status == "ok"
    assert testbot("alice", "remind me tomorrow 9am call Dana").status == "ok"
    return testbot


@pytest.mark.parametrize(("who", "line", "hint"), ODD)
def test_odd_input_is_refused_and_writes_nothing(
    book: TestBot, who: str, line: str, hint: str
) -> None:
    """A clear refusal that says what to type (never the internal-error apology); no row."""
    before = tuple(book.count(t) for t in TABLES)
    reply = book(who, line)
    assert reply.status == "error", (line, reply.text)
    assert "reference" not in reply.text, (line, reply.text)
    assert hint in reply.text, (line, reply.text)
    assert tuple(book.count(t) for t in TABLES) == before


def test_chinese_key_value_form_fills_the_fields(book: TestBot) -> None:
    """`新客户 华东物流，行业：物流；城市：上海` is a name with an industry and a city."""
    reply = book("alice", "新客户 华东物流，行业：物流；城市：上海")
    assert reply.status == "ok", reply.text
    rows = book.rows(
        select(Customer.name, Customer.industry, Customer.city).where(Customer.name != "Acme")
    )
    assert rows == [("华东物流", "物流", "上海")]


def test_english_keywords_with_a_colon(book: TestBot) -> None:
    """`industry: food, city: Austin` reads like `industry food city Austin`."""
    reply = book("alice", "new customer Taco Hut, industry: food, city: Austin")
    assert reply.status == "ok", reply.text
    rows = book.rows(
        select(Customer.name, Customer.industry, Customer.city).where(Customer.name != "Acme")
    )
    assert rows == [("Taco Hut", "food", "Austin")]


def test_dates_at_the_ends_of_the_window_are_accepted(book: TestBot) -> None:
    """1970-01-01 and 2100-12-31 are the first and last days a date may have; a new deal is
    open, so its close may not be past (tests/handlers/test_close_in_past.py) and 1970 is
    refused as past, not as outside the window."""
    old = book("alice", "new deal Acme: Old 10 close 1970-01-01")
    assert old.status == "error" and "already past" in old.text, old.text
    assert book("alice", "new deal Acme: Far 10 close 2100-12-31").status == "ok"
    assert book("alice", "log call Acme, 1970-01-02: archive").status == "ok"


def test_an_hour_after_the_gap_is_logged_as_typed(book: TestBot) -> None:
    """03:30 on the spring-forward night exists; it is stored as 07:30 UTC."""
    reply = book("ny", "log call Acme, 2026-03-08 03:30: x")
    assert reply.status == "ok", reply.text
    [when] = book.query(select(Interaction.occurred_at).where(Interaction.text == "x"))
    assert (when.hour, when.minute) == (7, 30)
