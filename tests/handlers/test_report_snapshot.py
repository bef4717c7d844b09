"""A write committed while a period report reads is counted wholly or not at all (one statement)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, event, update

from crm_core.analytics.funnel import funnel
from crm_core.analytics.periods import Period
from crm_core.analytics.win_rate import win_rate
from crm_core.context import Ctx
from crm_core.models import Deal, User
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.handlers.conftest import TestBot

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1), "2026-03")


def _in_shanghai(testbot: TestBot, session: Any, clock: Any) -> Ctx:
    admin = session.get(User, testbot.users["admin"])
    admin.timezone = "Asia/Shanghai"
    return Ctx(session, admin, Pipeline(DEFAULT_STAGES), clock=clock)


def test_a_move_while_the_funnel_reads_a_cut_month(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """Shanghai's March cuts UTC March: a move committed while it reads never makes a step -1."""
    testbot("admin", "new customer Acme")
    assert testbot("admin", "new deal Acme: Renewal 100").status == "ok"
    # Opened 2026-03-31 20:00 UTC: 04:00 on April 1st in Shanghai, outside Shanghai's March.
    with engine.begin() as c:
        c.execute(update(Deal).values(created_at=datetime(2026, 3, 31, 20, 0, tzinfo=UTC)))
    moved: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Read apart, the kept month came first and the slice outside the period after.
        if not moved and "deal_reach" in statement and "FROM deals" in statement:
            moved.append("busy")  # the move's own statements must not move again
            moved[0] = testbot("admin", "move #1 to qualified").status

    with testbot.session_factory() as session:
        session.autoflush = False
        ctx = _in_shanghai(testbot, session, clock)
        assert all(r.reached == 0 for r in funnel(ctx, period=MARCH).rows)
        event.listen(engine, "before_cursor_execute", before)
        try:
            report = funnel(ctx, period=MARCH)
        finally:
            event.remove(engine, "before_cursor_execute", before)
    assert moved == ["ok"]
    assert report.deals == 0 and [r.reached for r in report.rows] == [0] * len(report.rows)


def test_a_win_while_the_win_rate_reads_a_cut_month(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """At 04:10 on April 1st in Shanghai a colleague's win is not subtracted from March's one."""
    clock.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    testbot("admin", "new customer Acme")
    assert testbot("admin", "new deal Acme: Pilot 300").status == "ok"
    assert testbot("admin", "move #1 to won").status == "ok"
    clock.now = datetime(2026, 3, 31, 20, 10, tzinfo=UTC)
    assert testbot("admin", "new deal Acme: Renewal 100").status == "ok"
    done: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not done and "FROM deals" in statement and "closed_at" in statement:
            done.append("busy")  # the move's own statements must not move again
            done[0] = testbot("admin", "move #2 to won").status

    with testbot.session_factory() as session:
        session.autoflush = False
        ctx = _in_shanghai(testbot, session, clock)
        calm = win_rate(ctx, period=MARCH).total
        assert (calm.won, calm.lost, calm.won_value) == (1, 0, 300)
        event.listen(engine, "before_cursor_execute", before)
        try:
            report = win_rate(ctx, period=MARCH)
        finally:
            event.remove(engine, "before_cursor_execute", before)
    assert done == ["ok"]
    assert (report.total.won, report.total.lost, report.total.won_value) == (1, 0, 300)
