"""The note index's outbox: every change to a note's text or visibility leaves a row here.

Tickets are indexed beside the notes under their own keys: ticket #12 is key -12 (an
interaction's key is its id, always positive), so the indexes, the outbox and the drain carry
both kinds unchanged and no key of one can ever name the other.
"""

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


def ticket_key(ticket_id: int) -> int:
    """The index key of a ticket (negative: interactions own the positive ones)."""
    return -ticket_id


def ticket_of(key: int) -> int | None:
    """The ticket id an index key names, or None for an interaction's key."""
    return -key if key < 0 else None


def enqueue_tickets(
    session: Session, ticket_ids: Iterable[int], *, now: datetime | None = None
) -> int:
    """Owe these tickets' texts to the index, in the caller's transaction."""
    return enqueue(session, [ticket_key(t) for t in ticket_ids], now=now)
