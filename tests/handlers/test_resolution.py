"""Names resolve to an exact name or a unique prefix; anything else is a question, never a guess."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal, Interaction
from tests.conftest import TestBot


def test_typos_and_stray_words_ask_instead_of_writing(testbot: TestBot) -> None:
    """A close-but-not-exact name offers a button; only pressing it writes."""
    testbot("carol", "new customer Initech")
    for line in (
        "log call Umbrella Initech: x",
        "log call Initek: x",
        "contact add Initech Dana: Dana Ruiz",
        "new deal Initech Fleet: Fleet 100",
    ):
        reply = testbot("carol", line)
        assert reply.status == "info", (line, reply.text)
        assert [b.label for b in reply.buttons] == ["Initech"], line
    assert testbot.count(Interaction) == testbot.count(Contact) == testbot.count(Deal) == 0
    asked = testbot("carol", "log call Initek: the typo was mine")
    assert testbot.press("carol", asked.buttons[0]).status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert note.text == "the typo was mine"


def test_short_or_odd_queries_do_not_match(testbot: TestBot) -> None:
    """One letter, or a reference with stray signs, is not a name."""
    testbot("carol", "new customer Initech")
    assert testbot("carol", "log call I: x").status in ("error", "info")
    assert testbot("carol", "customer ##1").title is None
    assert testbot.count(Interaction) == 0


def test_unique_prefix_and_word_prefix_are_accepted(testbot: TestBot) -> None:
    """The start of a name, or of one of its words, names it when only one customer fits."""
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "new customer 华东物流有限公司")
    assert testbot("alice", "log call acme: a").status == "ok"
    assert testbot("alice", "log call logistics: b").status == "ok"
    assert testbot("alice", "记录 电话 华东：c").status == "ok"
    assert testbot.count(Interaction) == 3


def test_ambiguous_deal_button_keeps_the_customer(testbot: TestBot) -> None:
    """Choosing the deal by button fills only the deal, whatever the words of the line."""
    testbot("alice", "new customer Fleet Services")
    testbot("alice", "new deal Fleet Services: Fleet renewal 100")
    testbot("alice", "new deal Fleet Services: Fleet expansion 200")
    ask = testbot("alice", "log call Fleet Services, deal Fleet: x")
    assert ask.status == "info" and len(ask.buttons) == 2
    expansion = next(b for b in ask.buttons if "expansion" in b.label)
    done = testbot.press("alice", expansion)
    assert done.status == "ok", done.text
    (note,) = testbot.query(select(Interaction))
    deal = testbot.query(select(Deal).where(Deal.title == "Fleet expansion"))[0]
    assert note.deal_id == deal.id
    assert note.customer_id == testbot.query(select(Customer.id))[0]


def test_two_questions_in_one_line(testbot: TestBot) -> None:
    """A line ambiguous in customer and then in deal asks twice and keeps the first answer."""
    for name in ("Acme Logistics", "Acme Foods"):
        testbot("alice", f"new customer {name}")
        testbot("alice", f"new deal {name}: Renewal one 100")
        testbot("alice", f"new deal {name}: Renewal two 100")
    first = testbot("alice", "log call acme, deal renewal: x")
    foods = next(b for b in first.buttons if "Foods" in b.label)
    second = testbot.press("alice", foods)
    assert second.status == "info" and len(second.buttons) == 2
    assert all("Acme Foods" in b.label for b in second.buttons)
    done = testbot.press("alice", second.buttons[0])
    assert done.status == "ok", done.text
    (note,) = testbot.query(select(Interaction))
    foods_id = testbot.query(select(Customer.id).where(Customer.name == "Acme Foods"))[0]
    assert note.customer_id == foods_id


def test_forged_pick_of_invisible_record_is_refused(testbot: TestBot) -> None:
    """A button payload naming someone else's customer answers like a missing one."""
    from handlers.reply import Button

    testbot("dave", "new customer Globex")
    testbot("alice", "new customer Acme")
    globex = testbot.query(select(Customer.id).where(Customer.name == "Globex"))[0]
    forged = Button.run("x", "log call Acme: sneaky", pick={"customer": globex})
    reply = testbot.press("alice", forged)
    assert reply.status == "error" and f"#{globex}" in reply.text
    assert testbot.count(Interaction) == 0


def test_manager_sees_owners_on_choice_buttons(testbot: TestBot) -> None:
    """Two reps' same-named customers are told apart by owner for their manager, not for reps."""
    testbot("alice", "new customer Acme city Boston")
    testbot("carol", "new customer Acme city Boston")
    ask = testbot("bob", "customer acme")
    assert sorted(b.label for b in ask.buttons) == ["Acme (Boston, Alice)", "Acme (Boston, Carol)"]
    testbot("alice", "new customer Acme Foods")
    mine = testbot("alice", "customer acm")
    assert sorted(b.label for b in mine.buttons) == ["Acme (Boston)", "Acme Foods"]
