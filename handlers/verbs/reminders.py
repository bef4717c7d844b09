"""Verbs about reminders: remind, reminders, done, snooze, cancel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer, User
from crm_core.resolve import (
    contact_named,
    customer_name_exists,
    resolve_customer,
    resolve_user,
    user_by_chinese_name,
    user_by_handle,
)
from crm_core.services import reminders as svc
from crm_core.services.confirmations import confirm_stamp
from crm_core.text import char_view, to_simplified
from crm_core.timephrases import TimePhrase, read_time_phrase
from crm_core.when import out_of_range
from handlers import format as fmt
from handlers.args import Arg, Kind, take_ref
from handlers.grammar import span_said
from handlers.notifications import reminder_buttons, repeats, when, zone_of
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

_ME = re.compile(r"^(?:(?:me|myself)(?=\s|$)|我(?!们))\s*", re.I)
_OTHER = re.compile(r"^@(\S+)\s*")
_HANDLE = re.compile(r"^([A-Za-z][\w.-]*)\s+(?=\S)")
_LEAD = re.compile(r"^(?:to|that|about)\s+", re.I)
_ABOUT = re.compile(r"(?:\s+(?:about|re:?|for)\s+|\s*关于\s*)([^,，]+?)\s*$", re.I)
# `1h`, `30 min`, `2 days`, `2小时`: a snooze length, from now or the due time, whichever is later.
_SPAN = re.compile(
    r"^(\d{1,3})\s*(m|mins?|minutes?|分钟?|h|hrs?|hours?|小时|个小时|d|days?|天)(?:后)?$", re.I
)
_UNITS = {
    "m": "minutes",
    "分": "minutes",
    "h": "hours",
    "小": "hours",
    "个": "hours",
    "d": "days",
    "天": "days",
}
LIST_BUTTONS = 3


def _ref(req: Request, usage: str) -> tuple[int, str]:
    rid, rest = take_ref(req.args)
    if rid is None:
        raise Invalid(usage)
    return rid, rest


def _read(ctx: Ctx, text: str, tz: ZoneInfo) -> TimePhrase:
    try:
        phrase = read_time_phrase(text, ctx.now(), tz, day_first=ctx.day_first)
    except (OverflowError, ValueError):
        # "in 99999999999 hours", "9999-12-31 23:59" east of UTC: past the end of the calendar.
        raise out_of_range(fmt.preview(text, 60)) from None
    if phrase is None:
        raise Invalid("error.reminder_time_unreadable", text=fmt.preview(text, 60))
    return phrase


def _snooze_time(ctx: Ctx, text: str, tz: ZoneInfo, due_at: datetime) -> tuple[datetime, bool]:
    """The new due time; a length counts from the later of now and `due_at`, never earlier."""
    # "by an hour", "兩個鐘": a length said in words is the length typed.
    m = _SPAN.match(span_said(char_view(text)) or to_simplified(text.strip()))
    if m is not None:
        unit = _UNITS[m.group(2)[0].lower()]
        amount = int(m.group(1))
        if amount == 0:
            raise Invalid("error.reminder_in_past")
        # "1h" on a reminder due tomorrow means an hour after tomorrow's time, not an hour from now.
        return max(ctx.now(), due_at) + timedelta(**{unit: amount}), True
    phrase = _read(ctx, text, tz)
    if phrase.rest.strip():
        raise Invalid("error.snooze_extra", extra=fmt.preview(phrase.rest, 40))
    return phrase.due, phrase.explicit_time


def _linked_customer(ctx: Ctx, text: str) -> tuple[str, Customer | None]:
    """`... about Acme` links the customer when the name is exactly one the actor can see."""
    if "customer" in ctx.picks:
        return text, resolve_customer(ctx, "")
    m = _ABOUT.search(text)
    if m is None or not customer_name_exists(ctx, m.group(1)):
        return text, None
    return text, resolve_customer(ctx, m.group(1))


def remind(req: Request) -> Reply:
    """Set a reminder: `remind me tomorrow 3pm call Dana`, `remind @bob next tue 9:00 quote`."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    if not args:
        raise Invalid("usage.remind")
    owner: User = ctx.actor
    if m := _ME.match(args):
        args = args[m.end() :]
    elif m := _OTHER.match(args):
        owner = resolve_user(ctx, m.group(1))
        args = args[m.end() :]
    elif (m := _HANDLE.match(args)) and (named := user_by_handle(ctx, m.group(1))) is not None:
        # "remind carol friday ...": a staff handle without its @ still names the person,
        # not the first word of the reminder.
        owner = named
        args = args[m.end() :]
    elif (zh := user_by_chinese_name(ctx, args)) is not None:
        named, size, exact = zh
        sound_alike = named.id != ctx.actor.id and not contact_named(ctx, args[:size])
        if exact or (sound_alike and not svc.can_remind(ctx.actor, named)):
            # "提醒王伟周三前...": a colleague's stored name is the person, not the reminder's
            # words (a rep is refused as before: they remind only themself).
            owner = named
            args = args[size:]
        elif sound_alike:
            # Only a sound-alike ("汪薇" for Wang Wei): never silently someone else's reminder.
            command = f"remind @{named.external_id} {args[size:].strip()}"
            return Reply(
                title=t("remind.sounds_like", name=args[:size], who=named.name),
                text=t("loose.card", command=command),
                buttons=[
                    Button.run(
                        t("button.confirm"),
                        command,
                        "primary",
                        confirm=confirm_stamp(ctx.actor.id, ctx.now()),
                    ),
                    Button.dismiss(t("button.cancel")),
                ],
                status="confirm",
            )
        # Otherwise a contact's name ("提醒汪薇明天回电话"): the sender's own reminder, name kept.
    if not args.strip():
        raise Invalid("usage.remind")
    tz = zone_of(owner)
    phrase = _read(ctx, args, tz)
    text = _LEAD.sub("", phrase.rest.strip(" ,，:：")).strip()
    if not text:
        raise Invalid("error.reminder_text_missing")
    text, customer = _linked_customer(ctx, text)
    reminder = svc.create_reminder(
        ctx,
        owner,
        phrase.due,
        text,
        customer=customer,
        recurrence=phrase.recurrence,
        explicit_time=phrase.explicit_time,
    )
    key = "remind.done" if owner.id == ctx.actor.id else "remind.done_other"
    lines = [
        t(key, id=reminder.id, who=owner.name, when=when(t, reminder.due_at, tz))
        + repeats(t, reminder.recurrence)
    ]
    if not phrase.explicit_time:
        lines.append(t("remind.no_clock"))
    return Reply(
        text="\n".join(lines),
        items=[fmt.preview(reminder.text)],
        buttons=[
            Button.run(t("button.change_time"), f"snooze #{reminder.id}"),
            Button.run(t("button.snooze_tomorrow"), f"snooze #{reminder.id} tomorrow 9:00"),
            Button.run(t("button.cancel"), f"cancel #{reminder.id}", "danger"),
        ],
    )


def reminders(req: Request) -> Reply:
    """The actor's open reminders with Done / Snooze / Cancel buttons."""
    t, ctx = req.t, req.ctx
    if req.args.strip():
        raise Invalid("usage.reminders")
    rows, total = svc.list_reminders(ctx)
    if not rows:
        return Reply(
            text=t("reminders.none"),
            status="info",
            buttons=[Button.run(t("button.how_to_remind"), "help remind")],
        )
    tz = ctx.tz
    items = []
    for r in rows:
        every = repeats(t, r.recurrence)
        line = f"#{r.id} {fmt.local_time(r.due_at, tz)}{every} · {fmt.preview(r.text, 100)}"
        if r.status.value != "pending":
            line += f" ({t('reminder.status.' + r.status.value)})"
        items.append(line)
    buttons: list[Button] = []
    for r in rows[:LIST_BUTTONS]:
        buttons += [
            Button.run(t("button.done_n", id=r.id), f"done #{r.id}", "primary"),
            Button.run(t("button.snooze_n", id=r.id), f"snooze #{r.id}"),
            Button.run(t("button.cancel_n", id=r.id), f"cancel #{r.id}", "danger"),
        ]
    return Reply(
        title=t("reminders.title", count=total),
        items=items,
        text=t("reminders.more", shown=len(rows), total=total) if total > len(rows) else "",
        buttons=buttons,
    )


def done(req: Request) -> Reply:
    """Mark a reminder done: `done #12`."""
    t, ctx = req.t, req.ctx
    rid, rest = _ref(req, "usage.done")
    if rest:
        raise Invalid("usage.done")
    r = svc.complete(ctx, rid)
    return Reply(text=t("done.done", id=r.id, text=fmt.preview(r.text, 80)))


def snooze(req: Request) -> Reply:
    """Move a reminder: `snooze #12 1h`, `snooze #12 tomorrow 9:00`; alone, offers choices."""
    t, ctx = req.t, req.ctx
    rid, rest = _ref(req, "usage.snooze")
    reminder = svc.get_reminder(ctx, rid)
    owner = ctx.session.get(User, reminder.owner_id)
    tz = zone_of(owner) if owner is not None else ctx.tz
    if not rest:
        return Reply(
            text=t("snooze.pick", id=rid, example=f"snooze #{rid} next monday 10:00"),
            buttons=[
                *reminder_buttons(t, rid)[1:3],
                Button.run(t("button.snooze_next_week"), f"snooze #{rid} next monday 9:00"),
            ],
            status="info",
        )
    was = reminder.due_at
    due, explicit = _snooze_time(ctx, rest, tz, was)
    r = svc.snooze(ctx, rid, due, explicit_time=explicit)
    return Reply(
        text=t("snooze.done", id=r.id, was=fmt.local_time(was, tz), when=when(t, r.due_at, tz)),
        buttons=[
            Button.run(t("button.change_time"), f"snooze #{r.id}"),
            Button.run(t("button.cancel"), f"cancel #{r.id}", "danger"),
        ],
    )


def cancel(req: Request) -> Reply:
    """Cancel a reminder (a recurring one stops): `cancel #12`."""
    t, ctx = req.t, req.ctx
    rid, rest = _ref(req, "usage.cancel")
    if rest:
        raise Invalid("usage.cancel")
    changed = svc.cancel(ctx, rid)
    key = "cancel.done_series" if any(r.recurrence for r in changed) else "cancel.done"
    return Reply(text=t(key, id=rid, text=fmt.preview(changed[0].text, 80)))


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 70
VERBS = [
    Verb(
        "remind",
        remind,
        args=(
            Arg("who", Kind.user, choices=("me",), label="user"),
            Arg("when", Kind.time),
            Arg("what", Kind.text),
        ),
        examples=(
            "remind me tomorrow 3pm call Dana about Acme",
            "remind @bob next tue 9:00 send the quote",
            "remind me in 2h check the contract",
            "remind me every monday 9am pipeline review",
            "提醒我 明天下午3点 给Dana打电话",
            "提醒 @bob 下周二上午10点 发报价",
        ),
        writes=True,
        aliases=("提醒",),
    ),
    Verb(
        "reminders",
        reminders,
        args=(),
        examples=("reminders", "提醒列表"),
        writes=False,
        aliases=("提醒列表", "我的提醒", "提醒清单"),
    ),
    Verb(
        "done",
        done,
        args=(Arg("reminder", Kind.ref),),
        examples=("done #12", "完成 #12"),
        writes=True,
        aliases=("完成",),
    ),
    Verb(
        "snooze",
        snooze,
        args=(Arg("reminder", Kind.ref), Arg("when", Kind.time, optional=True)),
        examples=("snooze #12 1h", "snooze #12 tomorrow 9:00", "推迟 #12 明天上午10点"),
        writes=True,
        aliases=("推迟", "稍后提醒"),
    ),
    Verb(
        "cancel",
        cancel,
        args=(Arg("reminder", Kind.ref),),
        examples=("cancel #12", "取消提醒 #12"),
        writes=True,
        aliases=("取消提醒", "取消"),
    ),
]
