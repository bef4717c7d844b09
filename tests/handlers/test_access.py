"""The access matrix: nobody reads, changes or even learns of a customer outside their book."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import AuditEntry, Contact, Customer, Deal, Interaction, StageChange
from handlers.reply import Button, Reply
from tests.conftest import TestBot

WRITE_TABLES = (Customer, Contact, Deal, StageChange, Interaction, AuditEntry)


@pytest.fixture
def globex(testbot: TestBot) -> dict[str, int]:
    """Dave (West) owns Globex with a deal, a contact and a note."""
    testbot("dave", "new customer Globex Corporation city Springfield")
    testbot("dave", "contact add Globex: Zed Zimmer, CTO, zed@globex.example")
    testbot("dave", "new deal Globex: Secret expansion 90000")
    testbot("dave", "log call Globex: confidential pricing talk")
    ids = {
        "customer": testbot.query(select(Customer.id))[0],
        "deal": testbot.query(select(Deal.id))[0],
        "note": testbot.query(select(Interaction.id))[0],
    }
    return ids


def _shape(reply: Reply, secret: str, stand_in: str) -> tuple[str, str, list[str], list[str]]:
    """A reply with the asked-for name swapped, so two replies can be compared."""
    swap = lambda s: s.replace(secret, "<X>").replace(stand_in, "<X>")  # noqa: E731
    return (
        reply.status,
        swap(reply.text),
        [swap(i) for i in reply.items],
        [swap(b.label) for b in reply.buttons],
    )


def _snapshot(testbot: TestBot) -> tuple[int, ...]:
    return tuple(testbot.count(t) for t in WRITE_TABLES)


PROBES = [
    ("customer {c}", "Globex", "Nonexistent"),
    ("customer #{cid}", None, None),
    ("find {c}", "Globex", "Nonexistent"),
    ("deals {c}", "Globex", "Nonexistent"),
    ("log call {c}: sneaky", "Globex", "Nonexistent"),
    ("log call #{cid}: sneaky", None, None),
    ("contact add {c}: Mallory, spy", "Globex", "Nonexistent"),
    ("new deal {c}: Sneaky 1", "Globex", "Nonexistent"),
    ("move {d} to won", "Secret expansion", "Nonexistent deal"),
    ("move #{did} to won", None, None),
    ("move {c} / {d} to won", "Globex", "Nonexistent"),
    ("undo #{nid}", None, None),
    ("edit #{nid}: rewritten", None, None),
    ("note #{nid}", None, None),
    ("deals #{cid}", None, None),
    ("ask {c}: what was the pricing?", "Globex", "Nonexistent"),
    ("ask #{cid}: what was the pricing?", None, None),
    ("ask #{cid}", None, None),
]


@pytest.mark.parametrize("who", ["alice", "bob"])
@pytest.mark.parametrize(("template", "secret", "stand_in"), PROBES)
def test_outsider_learns_nothing(
    testbot: TestBot,
    globex: dict[str, int],
    who: str,
    template: str,
    secret: str | None,
    stand_in: str | None,
) -> None:
    """Asking about Globex answers exactly as asking about a customer that does not exist."""
    testbot(who, "new customer Acme")  # the outsider has a book of their own
    before = _snapshot(testbot)
    fill = {
        "c": "Globex",
        "d": "Secret expansion",
        "cid": globex["customer"],
        "did": globex["deal"],
        "nid": globex["note"],
    }
    real = testbot(who, template.format(**fill))
    if secret is None:
        missing = {"c": "", "d": "", "cid": 999999, "did": 999999, "nid": 999999}
        fake = testbot(who, template.format(**missing))
        key = next(k for k in ("cid", "did", "nid") if "{" + k + "}" in template)
        real_shape = _shape(real, str(fill[key]), "999999")
        fake_shape = _shape(fake, "999999", "999999")
    else:
        fake_fill = {**fill, "c": "Nonexistent", "d": "Nonexistent deal"}
        fake = testbot(who, template.format(**fake_fill))
        real_shape = _shape(real, secret, stand_in or "")
        fake_shape = _shape(fake, stand_in or "", stand_in or "")
    assert real.status in ("error", "info")
    assert real_shape == fake_shape
    assert _snapshot(testbot) == before
    # Nothing the outsider did not type may appear: the full name, the city, the note, the amount.
    for text in (real.text, *real.items, *(b.label for b in real.buttons)):
        for leak in ("Corporation", "Springfield", "confidential", "Zed", "90,000"):
            assert leak not in text


def test_lists_and_reports_exclude_other_books(testbot: TestBot, globex: dict[str, int]) -> None:
    """customers, deals and pipeline never count another team's records."""
    testbot("alice", "new customer Acme")
    assert all("Globex" not in i for i in testbot("alice", "customers").items)
    assert "Globex" not in " ".join(testbot("bob", "customers").items)
    assert "no open deals" in testbot("alice", "deals").text
    fields = {f.label: f.value for f in testbot("bob", "pipeline").fields}
    assert fields["Open deals"] == "0"


def test_manager_and_admin_see_their_scope(testbot: TestBot, globex: dict[str, int]) -> None:
    """Dave's manager-less team is invisible to bob; admin sees and may change it."""
    testbot.add_user("erin", role="manager", team="West")
    assert testbot("erin", "customer Globex").title == "Globex Corporation"
    assert testbot("admin", "customer Globex").title == "Globex Corporation"
    assert testbot("admin", "log call Globex: admin note").status == "ok"
    assert testbot("erin", "move Secret expansion to proposal").status == "ok"


def test_rep_sees_only_own_customers_in_team(testbot: TestBot) -> None:
    """Two reps of one team do not see each other's customers; their manager sees both."""
    testbot("alice", "new customer Acme")
    testbot("carol", "new customer Initech")
    assert testbot("carol", "customer Acme").status == "error"
    assert testbot("bob", "customer Acme").title == "Acme"
    assert testbot("bob", "customer Initech").title == "Initech"


def test_inactive_user_is_refused(testbot: TestBot) -> None:
    """A deactivated account gets a clear refusal and nothing else."""
    from crm_core.db import unit_of_work
    from crm_core.models import User

    with unit_of_work(testbot.session_factory) as session:
        user = session.get(User, testbot.users["carol"])
        assert user is not None
        user.active = False
    before = testbot.count(AuditEntry)
    reply = testbot("carol", "new customer Hooli")
    assert reply.status == "error" and "not active" in reply.text
    assert testbot.count(AuditEntry) == before and testbot.count(Customer) == 0


@pytest.mark.parametrize(
    ("line", "field", "key"),
    [
        ("customer x", "customer", "customer"),
        ("ask x: what was the pricing?", "customer", "customer"),
        ("log call x: sneaky", "customer", "customer"),
        ("move x to won", "deal", "deal"),
    ],
)
def test_a_forged_pick_learns_nothing(
    testbot: TestBot, globex: dict[str, int], line: str, field: str, key: str
) -> None:
    """A button whose pick names Globex answers like one naming a record that never existed."""
    testbot("alice", "new customer Acme")
    before = _snapshot(testbot)
    real = testbot.press("alice", Button.run("x", line, pick={field: globex[key]}))
    fake = testbot.press("alice", Button.run("x", line, pick={field: 999999}))
    assert real.status == "error"
    assert _shape(real, str(globex[key]), "999999") == _shape(fake, "999999", "999999")
    assert _snapshot(testbot) == before


def test_a_customer_by_number_follows_a_changed_role_and_team_at_once(testbot: TestBot) -> None:
    """The statement kept per access key (`per_access`) is never another key's: after alice's
    own look-up, a promotion shows her team's customer, a move to another team hides it again,
    and carol's look-ups never see alice's book."""
    from crm_core.db import unit_of_work
    from crm_core.models import Team, User

    testbot("alice", "new customer Acme")
    testbot("carol", "new customer Initech")
    acme, initech = (
        testbot.query(select(Customer.id).where(Customer.name == n))[0] for n in ("Acme", "Initech")
    )
    assert testbot("alice", f"customer #{acme}").title == "Acme"
    assert testbot("alice", f"customer #{initech}").status == "error"
    assert testbot("carol", f"customer #{acme}").status == "error"

    def change(**values: object) -> None:
        with unit_of_work(testbot.session_factory) as session:
            user = session.get(User, testbot.users["alice"])
            assert user is not None
            for name, value in values.items():
                setattr(user, name, value)

    change(role="manager")
    assert testbot("alice", f"customer #{initech}").title == "Initech"
    west = testbot.query(select(Team.id).where(Team.name == "West"))[0]
    change(team_id=west)
    assert testbot("alice", f"customer #{initech}").status == "error"
    assert testbot("carol", f"customer #{acme}").status == "error"
    assert testbot("carol", f"customer #{initech}").title == "Initech"
