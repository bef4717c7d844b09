"""After a rep closes a deal, the reply offers no stage moves they are not allowed to make."""

from __future__ import annotations

from tests.conftest import TestBot


def test_rep_closing_a_deal_is_offered_its_card_not_stage_moves(testbot: TestBot) -> None:
    """alice (rep) moves Fleet to won: one Open button that works; bob (manager) still gets
    the stage buttons, and pressing one reopens it."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k")
    won = testbot("alice", "move Fleet to won")
    assert won.status == "ok"
    assert [b.payload.get("text") for b in won.buttons] == ["deal #1"]
    assert testbot.press("alice", won.buttons[0]).status == "ok"
    testbot("alice", "new deal Acme: Second 5k")
    lost = testbot("bob", "move Second to lost: price")
    reopen = [b for b in lost.buttons if b.payload.get("text") == "move #2 to lead"]
    assert reopen and testbot.press("bob", reopen[0]).status == "ok"
