"""Confirm cards: a stamp on the Confirm button so it runs once, soon, and only for its asker."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crm_core.services.deliveries import claim_delivery

# A card older than this writes nothing: what it showed may no longer be true.
CONFIRM_TTL = timedelta(minutes=10)
# The deliveries table keeps each pressed card's mark (one press only), under this platform.
_MARK = "confirm"


def confirm_stamp(user_id: int, now: datetime) -> dict[str, Any]:
    """A new stamp for a card shown to `user_id` now (JSON-ready, for a button's payload)."""
    return {"id": secrets.token_urlsafe(9), "by": user_id, "at": now.isoformat()}


def redeem_confirm(session: Session, stamp: Any, *, user_id: int, now: datetime) -> str | None:
    """Why a pressed Confirm may not run (a catalogue key), or None after marking it used.

    The mark joins the caller's transaction: a write refused after it rolls it back too, so
    the card can be pressed again once the problem is fixed.
    """
    if not isinstance(stamp, dict) or not isinstance(stamp.get("id"), str):
        return "confirm.invalid"
    if stamp.get("by") != user_id:
        return "confirm.not_yours"
    try:
        issued = datetime.fromisoformat(str(stamp.get("at")))
    except ValueError:
        return "confirm.invalid"
    if issued.tzinfo is None or now - issued > CONFIRM_TTL or issued - now > timedelta(minutes=1):
        return "confirm.expired"
    if not claim_delivery(session, _MARK, stamp["id"], now=now):
        return "confirm.used"
    return None
