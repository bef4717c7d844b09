"""Sends that must happen once, recorded as log rows: claim a row before sending, then finish it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import unit_of_work

# Tries per row before it is left as "failed" (the first send and two retries).
MAX_ATTEMPTS = 3


def claim(
    session_factory: sessionmaker[Session],
    model: Any,
    key: Mapping[str, Any],
    now: datetime,
    *,
    lease: timedelta | None = None,
) -> bool:
    """Take the send keyed by `key`; False when another run has it or it is done.

    With a lease, a row left "sending" longer than the lease (its worker died mid-send) is
    taken again too.
    """
    try:
        with unit_of_work(session_factory) as s:
            s.add(model(**key, status="sending", claimed_at=now))
        return True
    except IntegrityError:
        # The row exists: only a send waiting for a retry (or abandoned) may be taken again.
        pass
    again = model.status == "retry"
    if lease is not None:
        # One UPDATE: of two workers that both see the stale claim, only one matches it.
        again = or_(again, and_(model.status == "sending", model.claimed_at < now - lease))
    with unit_of_work(session_factory) as s:
        result = s.execute(
            update(model)
            .where(
                *(getattr(model, k) == v for k, v in key.items()),
                again,
                model.attempts < MAX_ATTEMPTS,
            )
            .values(status="sending", attempts=model.attempts + 1, claimed_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1


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
