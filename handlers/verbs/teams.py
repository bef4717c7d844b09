"""A team's service calendar (admins): `team East zone Asia/Shanghai`, `holidays CN`, `triage`."""

from __future__ import annotations

import re

from crm_core.business_calendar import WEEKDAYS, BusinessCalendar
from crm_core.errors import Invalid
from crm_core.models import ServiceCalendar, Team
from crm_core.services import tickets as svc
from crm_core.text import to_simplified, to_traditional
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Field, Reply

# The words naming each setting, in every locale.
SETTING_WORDS = {
    "zone": "zone",
    "timezone": "zone",
    "时区": "zone",
    "holidays": "holidays",
    "holiday": "holidays",
    "节假日": "holidays",
    "假日": "holidays",
    "triage": "triage",
    "分诊": "triage",
    "分诊频道": "triage",
}
NONE_WORDS = ("none", "off", "default", "无", "默认")
HERE_WORDS = ("here", "this", "这里", "此处")
# Traditional forms are read too (a zh-Hant reader types 時區, 節假日, 分診).
_SETTING = re.compile(
    r"^(?P<team>.+)\s+(?P<key>"
    + "|".join(map(re.escape, sorted({*SETTING_WORDS, *map(to_traditional, SETTING_WORDS)})))
    + r")(?:\s+(?P<value>\S+))?$",
    re.I,
)


def _word(value: str) -> str:
    """A typed word as the tables above spell it."""
    return to_simplified(value).casefold()


# A Slack channel mention as a slash command delivers it: <#C0123|triage-east>.
_SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]+)(?:\|[^<>]*)?>$")


def _triage_target(req: Request, value: str) -> str:
    """The notifier address of a triage value: a Slack mention, `here`, or `slack:C0123`."""
    if _word(value) in NONE_WORDS:
        return ""
    if _word(value) in HERE_WORDS:
        chat = req.command.chat_id
        if not chat or req.command.platform not in ("slack", "telegram"):
            raise Invalid("error.triage_here_no_channel")
        return f"{req.command.platform}:{chat}"
    mention = _SLACK_CHANNEL.match(value)
    if mention is not None:
        return f"slack:{mention.group(1)}"
    if value.startswith("#"):
        # A bare name cannot be resolved here: Slack sends a picked channel as a mention.
        raise Invalid("error.triage_channel_name", value=value)
    return value


def _hours(t: Translator, cal: BusinessCalendar) -> str:
    days = (
        t("team.weekdays") if cal.days == WEEKDAYS else ",".join(str(d) for d in sorted(cal.days))
    )
    return t("team.hours_value", days=days, start=f"{cal.start:%H:%M}", end=f"{cal.end:%H:%M}")


def _card(t: Translator, team: Team, row: ServiceCalendar | None, cal: BusinessCalendar) -> Reply:
    zone = row.timezone if row and row.timezone else t("team.zone_default", zone=cal.zone.key)
    triage = row.triage_target if row and row.triage_target else t("team.triage_none")
    return Reply(
        title=t("team.title", team=team.name),
        fields=[
            Field(t("team.zone"), zone),
            Field(t("team.holidays"), row.country if row and row.country else t("team.none")),
            Field(t("team.triage"), triage),
            Field(t("team.hours"), _hours(t, cal)),
        ],
    )


def team(req: Request) -> Reply:
    """`team East` shows its service calendar; `team East zone|holidays|triage <value>` sets it."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    if not args:
        raise Invalid("usage.team")
    m = _SETTING.match(args)
    if m is None:
        found = svc.find_team(ctx.session, args)
        row, cal = svc.service_calendar(ctx, found)
        return _card(t, found, row, cal)
    found = svc.find_team(ctx.session, m.group("team"))
    key = SETTING_WORDS[_word(m.group("key"))]
    value = m.group("value")
    if not value:
        raise Invalid(f"usage.team_{key}")
    if key == "zone":
        zone = "" if _word(value) in NONE_WORDS else value
        svc.set_service_calendar(ctx, found, timezone=zone)
    elif key == "holidays":
        country = "" if _word(value) in NONE_WORDS else value
        svc.set_service_calendar(ctx, found, country=country)
    else:
        svc.set_service_calendar(ctx, found, triage_target=_triage_target(req, value))
    row, cal = svc.service_calendar(ctx, found)
    done = _card(t, found, row, cal)
    return Reply(
        text=t(f"team.{key}_set", team=found.name),
        title=done.title,
        fields=done.fields,
    )


# Where this verb comes in help: after the service desk's verbs.
ORDER = 66
VERBS = [
    Verb(
        "team",
        team,
        args=(
            Arg("team", Kind.text),
            Arg("setting", Kind.choice, optional=True, choices=("zone", "holidays", "triage")),
            Arg("value", Kind.text, optional=True, label="Asia/Shanghai|CN|here|none"),
        ),
        examples=(
            "team East",
            "team East zone Asia/Shanghai",
            "team East holidays CN",
            "team East triage here",
            "团队 华东 节假日 CN",
        ),
        writes=True,
        aliases=("团队",),
    ),
]
