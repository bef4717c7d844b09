"""Staff accounts and teams (administration from the CLI or an admin)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.errors import Invalid
from crm_core.models import Identity, Role, Team, User

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def normalise_locale(value: str) -> str:
    """`zh-TW`, `zh_CN`, `ZH` -> `zh`, `en-GB` -> `en`; any other language is refused."""
    return rules.locale(value)


def get_or_create_team(session: Session, name: str, *, actor_label: str = "cli") -> Team:
    """The team of that name, created if new."""
    name = " ".join(name.split())
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "team"
        team = Team(external_id=slug, name=name)
        session.add(team)
        audit.record(session, None, "team.create", team, None, actor_label=actor_label)
    return team


def add_user(
    session: Session,
    external_id: str,
    name: str,
    *,
    role: str = "rep",
    team: str | None = None,
    email: str | None = None,
    timezone: str = "UTC",
    locale: str = "en",
    actor_label: str = "cli",
) -> User:
    """Create a staff member; the id is the handle people type (`--as alice`, `owner @alice`)."""
    handle = external_id.strip().lower()
    if not _HANDLE.match(handle):
        raise Invalid("error.user_handle_invalid", value=external_id)
    if session.scalar(select(User).where(User.external_id == handle)) is not None:
        raise Invalid("error.user_exists", value=handle)
    try:
        parsed_role = Role(role.strip().lower())
    except ValueError as exc:
        raise Invalid("error.user_role_invalid", value=role) from exc
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("error.timezone_invalid", value=timezone) from exc
    user = User(
        external_id=handle,
        name=rules.name("name", name, 200) or handle,
        email=(rules.email(email) or "").lower() or None,
        role=parsed_role,
        team_id=get_or_create_team(session, team, actor_label=actor_label).id if team else None,
        timezone=timezone,
        locale=normalise_locale(locale),
    )
    session.add(user)
    audit.record(session, None, "user.create", user, None, actor_label=actor_label)
    return user


def profile(session: Session, user: User) -> tuple[Team | None, list[str]]:
    """A user's team and the platforms their account is linked on."""
    team = session.get(Team, user.team_id) if user.team_id else None
    platforms = session.scalars(
        select(Identity.platform).where(Identity.user_id == user.id).order_by(Identity.platform)
    ).all()
    return team, list(platforms)
