"""The digest verb: show today's digest now, or choose its time and days."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.models import User
from crm_core.services import digests as svc
from crm_core.services.preferences import whose
from crm_core.settings import Settings, parse_clock, parse_hours, parse_stalled_days
from crm_core.text import to_simplified
from handlers.args import Arg, Kind
from handlers.notifications import digest_reply
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply
from handlers.verbs.settings import settings_reply

_AT = re.compile(r"^(?:at\s+|在\s*)?(\d{1,2})(?:[:：.](\d{2}))?\s*(am|pm|点|點)?(?:半)?$", re.I)
_OTHER = re.compile(r"^@([^\s@]+)\s*(.*)$", re.S)
_OFF = {"off", "stop", "关闭", "关", "停止", "不要"}
_ON = {"on", "start", "开启", "开", "打开"}
_WEEKDAYS = {"weekdays", "workdays", "工作日"}
_DAILY = {"daily", "every day", "everyday", "每天", "每日"}


def _config(settings: Settings) -> tuple[dict[str, int], tuple[int, int], str]:
    """Stalled days, working hours and digest time as configured."""
    start, end = parse_hours(settings.work_hours)
    hours = (start.hour * 60 + start.minute, end.hour * 60 + end.minute)
    return parse_stalled_days(settings.stalled_days), hours, settings.digest_time


def _minute(text: str) -> int | None:
    m = _AT.match(text.strip())
    if m is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if "半" in text and m.group(2) is None:
        minute = 30
    suffix = (m.group(3) or "").lower()
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    try:
        clock = parse_clock(f"{hour}:{minute:02d}")
    except ValueError:
        return None
    return clock.hour * 60 + clock.minute


def digest(req: Request) -> Reply:
    """`digest` shows today's digest; `digest at 8:30`, `digest off|on|weekdays|daily` set it."""
    t, ctx = req.t, req.ctx
    arg = to_simplified(req.args.strip()).lower()
    stalled, (work_start, work_end), _ = _config(ctx.config)
    other = _OTHER.match(req.args.strip())
    if other is not None:
        # `digest @wei off`: an admin sets someone else's, and sees their settings after.
        user = whose(ctx, other.group(1))
        if user.id != ctx.actor.id:
            wanted = to_simplified(other.group(2)).lower().strip()
            if wanted:
                _set(req, wanted, (work_start, work_end), user)
            # `digest @wei` alone: their digest settings, as `settings @wei` shows them (what
            # their digest holds is their book's business, seen by opening their customers).
            return settings_reply(req, user)
        arg = to_simplified(other.group(2)).lower()
    if not arg:
        built = svc.build_digest(ctx, stalled)
        return digest_reply(t, built, ctx.tz)
    return _set(req, arg, (work_start, work_end))


def _set(req: Request, arg: str, hours: tuple[int, int], user: User | None = None) -> Reply:
    """Change the digest setting `arg` names, for `user` (the actor by default)."""
    t, ctx = req.t, req.ctx
    work_start, work_end = hours
    if arg in _OFF:
        svc.set_digest(ctx, off=True, user=user)
        return Reply(text=t("digest.off"), buttons=[Button.run(t("button.digest_on"), "digest on")])
    if arg in _ON:
        prefs = svc.set_digest(ctx, off=False, user=user)
        default = _config(ctx.config)[2]
        return Reply(text=t("digest.on", time=_clock_text(prefs.digest_minute, default)))
    if arg in _WEEKDAYS or arg in _DAILY:
        days = "weekdays" if arg in _WEEKDAYS else "daily"
        svc.set_digest(ctx, days=days, off=False, user=user)
        return Reply(text=t(f"digest.days_{days}"))
    minute = _minute(arg)
    if minute is None:
        raise Invalid("usage.digest")
    if not work_start <= minute < work_end:
        raise Invalid(
            "error.digest_outside_hours",
            start=_clock_text(work_start),
            end=_clock_text(work_end),
        )
    svc.set_digest(ctx, minute=minute, off=False, user=user)
    return Reply(text=t("digest.at", time=_clock_text(minute)))


def _clock_text(minute: int | None, default: str = "") -> str:
    if minute is None:
        return default
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 80
VERBS = [
    Verb(
        "digest",
        digest,
        args=(
            Arg("user", Kind.user, optional=True),
            Arg(
                "setting",
                Kind.clock,
                optional=True,
                keyword="at",
                choices=("off", "on", "weekdays", "daily"),
            ),
        ),
        examples=(
            "digest",
            "digest at 8:30",
            "digest off",
            "digest daily",
            "摘要 8:30",
            "摘要 关闭",
            "digest @alice off",
        ),
        writes=True,
        aliases=("摘要", "日报"),
    ),
]
