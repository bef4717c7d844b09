"""Verb arguments declared as data: usage lines, written command lines, the shared readers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.models import Customer, Deal, Interaction, Reminder
from crm_core.stages import DEFAULT_STAGES, Pipeline
from handlers import format as fmt
from handlers.args import Arg, Kind, read_stage, take_ref, write_line
from handlers.grammar import take_keywords
from handlers.i18n import Translator
from handlers.registry import Verb
from handlers.verbs import default_registry
from tests.conftest import TestBot


def verb(name: str) -> Verb:
    found = default_registry().get(name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        (
            "log",
            "log [call|meeting|visit|email|chat|note] <customer>[, <when>][, deal <deal>]"
            "[, with <contact>]: <text>",
        ),
        (
            "new deal",
            "new deal <customer>: <title> [<amount> [currency]] [close <date>] [stage <stage>]"
            " [owner @<user>] [product <product>]",
        ),
        ("ask", "ask [<customer>:] <question>"),
        ("move", "move <deal> [to <stage>][: <reason>]"),
        ("remind", "remind me|@<user> <when> <what>"),
        ("snooze", "snooze #<reminder number> [<when>]"),
        ("digest", "digest [@<user>] [off|on|weekdays|daily|at <hh:mm>]"),
        ("customers", "customers [page <N>]"),
        ("pipeline", "pipeline"),
    ],
)
def test_usage_is_built_from_the_arguments(name: str, usage: str) -> None:
    """The usage line help shows is generated from the declared arguments."""
    assert verb(name).usage == usage


def test_option_keywords_come_from_the_declaration() -> None:
    """The keywords new customer and new deal read are the ones their arguments declare."""
    from handlers.verbs.customers import NEW_CUSTOMER_KEYWORDS
    from handlers.verbs.deals import DEAL_KEYWORDS

    assert NEW_CUSTOMER_KEYWORDS["城市"] == "city" and NEW_CUSTOMER_KEYWORDS["tag"] == "tags"
    assert DEAL_KEYWORDS["预计成交"] == "close" and DEAL_KEYWORDS["负责人"] == "owner"
    assert set(DEAL_KEYWORDS.values()) == {"close", "stage", "owner", "product"}


def test_written_lines_run(testbot: TestBot) -> None:
    """A line written from a verb and values is the line a person would type, and it runs."""
    line = verb("new customer").line(
        {"name": "Kansas City Steaks", "city": "Kansas City", "owner": "alice", "tags": "bbq, b2b"}
    )
    assert line == 'new customer "Kansas City Steaks" city Kansas City owner @alice tags bbq, b2b'
    assert testbot("alice", line).status == "ok"
    (customer,) = testbot.query(select(Customer))
    assert (customer.name, customer.city, sorted(customer.tags)) == (
        "Kansas City Steaks",
        "Kansas City",
        ["b2b", "bbq"],
    )

    line = verb("new deal").line(
        {
            "customer": customer.id,
            "title": "Renewal 2027",
            "amount": (Decimal("12000"), "EUR"),
            "close": date(2026, 12, 15),
            "stage": "qualified",
        }
    )
    assert (
        line
        == f'new deal #{customer.id}: "Renewal 2027" 12000 EUR close 2026-12-15 stage qualified'
    )
    assert testbot("alice", line).status == "ok", testbot("alice", line).text
    (deal,) = testbot.query(select(Deal))
    assert (deal.title, deal.amount, deal.currency, deal.expected_close, deal.stage) == (
        "Renewal 2027",
        Decimal("12000.00"),
        "EUR",
        date(2026, 12, 15),
        "qualified",
    )

    line = verb("log").line(
        {"kind": "visit", "customer": "Kansas City Steaks", "deal": deal.title, "text": "tour"}
    )
    assert line == "log visit Kansas City Steaks, deal Renewal 2027: tour"
    assert testbot("alice", line).status == "ok"
    (note,) = testbot.query(select(Interaction))
    assert (note.kind.value, note.deal_id, note.text) == ("visit", deal.id, "tour")

    line = verb("move").line({"deal": deal.id, "stage": "lost", "reason": "price"})
    assert line == f"move #{deal.id} to lost: price"
    assert testbot("alice", line).status == "ok"
    assert testbot.query(select(Deal.stage)) == ["lost"]

    line = verb("remind").line({"who": "me", "when": "tomorrow 3pm", "what": "call Dana"})
    assert line == "remind me tomorrow 3pm call Dana"
    assert testbot("alice", line).status == "ok"
    (reminder,) = testbot.query(select(Reminder))
    assert testbot("alice", verb("done").line({"reminder": reminder.id})).status == "ok"
    assert testbot("alice", verb("undo").line({"note": note.id})).status == "ok"
    assert verb("digest").line({"setting": "off"}) == "digest off"
    assert verb("ask").line({"question": "who decides?"}) == "ask who decides?"
    assert verb("ask").line({"customer": "Acme", "question": "who?"}) == "ask Acme: who?"

    # The options' colon comes before the first option given, whichever it is.
    line = verb("edit deal").line({"deal": deal.id, "close": date(2027, 2, 15)})
    assert line == f"edit deal #{deal.id}: close 2027-02-15"
    assert testbot("alice", line).status == "ok", testbot("alice", line).text
    assert testbot.query(select(Deal.expected_close)) == [date(2027, 2, 15)]


def test_write_line_refuses_what_the_grammar_cannot_say() -> None:
    """A missing argument, an unknown one or a word outside the choices is a programming error."""
    with pytest.raises(ValueError, match="needs customer"):
        verb("new deal").line({"title": "Fleet"})
    with pytest.raises(ValueError, match="takes no"):
        verb("undo").line({"note": 1, "reason": "typo"})
    with pytest.raises(ValueError, match="one of"):
        verb("log").line({"kind": "fax", "customer": "Acme", "text": "hi"})
    args = (Arg("title", Kind.text), Arg("amount", Kind.amount, optional=True))
    # A title ending in a number is quoted only when an amount follows it.
    assert write_line("x", args, {"title": "Plan 2027"}) == "x Plan 2027"
    assert write_line("x", args, {"title": "Plan 2027", "amount": 5}) == 'x "Plan 2027" 5'
    # After a comma an option cannot be mistaken: "deal" inside the customer's name stays bare.
    line = verb("log").line({"customer": "Big Deal Inc", "deal": "Fleet", "text": "hi"})
    assert line == "log Big Deal Inc, deal Fleet: hi"
    line = verb("new deal").line({"customer": "Acme", "title": "Stage two", "stage": "lead"})
    assert line == 'new deal Acme: "Stage two" stage lead'


def test_a_keyword_right_after_a_repeated_one_is_read() -> None:
    """`city Kansas City owner @bob`: the second "city" is part of the value, and "owner"
    still starts the next option (it was swallowed into the city)."""
    from handlers.verbs.customers import NEW_CUSTOMER_KEYWORDS

    lead, opts = take_keywords("Acme city Kansas City owner @bob", NEW_CUSTOMER_KEYWORDS)
    assert (lead, opts) == ("Acme", {"city": "Kansas City", "owner": "@bob"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#12", (12, "")),
        ("12", (12, "")),
        ("#12 tomorrow 9:00", (12, "tomorrow 9:00")),
        ("＃１２ 明天", (12, "明天")),
        ("  #7  ", (7, "")),
        ("#12abc", (None, "#12abc")),
        ("Acme", (None, "Acme")),
        ("", (None, "")),
    ],
)
def test_take_ref(text: str, expected: tuple[int | None, str]) -> None:
    """A record number leads the line, with or without #, in half- or full-width digits."""
    assert take_ref(text) == expected


def test_read_stage_reads_any_locale() -> None:
    """A stage is read by its name or its label in any locale; anything else is left as typed."""
    pipeline = Pipeline(DEFAULT_STAGES)
    zh = fmt.stage(Translator("zh"), "negotiation")
    assert read_stage(pipeline, zh) == "negotiation"
    assert read_stage(pipeline, " Negotiation ") == "negotiation"
    assert read_stage(pipeline, "banana") == "banana"
