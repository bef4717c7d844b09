"""Campaign notices: each owner with tasks told once, through the notice claim, across workers."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from crm_core.models import CampaignNotice
from schedules.notices import NoticeDispatcher
from schedules.runner import SchedulerComponent
from tests.conftest import TestBot
from tests.handlers.test_campaigns import CREATE, _started
from tests.handlers.test_campaigns import book as book
from tests.schedules.conftest import FakeNotifier


async def test_owners_are_told_once_even_with_several_workers(
    testbot: TestBot,
    book: dict[str, list[int]],
    sched: SchedulerComponent,
    notifier: FakeNotifier,
) -> None:
    """alice and carol get one message each with a Tasks button; three workers send none twice."""
    await asyncio.to_thread(_started, testbot, "bob", CREATE)
    first = sched.jobs.campaign_notices
    assert first is not None
    workers = [
        first,
        *(
            NoticeDispatcher(
                testbot.session_factory, first.send, clock=first.clock, model=CampaignNotice
            )
            for _ in range(2)
        ),
    ]
    sent = await asyncio.gather(*(w.run_once() for w in workers))
    assert sum(sent) == 2
    assert await first.run_once() == 0
    assert sorted(a.target for a, _ in notifier.sent) == ["alice", "carol"]
    (to_alice,) = notifier.to("alice")
    assert to_alice.text.startswith("Campaign “Q1 upsell” (Bob): ")
    assert to_alice.text.endswith(
        "customers of yours to reach. Type `campaign tasks` for the cards."
    )
    assert [b.payload["text"] for b in to_alice.buttons] == ['campaign tasks "Q1 upsell"']
    # The button opens alice's cards.
    cards = await asyncio.to_thread(testbot.press, "alice", to_alice.buttons[0])
    assert cards.title is not None and cards.title.startswith("Your campaign tasks")
    assert testbot.query(select(CampaignNotice.status)) == ["sent", "sent"]
    # dave has no tasks: nothing for him.
    assert notifier.to("dave") == []


async def test_a_campaign_ended_before_delivery_tells_no_one(
    testbot: TestBot,
    book: dict[str, list[int]],
    sched: SchedulerComponent,
    notifier: FakeNotifier,
) -> None:
    """Started and ended before the notices went out: no owner is sent tasks that are closed."""
    await asyncio.to_thread(_started, testbot, "bob", CREATE)
    ended = await asyncio.to_thread(testbot, "bob", 'end campaign "Q1 upsell"')
    assert ended.status == "ok", ended.text
    first = sched.jobs.campaign_notices
    assert first is not None
    assert await first.run_once() == 0
    assert notifier.sent == []
    assert testbot.query(select(CampaignNotice.status)) == ["failed", "failed"]
