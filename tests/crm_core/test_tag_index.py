"""The tags a customer is named by come from the name index (migration 0036): a tag written by
any path (an edit, an import, a merge, a hand-written UPDATE) is found at the next lookup by
every process holding a copy, and an upgraded book's tags are found from the start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import make_session_factory, unit_of_work, upgrade
from crm_core.exchange import import_jsonl
from crm_core.models import Customer, User
from crm_core.name_index import name_book
from crm_core.resolve import tagged_ids
from crm_core.services.customers import update_customer
from crm_core.services.merge import merge_customers
from crm_core.services.users import add_user
from crm_core.stages import DEFAULT_STAGES
from crm_core.text import name_key
from tests.conftest import PG_URL, engine_at


def _setup(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """alice (rep, East), dave (rep, West), bob (East's manager), admin; Acme and Beta
    (alice's), Gamma (dave's), none tagged."""
    ids: dict[str, int] = {}
    with unit_of_work(session_factory) as s:
        for handle, role, team in (
            ("alice", "rep", "East"),
            ("dave", "rep", "West"),
            ("bob", "manager", "East"),
            ("admin", "admin", None),
        ):
            user = add_user(s, handle, handle.title(), role=role, team=team)
            s.flush()
            ids[handle] = user.id
        for name, owner in (("Acme", "alice"), ("Beta", "alice"), ("Gamma", "dave")):
            c = Customer(name=name, name_key=name_key(name), owner_id=ids[owner], tags=[])
            s.add(c)
            s.flush()
            ids[name] = c.id
    return ids


def _tagged(session_factory: sessionmaker[Session], user_id: int, word: str) -> list[int]:
    """`tagged_ids` as this user, in a fresh read-only session (the copy kept is used)."""
    with session_factory() as s:
        user = s.get(User, user_id)
        assert user is not None
        return tagged_ids(Ctx(s, user), name_key(word))


def _warm(session_factory: sessionmaker[Session], ids: dict[str, int]) -> None:
    """A copy of the book (and its tag map) kept before the write under test."""
    for who in ("admin", "bob", "alice"):
        assert _tagged(session_factory, ids[who], "harbour") == []
    with session_factory() as s:
        assert name_book(s).token is not None


def test_a_tag_set_by_an_edit_is_found(session_factory: sessionmaker[Session]) -> None:
    """`edit` (update_customer) writes tags through the ORM; the rep's, the manager's and the
    admin's lookups find it, another team's rep does not, and a tag taken off is gone."""
    ids = _setup(session_factory)
    _warm(session_factory, ids)
    with unit_of_work(session_factory) as s:
        ctx = Ctx(s, s.get(User, ids["alice"]))  # type: ignore[arg-type]
        update_customer(ctx, s.get(Customer, ids["Acme"]), tags=["Harbour"])  # type: ignore[arg-type]
    for who in ("admin", "bob", "alice"):
        assert _tagged(session_factory, ids[who], "harbour") == [ids["Acme"]], who
    assert _tagged(session_factory, ids["dave"], "harbour") == []
    with unit_of_work(session_factory) as s:
        ctx = Ctx(s, s.get(User, ids["alice"]))  # type: ignore[arg-type]
        update_customer(ctx, s.get(Customer, ids["Acme"]), tags=["other"])  # type: ignore[arg-type]
    assert _tagged(session_factory, ids["admin"], "harbour") == []
    assert _tagged(session_factory, ids["admin"], "other") == [ids["Acme"]]


def test_a_tag_set_by_raw_sql_is_found(session_factory: sessionmaker[Session]) -> None:
    """A hand-written UPDATE of tags alone fires the index triggers (0036): every copy kept
    sees it; a third holder makes the tag a kind, naming none; archiving drops a holder."""
    ids = _setup(session_factory)
    _warm(session_factory, ids)
    with unit_of_work(session_factory) as s:
        s.execute(update(Customer).where(Customer.id == ids["Beta"]).values(tags=["港燈"]))
    # Kept in Traditional characters, asked in Simplified: the key is the same.
    assert _tagged(session_factory, ids["admin"], "港灯") == [ids["Beta"]]
    with unit_of_work(session_factory) as s:
        s.execute(update(Customer).values(tags=["Harbour", "x"]))
    assert _tagged(session_factory, ids["admin"], "港灯") == []
    assert _tagged(session_factory, ids["admin"], "harbour") == []  # three hold it: a kind
    assert _tagged(session_factory, ids["bob"], "harbour") == [ids["Acme"], ids["Beta"]]
    with unit_of_work(session_factory) as s:
        s.execute(
            update(Customer)
            .where(Customer.id == ids["Beta"])
            .values(archived_at=text("CURRENT_TIMESTAMP"))
        )
    assert _tagged(session_factory, ids["admin"], "harbour") == [ids["Acme"], ids["Gamma"]]
    assert _tagged(session_factory, ids["alice"], "harbour") == [ids["Acme"]]


def test_a_tag_written_by_an_import_is_found(session_factory: sessionmaker[Session]) -> None:
    """An import that adds a customer and retags an existing one: both are found."""
    ids = _setup(session_factory)
    _warm(session_factory, ids)
    records = [
        {"type": "user", "external_id": "erin", "name": "Erin"},
        {"type": "customer", "external_id": "k", "name": "Kowloon Bay Hotel", "owner": "erin"},
        {
            "type": "customer",
            "external_id": "k",
            "name": "Kowloon Bay Hotel",
            "owner": "erin",
            "tags": ["Harbour"],
        },
    ]
    with unit_of_work(session_factory) as s:
        import_jsonl(s, [json.dumps(records[0]), json.dumps(records[1])], stages=DEFAULT_STAGES)
    assert _tagged(session_factory, ids["admin"], "harbour") == []
    with unit_of_work(session_factory) as s:
        import_jsonl(s, [json.dumps(records[0]), json.dumps(records[2])], stages=DEFAULT_STAGES)
    with session_factory() as s:
        kowloon = s.query(Customer.id).filter(Customer.name == "Kowloon Bay Hotel").scalar()
    assert _tagged(session_factory, ids["admin"], "harbour") == [kowloon]
    assert _tagged(session_factory, ids["bob"], "harbour") == []


def test_a_merge_moves_the_tag_to_the_survivor(session_factory: sessionmaker[Session]) -> None:
    """The duplicate's tags join the survivor's; the tombstone names nothing any more."""
    ids = _setup(session_factory)
    with unit_of_work(session_factory) as s:
        s.execute(update(Customer).where(Customer.id == ids["Beta"]).values(tags=["Harbour"]))
    assert _tagged(session_factory, ids["admin"], "harbour") == [ids["Beta"]]
    with unit_of_work(session_factory) as s:
        ctx = Ctx(s, s.get(User, ids["admin"]))  # type: ignore[arg-type]
        merge_customers(ctx, s.get(Customer, ids["Beta"]), s.get(Customer, ids["Acme"]))  # type: ignore[arg-type]
    assert _tagged(session_factory, ids["admin"], "harbour") == [ids["Acme"]]
    assert _tagged(session_factory, ids["alice"], "harbour") == [ids["Acme"]]


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at migration 0035: a new SQLite file, or a new schema of the PostgreSQL one."""
    with engine_at(request.param, tmp_path, "0035_cycle_totals", "tagidx") as engine:
        yield engine


def test_an_upgraded_book_finds_its_tags(old_engine: Engine) -> None:
    """Before 0036 a change of tags alone left the index's token as it was, so a copy kept then
    may hold old tags: the upgrade starts a new epoch, and the tags written before it (by hand,
    unseen by the old triggers) are found at the first lookup after it."""
    factory = make_session_factory(old_engine)
    ids = _setup(factory)
    _warm(factory, ids)  # a copy kept before the upgrade: no one tagged
    with unit_of_work(factory) as s:
        s.execute(update(Customer).where(Customer.id == ids["Gamma"]).values(tags=["Harbour"]))
    # 0035's triggers ignore tags: the copy kept is still taken as current.
    assert _tagged(factory, ids["admin"], "harbour") == []
    upgrade(old_engine)
    assert _tagged(factory, ids["admin"], "harbour") == [ids["Gamma"]]
    assert _tagged(factory, ids["dave"], "harbour") == [ids["Gamma"]]
    with unit_of_work(factory) as s:
        s.execute(update(Customer).where(Customer.id == ids["Acme"]).values(tags=["harbour"]))
    assert _tagged(factory, ids["admin"], "harbour") == [ids["Acme"], ids["Gamma"]]
