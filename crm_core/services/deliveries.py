"""Exactly-once handling of platform deliveries (Slack retries, repeated Telegram updates)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.models import ProcessedDelivery, utcnow


def claim_delivery(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Record a delivery in the caller's transaction; False when it was handled before.

    The row commits or rolls back with the work it guards, so a crash before the commit lets
    the platform's retry through, and a second worker blocks on the unique key and then sees it.
    """
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
