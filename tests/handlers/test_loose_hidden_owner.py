"""Loose moves naming a customer the person cannot see (issue 17): a customer-like phrase
("X的…", "X嗰單", "X's …") sharing only a word with one of their own customers is answered as a
customer that does not exist, alike whether it is another rep's or no one's; never a card
moving the person's own deal of the same title."""

from __future__ import annotations

import pytest

from crm_core.models import Deal, StageChange
from tests.conftest import TestBot
from tests.handlers.conftest import command

# The `book` fixture (tests/handlers/conftest.py) types these lines.
BOOK = (
    ("wei", "新客户 江城银行信用卡中心"),
    ("wei", "新商机 江城银行信用卡中心：2027年会 30万 元 阶段 线索"),
    ("wei", "新客户 丰泽銀行有限公司"),
    ("wei", "新商机 丰泽銀行有限公司：私人銀行客戶酒會 20万 元 阶段 方案"),
    ("dave", "new customer 白鹭银行"),
    ("dave", "new deal 白鹭银行: 2027年会 40万 stage negotiation"),
    ("alice", "new customer Pelican Logistics"),
    ("alice", "new deal Pelican Logistics: Gala dinner 50k stage proposal"),
    ("dave", "new customer Pelican Bank"),
    ("dave", "new deal Pelican Bank: Gala dinner 80k stage proposal"),
)


@pytest.mark.parametrize(
    ("who", "hidden", "nowhere"),
    [
        ("wei", "白鹭银行的年会推到谈判", "青鸾银行的年会推到谈判"),
        ("wei", "帮我把白鹭银行的年会推到谈判", "帮我把青鸾银行的年会推到谈判"),
        ("wei", "白鹭銀行嗰單推去 won", "青鸞銀行嗰單推去 won"),
        (
            "alice",
            "move Pelican Bank's gala dinner to negotiation",
            "move Osprey Bank's gala dinner to negotiation",
        ),
        ("alice", "move the Pelican Bank deal to won", "move the Osprey Bank deal to won"),
    ],
)
def test_another_reps_customer_is_answered_as_a_missing_one(
    testbot: TestBot, book: dict[str, int], who: str, hidden: str, nowhere: str
) -> None:
    """No card and no move: the same words (the typed name aside) as for a customer that
    exists nowhere, and no record id in them."""
    moves = testbot.count(StageChange)
    said, other = testbot(who, hidden), testbot(who, nowhere)
    assert said.status not in ("confirm", "ok"), (hidden, said.text)
    assert "#" not in said.text, said.text
    typed = (("白鹭銀行", "青鸞銀行"), ("白鹭银行", "青鸾银行"), ("Pelican", "Osprey"))
    seen = said.text
    for name, instead in typed:
        seen = seen.replace(name, instead)
    assert (other.status, other.text) == (said.status, seen), (hidden, nowhere)
    assert testbot.count(StageChange) == moves
    with testbot.session_factory() as s:
        assert {d.stage for d in s.query(Deal)} == {"lead", "proposal", "negotiation"}


@pytest.mark.parametrize(
    ("who", "text", "deal", "stage"),
    [
        ("wei", "江城银行的年会推到谈判", "2027年会", "negotiation"),
        ("wei", "帮我把江城银行的年会推到谈判", "2027年会", "negotiation"),
        ("wei", "丰泽銀行嗰單推去 won", "私人銀行客戶酒會", "won"),
        (
            "alice",
            "move Pelican Logistics' gala dinner to negotiation",
            "Gala dinner",
            "negotiation",
        ),
        ("alice", "move the pelican gala dinner deal to won", "Gala dinner", "won"),
    ],
)
def test_the_persons_own_customer_named_so_still_moves(
    testbot: TestBot, book: dict[str, int], who: str, text: str, deal: str, stage: str
) -> None:
    """The phrase that is the person's own customer's name keeps its card."""
    with testbot.session_factory() as s:
        ids = {
            d.title: d.id
            for d in s.query(Deal).join(Deal.customer)
            if d.customer.owner_id == testbot.users[who]
        }
    assert command(testbot, who, text) == f"move #{ids[deal]} to {stage}"
