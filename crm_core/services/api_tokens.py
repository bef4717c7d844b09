"""Personal API tokens: issue, list, revoke, and find the user a presented token acts as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.errors import Invalid, NotFound
from crm_core.models import ApiToken, User

SCOPES = ("read", "write")
# Every token starts so: secret scanners and people can tell what it is.
TOKEN_MARK = "crm_"
# last_used_at is written at most this often per token: a busy client must not turn every
# read into a write.
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    """The stored form of a token (tokens are 256-bit random: a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as `token list` shows it: never the token itself."""

    id: int
    user: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who a presented token acts as, and what it may do."""

    token_id: int
    user_id: int
    scope: str
    # The token user's language: refusals before the call's unit of work speak it too.
    locale: str = "en"

    @property
    def may_write(self) -> bool:
        """Whether the token may create and change records."""
        return self.scope == "write"


def create_token(
    session: Session, user: User, *, scope: str = "read", now: datetime, actor_label: str = "cli"
) -> str:
    """A new token acting as `user`; only its hash is stored. Returns the token (shown once)."""
    if scope not in SCOPES:
        raise Invalid("error.api_scope_invalid", value=scope)
    if not user.active:
        raise Invalid("error.account_inactive")
    token = TOKEN_MARK + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_hash(token),
        prefix=token[:10],
        scope=scope,
        created_at=now,
    )
    session.add(row)
    # The one who ran the command (the CLI operator), not the user the token acts as: alice
    # did not make herself a token. Her id is in the entry's changes (user_id).
    audit.record(session, None, "api_token.create", row, None, actor_label=actor_label)
    return token


def list_tokens(session: Session, user: User | None = None) -> list[TokenInfo]:
    """Every token (or `user`'s), oldest first, as `token list` shows them."""
    stmt = select(ApiToken, User.external_id).join(User, User.id == ApiToken.user_id)
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return [
        TokenInfo(t.id, handle, t.prefix, t.scope, t.created_at, t.last_used_at, t.revoked_at)
        for t, handle in session.execute(stmt.order_by(ApiToken.id))
    ]


def revoke_token(
    session: Session, token_id: int, *, now: datetime, actor_label: str = "cli"
) -> TokenInfo:
    """Revoke a token for good; revoking one already revoked is refused."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("error.api_token_not_found", id=token_id)
    if row.revoked_at is not None:
        raise Invalid("error.api_token_revoked", id=token_id)
    before = audit.snapshot(row)
    row.revoked_at = now
    audit.record(session, None, "api_token.revoke", row, before, actor_label=actor_label)
    return TokenInfo(
        row.id,
        row.user.external_id,
        row.prefix,
        row.scope,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


def authenticate(session: Session, token: str, *, now: datetime) -> Caller | None:
    """The caller a token acts as; None for an unknown or revoked token or an inactive user."""
    if not token.startswith(TOKEN_MARK) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return Caller(row.id, row.user_id, row.scope, row.user.locale)
