"""A team's SLA targets per priority (admins): `sla Support`, `sla Support high 2h 12h`."""

from __future__ import annotations

import re
from datetime import timedelta

from crm_core.errors import Invalid, NotFound
from crm_core.models import Team, TicketPriority
from crm_core.services import tickets as svc
from crm_core.sla import PRIORITIES
from crm_core.text import to_simplified, to_traditional
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Field, Reply

# A target as typed: one or more amounts with a unit: 2h, 90m, 1h30m, 1d (24 hours), 2小时.
_UNITS = {
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "分": 1,
    "分钟": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "小时": 60,
    "时": 60,
    "d": 24 * 60,
    "day": 24 * 60,
    "days": 24 * 60,
    "天": 24 * 60,
}
_PART = re.compile(
    r"(\d{1,5}(?:\.\d{1,2})?)\s*(" + "|".join(sorted(map(re.escape, _UNITS), key=len)[::-1]) + ")",
    re.I,
)
_PRIORITY_WORDS = sorted({*svc.PRIORITY_WORDS, *map(to_traditional, svc.PRIORITY_WORDS)}, key=len)
_SETTING = re.compile(
    r"^(?P<team>.+?)\s+(?P<priority>"
    + "|".join(map(re.escape, _PRIORITY_WORDS[::-1]))
    + r")(?:\s+(?P<targets>.+))?$",
    re.I,
)


def read_target(value: str) -> timedelta:
    """`2h`, `90m`, `1h30m`, `1d` (24 business hours), `2小时`; Invalid otherwise."""
    text = to_simplified(value).strip().casefold()
    pos, minutes = 0, 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        minutes += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0 or pos != len(text):
        raise Invalid("error.sla_target_unreadable", value=value)
    return timedelta(minutes=round(minutes))


def target_words(t: Translator, span: timedelta) -> str:
    """A target in hours and minutes (never days: a day is ambiguous in business time)."""
    hours, mins = divmod(int(span.total_seconds() // 60), 60)
    if not hours:
        return t("duration.m", m=mins)
    return t("duration.hm", h=hours, m=mins) if mins else t("duration.h", h=hours)


def _card(t: Translator, req: Request, found: Team) -> Reply:
    policies, own = svc.sla_policies(req.ctx, found)
    fields = [
        Field(
            t(f"ticket.priority.{p}"),
            t(
                "sla.targets" if p in own else "sla.targets_default",
                response=target_words(t, policies[p].first_response),
                resolution=target_words(t, policies[p].resolution),
            ),
        )
        for p in PRIORITIES
    ]
    return Reply(title=t("sla.title", team=found.name), fields=fields)


def sla(req: Request) -> Reply:
    """`sla Support` shows the team's targets; `sla Support high 2h 12h` sets one priority's."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    if not args:
        raise Invalid("usage.sla")
    m = _SETTING.match(args)
    if m is None:
        return _card(t, req, svc.find_team(ctx.session, args))
    # A priority word starts a setting, which takes exactly two targets; anything else after it
    # is a mistyped setting, not a team called "Support high 2h" (unless that team exists).
    targets = (m.group("targets") or "").split()
    if len(targets) != 2:
        try:
            whole = svc.find_team(ctx.session, args)
        except NotFound:
            raise Invalid("usage.sla_set") from None
        return _card(t, req, whole)
    team = svc.find_team(ctx.session, m.group("team"))
    priority: TicketPriority = svc.check_priority(to_simplified(m.group("priority")))
    response, resolution = map(read_target, targets)
    _, changed = svc.set_sla_policy(ctx, team, priority, response, resolution)
    card = _card(t, req, team)
    key = "sla.set" if changed else "sla.same"
    return Reply(
        text=t(
            key,
            team=team.name,
            priority=t(f"ticket.priority.{priority.value}"),
            response=target_words(t, response),
            resolution=target_words(t, resolution),
        ),
        title=card.title,
        fields=card.fields,
    )


# Where this verb comes in help: beside `team`, the service calendar.
ORDER = 67
VERBS = [
    Verb(
        "sla",
        sla,
        args=(
            Arg("team", Kind.text),
            Arg(
                "priority",
                Kind.choice,
                optional=True,
                choices=PRIORITIES,
            ),
            Arg("first response", Kind.text, optional=True, label="2h"),
            Arg("resolution", Kind.text, optional=True, label="12h"),
        ),
        examples=(
            "sla Support",
            "sla Support high 2h 12h",
            "sla Support urgent 30m 4h",
            "服务时效 华东 高 2小时 12小时",
        ),
        writes=True,
        aliases=("服务时效",),
    ),
]
