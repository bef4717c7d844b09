"""Two units of work writing the same thing at once: the second sees the first, on SQLite and
PostgreSQL (an idempotency key logs one note; a name makes one customer, one contact)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid
from crm_core.models import Contact, Customer, Interaction, InteractionKind, User
from crm_core.services.contacts import add_contact
from crm_core.services.customers import DuplicateCustomer, create_customer
from crm_core.services.interactions import log_interaction
from crm_core.services.users import add_user
from crm_core.text import name_key

# Long enough for the second unit of work to reach the point where it must wait for the first.
OVERLAP = 0.5


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """alice with a customer Acme."""
    with unit_of_work(session_factory) as s:
        alice = add_user(s, "alice", "Alice", role="rep", team="East")
        s.flush()
        acme = create_customer(Ctx(s, alice), "Acme")
        s.flush()
        return {"alice": alice.id, "acme": acme.id}


def overlapping(
    factory: sessionmaker[Session],
    user_id: int,
    first: Callable[[Ctx], Any],
    second: Callable[[Ctx], Any],
) -> tuple[Any, Any]:
    """`first` runs and stays uncommitted while `second` starts in a unit of work of its own;
    then `first` commits. What each returned, or the exception it raised."""
    ran, release = threading.Event(), threading.Event()
    out: dict[str, Any] = {}

    def run(name: str, work: Callable[[Ctx], Any], hold: bool) -> None:
        try:
            with unit_of_work(factory) as s:
                user = s.get(User, user_id)
                assert user is not None
                out[name] = work(Ctx(s, user))
                s.flush()
                if hold:
                    ran.set()
                    release.wait(30)
        except Exception as exc:
            out[name] = exc
        finally:
            ran.set()

    one = threading.Thread(target=run, args=("first", first, True))
    one.start()
    assert ran.wait(30)
    two = threading.Thread(target=run, args=("second", second, False))
    two.start()
    two.join(OVERLAP)
    release.set()
    one.join(30)
    two.join(60)
    assert not one.is_alive() and not two.is_alive()
    return out["first"], out["second"]


def test_one_idempotency_key_logged_twice_at_once_is_one_note(
    session_factory: sessionmaker[Session], seeded: dict[str, int]
) -> None:
    """The second log of a key sees the first's note (not a unique-key error), once it commits."""

    def log(ctx: Ctx) -> tuple[int, bool]:
        customer = ctx.session.get(Customer, seeded["acme"])
        assert customer is not None
        note, new = log_interaction(
            ctx, customer, InteractionKind.call, "called Dana", idempotency_key="api:1:k1"
        )
        ctx.session.flush()
        return note.id, new

    first, second = overlapping(session_factory, seeded["alice"], log, log)
    assert not isinstance(second, Exception), repr(second)
    assert first[1] is True and second == (first[0], False)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 1


def test_one_name_created_twice_at_once_is_one_customer(
    session_factory: sessionmaker[Session], seeded: dict[str, int]
) -> None:
    """The second create of a name waits for the first and is refused as an exact duplicate."""

    def create(ctx: Ctx) -> int:
        return create_customer(ctx, "Race Co").id

    first, second = overlapping(session_factory, seeded["alice"], create, create)
    assert isinstance(first, int)
    assert isinstance(second, DuplicateCustomer) and second.exact, repr(second)
    with session_factory() as s:
        names = s.scalars(
            select(Customer.name).where(Customer.name_key == name_key("Race Co"))
        ).all()
        assert names == ["Race Co"]


def test_one_contact_added_twice_at_once_is_one_contact(
    session_factory: sessionmaker[Session], seeded: dict[str, int]
) -> None:
    """The second add of a person to a customer waits for the first and is refused."""

    def add(ctx: Ctx) -> int:
        customer = ctx.session.get(Customer, seeded["acme"])
        assert customer is not None
        return add_contact(ctx, customer, "Same Person").id

    first, second = overlapping(session_factory, seeded["alice"], add, add)
    assert isinstance(first, int)
    assert isinstance(second, Invalid) and second.key == "error.contact_exists", repr(second)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
