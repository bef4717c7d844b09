"""A word that is one customer's name start and another's tag asks, with both as buttons, in
grammar commands and loose sentences, reads and writes; nothing is written until one is chosen."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import Customer, Deal, Interaction
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Harbour Foods"),
    ("alice", "new customer Kowloon Bay Hotel tags harbour, hotel"),
    ("alice", "new deal Harbour Foods: Fleet renewal 10k stage qualified"),
    ("alice", "new deal Kowloon Bay Hotel: Linen service 8k stage qualified"),
    ("dave", "new customer Westside Diner tags harbour"),
    ("wei", "新客户 港灯贸易有限公司"),
    ("wei", "新客户 Skyline Tower"),
)


def _labels(testbot: TestBot, who: str, text: str) -> list[str]:
    """The buttons of the question `text` gets (it must be one, and write nothing)."""
    before = testbot.count(Interaction), testbot.count(Deal)
    reply = testbot(who, text)
    assert reply.status == "info", (text, reply.status, reply.text)
    assert (testbot.count(Interaction), testbot.count(Deal)) == before
    return [b.label for b in reply.buttons]


def test_a_grammar_write_and_read_ask_and_the_choice_is_written(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """`log call harbour: ...` and `customer harbour` ask between the two; the button pressed
    is the customer written to."""
    for line in ("log call harbour: wants a quote", "customer harbour", "deals harbour"):
        assert _labels(testbot, "alice", line) == ["Harbour Foods", "Kowloon Bay Hotel"], line
    asked = testbot("alice", "log call harbour: wants a quote")
    hotel = next(b for b in asked.buttons if b.label == "Kowloon Bay Hotel")
    assert testbot.press("alice", hotel).status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert note.customer_id == book["Kowloon Bay Hotel"]


def test_the_whole_name_typed_is_written_at_once(testbot: TestBot, book: dict[str, int]) -> None:
    """ "Harbour Foods" in full names one customer, in the grammar and in a sentence."""
    assert testbot("alice", "log call Harbour Foods: wants a quote").status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert note.customer_id == book["Harbour Foods"]
    assert command(testbot, "alice", "called Harbour Foods, they want a quote").startswith(
        f"log call #{book['Harbour Foods']}:"
    )


def test_a_loose_write_asks_then_confirms_the_choice(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "called harbour, ..." is a question, not a card for Harbour Foods; the choice's card
    names the chosen customer."""
    assert _labels(testbot, "alice", "called harbour, they want a quote") == [
        "Harbour Foods",
        "Kowloon Bay Hotel",
    ]
    asked = testbot("alice", "called harbour, they want a quote")
    hotel = next(b for b in asked.buttons if b.label == "Kowloon Bay Hotel")
    card = testbot.press("alice", hotel)
    assert card.status == "confirm", card.text
    assert str(card.to_json()["command"]).startswith(f"log call #{book['Kowloon Bay Hotel']}:")
    assert testbot.count(Interaction) == 0


def test_a_loose_read_lists_both(testbot: TestBot, book: dict[str, int]) -> None:
    """ "harbour's deals?" lists the two customers the word fits, as a shared name does."""
    reply = testbot("alice", "what's harbour's pipeline look like?")
    assert [b.label for b in reply.buttons] == ["Harbour Foods", "Kowloon Bay Hotel"]


def test_a_hidden_customers_tag_changes_nothing(testbot: TestBot, book: dict[str, int]) -> None:
    """dave's Westside Diner is tagged harbour: alice and bob never see a question about it."""
    assert command(testbot, "alice", "called harbour foods, they want a quote").startswith(
        f"log call #{book['Harbour Foods']}:"
    )
    with unit_of_work(testbot.session_factory) as s:
        hotel = s.get(Customer, book["Kowloon Bay Hotel"])
        assert hotel is not None
        hotel.tags = ["hotel"]
    assert command(testbot, "alice", "called harbour, they want a quote").startswith(
        f"log call #{book['Harbour Foods']}:"
    )
    assert testbot("bob", "log call harbour: x").status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert note.customer_id == book["Harbour Foods"]
    labels = _labels(testbot, "admin", "log call harbour: y")
    assert labels == ["Harbour Foods (Alice)", "Westside Diner (Dave)"]


def test_a_chinese_tag_in_traditional_clashes_with_a_name(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """Skyline Tower tagged 港燈 (Traditional) and 港灯贸易: "港灯" asks in both."""
    with unit_of_work(testbot.session_factory) as s:
        tower = s.get(Customer, book["Skyline Tower"])
        assert tower is not None
        tower.tags = ["港燈"]
    expected = ["港灯贸易有限公司", "Skyline Tower"]
    assert sorted(_labels(testbot, "wei", "记录 电话 港灯：价格")) == sorted(expected)
    assert sorted(_labels(testbot, "wei", "记一下：今天拜访了港灯，客户关心价格")) == sorted(
        expected
    )
