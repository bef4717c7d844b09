"""The service desk's verbs: open and list tickets, the ticket card, assign, reply, wait,
resolve, reopen, priority, and feedback by hand."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import (
    Customer,
    CustomerChannel,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
    User,
)
from crm_core.resolve import resolve_customer, resolve_user
from crm_core.services import desk
from crm_core.services import tickets as svc
from crm_core.sla import Clock
from crm_core.text import char_view, hant_views
from handlers import format as fmt
from handlers.args import Arg, Kind, take_ref
from handlers.forms import FieldKind, Form, FormField, FormRequest
from handlers.grammar import split_colon, unquote
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, OpenForm, Quoted, Reply, Section, SourceLink

# A subject longer than this keeps its start; the whole text becomes the description.
SUBJECT_LIMIT = 120
# Matched in the `char_view` of a part, with Taiwan's words for them (優先順序).
_PRIORITY_WORDS = ("priority", *hant_views("优先级"))
_ASSIGN_WORDS = ("assign", "assignee", *hant_views("负责人"), *hant_views("分配给"))
_SCOPES = {
    "mine": "mine",
    "me": "mine",
    "我的": "mine",
    "team": "team",
    "团队": "team",
    "breaching": "breaching",
    "overdue": "breaching",
    "超时": "breaching",
    "all": "all",
    "全部": "all",
}
_TO = re.compile(r"^(?:to\s+|给\s*)", re.I)
_SEP = re.compile(r"[,，;；]")


# --- formatting ---


def duration(t: Translator, delta: timedelta) -> str:
    """`16m`, `2h 5m`, `3d 4h` (`16分钟`, `2小时5分钟`, `3天4小时`)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t("duration.dh", d=days, h=hours) if hours else t("duration.d", d=days)
    if hours:
        return t("duration.hm", h=hours, m=mins) if mins else t("duration.h", h=hours)
    return t("duration.m", m=mins)


def _badge(t: Translator, which: str, due_at: datetime | None, now: datetime) -> str | None:
    if due_at is None:
        return None
    if due_at > now:
        return t(f"ticket.badge.{which}_due", left=duration(t, due_at - now))
    return t(f"ticket.badge.{which}_overdue", late=duration(t, now - due_at))


def list_badge(t: Translator, ticket: Ticket, now: datetime) -> str:
    """The most pressing SLA badge of a ticket, from its stored due times (lists stay fast)."""
    if ticket.status == TicketStatus.waiting:
        return t("ticket.badge.paused")
    return (
        _badge(t, "response", ticket.response_due_at, now)
        or _badge(t, "resolution", ticket.resolution_due_at, now)
        or t("ticket.badge.none")
    )


def clock_badge(t: Translator, which: str, clock: Clock, now: datetime) -> str:
    """One clock's badge on the card: due in, overdue by, met, missed, paused."""
    if clock.stopped:
        key = "missed" if clock.breached else "met"
        return t(f"ticket.badge.{which}_{key}")
    if clock.paused:
        return t("ticket.badge.paused")
    return _badge(t, which, clock.due, now) or t("ticket.badge.none")


def status_label(t: Translator, status: TicketStatus | str) -> str:
    """A status in the person's language."""
    return t(f"ticket.status.{TicketStatus(status).value}")


def priority_label(t: Translator, priority: TicketPriority | str) -> str:
    """A priority in the person's language."""
    return t(f"ticket.priority.{TicketPriority(priority).value}")


def customer_label(t: Translator, customer: Customer) -> str:
    """A ticket's customer by name, marked when archived (its open tickets are still worked)."""
    if customer.archived_at is None:
        return customer.name
    return t("ticket.customer_archived", name=customer.name)


def ticket_line(t: Translator, ticket: Ticket, now: datetime) -> str:
    """One line of a ticket list."""
    who = f"@{ticket.assignee.external_id}" if ticket.assignee else t("ticket.unassigned")
    return " · ".join(
        (
            f"#{ticket.id} {fmt.preview(ticket.subject, 60)}",
            customer_label(t, ticket.customer),
            priority_label(t, ticket.priority),
            status_label(t, ticket.status),
            who,
            list_badge(t, ticket, now),
        )
    )


# --- parsing ---


def _option(part: str) -> tuple[str, str] | None:
    """`priority high` -> ("priority", "high"); `负责人 @bob` -> ("assign", "@bob")."""
    low = char_view(part)
    for kind, words in (("priority", _PRIORITY_WORDS), ("assign", _ASSIGN_WORDS)):
        for word in sorted(words, key=len, reverse=True):
            if not low.startswith(word):
                continue
            rest = part[len(word) :]
            if word.isascii() and rest and not (rest[0].isspace() or rest[0] in ":："):
                continue  # "prioritise" is not the keyword
            return kind, rest.strip().lstrip(":：").strip()
    return None


def _take_options(ctx: Ctx, body: str) -> tuple[str, TicketPriority | None, User | None]:
    """Trailing `, priority high` and `, assign @bob` parts of a ticket line, and the rest.

    Only trailing parts are options, so a subject keeps its own commas.
    """
    priority: TicketPriority | None = None
    assignee: User | None = None
    text = body.strip()
    while seps := list(_SEP.finditer(text)):
        cut = seps[-1]
        found = _option(text[cut.end() :].strip())
        if found is None:
            break
        kind, value = found
        if kind == "priority" and priority is None:
            priority = svc.check_priority(value)
        elif kind == "assign" and assignee is None:
            assignee = ctx.actor if value.lower() in ("me", "我") else resolve_user(ctx, value)
        else:
            break
        text = text[: cut.start()].strip()
    return text, priority, assignee


def _subject_and_description(text: str) -> tuple[str, str | None]:
    text = " ".join(text.split()) if len(text) <= SUBJECT_LIMIT else text
    if len(text) <= SUBJECT_LIMIT:
        return text, None
    return fmt.preview(text, SUBJECT_LIMIT), text


def _ticket_ref(req: Request, usage: str) -> tuple[int, str | None]:
    """`#12` or `#12: text` -> (12, text)."""
    head, body = split_colon(req.args)
    rid, extra = take_ref(head)
    if rid is None or extra:
        raise Invalid(usage)
    return rid, body


# --- verbs ---


def ticket(req: Request) -> Reply:
    """Open a ticket (`ticket Acme: printer jams, priority high`), or show one (`ticket #12`)."""
    t, ctx = req.t, req.ctx
    quoted = req.command.attached(Quoted)
    # In reply inside a customer's group: theirs by default, and the writer is the requester.
    channel = (
        desk.channel_at(ctx.session, req.command.platform, req.command.chat_id)
        if quoted is not None and req.command.chat_id
        else None
    )
    if not req.args.strip():
        if quoted is not None and channel is not None:
            return _open_quoted(req, quoted, channel)
        if quoted is not None:
            raise Invalid("usage.ticket_reply")
        return Reply(
            text=t("usage.ticket"),
            status="info",
            form=OpenForm(TICKET_FORM.name, {"priority": TicketPriority.normal.value}),
        )
    rid, extra = take_ref(req.args)
    if rid is not None and not extra:
        return card(req, rid)
    head, body = split_colon(req.args)
    if quoted is not None and body is None:
        # `/ticket Acme` in reply to a customer's message: that message is the problem.
        head, body = _quoted_line(req.args, quoted)
    if body is None or not head:
        raise Invalid("usage.ticket_reply" if quoted is not None else "usage.ticket")
    customer = resolve_customer(ctx, head)
    text, priority, assignee = _take_options(ctx, body)
    if not text:
        raise Invalid("error.ticket_subject_missing")
    subject, description = _subject_and_description(text)
    link = req.command.attached(SourceLink)
    opened, created = svc.open_ticket(
        ctx,
        customer,
        subject,
        description=description,
        priority=priority or TicketPriority.normal,
        assignee=assignee,
        source=req.command.platform,
        # The message replied to names the ticket: the same message twice makes one ticket.
        source_key=quoted.key if quoted else req.command.idempotency_key,
        source_link=quoted.link if quoted else (link.url if link else None),
        source_text=quoted.text if quoted else None,
    )
    if created and quoted is not None and channel is not None:
        _requester(opened, quoted, channel)
    return _opened(t, ctx, opened, created)


def _requester(opened: Ticket, quoted: Quoted, channel: CustomerChannel) -> None:
    """The customer's person who wrote the quoted message: asked for CSAT where they are."""
    if channel.customer_id != opened.customer_id or not quoted.author_id:
        return
    desk.set_requester(
        opened,
        channel,
        desk.Requester(
            quoted.author_id, quoted.author_name or quoted.author_id, quoted.key.split(":", 1)[1]
        ),
    )


def _open_quoted(req: Request, quoted: Quoted, channel: CustomerChannel) -> Reply:
    """`/ticket` alone in reply to a message in a customer's group: a ticket for them."""
    customer = resolve_customer(req.ctx, f"#{channel.customer_id}")
    subject, description = _subject_and_description(" ".join(quoted.text.split()))
    opened, created = svc.open_ticket(
        req.ctx,
        customer,
        subject,
        description=description,
        source=req.command.platform,
        source_key=quoted.key,
        source_link=quoted.link,
        source_text=quoted.text,
    )
    if created:
        _requester(opened, quoted, channel)
    return _opened(req.t, req.ctx, opened, created)


def _quoted_line(args: str, quoted: Quoted) -> tuple[str, str]:
    """`Acme, priority high` replying to a message -> ("Acme", "<the message>, priority high")."""
    parts = _SEP.split(args, maxsplit=1)
    options = f", {parts[1]}" if len(parts) > 1 else ""
    return parts[0].strip(), " ".join(quoted.text.split()) + options


def _opened(t: Translator, ctx: Ctx, opened: Ticket, created: bool) -> Reply:
    if not created:
        return Reply(text=t("ticket.already", id=opened.id), status="info")
    return Reply(
        text=t(
            "ticket.opened",
            id=opened.id,
            customer=opened.customer.name,
            priority=priority_label(t, opened.priority),
        ),
        items=[fmt.preview(opened.subject), list_badge(t, opened, ctx.now())],
        buttons=[
            Button.run(t("button.ticket_card", id=opened.id), f"ticket #{opened.id}", "primary"),
            *(
                []
                if opened.assignee_id
                else [Button.run(t("button.ticket_take"), f"assign #{opened.id} to me")]
            ),
        ],
    )


def _event_line(
    t: Translator,
    ctx: Ctx,
    kind: str,
    at: datetime,
    who: str,
    event_text: str | None,
    value: str | None,
) -> str:
    what = t(f"ticket.event.{kind}")
    if kind == "assigned" and value:
        what = t("ticket.event.assigned_to", user=f"@{value}")
    elif kind in ("priority", "created") and value:
        what = f"{what} ({priority_label(t, value)})"
    parts = [fmt.local_time(at, ctx.tz), what, who]
    if event_text:
        parts.append(fmt.preview(event_text))
    return " · ".join(parts)


def _who(t: Translator, ticket: Ticket, event: TicketEvent) -> str:
    """Who did a step: the staff member, else the customer's person who wrote (by name)."""
    if event.actor is not None:
        return event.actor.name
    if event.kind in ("customer", "resume") and event.value:
        return event.value
    if event.kind == "created" and ticket.requester_name:
        return ticket.requester_name
    return t("deal_card.someone")


def card(req: Request, ticket_id: int) -> Reply:
    """The ticket card: customer, status, priority, assignee, SLA badges, timeline."""
    t, ctx = req.t, req.ctx
    found = svc.get_ticket(ctx, ticket_id)
    now = ctx.now()
    state = svc.clocks(ctx.session, found, now)
    fields = [
        Field(t("field.customer"), f"#{found.customer.id} {customer_label(t, found.customer)}"),
        Field(t("field.status"), status_label(t, found.status)),
        Field(t("field.priority"), priority_label(t, found.priority)),
        Field(
            t("field.assignee"),
            f"@{found.assignee.external_id}" if found.assignee else t("ticket.unassigned"),
        ),
        Field(t("field.opened"), fmt.local_time(found.created_at, ctx.tz)),
        Field(t("field.first_response"), clock_badge(t, "response", state.response, now)),
        Field(t("field.resolution"), clock_badge(t, "resolution", state.resolution, now)),
    ]
    if found.team is not None:
        fields.append(Field(t("field.team"), found.team.name))
    if found.source_link:
        fields.append(Field(t("field.source"), found.source_link))
    if found.requester_name:
        fields.append(Field(t("field.requester"), found.requester_name))
    timeline = [
        _event_line(t, ctx, e.kind, e.at, _who(t, found, e), e.text, e.value) for e in found.events
    ]
    sections = []
    if found.description:
        sections.append(Section(t("ticket.description"), [fmt.preview(found.description, 600)]))
    if found.source_text:
        sections.append(Section(t("ticket.source_text"), [fmt.preview(found.source_text, 600)]))
    sections.append(Section(t("ticket.timeline"), timeline or [t("card.none")]))
    buttons = []
    if found.status in svc.ACTIVE:
        if found.assignee_id != ctx.actor.id:
            buttons.append(Button.run(t("button.ticket_take"), f"assign #{found.id} to me"))
        if found.status != TicketStatus.waiting:
            buttons.append(Button.run(t("button.ticket_wait"), f"wait #{found.id}"))
        else:
            buttons.append(Button.run(t("button.ticket_resume"), f"reopen #{found.id}"))
    else:
        buttons.append(Button.run(t("button.ticket_reopen"), f"reopen #{found.id}"))
    # Named: a bare "Open" beside "Reopen" reads as a status change.
    buttons.append(
        Button.run(
            t("button.open_named", name=found.customer.name), f"customer #{found.customer_id}"
        )
    )
    return Reply(
        title=f"#{found.id} {found.subject}",
        fields=fields,
        sections=sections,
        buttons=buttons,
        shareable=True,
    )


def tickets(req: Request) -> Reply:
    """Active tickets: `tickets`, `tickets mine|team|breaching`, `tickets Acme`."""
    t, ctx = req.t, req.ctx
    arg = req.args.strip()
    customer: Customer | None = None
    scope = _SCOPES.get(char_view(arg), "") if arg else "all"
    if not scope:
        customer = resolve_customer(ctx, arg)
        scope = "customer"
    rows, more = svc.list_tickets(ctx, scope, customer)
    label = customer.name if customer else t(f"ticket.scope.{scope}")
    if not rows:
        return Reply(text=t("ticket.list_empty", scope=label), status="info")
    now = ctx.now()
    items = [ticket_line(t, r, now) for r in rows]
    if more:
        # Counting every match would cost more than the page; say how to narrow it instead.
        items.append(t("ticket.list_more", shown=len(rows)))
    return Reply(title=t("ticket.list_title", scope=label), items=items, shareable=True)


def assign(req: Request) -> Reply:
    """Hand a ticket to someone: `assign #12 to @bob`, `assign #12 to me`."""
    t, ctx = req.t, req.ctx
    rid, rest = take_ref(req.args)
    # 給 is 给: the word is found in the `char_view` and cut from the typed text.
    to = _TO.match(char_view(rest))
    who = rest[to.end() if to else 0 :].strip()
    if rid is None or not who:
        raise Invalid("usage.assign")
    user = ctx.actor if who.lower() in ("me", "我") else resolve_user(ctx, who)
    found, changed = svc.assign_ticket(ctx, rid, user)
    if not changed:
        return Reply(text=t("ticket.already_assigned", id=found.id, user=user.name), status="info")
    return Reply(
        text=t("ticket.assigned", id=found.id, user=user.name),
        buttons=[Button.run(t("button.ticket_card", id=found.id), f"ticket #{found.id}")],
    )


def reply(req: Request) -> Reply:
    """Log a response to the customer: `reply #12: a technician comes tomorrow`."""
    rid, body = _ticket_ref(req, "usage.reply")
    if body is None:
        raise Invalid("usage.reply")
    found = svc.reply_ticket(req.ctx, rid, body)
    return Reply(
        text=req.t("ticket.replied", id=found.id),
        buttons=[Button.run(req.t("button.ticket_card", id=found.id), f"ticket #{found.id}")],
    )


def wait(req: Request) -> Reply:
    """Wait on the customer (the SLA clock pauses): `wait #12`."""
    rid, body = _ticket_ref(req, "usage.wait")
    found = svc.wait_ticket(req.ctx, rid, body or None)
    return Reply(
        text=req.t("ticket.waiting", id=found.id),
        buttons=[Button.run(req.t("button.ticket_resume"), f"reopen #{found.id}")],
    )


def resolve(req: Request) -> Reply:
    """Resolve with what fixed it: `resolve #12: replaced the roller`."""
    rid, body = _ticket_ref(req, "usage.resolve")
    if body is None:
        raise Invalid("usage.resolve")
    found = svc.resolve_ticket(req.ctx, rid, body)
    return Reply(
        text=req.t("ticket.resolved", id=found.id, customer=found.customer.name),
        buttons=[Button.run(req.t("button.ticket_reopen"), f"reopen #{found.id}", "danger")],
    )


def reopen(req: Request) -> Reply:
    """Reopen a resolved ticket, or resume one waiting on the customer: `reopen #12`."""
    rid, body = _ticket_ref(req, "usage.reopen")
    found, kind = svc.reopen_ticket(req.ctx, rid, body or None)
    return Reply(
        text=req.t("ticket.resumed" if kind == "resume" else "ticket.reopened", id=found.id),
        buttons=[Button.run(req.t("button.ticket_card", id=found.id), f"ticket #{found.id}")],
    )


def priority(req: Request) -> Reply:
    """Change a ticket's priority: `priority #12 urgent`."""
    t = req.t
    rid, rest = take_ref(req.args)
    if rid is None or not rest:
        raise Invalid("usage.priority")
    found, changed = svc.set_priority(req.ctx, rid, svc.check_priority(rest))
    key = "ticket.priority_set" if changed else "ticket.priority_same"
    return Reply(
        text=t(key, id=found.id, priority=priority_label(t, found.priority)),
        items=[list_badge(t, found, req.ctx.now())],
        status="ok" if changed else "info",
    )


_SCORE = re.compile(r"^(csat|nps)\s*[:：]?\s*(-?\d{1,3})\s*(?:[,，]\s*(.*))?$", re.I | re.S)


def feedback(req: Request) -> Reply:
    """Record a score by hand: `feedback Acme: nps 9, "fast fix"`, `feedback #12: csat 5`."""
    t, ctx = req.t, req.ctx
    head, body = split_colon(req.args)
    if not head or not body:
        raise Invalid("usage.feedback")
    m = _SCORE.match(body.strip())
    if m is None:
        raise Invalid("usage.feedback")
    rid, extra = take_ref(head)
    ticket_row: Ticket | None = None
    if rid is not None and not extra:
        ticket_row = svc.get_ticket(ctx, rid)
        customer = ticket_row.customer
    else:
        customer = resolve_customer(ctx, head)
    comment = None
    if m.group(3) and m.group(3).strip():
        quoted, rest = unquote(m.group(3))
        comment = quoted if not rest else m.group(3).strip()
    kind = m.group(1).lower()
    row = svc.record_feedback(ctx, customer, kind, int(m.group(2)), comment, ticket_row)
    return Reply(
        text=t("ticket.feedback_done", kind=kind.upper(), score=row.score, customer=customer.name)
    )


# --- the form ---


def _priorities(t: Translator) -> list[tuple[str, str]]:
    return [(p.value, priority_label(t, p)) for p in TicketPriority]


def _read_priority(text: str) -> str | None:
    found = svc.PRIORITY_WORDS.get(text.strip().lower())
    return found.value if found else None


def submit_ticket(req: FormRequest) -> Reply:
    """The ticket form: each field checked by the service that writes, then one ticket."""
    ctx, v = req.ctx, req.values
    checks = req.checks()
    customer: Customer | None = None
    if v.get("customer"):
        customer = checks.run("customer", resolve_customer, ctx, f"#{v['customer']}")
    else:
        checks.fail("customer", Invalid("error.customer_missing"))
    subject = checks.run("subject", svc.check_subject, req.text("subject"))
    level = checks.run("priority", svc.check_priority, v.get("priority") or "normal")
    assignee: User | None = None
    if req.text("assignee"):
        assignee = checks.run("assignee", resolve_user, ctx, req.text("assignee"))
        if assignee is not None and not svc.can_assign(ctx.actor, assignee):
            checks.fail("assignee", Invalid("error.ticket_assign_denied", user=assignee.name))
    checks.done()
    assert customer is not None and subject is not None and level is not None
    link = req.command.attached(SourceLink)
    opened, created = svc.open_ticket(
        ctx,
        customer,
        subject,
        description=req.text("description") or None,
        priority=level,
        assignee=assignee,
        source=req.command.platform,
        source_key=req.command.idempotency_key,
        source_link=link.url if link else None,
        # Opened from a message (a Slack shortcut): its text, as prefilled into the description.
        source_text=(req.text("description") or None) if link else None,
    )
    return _opened(req.t, ctx, opened, created)


TICKET_FORM = Form(
    "ticket",
    title="form.ticket.title",
    submit_label="form.ticket.submit",
    confirm="form.ticket.confirm",
    run=submit_ticket,
    fields=(
        FormField(
            "customer",
            "form.ticket.customer",
            FieldKind.record,
            required=True,
            hint="form.log.customer_hint",
        ),
        FormField(
            "subject",
            "form.ticket.subject",
            required=True,
            max_length=svc.MAX_SUBJECT,
            ask="form.ticket.subject_ask",
        ),
        FormField(
            "description",
            "form.ticket.description",
            FieldKind.multiline,
            max_length=svc.MAX_TEXT,
            ask="form.ticket.description_ask",
        ),
        FormField(
            "priority",
            "form.ticket.priority",
            FieldKind.choice,
            required=True,
            choices=_priorities,
            read=_read_priority,
            ask="form.ticket.priority_ask",
            bad="form.ticket.priority_bad",
        ),
        FormField(
            "assignee",
            "form.ticket.assignee",
            hint="form.ticket.assignee_hint",
            ask="form.ticket.assignee_ask",
        ),
    ),
)


REF = Arg("ticket", Kind.ref)
# Where these verbs come in help: after reports, before reminders.
ORDER = 65
VERBS = [
    Verb(
        "ticket",
        ticket,
        args=(
            Arg("customer", Kind.name),
            Arg("subject", Kind.text, sep=": "),
            Arg(
                "priority",
                Kind.choice,
                optional=True,
                sep=", priority ",
                choices=tuple(p.value for p in TicketPriority),
            ),
        ),
        examples=(
            "ticket Acme: printer jams on every label, priority high",
            "ticket #12",
            "工单 华东物流：打印机卡纸，优先级 高",
        ),
        writes=True,
        aliases=("工单", "新工单"),
        form=TICKET_FORM,
    ),
    Verb(
        "tickets",
        tickets,
        args=(
            Arg(
                "scope",
                Kind.name,
                optional=True,
                choices=("mine", "team", "breaching"),
                label="customer",
            ),
        ),
        examples=("tickets", "tickets mine", "tickets breaching", "tickets Acme", "工单列表 我的"),
        writes=False,
        aliases=("工单列表",),
    ),
    Verb(
        "assign",
        assign,
        args=(REF, Arg("user", Kind.user, keyword="to")),
        examples=("assign #12 to @bob", "assign #12 to me", "分配 #12 给 @bob"),
        writes=True,
        aliases=("分配", "指派"),
    ),
    Verb(
        "reply",
        reply,
        args=(REF, Arg("text", Kind.text, sep=": ")),
        examples=("reply #12: a technician comes tomorrow at 10",),
        writes=True,
        aliases=("回复",),
    ),
    Verb(
        "wait",
        wait,
        args=(REF,),
        examples=("wait #12", "等待客户 #12"),
        writes=True,
        aliases=("等待客户", "等待"),
    ),
    Verb(
        "resolve",
        resolve,
        args=(REF, Arg("text", Kind.text, sep=": ", label="what fixed it")),
        examples=("resolve #12: replaced the feed roller", "解决 #12：更换了进纸辊"),
        writes=True,
        aliases=("解决",),
    ),
    Verb(
        "reopen",
        reopen,
        args=(REF,),
        examples=("reopen #12", "重开 #12"),
        writes=True,
        aliases=("重开", "重新打开"),
    ),
    Verb(
        "priority",
        priority,
        args=(REF, Arg("priority", Kind.choice, choices=tuple(p.value for p in TicketPriority))),
        examples=("priority #12 urgent", "优先级 #12 紧急"),
        writes=True,
        aliases=("优先级",),
    ),
    Verb(
        "feedback",
        feedback,
        args=(
            Arg("customer", Kind.name),
            Arg("score", Kind.text, sep=": ", label="csat 1-5|nps 0-10"),
            Arg("comment", Kind.text, optional=True, sep=", "),
        ),
        examples=(
            'feedback Acme: nps 9, "fast fix"',
            "feedback #12: csat 5",
            "反馈 华东物流：nps 8",
        ),
        writes=True,
        aliases=("反馈", "回馈"),
    ),
]


# --- the report (`report tickets ...`, reached through the report verb) ---

TICKET_REPORT_NAMES = ("tickets", "ticket", "工单", "服务")
_REPORT_DIMS = {
    "assignee": "assignee",
    "assignees": "assignee",
    "agent": "assignee",
    "负责人": "assignee",
    "team": "team",
    "teams": "team",
    "团队": "team",
    "priority": "priority",
    "优先级": "priority",
    "优先顺序": "priority",
}
_REPORT_BY = re.compile(r"(?:^|\s)(?:by\s+(\S+)|按\s*(\S+?)(?=\s|$))", re.I)


def take_ticket_report(text: str) -> str | None:
    """The rest of `tickets by team last month` when a report request names tickets."""
    view = char_view(text.strip())
    for name in sorted(TICKET_REPORT_NAMES, key=len, reverse=True):
        if view.startswith(name):
            rest = text.strip()[len(name) :]
            if name.isascii() and rest and not rest[0].isspace():
                continue
            return rest.strip()
    return None


def _hours(t: Translator, value: float | None) -> str:
    return "—" if value is None else t("ticket.report.hours", hours=f"{value:.1f}")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def ticket_report_reply(req: Request, rest: str) -> Reply:
    """`report tickets [by assignee|team|priority] [period]`: the service desk's figures."""
    from crm_core.analytics.periods import ALL_TIME, parse_period
    from crm_core.analytics.tickets import TicketRow, ticket_report

    t, ctx = req.t, req.ctx
    dim: str | None = None
    m = _REPORT_BY.search(rest)
    if m is not None:
        word = (m.group(1) or m.group(2) or "").lower()
        dim = _REPORT_DIMS.get(char_view(word))
        if dim is None:
            raise Invalid("error.ticket_report_dim", value=word, dims="assignee, team, priority")
        rest = (rest[: m.start()] + " " + rest[m.end() :]).strip()
    today = ctx.now().astimezone(ctx.tz).date()
    period = parse_period(rest, today) or ALL_TIME
    rep = ticket_report(ctx, dim=dim, period=period)

    def line(r: TicketRow) -> str:
        return t(
            "ticket.report.row",
            opened=r.opened,
            resolved=r.resolved,
            response=_hours(t, r.first_response_median),
            resolution=_hours(t, r.resolution_median),
            response_met=_share(r.first_response_rate),
            resolution_met=_share(r.resolution_rate),
            breached=r.breached,
            csat="—" if r.csat_mean is None else f"{r.csat_mean:.1f}",
            nps="—" if r.nps is None else str(r.nps),
        )

    def label(group: str | None) -> str:
        if group is None:
            return t("ticket.unassigned") if dim == "assignee" else t("report.none")
        return priority_label(t, group) if dim == "priority" else group

    title = " · ".join(
        [
            t("ticket.report.title"),
            *([t(f"ticket.report.by_{dim}")] if dim else []),
            t("report.all_time") if period is ALL_TIME else period.label,
        ]
    )
    items = [t("ticket.report.item", group=label(r.group), figures=line(r)) for r in rep.rows]
    if rep.untied is not None:
        # Scores without a ticket count in the Total: their own line, so the rows add up.
        u = rep.untied
        items.append(
            t(
                "ticket.report.untied",
                csat="—" if u.csat_mean is None else f"{u.csat_mean:.1f}",
                nps="—" if u.nps is None else str(u.nps),
            )
        )
    return Reply(
        title=title,
        items=items,
        fields=[Field(t("ticket.report.total"), line(rep.total))],
        shareable=True,
    )
