"""Campaigns: `campaign "Q1 upsell" segment … message … holdout 10%`, reports, tasks, outcomes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from crm_core.errors import Invalid, NotFound
from crm_core.marketing import campaigns as svc
from crm_core.marketing.effect import Interval
from crm_core.models import Campaign
from crm_core.text import char_view, to_simplified
from crm_core.when import parse_when
from handlers import format as fmt
from handlers.args import Arg, Kind
from handlers.grammar import unquote
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply
from handlers.verbs.segments import ORDER as SEGMENTS_ORDER

# The last word of a typed (or pressed) Confirm / Cancel, where a part could start.
_CONFIRM_WORDS = {"confirm", "确认"}
_DONE_WORDS = _CONFIRM_WORDS | {"cancel", "取消"}
# The words that start each part of `campaign "X" segment "Y" message "…" holdout 10%`.
_KEYS = {
    "segment": "segment",
    "分群": "segment",
    "message": "message",
    "消息": "message",
    "话术": "message",
    "holdout": "holdout",
    "对照组": "holdout",
    "留出": "holdout",
    "seed": "seed",
    "种子": "seed",
}
_KEY = re.compile(
    r"(?:^|\s+)(" + "|".join(sorted(map(re.escape, _KEYS), key=len, reverse=True)) + r")(?=\s|$)",
    re.I,
)
_PERCENT = re.compile(r"^(\d{1,3})\s*[%％]?$")
_SEED = re.compile(r"^(\d{1,10})$")
# A holdout or seed value: `10%`, `10 %` or one word.
_WORD = re.compile(r"\d+\s*[%％]|\S+")
# Outcome words (English and Simplified; Traditional is folded to Simplified first).
_OUTCOMES = {
    "reached": "reached",
    "reach": "reached",
    "已联系": "reached",
    "联系上": "reached",
    # Taiwan and Hong Kong say 聯絡, which folds to 联络, not 联系.
    "已联络": "reached",
    "联络上": "reached",
    "replied": "replied",
    "reply": "replied",
    "已回复": "replied",
    "回复": "replied",
    "not interested": "not_interested",
    "not_interested": "not_interested",
    "不感兴趣": "not_interested",
    "converted": "converted",
    "convert": "converted",
    "已成交": "converted",
    "成交": "converted",
}
_SNOOZE = re.compile(r"^(?:snooze|推迟|稍后)\s*(.*)$", re.I)
_SPAN = re.compile(r"^(\d{1,3})\s*(h|d|w|小时|天|周)$", re.I)
_UNITS = {"h": "hours", "d": "days", "w": "weeks", "小时": "hours", "天": "days", "周": "weeks"}
_REF = re.compile(r"^#?(\d{1,12})(?:\s+(.*))?$", re.S)
SHOWN = 8


def quoted(value: str) -> str:
    """`value` in straight quotes with a quote inside doubled: read back exactly by `_unquote`."""
    return '"' + value.replace('"', '""') + '"'


def _clip(text: str, limit: int = 40) -> str:
    """The start of what was not understood, for the answer that names it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _folded(text: str) -> str:
    """The text with Traditional folded to Simplified, for finding the key words in it.

    Positions found in it slice the typed text (names and messages keep their characters), so a
    fold that changes the length is not used.
    """
    folded = to_simplified(text)
    return folded if len(folded) == len(text) else text


def _name_and_rest(args: str, usage: str) -> tuple[str, str]:
    """`"Q1 upsell" segment …` -> (`Q1 upsell`, `segment …`); unquoted, the words up to a key."""
    args = args.strip()
    if not args:
        raise Invalid(usage)
    if args.startswith(('"', "“")):
        name, rest = _unquote(args)
    else:
        m = _KEY.search(_folded(args))
        name, rest = (args[: m.start()], args[m.start() :]) if m else (args, "")
    name = name.strip()
    if not name:
        raise Invalid(usage)
    return name, rest.strip()


def _unquote(text: str) -> tuple[str, str]:
    """A leading quoted value and the rest; quotes of the other kind inside it are its text.

    `"Hi, our “Gold” plan" holdout 10%` keeps “Gold” in the message: a straight quote closes
    only at a straight quote, a curly one at its matching ”. Inside straight quotes a doubled
    `""` is one `"`, so any value can be written back (the Confirm line, the buttons).
    """
    if text.startswith('"'):
        said: list[str] = []
        i = 1
        while i < len(text):
            if text[i] == '"':
                if not text.startswith('""', i):
                    return "".join(said).strip(), text[i + 1 :].strip()
                i += 1
            said.append(text[i])
            i += 1
        end = -1
    else:
        depth, end = 0, -1
        for i, ch in enumerate(text):
            depth += {"“": 1, "”": -1}.get(ch, 0)
            if depth == 0:
                end = i
                break
    if end < 0:
        # Unbalanced: the shared reading (a mixed pair, or the clear unbalanced-quote answer).
        return unquote(text)
    return text[1:end].strip(), text[end + 1 :].strip()


def _done_word(text: str) -> str | None:
    """`confirm` / `cancel` (or 确认 / 取消) when `text` is only that word."""
    word = char_view(text.strip())
    return word if word in _DONE_WORDS else None


def _parts(rest: str) -> tuple[dict[str, str], str | None]:
    """`segment "Y" message "…" holdout 10% confirm` -> ({"segment": "Y", …}, "confirm").

    The confirm or cancel word counts only where a part could start (after a quoted value, a
    holdout or a seed); after an unquoted message it is the message's last word. A repeated
    key is refused.
    """
    out: dict[str, str] = {}
    text = rest.strip()
    while text:
        if (done := _done_word(text)) is not None:
            return out, done
        m = _KEY.match(_folded(text))
        if m is None:
            raise Invalid("campaign.not_understood", text=_clip(text))
        key = _KEYS[m.group(1).lower()]
        if key in out:
            raise Invalid("usage.campaign")
        text = text[m.end() :].strip()
        if text.startswith(('"', "“")):
            value, text = _unquote(text)
        elif key in ("holdout", "seed") and (word := _WORD.match(text)):
            # One word: what follows must start the next part, or it is named as not understood.
            value, text = word.group(0), text[word.end() :]
        else:
            nxt = _KEY.search(_folded(text))
            value, text = (text[: nxt.start()], text[nxt.start() :]) if nxt else (text, "")
        out[key] = value.strip()
        text = text.strip()
    return out, None


def _line(name: str, segment: str, message: str, percent: int, seed: int) -> str:
    """The grammar line that creates this campaign (what Confirm runs), every value quoted."""
    return (
        f"campaign {quoted(name)} segment {quoted(segment)} message {quoted(message)}"
        f" holdout {percent}% seed {seed}"
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _rate(n: int, of: int) -> str:
    return f"{n}/{of} ({_pct(n / of)})" if of else "0/0"


def _figure(points: float, *, least: int = 0, sign: str = "") -> str:
    """`points` to `least` decimals, or to more (up to 3) while that would print a non-zero
    figure as 0, so an interval above zero never reads "0 to 27"; never "-0"."""
    decimals = least
    while decimals < 3 and points != 0 and round(points, decimals) == 0:
        decimals += 1
    if round(points, decimals) == 0:
        points = 0.0
    return f"{points:{sign}.{decimals}f}"


def _points(x: float) -> str:
    return _figure(100 * x, least=1, sign="+")


def _money(t: Translator, value: float, currency: str) -> str:
    text = fmt.money(Decimal(str(round(abs(value), 2))), currency, t)
    return f"-{text}" if value < 0 else text


def _value(t: Translator, g: svc.Group, currency: str) -> str:
    """`54,000 USD (360 USD a customer)`: the total and, groups being of unequal size, the mean."""
    mean = float(g.won_value) / g.members if g.members else 0.0
    return t(
        "campaign.value_each",
        total=fmt.money(g.won_value, currency, t),
        each=_money(t, mean, currency),
    )


def _interval_points(t: Translator, iv: Interval | None) -> str:
    if iv is None:
        return t("campaign.no_interval")
    return t(
        "campaign.points_interval",
        diff=_points(iv.estimate),
        low=_points(iv.low),
        high=_points(iv.high),
    )


def _interval_money(t: Translator, iv: Interval | None, currency: str) -> str:
    if iv is None:
        return t("campaign.no_interval")
    sign = "+" if iv.estimate >= 0 else ""
    return t(
        "campaign.money_interval",
        diff=sign + _money(t, iv.estimate, currency),
        low=_money(t, iv.low, currency),
        high=_money(t, iv.high, currency),
    )


def verdict(t: Translator, r: svc.Report) -> str:
    """One sentence a manager understands: did the campaign work, by deals opened."""
    iv = r.opened
    if iv is None or r.too_few:
        return t(
            "campaign.verdict_too_few",
            contacted=r.contacted.members,
            holdout=r.holdout.members,
            min=svc.MIN_GROUP,
        )
    diff = _figure(abs(100 * iv.estimate))
    low, high = _figure(100 * iv.low), _figure(100 * iv.high)
    if iv.above_zero:
        return t("campaign.verdict_worked", diff=diff, low=low, high=high)
    if iv.below_zero:
        return t("campaign.verdict_hurt", diff=diff, low=low, high=high)
    key = "campaign.verdict_unclear_more" if iv.estimate >= 0 else "campaign.verdict_unclear_less"
    return t(key, diff=diff, low=low, high=high)


def _report(req: Request, campaign: Campaign) -> Reply:
    t, ctx = req.t, req.ctx
    r = svc.report(ctx, campaign)
    a, b = r.contacted, r.holdout
    days = max(0, (r.end - r.start).days)
    fields = [
        Field(t("campaign.segment"), f"{campaign.segment_name} · {campaign.filters}"),
        Field(
            t("campaign.groups"), t("campaign.group_sizes", contacted=a.members, holdout=b.members)
        ),
        Field(t("campaign.reached"), _rate(a.reached, a.members)),
        Field(t("campaign.replied"), _rate(a.replied, a.members)),
        Field(t("campaign.not_interested"), _rate(a.not_interested, a.members)),
        Field(t("campaign.converted"), _rate(a.converted, a.members)),
        Field(
            t("campaign.opened"),
            t(
                "campaign.vs",
                contacted=_rate(a.opened, a.members),
                holdout=_rate(b.opened, b.members),
            ),
        ),
        Field(
            t("campaign.won"),
            t("campaign.vs", contacted=_rate(a.won, a.members), holdout=_rate(b.won, b.members)),
        ),
        Field(
            t(
                "campaign.won_value_other" if r.other_currencies else "campaign.won_value",
                currency=r.currency,
            ),
            t(
                "campaign.vs",
                contacted=_value(t, a, r.currency),
                holdout=_value(t, b, r.currency),
            ),
        ),
        Field(t("campaign.effect_opened"), _interval_points(t, r.opened)),
        Field(t("campaign.effect_won"), _interval_points(t, r.won)),
        Field(t("campaign.effect_value"), _interval_money(t, r.value, r.currency)),
    ]
    state = (
        t("campaign.ended_on", day=fmt.local_day(campaign.ended_at, ctx.tz))
        if campaign.ended_at
        else t("campaign.running")
    )
    buttons = [Button.run(t("button.campaign_tasks"), f"campaign tasks {quoted(campaign.name)}")]
    # Offered only to who may press it (its starter, an admin): the others would be refused.
    if campaign.ended_at is None and svc.may_change(ctx, campaign):
        buttons.append(
            Button.run(t("button.end_campaign"), f"end campaign {quoted(campaign.name)}")
        )
    return Reply(
        title=t(
            "campaign.report_title",
            name=campaign.name,
            day=fmt.local_day(r.start, ctx.tz),
            days=days,
            state=state,
        ),
        text=verdict(t, r),
        fields=fields,
        buttons=buttons,
        shareable=True,
        data={
            "contacted": a.members,
            "holdout": b.members,
            "opened_difference": _data(r.opened),
            "won_difference": _data(r.won),
            "value_difference": _data(r.value),
        },
    )


def _data(iv: Interval | None) -> dict[str, float] | None:
    return None if iv is None else {"estimate": iv.estimate, "low": iv.low, "high": iv.high}


def _preview(t: Translator, plan: svc.Plan, line: str) -> Reply:
    return Reply(
        title=t("campaign.preview", name=plan.name),
        text=t("campaign.preview_note"),
        fields=[
            Field(t("campaign.segment"), f"{plan.segment} · {plan.filters}"),
            Field(t("campaign.members"), str(len(plan.members))),
            Field(t("campaign.contacted"), str(plan.contacted)),
            Field(
                t("campaign.held_out"),
                t("campaign.held_out_value", count=plan.held_out, percent=plan.holdout_percent),
            ),
            Field(t("campaign.owners"), str(len(plan.owners))),
            Field(t("campaign.message"), plan.message),
        ],
        buttons=[
            Button.run(t("button.confirm"), f"{line} confirm", "primary"),
            Button.dismiss(t("button.cancel")),
        ],
        status="info",
    )


def campaign(req: Request) -> Reply:
    """`campaign "Q1 upsell"` reports; with segment, message and holdout it creates (confirmed)."""
    t, ctx = req.t, req.ctx
    name, rest = _name_and_rest(req.args, "usage.campaign")
    if not rest:
        return _report(req, svc.find_campaign(ctx, name))
    parts, word = _parts(rest)
    if not parts:
        raise Invalid("usage.campaign")
    missing = [k for k in ("segment", "message", "holdout") if not parts.get(k)]
    if missing:
        # Named with the words to type, in the reader's language.
        said = req.t("campaign.list_sep").join(t(f"campaign.part.{k}") for k in missing)
        raise Invalid("campaign.missing", missing=said)
    m_pct = _PERCENT.match(char_view(parts["holdout"]))
    if m_pct is None:
        raise Invalid("campaign.bad_holdout", max=svc.MAX_HOLDOUT)
    percent = int(m_pct.group(1))
    seed = None
    if "seed" in parts:
        m_seed = _SEED.match(char_view(parts["seed"]))
        if m_seed is None or int(m_seed.group(1)) == 0:
            raise Invalid("campaign.bad_seed", value=_clip(parts["seed"]))
        seed = int(m_seed.group(1))
    if word is not None and word not in _CONFIRM_WORDS:
        return Reply(text=t("campaign.cancelled"), status="info")
    if word is not None and seed is not None:
        # A Confirm pressed twice: the campaign it created is answered, nothing is frozen again.
        existing = _existing(req, name, seed)
        if existing is not None:
            return existing
    plan = svc.plan_campaign(
        ctx, name, parts["segment"], parts["message"], percent, seed or svc.new_seed()
    )
    if word is None:
        line = _line(plan.name, plan.segment, plan.message, percent, plan.seed)
        return _preview(t, plan, line)
    try:
        created = svc.create_campaign(ctx, plan)
    except Invalid as error:
        # The same Confirm that another worker finished a moment ago.
        raced = _existing(req, name, seed) if error.key == "campaign.exists" and seed else None
        if raced is None:
            raise
        return raced
    return Reply(
        text=t(
            "campaign.created",
            name=created.name,
            contacted=plan.contacted,
            owners=len(plan.owners),
            held=plan.held_out,
        ),
        buttons=[
            Button.run(
                t("button.campaign_tasks"), f"campaign tasks {quoted(created.name)}", "primary"
            ),
            Button.run(t("button.open_report"), f"campaign {quoted(created.name)}"),
        ],
    )


def _existing(req: Request, name: str, seed: int) -> Reply | None:
    try:
        found = svc.find_campaign(req.ctx, name)
    except NotFound:
        return None
    if found.seed != seed or found.owner_id != req.ctx.actor.id:
        return None
    return Reply(
        text=req.t("campaign.already_created", name=found.name),
        buttons=[Button.run(req.t("button.open_report"), f"campaign {quoted(found.name)}")],
        status="info",
    )


def campaigns(req: Request) -> Reply:
    """`campaigns`: every campaign, newest first, with its size and your open tasks."""
    t, ctx = req.t, req.ctx
    if req.args.strip():
        raise Invalid("usage.campaigns")
    found = svc.list_campaigns(ctx)
    if not found:
        return Reply(text=t("campaign.none"), status="info")
    items = []
    for c, members, mine in found:
        state = (
            t("campaign.ended_on", day=fmt.local_day(c.ended_at, ctx.tz))
            if c.ended_at
            else t("campaign.running")
        )
        items.append(
            t(
                "campaign.list_item",
                name=c.name,
                day=fmt.local_day(c.started_at, ctx.tz),
                state=state,
                members=members,
                holdout=c.holdout_percent,
                mine=mine,
            )
        )
    return Reply(
        title=t("campaign.list_title", count=len(found)),
        items=items,
        buttons=[Button.run(c.name, f"campaign {quoted(c.name)}") for c, _, _ in found[:SHOWN]],
    )


def _task_line(t: Translator, task: svc.Task) -> str:
    said = (
        t(f"campaign.outcome.{task.member.outcome}") if task.member.outcome else t("campaign.todo")
    )
    return f"#{task.member.id} {task.customer.name} · {task.campaign.name} · {said}"


def campaign_tasks(req: Request) -> Reply:
    """`campaign tasks ["Q1 upsell"]`: your open task cards, oldest campaign first."""
    t, ctx = req.t, req.ctx
    name = req.args.strip()
    only = None
    if name:
        name, rest = _name_and_rest(name, "usage.campaign_tasks")
        if rest:
            raise Invalid("usage.campaign_tasks")
        only = svc.find_campaign(ctx, name)
    tasks, total = svc.open_tasks(ctx, only, limit=SHOWN)
    if not tasks:
        return Reply(text=t("campaign.no_tasks"), status="info")
    return Reply(
        title=t("campaign.tasks_title", total=total),
        items=[_task_line(t, x) for x in tasks],
        buttons=[Button.run(x.customer.name, f"task #{x.member.id}") for x in tasks],
    )


def _card(t: Translator, task: svc.Task, note: str = "") -> Reply:
    m = task.member
    line = f"task #{m.id}"
    fields = [
        Field(t("campaign.campaign"), task.campaign.name),
        Field(t("field.customer"), f"#{task.customer.id} {task.customer.name}"),
    ]
    if task.contact:
        fields.append(Field(t("campaign.contact"), task.contact))
    if m.outcome:
        fields.append(Field(t("campaign.status"), t(f"campaign.outcome.{m.outcome}")))
    fields.append(
        Field(
            t("campaign.message"),
            svc.fill(task.campaign.message, task.customer.name, task.contact),
        )
    )
    buttons = [
        Button.run(t("button.reached"), f"{line} reached"),
        Button.run(t("button.replied"), f"{line} replied"),
        Button.run(t("button.not_interested"), f"{line} not interested"),
        Button.run(t("button.converted"), f"{line} converted", "primary"),
        Button.run(t("button.snooze"), f"{line} snooze 1d"),
        Button.run(t("button.open"), f"customer #{task.customer.id}"),
    ]
    return Reply(
        title=t("campaign.card_title", id=m.id, name=task.customer.name),
        text=note or t("campaign.card_note"),
        fields=fields,
        buttons=buttons,
    )


def _snooze_until(req: Request, text: str) -> datetime:
    """`1d`, `3d`, `2h`, `1w` from now (1d when left out), or a moment: `next monday 9:00`."""
    ctx = req.ctx
    text = text.strip() or "1d"
    m = _SPAN.match(to_simplified(text))
    if m is not None:
        amount = int(m.group(1))
        if amount == 0:
            raise Invalid("campaign.snooze_past")
        return ctx.now() + timedelta(**{_UNITS[m.group(2).lower()]: amount})
    found = parse_when(text, ctx.tz, ctx.now(), prefer="future", day_first=ctx.day_first)
    if found is None:
        raise Invalid("usage.task")
    return found


def task(req: Request) -> Reply:
    """`task #12` shows the card; `task #12 reached|replied|not interested|converted|snooze 1d`."""
    t, ctx = req.t, req.ctx
    args = req.args.strip()
    # Matched on the character view (`＃１２` is `#12`), cut from what was typed.
    m = _REF.match(char_view(args))
    if m is None:
        raise Invalid("usage.task")
    found = svc.get_task(ctx, int(m.group(1)))
    rest = " ".join(args[m.start(2) :].split()) if m.group(2) else ""
    if not rest:
        return _card(t, found)
    said = to_simplified(rest).lower()
    if said in _OUTCOMES:
        outcome = _OUTCOMES[said]
        if not svc.record_outcome(ctx, found, outcome):
            return Reply(
                text=t(
                    "campaign.outcome_again",
                    id=found.member.id,
                    outcome=t(f"campaign.outcome.{outcome}"),
                ),
                status="info",
            )
        reply = Reply(
            text=t(
                "campaign.outcome_done",
                id=found.member.id,
                name=found.customer.name,
                outcome=t(f"campaign.outcome.{outcome}"),
            )
        )
        nxt, _ = svc.open_tasks(ctx, found.campaign, limit=2)
        following = [x for x in nxt if x.member.id != found.member.id]
        if following:
            reply.buttons.append(
                Button.run(t("button.next_task"), f"task #{following[0].member.id}", "primary")
            )
        return reply
    if sm := _SNOOZE.match(to_simplified(rest)):
        svc.snooze(ctx, found, _snooze_until(req, sm.group(1)))
        return Reply(
            text=t(
                "campaign.snoozed",
                id=found.member.id,
                name=found.customer.name,
                when=fmt.local_time(found.member.snoozed_until or ctx.now(), ctx.tz),
            )
        )
    raise Invalid("usage.task")


def end_campaign(req: Request) -> Reply:
    """`end campaign "Q1 upsell"`: its tasks close; the report counts up to now."""
    t, ctx = req.t, req.ctx
    name, rest = _name_and_rest(req.args, "usage.end_campaign")
    if rest:
        raise Invalid("usage.end_campaign")
    found = svc.find_campaign(ctx, name)
    svc.end_campaign(ctx, found)
    return Reply(
        text=t("campaign.ended_done", name=found.name),
        buttons=[Button.run(t("button.open_report"), f"campaign {quoted(found.name)}")],
    )


# Right after the segments a campaign is drawn from.
ORDER = SEGMENTS_ORDER + 1
NAME = Arg("campaign", Kind.name)
VERBS = [
    Verb(
        "campaign",
        campaign,
        args=(
            NAME,
            Arg("segment", Kind.name, optional=True, keyword="segment", also=("分群",)),
            Arg("message", Kind.text, optional=True, keyword="message", also=("消息",)),
            Arg("holdout", Kind.text, optional=True, keyword="holdout", also=("对照组",)),
            Arg("confirm", Kind.choice, optional=True, choices=("confirm", "cancel")),
        ),
        examples=(
            'campaign "Q1 upsell" segment "Gold quiet" message "Hi {contact}, …" holdout 10%',
            'campaign "Q1 upsell"',
            '营销活动 "一季度追加" 分群 "金牌沉默" 消息 "您好 {联系人}" 对照组 10%',
        ),
        writes=True,
        aliases=("营销活动", "行销活动"),
    ),
    Verb(
        "campaigns",
        campaigns,
        args=(),
        examples=("campaigns", "营销活动列表"),
        writes=False,
        aliases=("营销活动列表", "行销活动列表", "行销活动清单"),
    ),
    Verb(
        "campaign tasks",
        campaign_tasks,
        args=(Arg("campaign", Kind.name, optional=True),),
        examples=("campaign tasks", '活动任务 "一季度追加"'),
        writes=False,
        aliases=("活动任务",),
    ),
    Verb(
        "task",
        task,
        args=(
            Arg("task", Kind.ref, label="task number"),
            Arg(
                "outcome",
                Kind.choice,
                optional=True,
                choices=("reached", "replied", "not interested", "converted", "snooze"),
            ),
        ),
        examples=("task #12", "task #12 replied", "task #12 snooze 3d", "任务 #12 已回复"),
        writes=True,
        aliases=("任务",),
    ),
    Verb(
        "end campaign",
        end_campaign,
        args=(NAME,),
        examples=('end campaign "Q1 upsell"', '结束活动 "一季度追加"'),
        writes=True,
        aliases=("结束活动", "结束营销活动", "结束行销活动"),
    ),
]
