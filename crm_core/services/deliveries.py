"""Exactly-once handling of platform deliveries (Slack retries, repeated Telegram updates)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def claim_delivery(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Record a delivery in the caller's transaction; False when it was handled before.

    The row commits or rolls back with the work it guards, so a crash before the commit lets
    the platform's retry through, and a second worker blocks on the unique key and then sees it.
    """
    if session.get_bind().dialect.name == "postgresql":
        # INSERT ... ON CONFLICT DO NOTHING: one statement where a savepoint, an ORM flush and
        # its release took three; PostgreSQL still waits for a concurrent insert of the same
        # key to commit (then nothing is inserted) or roll back (then this one is).
        values = {"platform": platform, "delivery_id": delivery_id[:200], "at": now or utcnow()}
        # The new row's id, or no row when the key was there.
        return session.execute(_PG_CLAIM, values).first() is not None
    # SQLite: the savepoint, as before. Releasing it ends pysqlite's transaction, and with it
    # the database's one write lock, which a command that writes from another connection
    # (ask's index catch-up) needs; an INSERT in the transaction would hold it to the end.
    try:
        with session.begin_nested():
            session.add(
                ProcessedDelivery(
                    platform=platform, delivery_id=delivery_id[:200], received_at=now or utcnow()
                )
            )
    except IntegrityError:
        return False
    return True


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
