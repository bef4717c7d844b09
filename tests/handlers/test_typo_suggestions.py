"""Typo suggestions for `customer` and `find` from the name index: whose names, and kept current."""

from __future__ import annotations

from sqlalchemy import func, select, update

from crm_core.db import unit_of_work
from crm_core.models import Customer
from crm_core.text import name_key
from tests.conftest import TestBot


def _add(testbot: TestBot, owner: str, *names: str) -> list[int]:
    ids = []
    with unit_of_work(testbot.session_factory) as session:
        for name in names:
            row = Customer(name=name, name_key=name_key(name), owner_id=testbot.users[owner])
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _offered(testbot: TestBot, who: str, line: str) -> list[str]:
    reply = testbot(who, line)
    if line.startswith("find"):
        return list(reply.items)
    assert reply.status in ("info", "error"), reply.text
    return [b.label for b in reply.buttons]


def test_a_reps_typo_is_answered_only_from_their_own_book(testbot: TestBot) -> None:
    """Close names in another rep's book are never offered to alice; the admin gets both."""
    _add(testbot, "alice", "Northwind Supply")
    _add(testbot, "dave", "Northwind Supplies", "Northwind Logistics")
    for line in ("customer Nrothwind Suply", "find Nrothwind Suply"):
        mine = _offered(testbot, "alice", line)
        assert any("Northwind Supply" in x for x in mine), (line, mine)
        assert not any("Supplies" in x or "Logistics" in x for x in mine), (line, mine)
        everyone = _offered(testbot, "admin", line)
        assert any("Northwind Supplies" in x for x in everyone), (line, everyone)
    # Bob manages East (alice, carol), not dave's West.
    assert not any("Supplies" in x for x in _offered(testbot, "bob", "customer Nrothwind Suply"))
    assert testbot("dave", "customer Nrothwind Suply").status == "info"


def test_suggestions_follow_renames_reassignments_and_archiving(testbot: TestBot) -> None:
    """Each change is in the very next suggestion, whoever (whichever process) made it."""
    (acme,) = _add(testbot, "alice", "Acme Logistics")
    (harbor,) = _add(testbot, "dave", "Harbor Freight")
    assert any("Acme Logistics" in x for x in _offered(testbot, "alice", "customer Amce Logistcs"))
    assert testbot("alice", "edit customer Acme Logistics: name Acme Freight").status == "ok"
    offered = _offered(testbot, "alice", "customer Amce Frieght")
    assert any("Acme Freight" in x for x in offered), offered
    # Handed to alice in SQL, as an import or another worker would: hers at the next typo.
    assert not any("Harbor" in x for x in _offered(testbot, "alice", "customer Harbr Freight"))
    with unit_of_work(testbot.session_factory) as session:
        session.execute(
            update(Customer).where(Customer.id == harbor).values(owner_id=testbot.users["alice"])
        )
    assert any("Harbor" in x for x in _offered(testbot, "alice", "customer Harbr Freight"))
    assert any("Acme" in x for x in _offered(testbot, "admin", "find Amce Frieght"))
    with unit_of_work(testbot.session_factory) as session:
        session.execute(update(Customer).where(Customer.id == acme).values(archived_at=func.now()))
    assert not any("Acme" in x for x in _offered(testbot, "admin", "find Amce Frieght"))


def test_an_admins_find_by_contact_or_city_leaves_archived_and_merged_out(
    testbot: TestBot,
) -> None:
    """The admin's contact search reads contacts first: live customers only, as for a rep."""
    testbot("alice", "new customer Northwind city Denver")
    testbot("alice", "contact add Northwind: Dana Ruiz, dana@northwind.example")
    testbot("dave", "new customer Globex city Boston")
    testbot("dave", "contact add Globex: Dana Smith")
    testbot("dave", "new customer Initech city Boston")
    testbot("dave", "contact add Initech: Dana Lee")

    def found(line: str) -> list[str]:
        return sorted(i.split(" · ")[0].split(" ", 1)[1] for i in testbot("admin", line).items)

    assert found("find dana") == ["Globex", "Initech", "Northwind"]
    assert found("find boston") == ["Globex", "Initech"]
    # A contact added since is found at once (the contacts' copy follows its own token).
    assert testbot("alice", "contact add Northwind: Danielle Park").status == "ok"
    assert found("find danielle") == ["Northwind"]
    with unit_of_work(testbot.session_factory) as session:
        ids = dict(session.execute(select(Customer.name, Customer.id)).all())
        session.execute(
            update(Customer).where(Customer.name == "Globex").values(archived_at=func.now())
        )
        session.execute(
            update(Customer).where(Customer.name == "Initech").values(merged_into=ids["Northwind"])
        )
    assert found("find dana") == ["Northwind"]
    assert testbot("admin", "find boston").status != "ok" or found("find boston") == []
    assert [i.split(" · ")[0] for i in testbot("alice", "find dana").items] == [
        f"#{ids['Northwind']} Northwind"
    ]
