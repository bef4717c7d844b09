"""Service-level targets of tickets: policies by priority, clocks that pause, due times, badges.

Pure functions over a ticket's status history (a list of (moment, status after it)) and a
business calendar. The clock runs while a ticket is new or open; it pauses while waiting on the
customer and while resolved or closed (a reopen resumes it). A priority change swaps the target
but keeps counting from the ticket's creation, so a ticket raised to urgent late may be due at
once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_core.business_calendar import BusinessCalendar

PRIORITIES = ("urgent", "high", "normal", "low")
RUNNING = frozenset({"new", "open"})
# The share of a target after which the assignee is warned.
WARN_AT = 0.75


@dataclass(frozen=True)
class Policy:
    """Targets of one priority, in business time."""

    first_response: timedelta
    resolution: timedelta


DEFAULT_POLICIES: dict[str, Policy] = {
    "urgent": Policy(timedelta(hours=1), timedelta(hours=4)),
    "high": Policy(timedelta(hours=4), timedelta(hours=24)),
    "normal": Policy(timedelta(hours=8), timedelta(hours=48)),
    "low": Policy(timedelta(hours=24), timedelta(hours=120)),
}

Span = tuple[datetime, datetime | None]


def running_spans(
    history: Sequence[tuple[datetime, str]], stop: datetime | None = None
) -> list[Span]:
    """The intervals the clock ran, from (moment, status after it) in time order.

    `stop` ends the clock for good (the first response, for the first-response clock); an
    interval still running at the end is open (its end is None).
    """
    spans: list[Span] = []
    started: datetime | None = None
    for at, status in history:
        if stop is not None and at >= stop:
            break
        if status in RUNNING and started is None:
            started = at
        elif status not in RUNNING and started is not None:
            spans.append((started, at))
            started = None
    if started is not None:
        spans.append((started, stop))
    return spans


def elapsed(calendar: BusinessCalendar, spans: Sequence[Span], now: datetime) -> float:
    """Business seconds the clock has run until `now`."""
    total = 0.0
    for begin, end in spans:
        until = now if end is None else min(end, now)
        total += calendar.seconds_between(begin, until)
    return total


def due(calendar: BusinessCalendar, spans: Sequence[Span], target: timedelta) -> datetime | None:
    """When `target` business time will have run; None while the clock is stopped or paused.

    A target already used up by closed spans is due where it ran out (in the past).
    """
    remaining = target.total_seconds()
    for begin, end in spans:
        if end is None:
            return calendar.add(begin, remaining)
        used = calendar.seconds_between(begin, end)
        if remaining <= used:
            return calendar.add(begin, remaining)
        remaining -= used
    return None


@dataclass(frozen=True)
class Clock:
    """One target's state: how much ran, whether it is met, missed, running or paused."""

    target: timedelta
    elapsed: float  # business seconds
    due: datetime | None  # while running
    stopped: bool  # for good: responded to, or resolved
    paused: bool  # waiting on the customer

    @property
    def breached(self) -> bool:
        """More business time ran than the target allows."""
        return self.elapsed > self.target.total_seconds()

    @property
    def share(self) -> float:
        """The part of the target used (1.0 = due now)."""
        return self.elapsed / self.target.total_seconds()


def clock(
    calendar: BusinessCalendar,
    history: Sequence[tuple[datetime, str]],
    target: timedelta,
    now: datetime,
    stop: datetime | None = None,
) -> Clock:
    """The state of one clock at `now`; `stop` ends it (first response or final resolution)."""
    spans = running_spans(history, stop)
    ran = elapsed(calendar, spans, now)
    running = bool(spans) and spans[-1][1] is None
    stopped = stop is not None and stop <= now
    return Clock(
        target,
        ran,
        due(calendar, spans, target) if running else None,
        stopped,
        paused=not running and not stopped,
    )


def warn_time(
    calendar: BusinessCalendar, spans: Sequence[Span], target: timedelta
) -> datetime | None:
    """When WARN_AT of the target will have run (the 75 % ping); None while stopped."""
    return due(calendar, spans, target * WARN_AT)
