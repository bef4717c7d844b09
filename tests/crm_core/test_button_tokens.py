"""Button tokens: short, per user, expiring."""

from __future__ import annotations

from datetime import timedelta

from crm_core.db import unit_of_work
from crm_core.services.button_tokens import (
    forget_expired_tokens,
    issue_button_token,
    redeem_button_token,
)
from tests.conftest import FakeClock, TestBot


def test_token_round_trip_and_limits(testbot: TestBot, clock: FakeClock) -> None:
    """The owner gets the action back until expiry; another user and a forged token get None."""
    alice, bob = testbot.users["alice"], testbot.users["bob"]
    with unit_of_work(testbot.session_factory) as session:
        token = issue_button_token(
            session, user_id=alice, action="run", payload={"text": "customer Acme"}, now=clock()
        )
    assert len(token.encode()) <= 22
    with testbot.session_factory() as session:
        assert redeem_button_token(session, token, user_id=alice, now=clock()) == (
            "run",
            {"text": "customer Acme"},
        )
        assert redeem_button_token(session, token, user_id=bob, now=clock()) is None
        # Another last character, whatever the token ends in (an "x" made it the same token).
        tampered = token[:-1] + ("y" if token.endswith("x") else "x")
        assert redeem_button_token(session, tampered, user_id=alice, now=clock()) is None
        late = clock() + timedelta(days=7)
        assert redeem_button_token(session, token, user_id=alice, now=late) is None
    with unit_of_work(testbot.session_factory) as session:
        assert forget_expired_tokens(session, clock() + timedelta(days=8)) == 1
