"""Fixtures for the scheduler: a fake notifier at the edge and the real wiring in between."""

from __future__ import annotations

import pytest

from bot.bootstrap import App
from bot.scheduling import scheduler_component
from handlers.notify import Address, DeliveryFailed
from handlers.reply import Reply
from schedules.runner import SchedulerComponent
from tests.conftest import FakeClock


class FakeNotifier:
    """Records what it is asked to send; fails with the queued errors first."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[tuple[Address, Reply]] = []
        self.failures: list[DeliveryFailed] = []
        self.calls = 0

    async def send(self, address: Address, reply: Reply) -> str:
        """Record, or raise the next queued failure."""
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address, reply))
        return str(len(self.sent))

    def to(self, target: str) -> list[Reply]:
        """Replies sent to one address target."""
        return [r for a, r in self.sent if a.target == target]


@pytest.fixture
def notifier() -> FakeNotifier:
    """The fake notifier (platform "console": every user is reachable by handle)."""
    return FakeNotifier()


@pytest.fixture
def sched(crm_app: App, notifier: FakeNotifier, clock: FakeClock) -> SchedulerComponent:
    """The real scheduler component's jobs over the test database and the fake clock."""
    return scheduler_component(crm_app, [notifier], clock=clock)
