"""Deals through the real dispatcher: create, list, move with history, pipeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm_core.models import Customer, Deal, StageChange
from tests.conftest import TestBot


def test_new_deal_parses_amount_currency_close(testbot: TestBot) -> None:
    """Title, amount, currency, close date and stage are read from one line."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "new deal Acme: Fleet renewal 48000 USD close 2026-12-15")
    assert reply.status == "ok", reply.text
    testbot("alice", 'new deal Acme: "Renewal 2027" 12k EUR stage qualified')
    testbot("alice", "new deal Acme: Pilot")
    deals = {d.title: d for d in testbot.query(select(Deal))}
    fleet = deals["Fleet renewal"]
    assert (fleet.amount, fleet.currency, fleet.expected_close, fleet.stage) == (
        Decimal("48000.00"),
        "USD",
        date(2026, 12, 15),
        "lead",
    )
    renewal = deals["Renewal 2027"]
    assert (renewal.amount, renewal.currency, renewal.stage) == (
        Decimal("12000.00"),
        "EUR",
        "qualified",
    )
    assert deals["Pilot"].amount is None
    assert [b.label for b in reply.buttons] == ["→ qualified", "→ won", "→ lost"]


def test_an_amount_without_currency_is_in_the_customers_own(testbot: TestBot) -> None:
    """`48000` alone: the customer's deals' currency, else its city's, else the default."""
    testbot("alice", "new customer Nordhavn AB city Stockholm")
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Nordhavn AB: Dock cranes 48000")
    testbot("alice", "new deal Acme: Fleet 5000")
    testbot("alice", "new deal Acme: Spares 900 EUR")
    # Acme now deals in two currencies: an amount alone falls back to the configured default.
    testbot("alice", "new deal Acme: Training 700")
    testbot("alice", "new deal Nordhavn AB: Service plan 12000 USD")
    testbot("alice", "new deal Nordhavn AB: Pilot 3000")
    got = {d.title: d.currency for d in testbot.query(select(Deal))}
    assert got == {
        "Dock cranes": "SEK",
        "Fleet": "USD",
        "Spares": "EUR",
        "Training": "USD",
        "Service plan": "USD",
        # Two currencies on its deals: the city (Stockholm) still tells.
        "Pilot": "SEK",
    }


def test_new_deal_bad_input(testbot: TestBot) -> None:
    """Bad dates, stages and titles are refused; nothing is written."""
    testbot("alice", "new customer Acme")
    for text, expect in [
        ("new deal Acme: Fleet 100 close someday", "can't read"),
        ("new deal Acme: Fleet 100 stage banana", "not a stage"),
        ("new deal Acme: Fleet 100 stage won", "cannot start"),
        ("new deal Acme", "new deal Acme:"),
        ("new deal : Fleet", "new deal Acme:"),
        ("new deal Nobody: Fleet", "can't find"),
    ]:
        reply = testbot("alice", text)
        assert reply.status == "error", text
        assert expect in reply.text, (text, reply.text)
    assert testbot.count(Deal) == 0
    testbot("alice", "new deal Acme: Fleet")
    dup = testbot("alice", "new deal Acme: fleet")
    assert dup.status == "error" and "already has an open deal" in dup.text


def test_move_keeps_history_and_requires_lost_reason(testbot: TestBot) -> None:
    """Every move is a StageChange; lost needs a reason; closing stamps closed_at."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48000")
    assert testbot("alice", "move Fleet renewal to negotiation").status == "ok"
    refused = testbot("alice", "move Fleet renewal to lost")
    assert refused.status == "error" and "Say why" in refused.text
    same = testbot("alice", "move fleet renewal to negotiation")
    assert same.status == "error" and "already in" in same.text
    lost = testbot("alice", "move Fleet renewal to lost: price")
    assert lost.status == "ok", lost.text
    (deal,) = testbot.query(select(Deal))
    assert (deal.stage, deal.lost_reason) == ("lost", "price")
    assert deal.closed_at is not None
    history = [
        (c.from_stage, c.to_stage, c.reason)
        for c in testbot.query(select(StageChange).order_by(StageChange.id))
    ]
    assert history == [
        (None, "lead", None),
        ("lead", "negotiation", None),
        ("negotiation", "lost", "price"),
    ]
    # Reopening is a manager's move; it clears the close stamp and the reason.
    rep = testbot("alice", "move Fleet renewal to proposal")
    assert rep.status == "error" and "only a manager or an admin" in rep.text, rep.text
    assert testbot.query(select(Deal.stage)) == ["lost"]
    assert testbot("bob", "move Fleet renewal to proposal").status == "ok"
    (deal,) = testbot.query(select(Deal))
    assert (deal.stage, deal.closed_at, deal.lost_reason) == ("proposal", None, None)


def test_move_without_stage_offers_buttons(testbot: TestBot) -> None:
    """`move X` asks which stage with buttons; pressing one moves the deal."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal")
    ask = testbot("alice", "move Fleet renewal")
    assert [b.label for b in ask.buttons] == ["→ qualified", "→ won", "→ lost"]
    moved = testbot.press("alice", ask.buttons[0])
    assert "lead → qualified" in moved.text
    assert [b.label for b in moved.buttons] == ["→ proposal", "→ won", "→ lost"]


def test_ambiguous_deal_buttons_and_customer_scope(testbot: TestBot) -> None:
    """The same deal title at two customers is a question, never a guess."""
    for name in ("Acme", "Globex"):
        testbot("alice", f"new customer {name}")
        testbot("alice", f"new deal {name}: Fleet renewal 1000")
    ask = testbot("alice", "move Fleet renewal to proposal")
    assert ask.status == "info" and len(ask.buttons) == 2
    assert {s.to_stage for s in testbot.query(select(StageChange))} == {"lead"}
    globex = next(b for b in ask.buttons if "Globex" in b.label)
    assert "Globex" in testbot.press("alice", globex).text
    assert testbot("alice", "move Acme / Fleet renewal to proposal").status == "ok"
    stages = dict(testbot.rows(select(Customer.name, Deal.stage).join(Deal.customer)))
    assert stages == {"Acme": "proposal", "Globex": "proposal"}


def test_move_deal_title_containing_to(testbot: TestBot) -> None:
    """The last `to` splits, so titles may contain the word."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Move to cloud")
    assert testbot("alice", "move Move to cloud to proposal").status == "ok"


def test_chinese_move(testbot: TestBot) -> None:
    """Chinese verb, separator and stage names."""
    testbot("alice", "new customer 华东物流")
    testbot("alice", "新商机 华东物流：仓储系统 50万 元")
    (deal,) = testbot.query(select(Deal))
    assert (deal.amount, deal.currency) == (Decimal("500000.00"), "CNY")
    assert testbot("alice", "推进 仓储系统 到 谈判").status == "ok"
    assert testbot.query(select(Deal))[0].stage == "negotiation"


def test_deals_lists(testbot: TestBot) -> None:
    """`deals Acme` lists a customer's deals; `deals` the user's open ones."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: One 100 close 2026-12-01")
    testbot("alice", "new deal Acme: Two 200")
    testbot("alice", "move Two to won")
    listed = testbot("alice", "deals Acme")
    assert len(listed.items) == 2 and listed.items[0].startswith("#1 One")
    assert [b.label for b in listed.buttons] == ["Move One"]
    mine = testbot("alice", "deals")
    assert len(mine.items) == 1 and "Acme" in mine.items[0]
    assert "no open deals" in testbot("carol", "deals").text


def test_pipeline_per_role(testbot: TestBot) -> None:
    """A rep sees their book, a manager the team's, an admin everything; weighted by stage."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: A 1000 stage proposal")
    testbot("carol", "new customer Initech")
    testbot("carol", "new deal Initech: C 3000 stage negotiation")
    testbot("dave", "new customer Globex")
    testbot("dave", "new deal Globex: D 5000")
    testbot("dave", "new deal Globex: Won one 7000")
    testbot("dave", "move Won one to won")

    def totals(who: str) -> dict[str, str]:
        reply = testbot(who, "pipeline")
        assert reply.status == "ok"
        return {f.label: f.value for f in reply.fields}

    assert totals("alice") == {"Open deals": "1", "Total": "1,000 USD", "Weighted": "500 USD"}
    assert totals("bob") == {"Open deals": "2", "Total": "4,000 USD", "Weighted": "2,750 USD"}
    assert totals("admin") == {"Open deals": "3", "Total": "9,000 USD", "Weighted": "3,250 USD"}
    rows = testbot("bob", "pipeline").items
    assert rows[2] == "proposal (50%): 1 · 1,000 USD · weighted 500 USD"
    assert testbot("alice", "pipeline now").status == "error"


def test_pipeline_never_adds_currencies(testbot: TestBot) -> None:
    """Deals in two currencies get a summary and a section each; nothing is summed across."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: A 1000 USD stage proposal")
    testbot("alice", "new deal Acme: B 2000 EUR stage negotiation")
    reply = testbot("alice", "pipeline")
    fields = {f.label: f.value for f in reply.fields}
    assert fields == {
        "EUR": "1 open · total 2,000 EUR · weighted 1,500 EUR",
        "USD": "1 open · total 1,000 USD · weighted 500 USD",
    }
    sections = {s.title: s.lines for s in reply.sections}
    assert sections["EUR"] == ["negotiation (75%): 1 · 2,000 EUR · weighted 1,500 EUR"]
    assert sections["USD"] == ["proposal (50%): 1 · 1,000 USD · weighted 500 USD"]


def test_traditional_chinese_deal_words(testbot: TestBot) -> None:
    """Traditional keywords, multipliers and stage names read like Simplified ones."""
    testbot("alice", "new customer 華東物流")
    reply = testbot("alice", "新商機 華東物流：倉儲系統五期 5萬 元 階段 方案")
    assert reply.status == "ok", reply.text
    (deal,) = testbot.query(select(Deal))
    assert (deal.title, deal.amount, deal.currency, deal.stage) == (
        "倉儲系統五期",
        Decimal("50000.00"),
        "CNY",
        "proposal",
    )
    assert testbot("alice", "推進 倉儲系統五期 到 談判").status == "ok"
    assert testbot.query(select(Deal))[0].stage == "negotiation"


def test_full_width_yen_and_precise_amounts(testbot: TestBot) -> None:
    """The full-width yen sign is a currency; more than two decimals is refused, not rounded."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "new deal Acme: 仓储系统二期 ￥50,000").status == "ok"
    (deal,) = testbot.query(select(Deal))
    assert (deal.amount, deal.currency) == (Decimal("50000.00"), "CNY")
    assert testbot("alice", "new deal Acme: Cables 1.005").status == "error"
    bad = testbot("alice", "new deal Acme: Laptops 200 new")
    assert bad.status == "error" and "currency code" in bad.text
    assert testbot.count(Deal) == 1


def test_deal_owner_must_see_the_customer(testbot: TestBot) -> None:
    """A deal cannot be given to someone its customer is invisible to."""
    testbot("alice", "new customer Acme")
    reply = testbot("bob", "new deal Acme: Fleet 100 owner @carol")
    assert reply.status == "error" and "cannot see" in reply.text
    assert testbot("bob", "new deal Acme: Fleet 100 owner @alice").status == "ok"
    assert testbot.query(select(Deal.owner_id)) == [testbot.users["alice"]]
