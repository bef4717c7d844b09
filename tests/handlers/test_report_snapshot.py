"""A write committed while a period report reads is counted wholly or not at all (one statement)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, event, update

from crm_core.analytics.activity import ActivityReport, activity
from crm_core.analytics.funnel import funnel
from crm_core.analytics.periods import Period
from crm_core.analytics.scope import Dim
from crm_core.analytics.win_rate import win_rate
from crm_core.context import Ctx
from crm_core.models import Deal, User
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.handlers.conftest import TestBot

MARCH = Period(date(2026, 3, 1), date(2026, 4, 1), "2026-03")
WEEK = Period(date(2026, 3, 2), date(2026, 3, 9), "2026-03-02..08")


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


def _shanghai_ctx(testbot: TestBot, session: Any, clock: Any, who: str) -> Ctx:
    user = session.get(User, testbot.users[who])
    user.timezone = "Asia/Shanghai"
    return Ctx(session, user, Pipeline(DEFAULT_STAGES), clock=clock)


def test_a_win_while_the_win_rate_by_rep_reads_a_cut_month(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """By rep: a win at 04:10 on April 1st in Shanghai, committed just before the hours outside
    Shanghai's March are read, is not subtracted from March's kept win (read apart it was)."""
    clock.now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    testbot("admin", "new customer Acme")
    assert testbot("admin", "new deal Acme: Pilot 300").status == "ok"
    assert testbot("admin", "move #1 to won").status == "ok"
    clock.now = datetime(2026, 3, 31, 20, 10, tzinfo=UTC)
    assert testbot("admin", "new deal Acme: Renewal 100").status == "ok"
    # Shanghai's March ends at 16:00 UTC on March 31st: the hours outside start there.
    outside = "2026-03-31 16:00"
    done: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        values = params.values() if isinstance(params, dict) else params or ()
        if (
            not done
            and "FROM deals" in statement
            and any(str(v).startswith(outside) for v in values)
        ):
            done.append("busy")  # the move's own statements must not move again
            done[0] = testbot("admin", "move #2 to won").status

    for dim in (Dim.rep, Dim.team, Dim.month):
        done.clear()
        with testbot.session_factory() as session:
            session.autoflush = False
            ctx = _shanghai_ctx(testbot, session, clock, "admin")
            calm = win_rate(ctx, dim=dim, period=MARCH).total
            assert (calm.won, calm.lost, calm.won_value) == (1, 0, 300), dim
            event.listen(engine, "before_cursor_execute", before)
            try:
                report = win_rate(ctx, dim=dim, period=MARCH)
            finally:
                event.remove(engine, "before_cursor_execute", before)
        assert done == ["ok"], dim
        assert (report.total.won, report.total.lost, report.total.won_value) == (1, 0, 300), dim
        assert [(r.won, r.won_value) for r in report.rows if r.won] == [(1, 300)], dim
        assert report.other_currencies == {}, dim
        assert testbot("admin", "move #2 to proposal").status == "ok"


def _activity_while(
    testbot: TestBot, engine: Engine, clock: Any, who: str, table: str, write: str
) -> ActivityReport:
    """`who`'s activity in Shanghai's week of March 2nd, `write` committed just before the
    rows of `table` in the hours a local midnight cuts are read."""
    done: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not done and f"FROM {table}" in statement:
            done.append("busy")  # the write's own statements must not write again
            done[0] = testbot(write.split(":")[0], write.split(":", 1)[1]).status

    with testbot.session_factory() as session:
        session.autoflush = False
        ctx = _shanghai_ctx(testbot, session, clock, who)
        calm = activity(ctx, WEEK)
        assert calm.total.logged == calm.total.moved == 0
        event.listen(engine, "before_cursor_execute", before)
        try:
            report = activity(ctx, WEEK)
        finally:
            event.remove(engine, "before_cursor_execute", before)
    assert done == ["ok"]
    return report


def test_a_note_while_activity_reads_a_cut_day(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """A call logged at 01:00 on March 9th in Shanghai (outside the week) while the activity
    reads is never subtracted without being added ('call: -1' read apart)."""
    clock.now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    testbot("alice", "new customer Acme")
    clock.now = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)  # 01:00 March 9th in Shanghai
    report = _activity_while(
        testbot, engine, clock, "admin", "interactions", "alice:log call Acme: talked"
    )
    alice = next(r for r in report.rows if r.group == "Alice")
    assert report.total.logged == 0 and alice.kinds["call"] == 0


def test_a_move_while_activity_reads_a_cut_day(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """A deal moved at 01:00 on March 9th in Shanghai (outside the week) while the activity
    reads is never subtracted without being added (moved -1 read apart)."""
    clock.now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    testbot("alice", "new customer Acme")
    assert testbot("alice", "new deal Acme: Pilot 300").status == "ok"
    clock.now = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    report = _activity_while(
        testbot, engine, clock, "admin", "stage_changes", "alice:move #1 to qualified"
    )
    alice = next(r for r in report.rows if r.group == "Alice")
    assert (report.total.moved, alice.moved) == (0, 0)


def test_a_reassign_while_activity_reads_a_cut_day(
    testbot: TestBot, engine: Engine, clock: Any
) -> None:
    """Bob (East's manager): Acme handed back from dave (West) to alice while the activity
    reads; alice's call at 02:00 on March 9th (outside the week) is neither counted nor
    subtracted (read apart: 'call: -1')."""
    clock.now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    testbot("alice", "new customer Acme")
    clock.now = datetime(2026, 3, 8, 18, 0, tzinfo=UTC)  # 02:00 March 9th in Shanghai
    assert testbot("alice", "log call Acme: talked").status == "ok"
    assert testbot("admin", "reassign Acme to @dave").status == "ok"
    clock.now = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    report = _activity_while(
        testbot, engine, clock, "bob", "interactions", "admin:reassign Acme to @alice"
    )
    alice = next(r for r in report.rows if r.group == "Alice")
    assert report.total.logged == 0 and alice.kinds["call"] == 0
