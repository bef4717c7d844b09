"""The note index's outbox: every change to a note's text or visibility leaves a row here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm_core.models import IndexOutbox, utcnow


def enqueue(
    session: Session, interaction_ids: Iterable[int], *, now: datetime | None = None
) -> int:
    """Owe these notes to the index, in the caller's transaction; returns rows written."""
    when = now or utcnow()
    rows = [{"interaction_id": i, "created_at": when, "attempts": 0} for i in interaction_ids]
    if rows:
        session.execute(insert(IndexOutbox), rows)
    return len(rows)
