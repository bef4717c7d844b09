"""One-time codes that link a chat account (Telegram) to a staff member, with lockout."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.db import lock_for_update
from crm_core.errors import CrmError, Invalid, PermissionDenied
from crm_core.models import Identity, LinkAttempt, LinkCode, Role, User

CODE_TTL = timedelta(minutes=15)
CODE_LENGTH = 8
# No 0/O, 1/I/L: codes are read off one screen and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=30)


class LinkLocked(CrmError):
    """Too many wrong codes from this account; linking is paused."""

    def __init__(self, minutes: int) -> None:
        super().__init__("error.link_locked", minutes=minutes)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(text: str) -> str:
    """The code as stored: upper case, without the spaces or dashes people type."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def create_link_code(session: Session, actor: User, target: User, *, now: datetime) -> str:
    """A fresh code for `target`, valid 15 minutes and once; only admins may make one."""
    if actor.role != Role.admin:
        raise PermissionDenied("error.link_code_admin_only")
    if not target.active:
        raise Invalid("error.account_inactive")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    row = LinkCode(
        code_hash=_hash(code),
        user_id=target.id,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    session.add(row)
    audit.record(session, actor, "link_code.create", row, None)
    return code


def linked_user(session: Session, platform: str, platform_user_id: str) -> User | None:
    """The active staff member this platform account is linked to, if any."""
    user = session.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
    )
    return user if user is not None and user.active else None


def _locked_minutes(attempt: LinkAttempt | None, now: datetime) -> int | None:
    if attempt is None or attempt.locked_until is None or attempt.locked_until <= now:
        return None
    return max(1, math.ceil((attempt.locked_until - now).total_seconds() / 60))


def _count_failure(session: Session, platform: str, platform_user_id: str, now: datetime) -> None:
    """Count a wrong code in its own transaction, so the caller's rollback keeps the count."""
    with Session(bind=session.get_bind()) as own:
        attempt = own.scalar(
            select(LinkAttempt).where(
                LinkAttempt.platform == platform,
                LinkAttempt.platform_user_id == platform_user_id,
            )
        )
        if attempt is not None:
            # Two wrong codes at once must count twice, or guessing in parallel beats the limit.
            lock_for_update(own, attempt)
        else:
            attempt = LinkAttempt(
                platform=platform, platform_user_id=platform_user_id, failures=0, window_start=now
            )
            own.add(attempt)
        if attempt.window_start <= now - FAILURE_WINDOW:
            attempt.failures, attempt.window_start = 0, now
        attempt.failures += 1
        if attempt.failures >= MAX_FAILURES:
            attempt.locked_until, attempt.failures, attempt.window_start = now + LOCKOUT, 0, now
        own.commit()


def redeem_link_code(
    session: Session, platform: str, platform_user_id: str, code: str, *, now: datetime
) -> User:
    """Link the account with a valid code and return the staff member.

    Raises LinkLocked while the account is locked out, and Invalid for a wrong, expired or used
    code; wrong codes are counted even though the caller rolls its transaction back.
    """
    attempt = session.scalar(
        select(LinkAttempt).where(
            LinkAttempt.platform == platform, LinkAttempt.platform_user_id == platform_user_id
        )
    )
    if (minutes := _locked_minutes(attempt, now)) is not None:
        raise LinkLocked(minutes)
    row = session.scalar(select(LinkCode).where(LinkCode.code_hash == _hash(normalise_code(code))))
    target = session.get(User, row.user_id) if row is not None else None
    if row is None or row.used_at is not None or row.expires_at <= now or target is None:
        _count_failure(session, platform, platform_user_id, now)
        raise Invalid("error.link_code_bad")
    # A code is used once: a redemption racing this one waits here, then finds it used. (Not
    # counted as a guess: the count's own transaction would wait for this one's lock.)
    lock_for_update(session, row)
    if row.used_at is not None:
        raise Invalid("error.link_code_bad")
    if not target.active:
        raise Invalid("error.account_inactive")
    row.used_at = now
    identity = session.scalar(
        select(Identity).where(
            Identity.platform == platform, Identity.platform_user_id == platform_user_id
        )
    )
    before = audit.snapshot(identity) if identity is not None else None
    if identity is None:
        identity = Identity(
            user_id=target.id, platform=platform, platform_user_id=platform_user_id, created_at=now
        )
        session.add(identity)
    else:
        identity.user_id = target.id
    audit.record(session, target, "identity.link", identity, before)
    if attempt is not None:
        session.delete(attempt)
    return target
