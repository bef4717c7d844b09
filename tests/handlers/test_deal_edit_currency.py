"""Changing a deal's currency with its amount: each side is shown in its own currency."""

from __future__ import annotations

from tests.conftest import TestBot


def test_amount_in_a_new_currency_shows_the_old_one_in_the_old(testbot: TestBot) -> None:
    """48,000 USD → 50,000 EUR (it read 48,000 EUR → 50,000 EUR); undo reads back the same."""
    testbot("alice", "new customer Zeta")
    testbot("alice", "new deal Zeta: Big order 48000 USD")
    reply = testbot("alice", "edit deal Big order: amount 50k EUR")
    fields = {f.label: f.value for f in reply.fields}
    assert fields["Amount"] == "48,000 USD → 50,000 EUR"
    assert fields["Currency"] == "USD → EUR"
    same = testbot("alice", "edit deal Big order: amount 52k")
    assert {f.label: f.value for f in same.fields}["Amount"] == "50,000 EUR → 52,000 EUR"
