"""Sends that must happen once, recorded as log rows: claim a row before sending, then finish it.

The tables share their columns through `crm_core.models.SendLog`; a row is keyed by the table's
unique columns (a person and a day, a ticket, a kind and a target, ...).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from crm_core.db import unit_of_work

# Tries per row before it is left as "failed" (the first send and two retries).
MAX_ATTEMPTS = 3

# How a claim was won: a fresh row, a retry of a retryable failure, or a claim whose worker
# died mid-send (its lease ran out): the send may have gone already.
Taken = Literal["new", "retry", "stale"]

T = TypeVar("T")


def may_take(
    status: str,
    attempts: int,
    claimed_at: datetime,
    now: datetime,
    *,
    lease: timedelta | None = None,
    cap_stale: bool = True,
) -> bool:
    """Whether a logged row may be claimed again (the test `claim` makes in one UPDATE)."""
    if status == "retry" and attempts < MAX_ATTEMPTS:
        return True
    if lease is None or status != "sending" or claimed_at >= now - lease:
        return False
    return not cap_stale or attempts < MAX_ATTEMPTS


def claim(
    session_factory: sessionmaker[Session],
    model: Any,
    key: Mapping[str, Any],
    now: datetime,
    *,
    lease: timedelta | None = None,
    cap_stale: bool = True,
) -> Taken | None:
    """Take the send keyed by `key`; None when another run has it or it is done.

    With a lease, a row left "sending" longer than the lease (its worker died mid-send) is
    taken again too; `cap_stale=False` retakes it even past MAX_ATTEMPTS (a send that must
    not be dropped).
    """
    try:
        with unit_of_work(session_factory) as s:
            s.add(model(**key, status="sending", attempts=1, claimed_at=now))
        return "new"
    except IntegrityError:
        # The row exists: only a send waiting for a retry (or abandoned) may be taken again.
        pass
    keyed = [getattr(model, k) == v for k, v in key.items()]
    ways: list[tuple[Taken, ColumnElement[bool]]] = [
        ("retry", and_(model.status == "retry", model.attempts < MAX_ATTEMPTS))
    ]
    if lease is not None:
        stale = and_(model.status == "sending", model.claimed_at < now - lease)
        ways.append(("stale", and_(stale, model.attempts < MAX_ATTEMPTS) if cap_stale else stale))
    with unit_of_work(session_factory) as s:
        for taken, again in ways:
            # One conditional UPDATE each: of two workers that both see the row, one matches it.
            result = s.execute(
                update(model)
                .where(*keyed, again)
                .values(status="sending", attempts=model.attempts + 1, claimed_at=now)
            )
            if int(getattr(result, "rowcount", 0) or 0) == 1:
                return taken
    return None


def finish(
    session_factory: sessionmaker[Session],
    model: Any,
    key: Mapping[str, Any],
    now: datetime,
    exc: BaseException | None,
) -> str:
    """Record a claimed send's outcome: "sent", "retry" or "failed"."""
    with unit_of_work(session_factory) as s:
        row = s.scalar(select(model).where(*(getattr(model, k) == v for k, v in key.items())))
        if row is None:
            return "failed"
        if exc is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            retry = bool(getattr(exc, "retryable", True)) and row.attempts < MAX_ATTEMPTS
            row.status = "retry" if retry else "failed"
            row.last_error = str(getattr(exc, "reason", type(exc).__name__))[:200]
        status: str = row.status
        return status


@dataclass
class SendStats(Generic[T]):
    """What one run of a send-log job did: what it sent, and how many failed, wait or were taken."""

    sent: list[T] = field(default_factory=list)
    failed: int = 0
    retried: int = 0
    skipped: int = 0

    def count(self, outcome: str | None, item: T) -> None:
        """Add one send's outcome (None: another run had it)."""
        if outcome is None:
            self.skipped += 1
        elif outcome == "sent":
            self.sent.append(item)
        elif outcome == "retry":
            self.retried += 1
        else:
            self.failed += 1


async def send_once(
    claim: Callable[[], object],
    send: Callable[[], Awaitable[object]],
    finish: Callable[[BaseException | None], str],
    log: logging.Logger,
    what: str,
) -> str | None:
    """Claim, send and finish one send (the database steps in a thread): its outcome, or None
    when another run has it. A failure is logged by its class only: messages can quote data."""
    if not await asyncio.to_thread(claim):
        return None
    error: BaseException | None = None
    try:
        await send()
    except Exception as exc:
        error = exc
        log.warning("%s failed: %s", what, type(exc).__name__)
    return await asyncio.to_thread(finish, error)
