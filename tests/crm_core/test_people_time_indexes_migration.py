"""Migration 0038 (notes by author and time, moves by actor and time) round trip: up adds both
indexes (the notes' one over live notes only), `report activity` reads the same before and
after, down drops them and leaves 0037's indexes, up again adds them back; both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from crm_core.analytics.activity import ActivityReport, activity
from crm_core.analytics.periods import Period
from crm_core.context import Ctx
from crm_core.db import downgrade, make_session_factory, unit_of_work, upgrade
from crm_core.models import Customer, Deal, Interaction, InteractionKind, StageChange, User
from crm_core.services.users import add_user
from crm_core.stages import DEFAULT_STAGES, Pipeline
from crm_core.text import name_key
from tests.conftest import PG_URL, engine_at

BEFORE = "0037_cycle_by_rep"
NEW = {
    "interactions": "ix_interactions_author_occurred",
    "stage_changes": "ix_stage_changes_actor_changed",
}
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at migration 0037: a new SQLite file, or a new schema of the PostgreSQL one."""
    with engine_at(request.param, tmp_path, BEFORE, "m38") as engine:
        yield engine


def indexes(engine: Engine) -> dict[str, set[str]]:
    """Index names of the two tables."""
    found = inspect(engine)
    return {t: {str(i["name"]) for i in found.get_indexes(t)} for t in NEW}


def fill(engine: Engine) -> dict[str, int]:
    """A team (a manager, two reps), a customer each, notes and moves at every hour of two
    days by both reps: rows in the hours any zone's midnight cuts."""
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        people = {
            "mia": add_user(session, "mia", "Mia", role="manager", team="East"),
            "ann": add_user(session, "ann", "Ann", team="East"),
            "ben": add_user(session, "ben", "Ben", team="East"),
            "zed": add_user(session, "zed", "Zed", team="West"),
        }
        session.flush()
        for n, handle in enumerate(("ann", "ben", "zed")):
            owner = people[handle]
            customer = Customer(name=f"Co {n}", name_key=name_key(f"Co {n}"), owner_id=owner.id)
            session.add(customer)
            session.flush()
            deal = Deal(
                customer_id=customer.id,
                owner_id=owner.id,
                title=f"D{n}",
                title_key=name_key(f"D{n}"),
                stage="lead",
                created_at=T0 - timedelta(days=9),
            )
            session.add(deal)
            session.flush()
            for hour in range(48):
                at = T0 + timedelta(hours=hour, minutes=17 * n)
                # ann also logs on ben's customer: a note by a team member on a team customer
                author = people["ann"] if hour % 5 == 0 else owner
                session.add(
                    Interaction(
                        customer_id=customer.id,
                        author_id=author.id,
                        kind=InteractionKind.call,
                        occurred_at=at,
                        text="hi",
                        deleted_at=at if hour % 7 == 0 else None,
                    )
                )
                session.add(
                    StageChange(
                        deal_id=deal.id,
                        from_stage="lead",
                        to_stage="qualified",
                        changed_at=at,
                        actor_id=owner.id,
                    )
                )
        return {h: u.id for h, u in people.items()}


def reports(engine: Engine, people: dict[str, int]) -> list[ActivityReport]:
    """Each person's activity in three zones over days the zones' midnights cut."""
    out = []
    with make_session_factory(engine)() as session:
        for uid in people.values():
            actor = session.get(User, uid)
            assert actor is not None
            for zone in ("UTC", "Asia/Kolkata", "America/New_York"):
                actor.timezone = zone
                ctx = Ctx(session, actor, Pipeline(DEFAULT_STAGES))
                day = date(2026, 3, 2)
                for period in (
                    Period(day, day + timedelta(days=1), "day"),
                    Period(day - timedelta(days=1), day + timedelta(days=1), "two days"),
                ):
                    out.append(activity(ctx, period))
        session.rollback()
    return out


def test_up_down_up(old_engine: Engine) -> None:
    """Up adds both indexes, down drops them, up adds them again; reports read the same."""
    people = fill(old_engine)
    assert not any(NEW[t] in names for t, names in indexes(old_engine).items())
    before = reports(old_engine, people)
    assert sum(r.total.logged for r in before) > 0
    upgrade(old_engine)
    assert all(NEW[t] in names for t, names in indexes(old_engine).items())
    assert reports(old_engine, people) == before
    downgrade(old_engine, BEFORE)
    found = indexes(old_engine)
    assert not any(NEW[t] in names for t, names in found.items())
    assert {"ix_interactions_occurred", "ix_stage_changes_changed_at"} <= set().union(
        *found.values()
    )
    assert reports(old_engine, people) == before
    upgrade(old_engine)
    assert all(NEW[t] in names for t, names in indexes(old_engine).items())
    assert reports(old_engine, people) == before
