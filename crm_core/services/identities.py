"""Platform accounts linked to staff members: lookup, linking by hand or by a matching email."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.db import lock_for_update
from crm_core.errors import Invalid
from crm_core.models import Identity, User

MAX_PLATFORM_ID = 128


# Built once: every command looks its sender up, and building the statement (and its cache
# key) each time cost more CPU than running it.
_USER_FOR = (
    select(User)
    .join(Identity, Identity.user_id == User.id)
    .where(
        Identity.platform == bindparam("platform"),
        Identity.platform_user_id == bindparam("platform_user_id"),
        User.active.is_(True),
    )
)


def user_for(session: Session, platform: str, platform_user_id: str) -> User | None:
    """The active staff member linked to this platform account, or None."""
    return session.scalar(_USER_FOR, {"platform": platform, "platform_user_id": platform_user_id})


def active_user_by_email(session: Session, email: str) -> User | None:
    """The one active staff member with exactly this email (case-insensitive), else None."""
    folded = email.strip().casefold()
    if not folded or "@" not in folded:
        return None
    rows = session.scalars(
        select(User).where(func.lower(User.email) == folded, User.active.is_(True)).limit(2)
    ).all()
    return rows[0] if len(rows) == 1 else None


def link_identity(
    session: Session,
    platform: str,
    platform_user_id: str,
    user: User,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
) -> tuple[Identity, bool]:
    """Link a platform account to `user` (moving it if linked elsewhere); returns it, changed?"""
    pid = platform_user_id.strip()
    if not pid or len(pid) > MAX_PLATFORM_ID:
        raise Invalid("error.platform_id_invalid", value=platform_user_id[:40])
    found = session.scalar(
        select(Identity).where(Identity.platform == platform, Identity.platform_user_id == pid)
    )
    if found is not None:
        lock_for_update(session, found)
        if found.user_id == user.id:
            return found, False
        before = audit.snapshot(found)
        found.user_id = user.id
        audit.record(session, actor, "identity.update", found, before, actor_label=actor_label)
        return found, True
    identity = Identity(user_id=user.id, platform=platform, platform_user_id=pid)
    session.add(identity)
    audit.record(session, actor, "identity.create", identity, None, actor_label=actor_label)
    return identity, True
