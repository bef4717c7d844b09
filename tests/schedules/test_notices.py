"""Owner notices after `reassign`: through the notice rows and the Notifier, each sent once."""

from __future__ import annotations

from sqlalchemy import select, update

from crm_core.models import OwnerNotice
from schedules.runner import SchedulerComponent
from tests.conftest import TestBot
from tests.schedules.conftest import FakeNotifier


async def test_notices_are_delivered_once(
    testbot: TestBot, sched: SchedulerComponent, notifier: FakeNotifier
) -> None:
    """The old and the new owner each get one message, through the notice rows, never twice."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet renewal 48k")
    testbot("bob", "reassign Acme to @carol with deals")
    notices = sched.jobs.notices
    assert notices is not None
    assert await notices.run_once() == 2
    assert await notices.run_once() == 0
    assert [r.text for r in notifier.to("alice")] == [
        "Bob gave Acme to Carol; it is no longer yours. 1 open deal(s) went with it."
    ]
    (gained,) = notifier.to("carol")
    assert gained.text == "Bob gave you Acme (was Alice's). 1 open deal(s) went with it."
    assert [b.label for b in gained.buttons] == ["Open"]
    assert testbot.query(select(OwnerNotice.status)) == ["sent", "sent"]
    # A notice another worker already claimed is not sent again.
    testbot("admin", "reassign Acme to @alice")
    assert len(testbot.query(select(OwnerNotice.id))) == 4  # carol and alice, told by admin
    with testbot.session_factory.begin() as s:
        s.execute(
            update(OwnerNotice).where(OwnerNotice.status == "pending").values(status="sending")
        )
    assert await notices.run_once() == 0
    assert len(notifier.sent) == 2
