"""After a rep closes a deal, the reply offers no stage moves they are not allowed to make."""

from __future__ import annotations

import pytest

from crm_core.models import StageChange
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


@pytest.mark.parametrize("platform", ["console", "slack", "telegram"])
def test_deal_card_move_button_follows_who_may_move(testbot: TestBot, platform: str) -> None:
    """A rep's card of their open deal has Move, and it moves; once won, the rep's card has no
    Move (reopening is a manager's) and a typed `move #1` says so; the manager's card keeps it."""
    testbot.platform = platform
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 10k")
    card = testbot("alice", "deal #1")
    move = [b for b in card.buttons if b.payload.get("text") == "move #1"]
    assert move and move[0].label == "Move", [b.label for b in card.buttons]
    stages = testbot.press("alice", move[0])
    assert stages.status == "info" and stages.buttons
    assert testbot.press("alice", stages.buttons[0]).status == "ok"
    testbot("alice", "move #1 to won")
    closed = testbot("alice", "deal #1")
    assert "move #1" not in [b.payload.get("text") for b in closed.buttons]
    moves = testbot.count(StageChange)
    typed = testbot("alice", "move #1")
    assert typed.status == "error" and "Ask your manager" in typed.text, typed.text
    assert testbot.count(StageChange) == moves
    managers = testbot("bob", "deal #1")
    assert "move #1" in [b.payload.get("text") for b in managers.buttons]
