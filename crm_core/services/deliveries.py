"""Exactly-once handling of platform deliveries (Slack retries, repeated Telegram updates)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.db import undo_on_rollback
from crm_core.models import ProcessedDelivery, utcnow

# The table, not the mapped class: a Core insert, whose RETURNING says whether a row went in.
_TABLE = cast(Table, ProcessedDelivery.__table__)
# Built once (every command claims its delivery): INSERT ... ON CONFLICT DO NOTHING RETURNING id.
_PG_CLAIM = (
    pg_insert(_TABLE)
    .values(
        platform=bindparam("platform"),
        delivery_id=bindparam("delivery_id"),
        received_at=bindparam("at", type_=_TABLE.c.received_at.type),
    )
    .on_conflict_do_nothing(index_elements=["platform", "delivery_id"])
    .returning(_TABLE.c.id)
)
# session.info key: the SQLite claims that committed ahead of their work, (platform, id) -> row.
_EARLY = "crmbot.early_claims"


def claim_delivery(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Record a delivery in the caller's transaction; False when it was handled before.

    The row commits or rolls back with the work it guards, so a crash before the commit lets
    the platform's retry through, and a second worker blocks on the unique key and then sees it
    (SQLite: the row commits at once and a rollback of the work deletes it; see below).
    """
    if session.get_bind().dialect.name == "postgresql":
        # INSERT ... ON CONFLICT DO NOTHING: one statement where a savepoint, an ORM flush and
        # its release took three; PostgreSQL still waits for a concurrent insert of the same
        # key to commit (then nothing is inserted) or roll back (then this one is).
        values = {"platform": platform, "delivery_id": delivery_id[:200], "at": now or utcnow()}
        # The new row's id, or no row when the key was there.
        return session.execute(_PG_CLAIM, values).first() is not None
    # SQLite: a savepoint. Outside a pysqlite transaction (nothing written yet, the usual case)
    # its release commits the row at once, and with it frees the database's one write lock,
    # which a command that writes from another connection (ask's index catch-up) needs; an
    # INSERT in the transaction would hold that lock to the end. A row committed ahead of the
    # work it guards is deleted again should that work roll back, so a crash after the claim
    # lets the retry through as on PostgreSQL (a process killed in between leaves the claim).
    # Unlike PostgreSQL, a second delivery arriving while the first's work is still open does
    # not wait for it: it sees the committed claim and is a duplicate, so should the first then
    # roll back, neither runs the command (the person has the first one's error; a later
    # retry runs it). See docs/architecture.md.
    row = ProcessedDelivery(
        platform=platform, delivery_id=delivery_id[:200], received_at=now or utcnow()
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        session.info.setdefault(_EARLY, {})[(platform, delivery_id[:200])] = row.id
        _undo_with_work(session, row.id)
    return True


def keep_claim(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Claim a delivery again after a rollback inside the work it guards (a refused part, a
    question asked instead), so the claim commits with whatever the work does next; False
    when another delivery of it took the claim in between."""
    early = session.info.get(_EARLY, {}).get((platform, delivery_id[:200]))
    if early is not None and session.scalar(select(_TABLE.c.id).where(_TABLE.c.id == early)):
        # SQLite's row, committed ahead of the work, outlived that rollback: kept through it
        # and undone with the work's new transaction instead (only this claim: whatever else
        # committed ahead of the rolled-back part, a Confirm's mark, is still undone).
        _undo_with_work(session, early)
        return True
    return claim_delivery(session, platform, delivery_id, now=now)


def _undo_with_work(session: Session, claim_id: int) -> None:
    """Delete the claim `claim_id` again should the caller's unit of work roll back."""

    def undo(s: Session) -> None:
        s.execute(delete(_TABLE).where(_TABLE.c.id == claim_id))

    undo_on_rollback(session, undo, key=(_TABLE.name, claim_id))


def delivery_seen(session: Session, platform: str, delivery_id: str) -> bool:
    """Whether a delivery (or a marker kept like one) was recorded."""
    found = session.scalar(
        select(ProcessedDelivery.id).where(
            ProcessedDelivery.platform == platform,
            ProcessedDelivery.delivery_id == delivery_id[:200],
        )
    )
    return found is not None


def forget_deliveries_before(session: Session, cutoff: datetime) -> int:
    """Drop records older than any platform retries (Slack: minutes; Telegram: 24 hours)."""
    result = session.execute(
        delete(ProcessedDelivery).where(ProcessedDelivery.received_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
