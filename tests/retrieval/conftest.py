"""Fixtures of the retrieval tests: a small book of notes in two languages."""

from __future__ import annotations

import pytest

from tests.conftest import TestBot


def log_note(bot: TestBot, who: str, line: str) -> int:
    """Log a note as `who`; its id."""
    reply = bot(who, line)
    assert reply.status == "ok", reply.text
    return int(reply.buttons[0].payload["text"].split("#")[1])


@pytest.fixture
def book(testbot: TestBot) -> dict[str, int]:
    """alice owns Acme and 华东物流; dave (West) owns Globex; notes on each."""
    for who, line in (
        ("alice", "new customer Acme Logistics"),
        ("alice", "new customer 华东物流"),
        ("dave", "new customer Globex"),
    ):
        assert testbot(who, line).status == "ok"
    notes = {
        "pricing_old": log_note(
            testbot, "alice", "log call Acme, 2026-06-02: Dana asked for 5% off the renewal."
        ),
        "pricing_new": log_note(
            testbot,
            "alice",
            "log call Acme, 2026-10-20: Dana now wants a 12% discount on the three-year renewal.",
        ),
        "security": log_note(
            testbot,
            "alice",
            "log meeting Acme, 2026-09-14: Security review with their CISO; "
            "they need our SOC 2 report first.",
        ),
        "visit": log_note(
            testbot,
            "alice",
            "log visit Acme, 2026-08-03: Toured the Chicago warehouse, 40 forklifts.",
        ),
        "zh": log_note(
            testbot,
            "alice",
            "log visit 华东物流, 2026-10-08: 王经理说预算已经批了，希望下个月开始试用仓储系统。",
        ),
        "globex": log_note(
            testbot,
            "dave",
            "log call Globex, 2026-10-01: Globex wants a 30% discount and SOC 2 report.",
        ),
    }
    return notes
