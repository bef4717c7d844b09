"""Quota attainment: which quotas a report period uses, and what it divides (won value / quota)."""

from __future__ import annotations

from handlers.reply import Reply
from tests.conftest import TestBot


def _fields(reply: Reply) -> dict[str, str]:
    return {f.label: f.value for f in reply.fields}


def test_a_quarter_uses_its_own_quota_not_its_months_on_top(testbot: TestBot) -> None:
    """Q4 50,000 and December 20,000: the quarter's report shows 50,000 (December is part of
    it); a month with no quota of its own inside a quarter has none; months add up."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: A 10000 USD")
    testbot("alice", "move A to won")
    assert testbot("bob", "quota @alice 2026-Q4 50000 USD").status == "ok"
    assert testbot("bob", "quota @alice 2026-12 20000 USD").status == "ok"
    quarter = _fields(testbot("alice", "report win rate this quarter"))
    assert quarter["Quota"] == "50,000 USD"
    assert quarter["Attainment (won value / quota)"] == "20.0%"
    # No Q1 quota: the months inside it are summed.
    testbot("bob", "quota @alice 2027-01 10000 USD")
    testbot("bob", "quota @alice 2027-02 15000 USD")
    q1 = _fields(testbot("alice", "report win rate 2027-Q1"))
    assert q1["Quota"] == "25,000 USD"


def test_total_attainment_is_the_won_value_shown_over_the_quota_shown(testbot: TestBot) -> None:
    """alice wins 5,000 EUR with no EUR quota, dave 8,000 against 10,000: the total reads
    13,000 / 10,000 = 130%, the won value and quota it shows (one rule, stated in the label)."""
    testbot("admin", "new customer Acme owner @alice")
    testbot("admin", "new customer Beta owner @dave")
    testbot("alice", "new deal Acme: E 5000 EUR")
    testbot("alice", "move E to won")
    testbot("dave", "new deal Beta: B 8000 EUR")
    testbot("dave", "move B to won")
    testbot("admin", "quota @dave 2026-Q4 10000 EUR")
    for text in (
        "report win rate by rep this quarter in EUR",
        "report win rate this quarter in EUR",
    ):
        total = _fields(testbot("admin", text))
        assert total["Won value"] == "13,000 EUR", text
        assert total["Quota"] == "10,000 EUR"
        assert total["Attainment (won value / quota)"] == "130.0%", text
    testbot("admin", "quota @alice 2026-Q4 10000 EUR")
    total = _fields(testbot("admin", "report win rate this quarter in EUR"))
    assert total["Attainment (won value / quota)"] == "65.0%"
