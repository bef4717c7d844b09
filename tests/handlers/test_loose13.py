"""Known limits of the loose reader (loose13): a "keep ..." clause about another field, a past
weekday dating a log, a contact named by surname and title in the grammar's `with`, the currency
of a new deal for a customer with no deals, numbered lists, and remarks that ask for nothing."""

from __future__ import annotations

import pytest

from tests.conftest import FakeClock, TestBot
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
        (
            "wei",
            "把福建海风茶业的礼盒定制推进到谈判，金额还是保留原来的吧",
            "move #{hf_deal} to negotiation",
        ),
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
        ("wei", "把林建国的邮箱改成 jg@haifeng.example，算了还是保留原来的吧"),
        ("wei", "把林建国的邮箱改成 jg@haifeng.example，还是保留原来的吧"),
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
        (
            "alice",
            "log call Bolt Freight, with Dana: she says thanks for the demo",
            ("Dana Ruiz", "Dana Lee"),
        ),
    ):
        reply = testbot(who, text)
        assert reply.status != "confirm", (text, reply.to_json().get("command"))
        labels = " ".join(b.label for b in reply.buttons)
        assert all(n in labels for n in names), (text, labels)


# -- 2. a past weekday dates a log ---------------------------------------------------------------


def test_a_past_weekday_dates_the_log_in_the_senders_zone(
    testbot: TestBot, book: dict[str, int], clock: FakeClock
) -> None:
    """On Saturday 28 November: "on Thursday", "this Thursday" and 周四 are the 26th, 上周四 last
    week's (the 19th); a weekday in what was told, or one still to come, dates nothing."""
    clock.advance(days=5)  # Saturday 2026-11-28 15:00 UTC (23:00 in Shanghai)
    bolt, haifeng = book["Bolt Freight"], book["福建海风茶业"]
    assert command(testbot, "alice", "visited Bolt Freight on Thursday, they want a demo") == (
        f"log visit #{bolt}, 2026-11-26: they want a demo"
    )
    assert command(
        testbot, "alice", "went to see Bolt Freight this Thursday - they want a demo"
    ) == (f"log visit #{bolt}, 2026-11-26: they want a demo")
    assert command(testbot, "wei", "周四拜访了福建海风茶业，客户关心交期") == (
        f"log visit #{haifeng}, 2026-11-26: 客户关心交期"
    )
    assert command(testbot, "wei", "上週四拜訪了福建海風茶業，客戶關心交期") == (
        f"log visit #{haifeng}, 2026-11-19: 客戶關心交期"
    )
    told = command(testbot, "alice", "called Bolt Freight, they want a demo on Thursday")
    assert "2026-" not in told, told


def test_a_weekday_still_to_come_is_no_log_date(
    testbot: TestBot, book: dict[str, int], clock: FakeClock
) -> None:
    """On Tuesday, "this Thursday" and "next Thursday" are to come: the log is not dated by
    them (nor by the Thursday before)."""
    clock.advance(days=1)  # Tuesday 2026-11-24
    for text in (
        "visited Bolt Freight this Thursday, they want a demo",
        "visited Bolt Freight next Thursday, they want a demo",
    ):
        reply = testbot("alice", text)
        assert "2026-11-" not in str(reply.to_json().get("command")), text


def test_the_weekday_is_counted_from_today_in_the_senders_zone(
    testbot: TestBot, book: dict[str, int], clock: FakeClock
) -> None:
    """At 17:00 UTC on Monday it is already Tuesday in Shanghai: wei's 周一 is yesterday (the
    23rd), alice's Monday (UTC) the one a week before."""
    clock.advance(hours=2)
    haifeng, bolt = book["福建海风茶业"], book["Bolt Freight"]
    assert command(testbot, "wei", "周一拜访了福建海风茶业，客户关心交期") == (
        f"log visit #{haifeng}, 2026-11-23: 客户关心交期"
    )
    assert command(testbot, "alice", "visited Bolt Freight on Monday, they want a demo") == (
        f"log visit #{bolt}, 2026-11-16: they want a demo"
    )


# -- 5. numbered lists ---------------------------------------------------------------------------


def test_a_numbered_lists_numbers_are_no_ticket_numbers(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A manager's list naming a ticket, then a colleague's word that it was answered: no
    reply to ticket #1 or #2, nor to the customer's ticket; a reply the sender made still is."""
    testbot("alice", "ticket Bolt Freight: reefer door seal leaks")
    testbot("wei", "ticket 福建海风茶业: 礼盒封条开裂")
    for text in (
        "1. alice's bolt door seal ticket; 2. she says she replied to them yesterday.",
        "1、海风茶业的封条工单；2、她说昨天已经回复客户了。",
        "1. 海风茶业封条工单 2. wei说已经回复客户了",
    ):
        reply = testbot("bob", text)
        assert reply.status != "confirm", (text, reply.to_json().get("command"))
    assert command(
        testbot, "alice", "bolt door seal ticket: replied to them, new seal ships monday"
    ).startswith("reply #1: ")


def test_a_numbered_list_of_requests_gives_one_card_as_sentences_do(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "1. ... 2. ..." reads as the same two sentences would: one card, and never an item's
    number taken as a record, an amount or a stage."""
    deal = book["Reefer fleet"]
    listed = command(
        testbot,
        "alice",
        "1. move the bolt reefer fleet deal to won 2. remind me tomorrow to call Dana",
    )
    said = command(
        testbot, "alice", "move the bolt reefer fleet deal to won. remind me tomorrow to call Dana"
    )
    assert listed == said
    assert command(testbot, "alice", "1) bolt reefer fleet deal is won 2) thanks!") == (
        f"move #{deal} to won"
    )


# -- 4. the currency of a new deal for a customer with no deals ----------------------------------


def test_a_new_deal_with_no_currency_follows_the_customers_country(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A rep in Taipei: 48k for a customer in Singapore is SGD, for one whose country field says
    Japan JPY, for one with deals in USD USD, and for one the book places nowhere NT$ (hers)."""
    testbot.add_user("mei", timezone="Asia/Taipei")
    testbot("admin", "field add customer country text")
    for line in (
        "new customer Merlion city Singapore",
        "new customer Kyoto Cranes city Uji",
        "new customer Nowhere Mills",
        "new customer Lantau Ropes",
        "new deal Lantau Ropes: Hoist cables 9000 USD",
    ):
        assert testbot("mei", line).status == "ok", line
    assert testbot("mei", "edit customer Kyoto Cranes: country Japan").status == "ok"
    for customer, currency in (
        ("Merlion", "SGD"),
        ("Kyoto Cranes", "JPY"),
        ("Lantau Ropes", "USD"),
        ("Nowhere Mills", "TWD"),
    ):
        line = command(testbot, "mei", f"new deal for {customer} 48k pilot rollout")
        assert f"48000 {currency}" in line, (customer, line)


# -- 6. remarks that ask for nothing -------------------------------------------------------------

# (who, message): none asks for a write.
REMARKS = [
    # A wish, not a request.
    ("wei", "好想福建海风茶业的礼盒定制今天就赢单，老板天天问"),
    ("alice", "i wish the bolt reefer fleet deal was won already"),
    # A plan: the write put off until something happens; Pidgin "I fit" (I could).
    ("alice", "met the new buyer at Bolt Freight, forgot his surname, will add him once he emails"),
    ("alice", "i fit set reminder to chase bolt freight next week, make i see how tuesday goes"),
    # A colleague's change acknowledged.
    ("wei", "Alice把福建海风茶业礼盒定制的结案日改到三月了 我刚看到 好的"),
    (
        "bob",
        "Noted that Alice moved the Bolt reefer fleet deal to negotiation yesterday; fine by me.",
    ),
    # Said to a colleague.
    ("bob", "@alice Bolt Freight gave nps 5 last time, ask them why when you can"),
    # A promise mocked in quotes.
    ("bob", 'Sure, the Bolt reefer fleet deal is "closing next week" again, third week in a row.'),
    # A question first, the call its reason; a story ending in "hold off".
    ("wei", "海风茶业的报价发了没有？林总刚给我打电话问"),
    ("alice", "called Dana at Bolt Freight, board still hasn't signed, we wait, don't move it yet"),
    # A call told about the book's own records: a number, two records that should be apart.
    ("alice", "rang Dana at Bolt Freight at last, so #1 is sort of done but I want her PO first"),
    ("wei", "刚跟林总通了电话，他们是两家公司，福建海风这两条记录应该分开"),
]


@pytest.mark.parametrize(("who", "text"), REMARKS)
def test_remarks_give_no_write_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """None of them proposes a write."""
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))


def test_the_digest_told_as_it_comes_is_no_setting(testbot: TestBot, book: dict[str, int]) -> None:
    """Pidgin "make I manage am" (I'll put up with it) sets nothing; "make my digest come at 7am"
    still does."""
    reply = testbot("alice", "my digest dey come 6am, e early but make I manage am")
    assert reply.status != "confirm", reply.to_json().get("command")
    assert command(testbot, "alice", "make my digest come at 7am") == "digest at 07:00"


# The requests with the same words: still a card each.
STILL_ASKED = [
    ("alice", "the bolt reefer fleet deal is won", "move #{deal} to won"),
    ("alice", "@crmbot the bolt reefer fleet deal is won", "move #{deal} to won"),
    ("alice", "met the new buyer at Bolt Freight, they want a demo", "log meeting #{bolt}"),
    ("alice", "the bolt reefer fleet deal is closing next week", "edit deal #{deal}: close"),
    ("wei", "林总刚给我打电话问报价", "log call #{haifeng}"),
    ("alice", "called Dana at Bolt Freight, board still hasn't signed", "log call #{bolt}"),
    ("alice", "rang Dana at Bolt Freight at last, she wants the PO first", "log call #{bolt}"),
    ("wei", "刚跟林总通了电话，他们是两家公司", "log call #{haifeng}"),
]


@pytest.mark.parametrize(("who", "text", "expected"), STILL_ASKED)
def test_the_requests_with_the_same_words_still_give_their_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str, expected: str
) -> None:
    """A move, a log, a close date asked outright."""
    ids = {
        "deal": book["Reefer fleet"],
        "bolt": book["Bolt Freight"],
        "haifeng": book["福建海风茶业"],
    }
    assert command(testbot, who, text).startswith(expected.format(**ids))
