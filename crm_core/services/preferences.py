"""A person's own settings: language, time zone, quiet hours (and the digest, in digests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from crm_core import audit, rules
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Role, SchedulePrefs, User
from crm_core.resolve import resolve_user
from crm_core.settings import parse_clock
from crm_core.text import to_simplified

AUTO = "auto"
# Cities people name in Chinese, for `时区 台北`; any IANA zone or its city works in English.
_CHINESE_CITIES = {
    "台北": "Asia/Taipei",
    "台湾": "Asia/Taipei",
    "香港": "Asia/Hong_Kong",
    "澳门": "Asia/Macau",
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "中国": "Asia/Shanghai",
    "新加坡": "Asia/Singapore",
    "东京": "Asia/Tokyo",
    "伦敦": "Europe/London",
    "纽约": "America/New_York",
    "旧金山": "America/Los_Angeles",
    "协调世界时": "UTC",
}
_RANGE = re.compile(
    r"^\s*(\d{1,2})(?:[:：](\d{2}))?\s*[-–~～到至]\s*(\d{1,2})(?:[:：](\d{2}))?\s*$"
)


@dataclass(frozen=True)
class Preferences:
    """What `settings` shows for one person."""

    user: User
    locale: str
    auto: bool
    timezone: str
    digest_minute: int | None
    digest_days: str
    digest_off: bool
    quiet: tuple[int, int] | None


def whose(ctx: Ctx, handle: str | None) -> User:
    """The person whose settings a command names: the actor, or (admins only) `@someone`."""
    if handle is None or not handle.strip():
        return ctx.actor
    user = resolve_user(ctx, handle)
    if user.id != ctx.actor.id and ctx.actor.role != Role.admin:
        raise PermissionDenied("error.settings_admin_only", user=user.external_id)
    return user


def read(ctx: Ctx, user: User) -> Preferences:
    """One person's settings, defaults filled in."""
    prefs = ctx.session.get(SchedulePrefs, user.id)
    quiet = None
    if prefs is not None and prefs.quiet_start is not None and prefs.quiet_end is not None:
        quiet = (prefs.quiet_start, prefs.quiet_end)
    return Preferences(
        user=user,
        locale=user.locale,
        auto=user.locale_auto,
        timezone=user.timezone,
        digest_minute=prefs.digest_minute if prefs else None,
        digest_days=prefs.digest_days if prefs else "weekdays",
        digest_off=prefs.digest_off if prefs else False,
        quiet=quiet,
    )


def set_language(ctx: Ctx, user: User, value: str) -> User:
    """`zh-Hant`, `zh-TW`, `zh`, `en` or `auto`; audited."""
    wanted = value.strip()
    auto = wanted.lower() == AUTO
    locale = user.locale if auto else rules.locale(wanted)
    lock_for_update(ctx.session, user)
    before = audit.snapshot(user)
    user.locale, user.locale_auto = locale, auto
    audit.record(ctx.session, ctx.actor, "user.language", user, before)
    return user


@cache
def _zones() -> dict[str, str]:
    """Lower-case zone names and cities -> the zone (`asia/taipei`, `taipei`, `new york`)."""
    zones = {z.lower(): z for z in available_timezones()}
    cities: dict[str, set[str]] = {}
    for zone in available_timezones():
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/")):
            city = zone.rsplit("/", 1)[1].replace("_", " ").lower()
            cities.setdefault(city, set()).add(zone)
    # A city in two regions (rare: links like America/Indiana/...) is left to its full name.
    for city, found in cities.items():
        if len(found) == 1 and city not in zones:
            zones[city] = next(iter(found))
    return zones


def zone(value: str) -> str:
    """An IANA time zone from its name, its city (`Taipei`, `new york`) or a Chinese city."""
    typed = " ".join(value.split())
    found = _CHINESE_CITIES.get(to_simplified(typed)) or _zones().get(
        typed.lower().replace("_", " ")
    )
    found = found or _zones().get(typed.lower())
    if found is None:
        raise Invalid("error.timezone_invalid", value=value)
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("error.timezone_invalid", value=value) from exc
    return found


def set_timezone(ctx: Ctx, user: User, value: str) -> User:
    """Change the zone reminders, digests and dates are read and shown in; audited."""
    found = zone(value)
    lock_for_update(ctx.session, user)
    before = audit.snapshot(user)
    user.timezone = found
    audit.record(ctx.session, ctx.actor, "user.timezone", user, before)
    return user


def parse_quiet(value: str) -> tuple[int, int]:
    """`20:00-08:00`, `22-7`, `20:00到08:00` -> start and end minutes after midnight."""
    m = _RANGE.match(value)
    if m is None:
        raise Invalid("usage.quiet")
    try:
        start = parse_clock(f"{int(m.group(1))}:{m.group(2) or '00'}")
        end = parse_clock(f"{int(m.group(3))}:{m.group(4) or '00'}")
    except ValueError as exc:
        raise Invalid("usage.quiet") from exc
    first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    if first == last:
        raise Invalid("error.quiet_empty", value=value.strip())
    return first, last


def set_quiet(ctx: Ctx, user: User, hours: tuple[int, int] | None) -> SchedulePrefs:
    """Set (or with None clear) a person's quiet hours; audited."""
    if hours is not None and not all(0 <= m < 24 * 60 for m in hours):
        raise Invalid("usage.quiet")
    prefs = _prefs(ctx, user)
    before = audit.snapshot(prefs) if prefs is not None else None
    if prefs is None:
        prefs = SchedulePrefs(
            user_id=user.id, digest_minute=None, digest_days="weekdays", digest_off=False
        )
        ctx.session.add(prefs)
    prefs.quiet_start, prefs.quiet_end = hours if hours is not None else (None, None)
    prefs.updated_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "quiet.settings", prefs, before)
    return prefs


def _prefs(ctx: Ctx, user: User) -> SchedulePrefs | None:
    prefs = ctx.session.get(SchedulePrefs, user.id)
    if prefs is not None:
        # The audited "before" is what this change replaces, not what an earlier read saw.
        lock_for_update(ctx.session, prefs)
    return prefs
