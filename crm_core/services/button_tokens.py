"""Button actions kept server-side behind a short token (Telegram allows 64 bytes a button)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models import ButtonToken

DEFAULT_TTL = timedelta(days=7)


def issue_button_token(
    session: Session,
    *,
    user_id: int,
    action: str,
    payload: dict[str, Any],
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> str:
    """Store a button's action for one user; returns a 16-character URL-safe token."""
    token = secrets.token_urlsafe(12)
    session.add(
        ButtonToken(
            token=token,
            user_id=user_id,
            action=action[:64],
            payload=payload,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def redeem_button_token(
    session: Session, token: str, *, user_id: int, now: datetime
) -> tuple[str, dict[str, Any]] | None:
    """The action behind a token; None when it is unknown, expired or another user's."""
    row = session.scalar(select(ButtonToken).where(ButtonToken.token == token[:32]))
    if row is None or row.user_id != user_id or row.expires_at <= now:
        return None
    return row.action, dict(row.payload)


def forget_expired_tokens(session: Session, now: datetime) -> int:
    """Delete tokens past their expiry; returns how many."""
    result = session.execute(delete(ButtonToken).where(ButtonToken.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
