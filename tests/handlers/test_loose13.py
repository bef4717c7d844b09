"""Known limits of the loose reader (loose13): a "keep ..." clause about another field, a past
weekday dating a log, a contact named by surname and title in the grammar's `with`, the currency
of a new deal for a customer with no deals, numbered lists, and remarks that ask for nothing."""

from __future__ import annotations

import pytest

from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Bolt Freight"),
    ("alice", "new deal Bolt Freight: Reefer fleet 20000 USD close 2027-01-15"),
    ("alice", "contact add Bolt Freight: Dana Ruiz, VP Ops, dana@bolt.example, +1 617 555 0100"),
    ("wei", "新客户 福建海风茶业"),
    ("wei", "new deal 福建海风茶业: 礼盒定制 300000 CNY close 2027-02-01"),
    ("wei", "contact add 福建海风茶业：林建国, 总经理, lin@haifeng.example"),
)


# -- 1. "keep ..." in a later clause about another field ----------------------------------------


@pytest.mark.parametrize(
    ("who", "text", "expected"),
    [
        (
            "alice",
            "move the bolt reefer fleet deal to won. keep the old date",
            "move #{deal} to won",
        ),
        (
            "alice",
            "change Dana Ruiz's phone to 555-0101, keep the old email",
            "edit contact #{dana}: phone 555-0101",
        ),
        (
            "alice",
            "move the bolt reefer fleet deal to won - but don't change the amount",
            "move #{deal} to won",
        ),
        ("wei", "把福建海风茶业的礼盒定制推进到谈判，金额唔好改", "move #{hf_deal} to negotiation"),
    ],
)
def test_a_later_keep_of_another_field_leaves_the_first_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str, expected: str
) -> None:
    """The write of the first clause is still proposed when the later one keeps another field."""
    ids = {"deal": book["Reefer fleet"], "dana": book["Dana Ruiz"], "hf_deal": book["礼盒定制"]}
    assert command(testbot, who, text) == expected.format(**ids)


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "change Dana Ruiz's phone to 555-0101. keep the old number"),
        ("alice", "change Dana Ruiz's phone to 555-0101. actually keep it as is"),
        ("alice", "move the bolt reefer fleet deal to won, keep it as is"),
        ("wei", "把林建国的邮箱改成 jg@haifeng.example，邮箱唔好改"),
    ],
)
def test_a_keep_of_the_same_thing_still_cancels(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """Keeping the very field the write changes, or all of it, proposes nothing."""
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))


# -- 3. a contact named by surname and title in the grammar's `with` -----------------------------


def test_a_grammar_log_with_a_surname_and_title_asks_which_contact(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """`log call X, with 林总: ...` whose note reads like a sentence: 林总 is 林建国 (logged at
    once, the contact set); with two 林 at the customer, buttons for both, never a card that
    drops the `with` into the note. A full first name shared by two contacts asks the same way."""
    reply = testbot("wei", "log call 福建海风茶业, with 林总: they'll sign next week")
    assert reply.status == "ok", reply.text
    assert "林建国" in (reply.text or "")
    testbot("wei", "contact add 福建海风茶业：林小梅, 采购经理")
    testbot("alice", "contact add Bolt Freight: Dana Lee, CFO")
    for who, text, names in (
        ("wei", "log call 福建海风茶业, with 林总: they'll sign next week", ("林建国", "林小梅")),
        (
            "alice",
            "log call Bolt Freight, with Dana: they'll sign next week",
            ("Dana Ruiz", "Dana Lee"),
        ),
    ):
        reply = testbot(who, text)
        assert reply.status != "confirm", (text, reply.to_json().get("command"))
        labels = " ".join(b.label for b in reply.buttons)
        assert all(n in labels for n in names), (text, labels)
