"""A loose satisfaction score ("X gave us nps 2") is written on the customer its card names:
the card's command names the customer as `feedback <customer>:` reads it, never `#<customer
id>`, which the grammar reads as a ticket number (rev10 fault 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Feedback
from handlers.reply import Reply
from tests.conftest import TestBot

# Acme is customer #1 with tickets #1 and #2; Hall Wind is customer #2.
BOOK = (
    ("alice", "new customer Acme"),
    ("alice", "new customer Hall Wind"),
    ("alice", "ticket Acme: printer jams"),
    ("alice", "ticket Acme: scanner broken"),
    ("alice", "new customer 华东物流"),
)


def confirm(testbot: TestBot, who: str, reply: Reply) -> Reply:
    """Press the card's Confirm as the person who asked."""
    assert reply.status == "confirm", reply.text
    return testbot.press(who, next(b for b in reply.buttons if b.label == "Confirm"))


def scores(testbot: TestBot) -> list[tuple[int, str, int, int | None]]:
    """(customer id, kind, score, ticket id) of every feedback row."""
    return testbot.rows(
        select(Feedback.customer_id, Feedback.kind, Feedback.score, Feedback.ticket_id)
    )


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
@pytest.mark.parametrize(
    ("who", "text", "kind", "score"),
    [
        ("bob", "hall wind gave us nps 2, hated the wait", "nps", 2),
        ("bob", "hall wind rated the fix csat 2", "csat", 2),
        ("alice", "Hall Wind gave us nps 9", "nps", 9),
    ],
)
def test_loose_feedback_lands_on_the_customer_its_card_names(
    testbot: TestBot,
    book: dict[str, int],
    platform: str,
    who: str,
    text: str,
    kind: str,
    score: int,
) -> None:
    """The card says Hall Wind, the command names Hall Wind, Confirm scores Hall Wind."""
    testbot.platform = platform
    hall = book["Hall Wind"]
    reply = testbot(who, text)
    command = str(reply.to_json()["command"])
    assert command.startswith(f"feedback Hall Wind: {kind} {score}"), command
    assert any(f"#{hall} Hall Wind" in f.value for f in reply.fields)
    assert scores(testbot) == []
    done = confirm(testbot, who, reply)
    assert done.status == "ok", done.text
    assert "Hall Wind" in done.text and "Acme" not in done.text
    assert scores(testbot) == [(hall, kind, score, None)]


def test_loose_feedback_in_chinese_names_the_customer(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """`华东物流给了 nps 9，很满意` scores 华东物流, not the customer of ticket #3's number."""
    testbot("alice", "ticket Hall Wind: door sticks")  # ticket #3, the Chinese customer's number
    cn = book["华东物流"]
    reply = testbot("alice", "华东物流给了 nps 9，很满意")
    assert str(reply.to_json()["command"]).startswith("feedback 华东物流: nps 9"), reply.text
    assert confirm(testbot, "alice", reply).status == "ok"
    assert scores(testbot) == [(cn, "nps", 9, None)]


def test_a_name_that_does_not_read_back_alone_gives_no_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """Two customers of the same name seen by bob: no card that could score the other one;
    the reply says what to type, and nothing is written."""
    testbot("carol", "new customer Hall Wind")
    testbot("carol", "new customer Hall Wind confirm")
    reply = testbot("alice", "Hall Wind gave us nps 9")
    assert reply.status == "confirm"  # alice sees one Hall Wind: hers
    assert str(reply.to_json()["command"]).startswith("feedback Hall Wind: nps 9")
    both = testbot("bob", "hall wind gave us nps 2")
    assert both.status != "confirm" and scores(testbot) == []
    named = testbot.query(select(Customer.id).where(Customer.name == "Hall Wind"))
    carols = max(named)
    pick = next(b for b in both.buttons if b.payload.get("pick") == {"customer": carols})
    picked = testbot.press("bob", pick)
    # Its name would ask again at Confirm, and `#N` is a ticket: no card, the line to type.
    assert picked.status != "confirm", picked.text
    assert "`feedback #<ticket number>: nps 2`" in picked.text
    assert scores(testbot) == []
