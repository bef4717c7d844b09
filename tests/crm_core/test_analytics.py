"""Reports on a small hand-made book whose answers are worked out by hand below."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.analytics.activity import activity
from crm_core.analytics.cycle import cycle
from crm_core.analytics.forecast import forecast
from crm_core.analytics.funnel import funnel
from crm_core.analytics.periods import Period, parse_period
from crm_core.analytics.scope import Dim
from crm_core.analytics.win_rate import win_rate
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid
from crm_core.exchange import import_jsonl
from crm_core.models import User
from crm_core.stages import DEFAULT_STAGES, Pipeline
from tests.conftest import START, FakeClock

Factory = sessionmaker[Session]


def _deal(
    ext: str,
    customer: str,
    owner: str,
    stage: str,
    amount: str,
    path: list[tuple[str, str]],
    *,
    closed: bool = False,
    currency: str = "USD",
    **extra: Any,
) -> list[dict[str, Any]]:
    """A deal and its history: `path` is (stage, day) from opening on."""
    deal: dict[str, Any] = {
        "type": "deal",
        "external_id": ext,
        "customer": customer,
        "title": f"Deal {ext}",
        "amount": amount,
        "currency": currency,
        "stage": stage,
        "owner": owner,
        "created_at": f"{path[0][1]}T00:00:00Z",
        **extra,
    }
    if closed:
        deal["closed_at"] = f"{path[-1][1]}T00:00:00Z"
    history = [
        {
            "type": "stage_change",
            "external_id": f"{ext}-{i}",
            "deal": ext,
            "from_stage": path[i - 1][0] if i else None,
            "to_stage": to,
            "changed_at": f"{day}T00:00:00Z",
            "actor": owner,
        }
        for i, (to, day) in enumerate(path)
    ]
    return [deal, *history]


def _note(
    ext: str, customer: str, author: str, kind: str, day: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "interaction",
        "external_id": ext,
        "customer": customer,
        "author": author,
        "kind": kind,
        "occurred_at": f"{day}T10:00:00Z",
        "text": f"{kind} {ext}",
        **extra,
    }


def book() -> list[dict[str, Any]]:
    """Two teams in two regions, four customers, twelve USD deals and one in EUR."""
    return [
        {"type": "region", "external_id": "north", "name": "North"},
        {"type": "region", "external_id": "south", "name": "South"},
        {"type": "team", "external_id": "east", "name": "East", "region": "north"},
        {"type": "team", "external_id": "west", "name": "West", "region": "south"},
        {"type": "user", "external_id": "alice", "name": "Alice", "team": "east"},
        {"type": "user", "external_id": "carol", "name": "Carol", "team": "east"},
        {"type": "user", "external_id": "bob", "name": "Bob", "team": "east", "role": "manager"},
        {"type": "user", "external_id": "dave", "name": "Dave", "team": "west"},
        {"type": "user", "external_id": "admin", "name": "Admin", "role": "admin"},
        {"type": "product", "external_id": "widget", "name": "Widget", "price": "100"},
        {"type": "product", "external_id": "gadget", "name": "Gadget", "price": "1000"},
        {
            "type": "customer",
            "external_id": "acme",
            "name": "Acme",
            "owner": "alice",
            "industry": "logistics",
        },
        {
            "type": "customer",
            "external_id": "delta",
            "name": "Delta",
            "owner": "alice",
            "industry": "retail",
        },
        {
            "type": "customer",
            "external_id": "beta",
            "name": "Beta",
            "owner": "carol",
            "industry": "retail",
        },
        {
            "type": "customer",
            "external_id": "gamma",
            "name": "Gamma",
            "owner": "dave",
            "industry": "logistics",
        },
        # Closed deals: (stage, day) from opening to close.
        *_deal(
            "d1",
            "acme",
            "alice",
            "won",
            "1000",
            [
                ("lead", "2026-07-01"),
                ("qualified", "2026-07-03"),
                ("proposal", "2026-07-06"),
                ("won", "2026-07-11"),
            ],
            closed=True,
            product="widget",
        ),
        *_deal(
            "d2",
            "acme",
            "alice",
            "lost",
            "500",
            [("lead", "2026-08-01"), ("qualified", "2026-08-11"), ("lost", "2026-08-21")],
            closed=True,
            lost_reason="price",
        ),
        *_deal(
            "d3",
            "delta",
            "alice",
            "won",
            "2000",
            [("lead", "2026-10-01"), ("won", "2026-10-05")],
            closed=True,
            product="gadget",
        ),
        *_deal(
            "d4",
            "beta",
            "carol",
            "won",
            "3000",
            [("lead", "2026-09-01"), ("negotiation", "2026-09-15"), ("won", "2026-10-01")],
            closed=True,
            product="gadget",
        ),
        *_deal(
            "d5",
            "beta",
            "carol",
            "lost",
            "700",
            [("lead", "2026-10-01"), ("proposal", "2026-10-11"), ("lost", "2026-11-01")],
            closed=True,
            lost_reason="timing",
        ),
        *_deal(
            "d6",
            "gamma",
            "dave",
            "won",
            "5000",
            [("lead", "2026-10-10"), ("won", "2026-11-10")],
            closed=True,
        ),
        *_deal(
            "d7",
            "gamma",
            "dave",
            "lost",
            "100",
            [("lead", "2026-11-01"), ("lost", "2026-11-05")],
            closed=True,
            lost_reason="no",
        ),
        *_deal(
            "d8",
            "beta",
            "carol",
            "won",
            "9999",
            [("lead", "2026-10-02"), ("won", "2026-10-20")],
            closed=True,
            currency="EUR",
        ),
        # Open deals.
        *_deal(
            "o1",
            "acme",
            "alice",
            "proposal",
            "4000",
            [("lead", "2026-11-01"), ("proposal", "2026-11-20")],
            expected_close="2026-12-10",
        ),
        *_deal(
            "o2",
            "delta",
            "alice",
            "negotiation",
            "6000",
            [("lead", "2026-11-02"), ("negotiation", "2026-11-03")],
            expected_close="2026-12-20",
        ),
        *_deal(
            "o3",
            "beta",
            "carol",
            "lead",
            "800",
            [("lead", "2026-11-04")],
            expected_close="2026-11-30",
            forecast_category="commit",
        ),
        *_deal(
            "o4",
            "gamma",
            "dave",
            "qualified",
            "1500",
            [("lead", "2026-10-04"), ("qualified", "2026-10-05")],
            expected_close="2026-11-10",
        ),
        *_deal(
            "o5",
            "beta",
            "carol",
            "qualified",
            "300",
            [("lead", "2026-11-05"), ("qualified", "2026-11-06")],
        ),
        # Notes: the last seven days before START (2026-11-23) are 11-17 .. 11-23.
        _note("n1", "acme", "alice", "call", "2026-11-20"),
        _note("n2", "delta", "alice", "call", "2026-11-21"),
        _note("n3", "acme", "alice", "visit", "2026-11-22"),
        _note("n4", "beta", "carol", "meeting", "2026-11-18"),
        _note("n5", "gamma", "dave", "email", "2026-10-20"),
    ]


def load_book(factory: Factory) -> None:
    """Import the book (users included) in one transaction."""
    with unit_of_work(factory) as session:
        import_jsonl(session, (json.dumps(r) for r in book()), stages=DEFAULT_STAGES)


@pytest.fixture
def ctx_for(session_factory: Factory) -> Iterator[Any]:
    """Opens a Ctx acting as a user of the book, on a clock standing at START."""
    load_book(session_factory)
    sessions: list[Session] = []

    def make(handle: str) -> Ctx:
        session = session_factory()
        sessions.append(session)
        actor = session.scalars(select(User).where(User.external_id == handle)).one()
        return Ctx(session, actor, Pipeline(DEFAULT_STAGES), clock=FakeClock(START))

    yield make
    for session in sessions:
        session.close()


def by_group(rows: list[Any]) -> dict[str | None, tuple[int, int, Decimal]]:
    """Win-rate rows as group -> (won, lost, won value)."""
    return {r.group: (r.won, r.lost, r.won_value) for r in rows}


def test_win_rate_in_total_and_by_each_dimension(ctx_for: Any) -> None:
    ctx = ctx_for("admin")
    total = win_rate(ctx)
    # Won d1 d3 d4 d6, lost d2 d5 d7; the EUR win is never added to dollars.
    assert (total.total.won, total.total.lost, total.total.won_value) == (4, 3, Decimal(11000))
    # Exact, rounded only where shown: 4/7.
    assert total.total.win_rate == Decimal(4) / Decimal(7)
    assert total.other_currencies == {"EUR": 1}
    assert total.rows == []
    assert by_group(win_rate(ctx, dim=Dim.rep).rows) == {
        "Alice": (2, 1, Decimal(3000)),
        "Carol": (1, 1, Decimal(3000)),
        "Dave": (1, 1, Decimal(5000)),
    }
    assert by_group(win_rate(ctx, dim=Dim.team).rows) == {
        "East": (3, 2, Decimal(6000)),
        "West": (1, 1, Decimal(5000)),
    }
    # West has no manager: its deals are shown apart, never dropped.
    assert by_group(win_rate(ctx, dim=Dim.manager).rows) == {
        "Bob": (3, 2, Decimal(6000)),
        None: (1, 1, Decimal(5000)),
    }
    assert by_group(win_rate(ctx, dim=Dim.region).rows) == {
        "North": (3, 2, Decimal(6000)),
        "South": (1, 1, Decimal(5000)),
    }
    assert by_group(win_rate(ctx, dim=Dim.product).rows) == {
        "Gadget": (2, 0, Decimal(5000)),
        "Widget": (1, 0, Decimal(1000)),
        None: (1, 3, Decimal(5000)),
    }
    assert by_group(win_rate(ctx, dim=Dim.industry).rows) == {
        "logistics": (2, 2, Decimal(6000)),
        "retail": (2, 1, Decimal(5000)),
    }
    months = win_rate(ctx, dim=Dim.month).rows
    assert [(r.group, r.won, r.lost, r.won_value) for r in months] == [
        ("2026-07", 1, 0, Decimal(1000)),
        ("2026-08", 0, 1, Decimal(0)),
        ("2026-10", 2, 0, Decimal(5000)),
        ("2026-11", 1, 2, Decimal(5000)),
    ]
    quarters = win_rate(ctx, dim=Dim.quarter).rows
    assert by_group(quarters) == {
        "2026-Q3": (1, 1, Decimal(1000)),
        "2026-Q4": (3, 2, Decimal(10000)),
    }


def test_win_rate_over_a_period_and_in_another_currency(ctx_for: Any) -> None:
    ctx = ctx_for("admin")
    q4 = parse_period("this quarter", date(2026, 11, 23))
    assert q4 == Period(date(2026, 10, 1), date(2027, 1, 1), "2026-Q4")
    rep = win_rate(ctx, period=q4).total
    assert (rep.won, rep.lost, rep.won_value, rep.win_rate) == (
        3,
        2,
        Decimal(10000),
        Decimal("0.6"),
    )
    eur = win_rate(ctx, currency="EUR")
    assert (eur.total.won, eur.total.won_value, eur.other_currencies) == (
        1,
        Decimal(9999),
        {"USD": 7},
    )


def test_a_rep_counts_only_their_book_and_a_manager_only_the_team(ctx_for: Any) -> None:
    alice = win_rate(ctx_for("alice"), dim=Dim.rep)
    assert by_group(alice.rows) == {"Alice": (2, 1, Decimal(3000))}
    bob = win_rate(ctx_for("bob"), dim=Dim.team)
    assert by_group(bob.rows) == {"East": (3, 2, Decimal(6000))}
    dave = funnel(ctx_for("dave"))
    # d6, d7 and o4 only.
    assert dave.deals == 3
    assert [r.reached for r in dave.rows] == [3, 2, 1, 1, 1]


def test_funnel_counts_skipped_stages_as_passed(ctx_for: Any) -> None:
    rep = funnel(ctx_for("admin"))
    # Furthest step of each USD deal: lead d7 o3; qualified d2 o4 o5; proposal d5 o1;
    # negotiation o2; won d1 d3 d4 d6 (d3 went straight from lead to won).
    assert rep.deals == 12
    assert [(r.stage.name, r.reached, r.advanced) for r in rep.rows] == [
        ("lead", 12, 10),
        ("qualified", 10, 7),
        ("proposal", 7, 5),
        ("negotiation", 5, 4),
        ("won", 4, None),
    ]
    assert [r.conversion for r in rep.rows] == [
        Decimal(10) / 12,
        Decimal(7) / 10,
        Decimal(5) / 7,
        Decimal(4) / 5,
        None,
    ]
    assert [r.reached_value for r in rep.rows] == [
        Decimal(24900),
        Decimal(24000),
        Decimal(21700),
        Decimal(17000),
        Decimal(11000),
    ]
    assert rep.rows[0].drop_off == 1 - Decimal(10) / 12


def test_cycle_times_and_time_in_stage(ctx_for: Any) -> None:
    rep = cycle(ctx_for("admin"))
    total = rep.total
    # Won in 10, 4, 30 and 31 days; lost in 20, 31 and 4.
    assert (total.won, total.won_days_mean, total.won_days_median) == (
        4,
        Decimal("18.8"),
        Decimal("20.0"),
    )
    assert (total.lost, total.lost_days_mean, total.lost_days_median) == (
        3,
        Decimal("18.3"),
        Decimal("20.0"),
    )
    # Lead: 2, 10, 4, 14, 10, 31, 4 days; qualified 3 and 10; proposal 5 and 21; negotiation 16.
    assert [(s.stage.name, s.moves, s.mean_days) for s in rep.stages] == [
        ("lead", 7, Decimal("10.7")),
        ("qualified", 2, Decimal("6.5")),
        ("proposal", 2, Decimal("13.0")),
        ("negotiation", 1, Decimal("16.0")),
    ]
    by_rep = {
        r.group: (r.won, r.won_days_mean, r.lost_days_mean)
        for r in cycle(ctx_for("admin"), dim=Dim.rep).rows
    }
    assert by_rep == {
        "Alice": (2, Decimal("7.0"), Decimal("20.0")),
        "Carol": (1, Decimal("30.0"), Decimal("31.0")),
        "Dave": (1, Decimal("31.0"), Decimal("4.0")),
    }


def test_forecast_rolls_categories_up_and_lists_overdue_apart(ctx_for: Any) -> None:
    ctx = ctx_for("admin")
    rep = forecast(ctx, Period(date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"))
    rows = {
        r.month: (r.open, r.amount, r.weighted, r.closed, r.commit, r.best_case, r.pipeline)
        for r in rep.rows
    }
    d = Decimal
    assert rows == {
        # Won in October: d3 2000 + d4 3000.
        "2026-10": (0, d(0), d(0), d(5000), d(5000), d(5000), d(5000)),
        # o3 (lead, 10%, set to commit) and d6 won 5000.
        "2026-11": (1, d(800), d(80), d(5000), d(5800), d(5800), d(5800)),
        # o1 proposal 50% (best case band) 4000, o2 negotiation 75% (commit band) 6000.
        "2026-12": (2, d(10000), d(6500), d(0), d(6000), d(10000), d(10000)),
    }
    t = rep.total
    assert (t.open, t.amount, t.weighted, t.closed, t.commit, t.best_case) == (
        3,
        d(10800),
        d(6580),
        d(10000),
        d(16800),
        d(20800),
    )
    assert [(o.title, o.expected_close) for o in rep.overdue] == [("Deal o4", date(2026, 11, 10))]
    assert (rep.overdue_count, rep.overdue_amount, rep.undated) == (1, d(1500), 1)


def test_activity_per_person_in_view(ctx_for: Any) -> None:
    week = Period(date(2026, 11, 17), date(2026, 11, 24), "7 days")
    rep = activity(ctx_for("admin"), week)
    rows = {
        r.group: (r.kinds["call"], r.kinds["visit"], r.kinds["meeting"], r.moved) for r in rep.rows
    }
    # Alice moved o1 to proposal on 11-20; Dave's email was a month ago.
    assert rows == {
        "Alice": (2, 1, 0, 1),
        "Bob": (0, 0, 0, 0),
        "Carol": (0, 0, 1, 0),
        "Dave": (0, 0, 0, 0),
        "Admin": (0, 0, 0, 0),
    }
    assert [r.group for r in activity(ctx_for("bob"), week).rows] == ["Alice", "Bob", "Carol"]
    assert [r.group for r in activity(ctx_for("carol"), week).rows] == ["Carol"]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("last month", (date(2026, 10, 1), date(2026, 11, 1))),
        ("next quarter", (date(2027, 1, 1), date(2027, 4, 1))),
        ("2017", (date(2017, 1, 1), date(2018, 1, 1))),
        ("2027-Q1", (date(2027, 1, 1), date(2027, 4, 1))),
        ("q3 2026", (date(2026, 7, 1), date(2026, 10, 1))),
        ("2017-03", (date(2017, 3, 1), date(2017, 4, 1))),
        ("from 2026-01-05 to 2026-01-09", (date(2026, 1, 5), date(2026, 1, 10))),
        ("上月", (date(2026, 10, 1), date(2026, 11, 1))),
        ("本季度", (date(2026, 10, 1), date(2027, 1, 1))),
        ("上周", (date(2026, 11, 16), date(2026, 11, 23))),
        ("2027年第一季度", (date(2027, 1, 1), date(2027, 4, 1))),
    ],
)
def test_period_phrases(phrase: str, expected: tuple[date, date]) -> None:
    found = parse_period(phrase, date(2026, 11, 23))
    assert found is not None and (found.start, found.end) == expected


@pytest.mark.parametrize("phrase", ["soon", "2017-13", "Q5 2026"])
def test_unreadable_periods_are_refused(phrase: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_period(phrase, date(2026, 11, 23))
    assert info.value.key == "error.report_period"


def test_stage_times_survive_a_history_with_a_gap(ctx_for: Any, session_factory: Factory) -> None:
    """g1 went lead -> (unrecorded) -> qualified -> won: measured move by move, not summed."""
    gap = [
        {
            "type": "deal",
            "external_id": "g1",
            "customer": "acme",
            "title": "Gap",
            "amount": "1",
            "stage": "won",
            "owner": "alice",
            "created_at": "2026-10-01T00:00:00Z",
            "closed_at": "2026-10-11T00:00:00Z",
        },
        {
            "type": "stage_change",
            "external_id": "g1-0",
            "deal": "g1",
            "to_stage": "lead",
            "changed_at": "2026-10-01T00:00:00Z",
        },
        {
            "type": "stage_change",
            "external_id": "g1-1",
            "deal": "g1",
            "from_stage": "qualified",
            "to_stage": "won",
            "changed_at": "2026-10-11T00:00:00Z",
        },
    ]
    with unit_of_work(session_factory) as session:
        import_jsonl(session, (json.dumps(r) for r in gap), stages=DEFAULT_STAGES)
    stages = {s.stage.name: (s.moves, s.mean_days) for s in cycle(ctx_for("admin")).stages}
    # Lead: the seven moves before plus g1's ten days to its next recorded move.
    assert stages["lead"] == (8, Decimal("10.6"))
    assert stages["qualified"] == (2, Decimal("6.5"))
    assert stages["proposal"] == (2, Decimal("13.0"))
