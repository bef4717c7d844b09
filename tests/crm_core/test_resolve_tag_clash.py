"""A word that is one customer's name (or its start) and another's tag is a question, never a
guess: in the grammar's resolver, the name index's and the plain query's paths, `find`, and
the mentions a loose sentence is read by; only customers the asker may see count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Ambiguous, NotFound
from crm_core.mentions import find_customers
from crm_core.models import Customer, User
from crm_core.name_index import name_book
from crm_core.resolve import resolve_customer
from crm_core.services.customers import search_customers
from crm_core.services.users import add_user
from crm_core.text import name_key


@pytest.fixture
def people(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """alice and carol (reps, East), bob (East's manager), dave (rep, West), admin."""
    ids = {}
    with unit_of_work(session_factory) as s:
        for handle, role, team in (
            ("alice", "rep", "East"),
            ("carol", "rep", "East"),
            ("bob", "manager", "East"),
            ("dave", "rep", "West"),
            ("admin", "admin", None),
        ):
            user = add_user(s, handle, handle.title(), role=role, team=team)
            s.flush()
            ids[handle] = user.id
    return ids


def _add(
    session_factory: sessionmaker[Session], owner: int, name: str, tags: list[str] | None = None
) -> int:
    """A customer as an import keeps it (a tag's case and script as written)."""
    with unit_of_work(session_factory) as s:
        c = Customer(name=name, name_key=name_key(name), owner_id=owner, tags=tags or [])
        s.add(c)
        s.flush()
        return c.id


@contextmanager
def _as(session_factory: sessionmaker[Session], user_id: int) -> Iterator[Ctx]:
    with session_factory() as s:
        user = s.get(User, user_id)
        assert user is not None
        yield Ctx(s, user)


def _asked(session_factory: sessionmaker[Session], user_id: int, query: str) -> set[int]:
    """The customers a question about `query` offers (it must be one)."""
    with _as(session_factory, user_id) as ctx, pytest.raises(Ambiguous) as asked:
        resolve_customer(ctx, query)
    assert asked.value.field == "customer"
    return {c.id for c in asked.value.candidates}


def _taken(session_factory: sessionmaker[Session], user_id: int, query: str) -> int:
    with _as(session_factory, user_id) as ctx:
        return resolve_customer(ctx, query).id


def test_a_name_start_and_another_customers_tag_ask(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """ "harbour" starts Harbour Foods and is Kowloon Bay Hotel's tag: both are offered, in any
    case typed; a button pick of either is then taken."""
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    hotel = _add(session_factory, people["alice"], "Kowloon Bay Hotel", ["harbour", "hotel"])
    for query in ("harbour", "Harbour", "HARBOUR"):
        assert _asked(session_factory, people["alice"], query) == {foods, hotel}, query
    # The start of a tag is no tag: only the name fits, and is taken.
    assert _taken(session_factory, people["alice"], "harb") == foods
    # The word that starts another word of the name clashes too ("bay").
    sandbar = _add(session_factory, people["alice"], "Sandbar Print", ["Bay"])
    assert _asked(session_factory, people["alice"], "bay") == {hotel, sandbar}
    with _as(session_factory, people["alice"]) as ctx:
        ctx.picks["customer"] = hotel
        assert resolve_customer(ctx, "harbour").id == hotel


def test_the_whole_exact_name_wins(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """Typing all of one customer's name names it, whoever carries those words as a tag."""
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    hotel = _add(
        session_factory, people["alice"], "Kowloon Bay Hotel", ["harbour", "Harbour Foods"]
    )
    assert _taken(session_factory, people["alice"], "Harbour Foods") == foods
    assert _taken(session_factory, people["alice"], "harbour foods ltd") == foods
    harbour = _add(session_factory, people["carol"], "Harbour")
    # carol's book: "Harbour" is a whole name there, and the tag holder is alice's.
    assert _taken(session_factory, people["carol"], "harbour") == harbour
    # bob sees all three: the exact name still wins over a start and a tag.
    assert _taken(session_factory, people["bob"], "harbour") == harbour
    # Archived, its card still opens by its whole name; an archived name's start is asked.
    with unit_of_work(session_factory) as s:
        row = s.get(Customer, harbour)
        assert row is not None
        row.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    assert _taken(session_factory, people["bob"], "harbour") == harbour
    assert _asked(session_factory, people["alice"], "harbour") == {foods, hotel}


def test_a_hidden_customers_tag_asks_nothing(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """dave's Westside Diner tagged harbour is not in alice's or bob's book: "harbour" is
    Harbour Foods for them, as if the tag did not exist; the admin sees both and is asked."""
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    diner = _add(session_factory, people["dave"], "Westside Diner", ["harbour"])
    assert _taken(session_factory, people["alice"], "harbour") == foods
    assert _taken(session_factory, people["bob"], "harbour") == foods
    assert _asked(session_factory, people["admin"], "harbour") == {foods, diner}
    # dave sees only the tag: offered, not taken (the grammar cannot tell a nickname from a
    # kind of customer in its lower-cased tags).
    assert _asked(session_factory, people["dave"], "harbour") == {diner}
    # carol (East, not the owner) neither: nothing of hers is called that.
    with _as(session_factory, people["carol"]) as ctx, pytest.raises(NotFound):
        resolve_customer(ctx, "harbour")
    for who, seen in (("alice", {foods}), ("admin", {foods, diner}), ("dave", {diner})):
        with _as(session_factory, people[who]) as ctx:
            assert {c.id for c in search_customers(ctx, "harbour")} == seen, who


def test_a_tag_many_share_is_a_kind_and_asks_nothing(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """Three customers tagged harbour: a kind of customer, not what one is called."""
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    for name in ("Pier One", "Quay Two", "Wharf Three"):
        _add(session_factory, people["alice"], name, ["harbour"])
    assert _taken(session_factory, people["alice"], "harbour") == foods


def test_chinese_and_traditional_tags(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """A Chinese name's start and another's tag clash in either script: a tag kept in
    Traditional (港燈) typed in Simplified, and one kept in Simplified (云雀) typed in
    Traditional."""
    lamp = _add(session_factory, people["alice"], "港灯贸易有限公司")
    hotel = _add(session_factory, people["alice"], "Kowloon Bay Hotel", ["港燈"])
    for query in ("港灯", "港燈"):
        assert _asked(session_factory, people["alice"], query) == {lamp, hotel}, query
    assert _taken(session_factory, people["alice"], "港灯贸易") == lamp
    lark = _add(session_factory, people["alice"], "雲雀咖啡股份有限公司")
    bistro = _add(session_factory, people["alice"], "Skylark Bistro", ["云雀"])
    for query in ("云雀", "雲雀"):
        assert _asked(session_factory, people["alice"], query) == {lark, bistro}, query
    with _as(session_factory, people["alice"]) as ctx:
        said = find_customers(ctx, "今天拜訪了雲雀，客戶關心價格")
        assert {m.id for m in said if m.weight == said[0].weight} == {lark, bistro}


def test_the_admin_name_index_and_a_reps_plain_query(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """The admin's names come from the name index (current, then patched after a change), a
    rep's from their own rows; the clash asks on both, and `find` lists both."""
    for i in range(40):
        _add(session_factory, people["dave"], f"Filler {i:02d} Supply")
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    with session_factory() as s:
        name_book(s)  # the admin's lookups now read a kept copy
    hotel = _add(session_factory, people["alice"], "Kowloon Bay Hotel", ["Harbour"])
    for who in ("admin", "alice", "bob"):
        assert _asked(session_factory, people[who], "harbour") == {foods, hotel}, who
        with _as(session_factory, people[who]) as ctx:
            assert {c.id for c in search_customers(ctx, "harbour")} == {foods, hotel}, who
    # A tag added later (no name changes, so the copy stays current) is seen at once.
    with unit_of_work(session_factory) as s:
        hotel_row = s.get(Customer, hotel)
        assert hotel_row is not None
        hotel_row.tags = ["Freo"]
        s.add(Customer(name="Fremantle Ports", name_key="fremantle ports", owner_id=people["dave"]))
    assert _taken(session_factory, people["admin"], "harbour") == foods
    with unit_of_work(session_factory) as s:
        row = s.scalar(select(Customer).where(Customer.name == "Filler 00 Supply"))
        assert row is not None
        row.tags = ["harbour"]
        filler = row.id
    assert _asked(session_factory, people["admin"], "harbour") == {foods, filler}
    assert _taken(session_factory, people["alice"], "harbour") == foods


def test_loose_mentions_tie_a_tag_with_the_start_of_a_name(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """In a sentence, the tag holder is mentioned where the name's start is, as surely; the
    whole name said, or a hidden holder, adds nothing."""
    foods = _add(session_factory, people["alice"], "Harbour Foods")
    hotel = _add(session_factory, people["alice"], "Kowloon Bay Hotel", ["harbour"])
    diner = _add(session_factory, people["dave"], "Westside Diner", ["harbour"])
    with _as(session_factory, people["alice"]) as ctx:
        said = find_customers(ctx, "called harbour, they want a quote")
        top = [m for m in said if m.weight == said[0].weight and m.exact]
        assert {m.id for m in top} == {foods, hotel}
        said = find_customers(ctx, "called Harbour Foods, they want a quote")
        assert said[0].id == foods and hotel not in {m.id for m in said}
    with _as(session_factory, people["admin"]) as ctx:
        said = find_customers(ctx, "called harbour, they want a quote")
        assert {m.id for m in said if m.weight == said[0].weight} == {foods, hotel, diner}
    with _as(session_factory, people["bob"]) as ctx:
        said = find_customers(ctx, "called harbour, they want a quote")
        assert diner not in {m.id for m in said}


def test_the_tag_holder_is_offered_however_many_names_the_word_starts(
    session_factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    """Twelve names start with "harbour": the question still offers the customer tagged so."""
    for i in range(12):
        _add(session_factory, people["alice"], f"Harbour {chr(65 + i)}{chr(65 + i)} Works")
    hotel = _add(session_factory, people["alice"], "Kowloon Bay Hotel", ["harbour"])
    offered = _asked(session_factory, people["alice"], "harbour")
    assert hotel in offered and len(offered) == 8
