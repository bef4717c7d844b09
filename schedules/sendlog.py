"""Sends that must happen once, recorded as log rows: claim a row before sending, then finish it.

The tables share their columns through `crm_core.models.SendLog`; a row is keyed by the table's
unique columns (a person and a day, a ticket, a kind and a target, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

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
