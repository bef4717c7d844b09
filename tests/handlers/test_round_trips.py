"""Round trips per command: what a refused or mistyped command costs the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from tests.conftest import FakeClock, TestBot


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    """Statements sent and pool checkouts made while the block runs; a keyed verb's plan
    setting on PostgreSQL (`crm_core.db.plan_by_key`: one round trip that spares the planning
    of the rest, no lookup) is counted apart, as `plan`."""
    seen = {"statements": 0, "checkouts": 0, "plan": 0}

    def statement(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        seen["plan" if "set_config('plan_cache_mode'" in sql else "statements"] += 1

    def checkout(*_: object) -> None:
        seen["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def test_a_mistyped_or_refused_command_takes_one_connection(
    testbot: TestBot, engine: Engine
) -> None:
    """A typo's suggestions, a missing name and a refused write each run in one checkout, and
    a name no archived or merged customer holds is not looked up among them."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    assert testbot("alice", "new customer Birchwood Dental").status == "ok"
    testbot("alice", "customer Acme Logistics")  # the name index loaded
    for line, status in (
        ("customer Acme Logsitics", "info"),
        ("customer Nowhere Corp", "error"),
        ("history Nowhere Corp", "error"),
    ):
        with counting(engine) as seen:
            reply = testbot("alice", line)
        assert reply.status == status, (line, reply.text)
        assert seen["checkouts"] == 1, (line, seen)
    with counting(engine) as seen:
        assert testbot("alice", "customer Acme Logsitics").status == "info"
    # The user, the exact name, the index token (the copy is kept on the session for the
    # transaction: the suggestions, the tags that clash with a name and any archived or merged
    # name containing it read it once) and the suggested rows: no lookups among merged and
    # archived names.
    assert seen["statements"] <= 4, seen


def test_a_managers_partial_name_reads_the_index_and_the_team_once(
    testbot: TestBot, engine: Engine
) -> None:
    """`customer <start of several names>` as a manager: the index's token and the team's
    members are read once for the names and the tags both (were three times and twice)."""
    for name in ("Harbor Freight", "Harbor Dental", "Harbor Logistics"):
        assert testbot("alice", f"new customer {name}").status == "ok"
    testbot("bob", "customer Harbo")  # the name index loaded
    with counting(engine) as seen:
        reply = testbot("bob", "customer Harbo")
    assert reply.status == "info" and len(reply.buttons) >= 3, (reply.text, reply.buttons)
    # The user, the exact name, the token, the team, the candidates' rows.
    assert seen["statements"] <= 5, seen


def test_find_reads_the_contacts_of_its_hits_at_once(testbot: TestBot, engine: Engine) -> None:
    """`find` with ten customers found (by substring or as typo suggestions) reads their
    contacts in one query, not one a customer, and still shows the person searched for."""
    trades = ("Dental", "Foods", "Logistics", "Media", "Motors", "Labs", "Energy", "Textiles")
    for trade in (*trades, "Pharma Group", "Vineyards Inc"):
        reply = testbot("alice", f"new customer Harbor {trade}")
        assert reply.status == "ok", reply.text
    testbot("alice", "contact add Harbor Foods: Dana Harbor, dana@harbor.example")
    # The name index loaded (a rep's find that matches asks the database while the copy is
    # out of date; a typo needs the copy).
    testbot("alice", "find hrabor")
    for line in ("find harbor", "find hrabor"):
        with counting(engine) as seen:
            reply = testbot("alice", line)
        assert len(reply.items) == 10, (line, reply.items)
        assert seen["statements"] <= 6, (line, seen)
    assert [f.label for f in testbot("alice", "find harbor").fields] == [
        "Dana Harbor (Harbor Foods)"
    ]


def test_a_customer_card_reads_its_service_figures_and_tier_rules_at_once(
    testbot: TestBot, engine: Engine, clock: FakeClock
) -> None:
    """The card's latest NPS, CSAT, open tickets and whether tier rules are set come in one
    statement, its notes with their authors' names; the tier line still shows once an admin
    sets rules."""
    assert testbot("alice", "new customer Acme Logistics").status == "ok"
    testbot("alice", "feedback Acme Logistics: nps 8")
    assert testbot("alice", "ticket Acme Logistics: scanner down").status == "ok"
    testbot.add_user("mira", role="manager")
    testbot.add_user("theo", role="manager")
    for who, line in (
        ("mira", "log call Acme Logistics: renewal pricing"),
        ("theo", "log visit Acme Logistics: site walk"),
        ("alice", "log email Acme Logistics: sent the quote"),
    ):
        clock.advance(minutes=1)
        assert testbot(who, line).status == "ok"
    with counting(engine) as seen:
        card = testbot("alice", "customer #1")
    fields = {f.label: f.value for f in card.fields}
    assert fields["Satisfaction"].startswith("NPS 8") and fields["Open tickets"] == "1"
    assert "Tier" not in fields
    (recent,) = [s for s in card.sections if s.title == "Recent interactions"]
    assert [line.split(" · ")[2].split(":")[0] for line in recent.lines] == [
        "Alice",
        "Theo",
        "Mira",
    ], recent.lines
    # The user, the customer, its contacts, deals, notes (with their authors) and reminders,
    # then the figures: not one more for each author not loaded yet.
    assert seen["statements"] <= 7, seen
    assert seen["plan"] == (1 if engine.dialect.name == "postgresql" else 0), seen
    testbot.add_user("root", role="admin")
    assert testbot("root", "tiers: silver 50k, gold 200k").status == "ok"
    assert "Tier" in {f.label for f in testbot("alice", "customer #1").fields}


def test_a_loose_sentence_reads_tags_from_the_name_index(testbot: TestBot, engine: Engine) -> None:
    """A customer named by its tag ("northie"), a tag that clashes with another's name
    ("harbour") and a plain name each cost no more statements than the scan of every visible
    customer's tags they replaced (which was one statement per lookup: 9, 11 and 9 for a rep,
    an admin or a manager): the index's copy is read once per command, and a manager's team
    once."""
    for line in (
        "new customer Northgate Timber Yards tags Northie, warehouse",
        "new customer Harbour Foods",
        "new customer Kowloon Bay Hotel tags harbour",
        "new customer Quayside Ropeworks",
    ):
        assert testbot("alice", line).status == "ok"
    cases = (
        ("called northie, they want a site survey", "confirm", 8),
        ("called harbour, they want a quote", "info", 10),
        ("called quayside, they want a quote", "confirm", 8),
    )
    for who, extra in (("alice", 0), ("admin", 0), ("bob", 1)):
        for text, status, most in cases:
            testbot(who, text)  # the name index loaded
            with counting(engine) as seen:
                reply = testbot(who, text)
            assert reply.status == status, (who, text, reply.text)
            # bob manages East: his team's members are one read, once per command.
            assert seen["statements"] <= most + extra, (who, text, seen)
