"""Care dates: `care renewal_date 15d`, `care customer contract_end 30d`, `cares`, `care remove`."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.models import CareDate
from crm_core.services import care as svc
from crm_core.text import char_view
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.notifications import care_field
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply, Section
from handlers.verbs.custom_fields import RECORD_WORDS

_LEAD = re.compile(r"^(\d{1,3})\s*(d|days?|天|日|w|weeks?|周|星期)?$")
_WEEK = ("w", "week", "weeks", "周", "星期")


def _lead_days(word: str) -> int:
    m = _LEAD.match(char_view(word).strip())
    if m is None:
        raise Invalid("error.care_lead_word", value=word)
    days = int(m.group(1))
    return days * 7 if m.group(2) in _WEEK else days


def _target(t: Translator, words: list[str], usage: str) -> tuple[str | None, str]:
    """(record or None, field) from `renewal_date` or `deal renewal_date`."""
    if len(words) == 1:
        return None, words[0]
    if len(words) == 2:
        record = RECORD_WORDS.get(char_view(words[0]))
        if record is None:
            raise Invalid("error.custom_record_word", value=words[0], usage=t(usage))
        return record, words[1]
    raise Invalid(usage)


def _line(t: Translator, c: CareDate) -> str:
    field = care_field(t, c.record, c.field)
    return t("care.line", record=t(f"custom.of.{c.record}"), field=field, days=c.lead_days)


def care(req: Request) -> Reply:
    """`care renewal_date 15d` (admins): the owner is pinged 15 days before each renewal_date."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    if len(words) < 2:
        raise Invalid("usage.care")
    days = _lead_days(words[-1])
    record, field = _target(t, words[:-1], "usage.care")
    found, new = svc.declare(ctx, record, field, days)
    key = "care.added" if new else "care.changed"
    return Reply(
        text=t(
            key,
            record=t(f"custom.of.{found.record}"),
            field=care_field(t, found.record, found.field),
            days=days,
        ),
        buttons=[Button.run(t("button.cares"), "cares")],
    )


def care_remove(req: Request) -> Reply:
    """`care remove renewal_date` (admins): no more pings for it."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    if not words:
        raise Invalid("usage.care_remove")
    record, field = _target(t, words, "usage.care_remove")
    gone = svc.remove(ctx, record, field)
    return Reply(
        text=t(
            "care.removed",
            record=t(f"custom.of.{gone.record}"),
            field=care_field(t, gone.record, gone.field),
        ),
        buttons=[Button.run(t("button.cares"), "cares")],
    )


def cares(req: Request) -> Reply:
    """`cares`: the declared care dates and their lead times."""
    t, ctx = req.t, req.ctx
    if req.args.strip():
        raise Invalid("usage.cares")
    declared = svc.cares(ctx.session)
    if not declared:
        return Reply(text=t("cares.none"), status="info")
    return Reply(
        title=t("cares.title"),
        sections=[Section(t("cares.section"), [_line(t, c) for c in declared])],
        text=t("cares.how"),
    )


# Where these verbs come in help: after the reports, before the service desk.
ORDER = 63
VERBS = [
    Verb(
        "care",
        care,
        args=(
            Arg("record", Kind.choice, optional=True, choices=("customer", "contact", "deal")),
            Arg("field", Kind.text),
            Arg("lead", Kind.text, label="15d"),
        ),
        examples=(
            "care renewal_date 15d",
            "care customer contract_end 30d",
            "care birthday 3d",
            "关怀 续约日期 15天",
        ),
        writes=True,
        aliases=("关怀", "关怀日"),
        menu="care",
    ),
    Verb(
        "cares",
        cares,
        args=(),
        examples=("cares", "关怀列表"),
        writes=False,
        aliases=("关怀列表", "care dates"),
        menu="cares",
    ),
    Verb(
        "care remove",
        care_remove,
        args=(
            Arg("record", Kind.choice, optional=True, choices=("customer", "contact", "deal")),
            Arg("field", Kind.text),
        ),
        examples=("care remove renewal_date", "删除关怀 续约日期"),
        writes=True,
        aliases=("删除关怀", "关怀 删除", "remove care"),
        menu="care_remove",
    ),
]
