"""Loose reading, the third blind set's classes of miss: a name's first word shared by another
company, a colleague's reminder, days said loosely, deal titles typed in part or translated."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from crm_core.models import Deal, Interaction, Reminder, User
from tests.conftest import TestBot
from tests.handlers.test_loose_rules import book, command, counts

__all__ = ["book"]  # the loose rules' book, reused (a fixture imported is a fixture here)


def _named_wang_wei(testbot: TestBot) -> None:
    """wei's staff record carries his romanized name, as a real directory's does."""
    with testbot.session_factory() as s, s.begin():
        s.execute(update(User).where(User.external_id == "wei").values(name="Wang Wei"))


def test_a_first_word_shared_with_another_company_is_not_that_customer(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """dave's "Beacon Logistics" is not the "beacon express" he typed (carol's, hidden from
    him): no card for his own customer, and the answer is the one a made-up name gets."""
    testbot("dave", "new customer Beacon Logistics Inc.")
    testbot("carol", "new customer Beacon Express")
    before = counts(testbot)
    said = testbot("dave", "log a call with laura at beacon express, she's back from leave")
    made_up = testbot("dave", "log a call with laura at zorblat express, she's back from leave")
    assert said.status != "confirm", said.text
    assert (said.status, said.text) == (made_up.status, made_up.text.replace("zorblat", "beacon"))
    assert counts(testbot) == before
    # Its own words still name it, in part or whole.
    for text in ("called beacon logistics, all good", "called beacon, they want a demo"):
        assert command(testbot, "dave", text).startswith("log call #"), text


def test_a_reminder_for_a_named_colleague_is_theirs(testbot: TestBot, book: dict[str, int]) -> None:
    """ "提醒王伟周三前..." from his manager is Wang Wei's reminder (not the sender's with his
    name in its words); "让/叫 X ...", "ping X ..." too; a rep is told they remind only
    themself; "ping" a customer's contact is the sender's own reminder to ping them."""
    _named_wang_wei(testbot)
    reply = testbot("bob", "提醒王伟周三前把华东的报价发出去")
    assert reply.status == "ok", reply.text
    owners = testbot.query(select(Reminder.owner_id))
    assert owners == [testbot.users["wei"]]
    assert command(testbot, "bob", "让王伟明天给华东打个电话").startswith("remind @wei 明天")
    assert command(testbot, "bob", "叫 carol 周五前跟进 Acme 的报价").startswith("remind @carol")
    assert command(testbot, "bob", "ping alice tomorrow about the acme quote").startswith(
        "remind @alice tomorrow"
    )
    assert command(testbot, "alice", "ping david tomorrow about the invoice") == (
        "remind me tomorrow ping david about the invoice"
    )
    before = counts(testbot)
    for text in ("ping bob tomorrow about the acme quote", "让王伟明天给华东打个电话"):
        refused = testbot("alice", text)
        assert refused.status != "confirm" and "remind" in refused.text, refused.text
    assert testbot("alice", "提醒王伟明天跟进华东").status == "error"
    assert counts(testbot) == before


def test_days_said_loosely_are_read(testbot: TestBot, book: dict[str, int]) -> None:
    """ "close end of march", "12/18 前", "一月十五號", "before wed": the day, not an error."""
    deal = book["Label printers expansion"]
    reply = testbot("alice", "new deal Acme: Dock scheduling 40k close end of march")
    assert reply.status == "ok", reply.text
    closes = testbot.query(select(Deal.expected_close).where(Deal.title == "Dock scheduling"))
    assert closes == [date(2027, 3, 31)]
    assert command(testbot, "alice", "Acme 的 Label printers 案子結案日改成一月十五號") == (
        f"edit deal #{deal}: close 2027-01-15"
    )
    assert testbot("bob", "提醒 alice 12/18 前把 Acme 的 PO 追回来").status == "ok"
    reply = testbot("alice", "remind me before wed to chase the acme PO")
    assert reply.status == "ok", reply.text
    texts = testbot.query(select(Reminder.text).order_by(Reminder.id))
    dues = testbot.query(select(Reminder.due_at).order_by(Reminder.id))
    assert [d.date() for d in dues] == [date(2026, 12, 18), date(2026, 11, 25)]
    assert texts[1] == "chase the acme PO"


def test_a_deal_named_in_part_or_translated_is_attached(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A note naming one open deal as the customer's by one telling word of its title ("the
    Acme dashboard"), or in the other language ("Acme 的看板", "华东物流的仓储"), is logged on it;
    a generic word ("the Acme upgrade") or a word said apart from the name is not."""
    dash, store = book["Analytics dashboard rollout"], book["仓储系统升级"]
    line = command(testbot, "alice", "called David, the Acme dashboard demo went well")
    assert f"deal #{dash}" in line, line
    line = command(testbot, "alice", "called David at Acme, they want the dashboard by May")
    assert "deal #" not in line, line
    line = command(testbot, "alice", "跟 David 通了电话，Acme 的看板他们还要再改改")
    assert f"deal #{dash}" in line, line
    line = command(testbot, "wei", "和杨敏通了电话，华东物流的仓储那边要加预算")
    assert f"deal #{store}" in line, line
    line = command(testbot, "alice", "called David, the Acme upgrade went fine")
    assert "deal #" not in line, line
    assert testbot.count(Interaction) == 0
