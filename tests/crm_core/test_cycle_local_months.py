"""`report cycle` by month and by quarter group closings on the viewer's calendar, as the win rate
does: a win at 02:00 UTC on 1 March is February's for a New York reader and March's for a UTC
one. Figures worked out by hand for both zones (they differ), for a rep, a manager and an admin,
all time and over a local month, on SQLite and PostgreSQL; the months are the win rate's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crm_core.analytics.cycle import CycleRow, cycle, cycle_from_deals
from crm_core.analytics.periods import ALL_TIME, Period
from crm_core.analytics.scope import Dim
from crm_core.analytics.win_rate import win_rate
from crm_core.context import Ctx
from crm_core.db import make_session_factory, unit_of_work, upgrade
from crm_core.models import Customer, Deal, User
from crm_core.services.users import add_user
from crm_core.stages import DEFAULT_STAGES, Pipeline
from crm_core.text import name_key
from tests.conftest import PG_URL, engine_at


def at(text: str) -> datetime:
    """A UTC instant from `YYYY-MM-DD HH:MM`."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


# (stage, opened, closed) in UTC; days from opening to close in the comment; New York is UTC-5
# in these months (its summer time starts on 9 March 2025, after every closing here but one).
DEALS = [
    ("won", "2025-02-10 00:00", "2025-03-01 02:00"),  # 19.083 d; NY: 28 Feb 21:00
    ("won", "2025-02-20 12:00", "2025-03-10 12:00"),  # 18 d; March in both
    ("lost", "2025-01-31 00:00", "2025-02-01 03:00"),  # 1.125 d; NY: 31 Jan 22:00
    ("won", "2025-03-21 23:00", "2025-03-31 23:00"),  # 10 d; March in both
    ("won", "2025-03-30 03:00", "2025-04-01 03:00"),  # 2 d; NY (UTC-4): 31 Mar 23:00
]
D = Decimal
NEW_YORK = {
    Dim.month: [
        CycleRow("2025-01", 0, 1, None, None, D("1.1"), D("1.1")),
        CycleRow("2025-02", 1, 0, D("19.1"), D("19.1"), None, None),
        CycleRow("2025-03", 3, 0, D("10.0"), D("10.0"), None, None),
    ],
    # (19.083 + 18 + 10 + 2) / 4 = 12.27; the middle two 10 and 18.
    Dim.quarter: [CycleRow("2025-Q1", 4, 1, D("12.3"), D("14.0"), D("1.1"), D("1.1"))],
}
UTC_ROWS = {
    Dim.month: [
        CycleRow("2025-02", 0, 1, None, None, D("1.1"), D("1.1")),
        # (19.083 + 18 + 10) / 3 = 15.69
        CycleRow("2025-03", 3, 0, D("15.7"), D("18.0"), None, None),
        CycleRow("2025-04", 1, 0, D("2.0"), D("2.0"), None, None),
    ],
    Dim.quarter: [
        CycleRow("2025-Q1", 3, 1, D("15.7"), D("18.0"), D("1.1"), D("1.1")),
        CycleRow("2025-Q2", 1, 0, D("2.0"), D("2.0"), None, None),
    ],
}
MARCH = Period(date(2025, 3, 1), date(2025, 4, 1), "2025-03")


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database: a new SQLite file, or a new schema of the PostgreSQL one."""
    with engine_at(request.param, tmp_path, None, "lm") as found:
        upgrade(found)
        yield found


def _book(engine: Engine) -> dict[str, int]:
    """Ann (rep) and Bo (her manager) in East, an admin; Ann's customer holds the deals."""
    with unit_of_work(make_session_factory(engine)) as s:
        ids = {
            h: add_user(s, h, h.title(), role=role, team=team).id
            for h, role, team in (("ann", "rep", "East"), ("bo", "manager", "East"))
        }
        ids["root"] = add_user(s, "root", "Root", role="admin").id
        s.flush()
        customer = Customer(name="Acme", name_key=name_key("Acme"), owner_id=ids["ann"])
        s.add(customer)
        s.flush()
        for n, (stage, opened, closed) in enumerate(DEALS):
            s.add(
                Deal(
                    customer_id=customer.id,
                    title=f"D{n}",
                    title_key=f"d{n}",
                    amount=Decimal(100),
                    currency="USD",
                    stage=stage,
                    owner_id=ids["ann"],
                    created_at=at(opened),
                    closed_at=at(closed),
                )
            )
    return ids


def test_cycle_months_are_the_viewers(engine: Engine) -> None:
    """New York and UTC readers get their own months and quarters, the win rate's too."""
    ids = _book(engine)
    with make_session_factory(engine)() as s:
        for handle in ("ann", "bo", "root"):
            actor = s.get(User, ids[handle])
            assert actor is not None
            for zone, want in (("America/New_York", NEW_YORK), ("UTC", UTC_ROWS)):
                actor.timezone = zone
                ctx = Ctx(s, actor, Pipeline(DEFAULT_STAGES), clock=lambda: at("2025-06-01 00:00"))
                for dim, rows in want.items():
                    got = cycle(ctx, dim=dim, period=ALL_TIME, currency="USD")
                    assert (handle, zone, dim, got.rows) == (handle, zone, dim, rows)
                    assert got == cycle_from_deals(ctx, dim=dim, currency="USD")
                    # The total is the same whichever calendar groups the rows.
                    assert (got.total.won, got.total.lost) == (4, 1)
                    assert got.total.won_days_median == D("14.0")
                    wins = win_rate(ctx, dim=dim, period=ALL_TIME, currency="USD")
                    assert [(r.group, r.won, r.lost) for r in wins.rows] == [
                        (r.group, r.won, r.lost) for r in rows
                    ]
                # A local month: New York's March holds the 18-, 10- and 2-day wins (UTC's the
                # 19-, 18- and 10-day ones), in one row of that month.
                march = cycle(ctx, dim=Dim.month, period=MARCH, currency="USD")
                want_march = [r for r in want[Dim.month] if r.group == "2025-03"]
                assert (handle, zone, march.rows) == (handle, zone, want_march)
                assert march == cycle_from_deals(ctx, dim=Dim.month, period=MARCH, currency="USD")
            s.rollback()
