"""Two customers whose names share one key (an import keeps "Maple & Birch" beside "Maple and
Birch Inc."): the name typed in full names that one; anything less asks with both."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Ambiguous
from crm_core.models import Customer, User
from crm_core.resolve import resolve_customer
from crm_core.services.users import add_user
from crm_core.text import name_key


@pytest.fixture
def book(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """A rep with two pairs of customers whose names share a key, as an import leaves them."""
    with unit_of_work(session_factory) as s:
        rep = add_user(s, "mathieu", "Mathieu", role="rep", team="East")
        s.flush()
        ids = {"rep": rep.id}
        for name in (
            "Maple & Birch Apothecary",
            "Maple and Birch Apothecary Inc.",
            "广州佳禾食品有限公司",
            "广州佳禾食品",
        ):
            c = Customer(name=name, name_key=name_key(name), owner_id=rep.id, tags=[])
            s.add(c)
            s.flush()
            ids[name] = c.id
    assert name_key("Maple & Birch Apothecary") == name_key("Maple and Birch Apothecary Inc.")
    assert name_key("广州佳禾食品有限公司") == name_key("广州佳禾食品")
    return ids


def _resolve(session_factory: sessionmaker[Session], user_id: int, query: str) -> int:
    with session_factory() as s:
        user = s.get(User, user_id)
        assert user is not None
        return resolve_customer(Ctx(s, user), query).id


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("Maple & Birch Apothecary", "Maple & Birch Apothecary"),
        ("maple  &  birch apothecary", "Maple & Birch Apothecary"),
        ("Maple and Birch Apothecary Inc.", "Maple and Birch Apothecary Inc."),
        ("ＭＡＰＬＥ and birch apothecary inc.", "Maple and Birch Apothecary Inc."),
        ("广州佳禾食品有限公司", "广州佳禾食品有限公司"),
        ("廣州佳禾食品", "广州佳禾食品"),
    ],
)
def test_a_name_typed_in_full_names_that_customer(
    session_factory: sessionmaker[Session], book: dict[str, int], typed: str, named: str
) -> None:
    """Case, width, script and spacing aside, the whole name picks its own record."""
    assert _resolve(session_factory, book["rep"], typed) == book[named]


@pytest.mark.parametrize(
    ("typed", "pair"),
    [
        (
            "Maple and Birch Apothecary",
            ("Maple & Birch Apothecary", "Maple and Birch Apothecary Inc."),
        ),
        ("maple birch", ("Maple & Birch Apothecary", "Maple and Birch Apothecary Inc.")),
        ("广州佳禾食品公司", ("广州佳禾食品有限公司", "广州佳禾食品")),
    ],
)
def test_less_than_a_whole_name_asks_with_both(
    session_factory: sessionmaker[Session],
    book: dict[str, int],
    typed: str,
    pair: tuple[str, str],
) -> None:
    """A shared key typed in neither's exact words is a question, never a guess."""
    with pytest.raises(Ambiguous) as asked:
        _resolve(session_factory, book["rep"], typed)
    assert {c.id for c in asked.value.candidates} == {book[n] for n in pair}
