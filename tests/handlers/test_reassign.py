"""reassign through the real dispatcher: who may, what moves, the audit, the notices sent once."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.scheduling import scheduler_component
from crm_core.models import AuditEntry, Customer, Deal, OwnerNotice, Reminder, User
from tests.conftest import TestBot
from tests.handlers.test_duplicates import add_customers
from tests.schedules.conftest import FakeNotifier


def _book(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48k")
    testbot("alice", "new deal Acme: Old pilot 5k")
    testbot("alice", "move Old pilot to won")


def _owners(testbot: TestBot) -> list[tuple[object, ...]]:
    return testbot.rows(
        select(User.external_id).join(Customer, Customer.owner_id == User.id).order_by(Customer.id)
    )


def test_manager_reassigns_with_deals(testbot: TestBot) -> None:
    """`reassign Acme to @carol with deals`: the customer and its open deal move; audited."""
    _book(testbot)
    reply = testbot("bob", "reassign Acme to @carol with deals")
    assert reply.status == "ok", reply.text
    assert reply.text == "Acme now belongs to Carol (was Alice); both are told. " + (
        "1 open deal(s) moved with it; closed deals stay with who closed them."
    )
    assert [(f.label, f.value) for f in reply.fields] == [("Owner", "Alice → Carol")]
    assert _owners(testbot) == [("carol",)]
    deal_owners = testbot.rows(select(Deal.title, User.external_id).join(User).order_by(Deal.id))
    assert deal_owners == [("Fleet renewal", "carol"), ("Old pilot", "alice")]
    actions = testbot.query(select(AuditEntry.action).order_by(AuditEntry.id))[-2:]
    assert actions == ["customer.reassign", "deal.reassign"]
    (changes,) = testbot.query(
        select(AuditEntry.changes).where(AuditEntry.action == "customer.reassign")
    )
    assert changes["owner_id"] == [testbot.users["alice"], testbot.users["carol"]]
    # One notice for each owner; bob, who did it, has the reply.
    told = testbot.rows(select(OwnerNotice.user_id, OwnerNotice.gained).order_by(OwnerNotice.id))
    assert told == [(testbot.users["alice"], False), (testbot.users["carol"], True)]


def test_plain_reassign_takes_the_old_owners_open_deals_and_reminders(testbot: TestBot) -> None:
    """Without `with deals`: alice's open deal and her reminder on Acme go to carol; the won
    deal stays alice's, in her win rate and not in carol's; the reply says what moved."""
    _book(testbot)
    testbot("alice", "remind me tomorrow 9am call Dana about Acme")
    testbot("alice", "remind me tomorrow 10am expenses")  # on no customer: stays hers
    reply = testbot("bob", "reassign Acme to @carol")
    assert reply.status == "ok", reply.text
    assert "1 open deal(s) moved with it" in reply.text
    assert "1 open reminder(s) of Alice on it moved too." in reply.text
    deal_owners = testbot.rows(select(Deal.title, User.external_id).join(User).order_by(Deal.id))
    assert deal_owners == [("Fleet renewal", "carol"), ("Old pilot", "alice")]
    owners = testbot.query(select(Reminder.owner_id).order_by(Reminder.id))
    assert owners == [testbot.users["carol"], testbot.users["alice"]]
    actions = testbot.query(select(AuditEntry.action).order_by(AuditEntry.id))[-3:]
    assert actions == ["customer.reassign", "deal.reassign", "reminder.reassign"]
    # The open deal is carol's to open; alice no longer has one she cannot see.
    assert testbot("carol", "deal Fleet renewal").status == "ok"
    assert "no open deals" in testbot("alice", "deals").text
    # Won value stays with who won it.
    mine = testbot("alice", "report win rate")
    assert ("Won", "1") in _fields(mine)
    assert ("Won value", "5,000 USD") in _fields(mine)
    theirs = testbot("carol", "report win rate")
    assert ("Won", "0") in _fields(theirs)


def test_open_deal_of_someone_else_stays_unless_with_deals(testbot: TestBot) -> None:
    """An open deal bob (not the old owner) owns stays his, and the reply says so."""
    _book(testbot)
    with testbot.session_factory.begin() as s:
        s.execute(
            update(Deal).where(Deal.title == "Fleet renewal").values(owner_id=testbot.users["bob"])
        )
    reply = testbot("bob", "reassign Acme to @carol")
    assert "1 open deal(s) owned by Bob stayed with them; add `with deals`" in reply.text
    assert testbot.query(select(Deal.owner_id).where(Deal.title == "Fleet renewal")) == [
        testbot.users["bob"]
    ]
    testbot("bob", "reassign Acme to @alice with deals")
    assert testbot.query(select(Deal.owner_id).where(Deal.title == "Fleet renewal")) == [
        testbot.users["alice"]
    ]


def _fields(reply: object) -> list[tuple[str, str]]:
    return [(f.label, f.value) for f in reply.fields]  # type: ignore[attr-defined]


def test_who_may_reassign(testbot: TestBot) -> None:
    """Reps are refused; a manager within the team only; an admin anyone; hidden = missing."""
    _book(testbot)
    testbot("dave", "new customer West Corp")
    rep = testbot("alice", "reassign Acme to @carol")
    assert rep.status == "error" and "Only a manager or an admin" in rep.text
    outside = testbot("bob", "reassign Acme to @dave")
    assert outside.status == "error" and "Dave is not one" in outside.text
    hidden = testbot("bob", "reassign West Corp to @alice")
    missing = testbot("bob", "reassign Nowhere to @alice")
    assert hidden.status == missing.status == "error"
    assert hidden.text == missing.text.replace("Nowhere", "West Corp")
    nobody = testbot("bob", "reassign Acme to @nobody")
    assert nobody.status == "error" and "`@alice`" in nobody.text
    assert testbot("bob", "reassign Acme").status == "error"
    assert "reassign Acme to @bob" in testbot("bob", "reassign Acme").text
    assert _owners(testbot) == [("alice",), ("dave",)]
    assert testbot.query(select(OwnerNotice.id)) == []
    assert testbot("admin", "reassign West Corp to @alice").status == "ok"
    assert testbot("admin", "转给 West Corp 给 @dave").status == "ok"
    assert _owners(testbot) == [("alice",), ("dave",)]


def test_reassign_in_chinese(testbot: TestBot) -> None:
    """转给 华东物流 给 @carol 连同商机, answered in Chinese."""
    testbot.add_user("wei", role="manager", locale="zh", timezone="Asia/Shanghai")
    with testbot.session_factory.begin() as s:
        s.execute(
            update(User)
            .where(User.external_id == "wei")
            .values(team_id=select(User.team_id).where(User.external_id == "bob").scalar_subquery())
        )
    testbot("alice", "new customer 华东物流")
    testbot("alice", "new deal 华东物流: 车队续约 10k")
    reply = testbot("wei", "转给 华东物流 给 @carol 连同商机")
    assert reply.status == "ok", reply.text
    assert reply.text.startswith("华东物流 已转给 Carol（原负责人 Alice）")
    assert "1 个进行中的商机一并转交" in reply.text


def test_inactive_owner_is_refused(testbot: TestBot) -> None:
    """A deactivated colleague cannot be given customers."""
    _book(testbot)
    with testbot.session_factory.begin() as s:
        s.execute(update(User).where(User.external_id == "carol").values(active=False))
    refused = testbot("admin", "reassign Acme to @carol")
    assert refused.status == "error" and "no longer active" in refused.text
    assert _owners(testbot) == [("alice",)]


def test_scheduler_has_the_notice_job(crm_app: object) -> None:
    """`serve` runs the notice job beside reminders and digests."""
    jobs = scheduler_component(crm_app, [FakeNotifier()]).jobs  # type: ignore[arg-type]
    assert jobs.notices is not None


def test_reassign_by_a_merged_away_number_moves_nothing_and_names_the_survivor(
    testbot: TestBot,
) -> None:
    """`reassign #<tombstone>` used to move the customer it was merged into (rev14 F4)."""
    (keep,) = add_customers(testbot, "dave", "Acme Logistics")
    (drop,) = add_customers(testbot, "alice", "Acme Logistics Ltd")
    assert testbot("admin", f"merge #{drop} into #{keep} confirm").status == "ok"
    refused = testbot("admin", f"reassign #{drop} to @carol")
    assert refused.status != "ok"
    assert f"#{drop} Acme Logistics Ltd was merged into #{keep} Acme Logistics" in refused.text
    assert f"`reassign #{keep} to @carol`" in refused.text
    assert testbot.query(select(Customer.owner_id).where(Customer.id == keep)) == [
        testbot.users["dave"]
    ]
