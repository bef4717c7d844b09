"""Replies nobody asked for just now: a reminder ping, a digest, a failure report, an alert."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from crm_core.models import (
    Campaign,
    Customer,
    Deal,
    Reminder,
    Segment,
    StageChange,
    Ticket,
    TierChange,
    User,
)
from crm_core.services.care import BUILT_IN, Coming
from crm_core.services.digests import Digest
from crm_core.services.reminders import parse_recurrence
from crm_core.services.tickets import TriageSummary
from crm_core.stages import Pipeline
from crm_core.zones import zone
from handlers import format as fmt
from handlers.i18n import Translator
from handlers.reply import Button, Reply, Section
from handlers.verbs.campaigns import quoted
from handlers.verbs.tickets import duration, list_badge, priority_label, ticket_line


def zone_of(user: User) -> ZoneInfo:
    """A user's zone (UTC when the stored name is unknown)."""
    return zone(user.timezone)


def when(t: Translator, moment: datetime, tz: ZoneInfo) -> str:
    """A moment in the user's zone with the zone's name: `2026-11-24 15:00 (Europe/Berlin)`."""
    return t("reminder.at", when=fmt.local_time(moment, tz), zone=str(tz))


def repeats(t: Translator, spec: str | None) -> str:
    """`, every Monday 09:00` for a recurring reminder, else empty."""
    if not spec:
        return ""
    try:
        return t("reminder.repeats", rule=t.words(parse_recurrence(spec).describe(t.locale)))
    except ValueError:
        return ""


def reminder_buttons(
    t: Translator,
    reminder_id: int,
    *,
    customer: Customer | None = None,
    deal: Deal | None = None,
) -> list[Button]:
    """Done / Snooze 1 hour / Snooze to tomorrow 9:00 / Snooze (pick) / Cancel / Open."""
    n = reminder_id
    buttons = [
        Button.run(t("button.done"), f"done #{n}", "primary"),
        Button.run(t("button.snooze_hour"), f"snooze #{n} 1h"),
        Button.run(t("button.snooze_tomorrow"), f"snooze #{n} tomorrow 9:00"),
        Button.run(t("button.snooze_pick"), f"snooze #{n}"),
        Button.run(t("button.cancel"), f"cancel #{n}", "danger"),
    ]
    if deal is not None:
        buttons.append(Button.run(t("button.open_deal", deal=deal.title), f"move #{deal.id}"))
    if customer is not None:
        buttons.append(
            Button.run(t("button.open_named", name=customer.name), f"customer #{customer.id}")
        )
    return buttons


def reminder_ping(
    t: Translator,
    reminder: Reminder,
    tz: ZoneInfo,
    *,
    late: bool = False,
    resent: bool = False,
    customer: Customer | None = None,
    deal: Deal | None = None,
) -> Reply:
    """The message a due reminder sends its owner."""
    notes = []
    if late:
        notes.append(t("reminder.late", when=fmt.local_time(reminder.due_at, tz)))
    if resent:
        notes.append(t("reminder.resent"))
    about = []
    if customer is not None:
        about.append(customer.name)
    if deal is not None:
        about.append(deal.title)
    text = reminder.text + (f"\n({' · '.join(about)})" if about else "")
    if notes:
        text += "\n" + " ".join(notes)
    return Reply(
        title=t("reminder.ping_title", id=reminder.id) + repeats(t, reminder.recurrence),
        text=text,
        buttons=reminder_buttons(t, reminder.id, customer=customer, deal=deal),
        ephemeral=False,
    )


def failure_report(t: Translator, reminder_id: int, reason: str) -> Reply:
    """Told after the last attempt: a reminder could not be delivered."""
    return Reply(
        text=t("reminder.failed_report", id=reminder_id, reason=reason),
        buttons=[Button.run(t("button.reminders"), "reminders")],
        status="error",
        ephemeral=False,
    )


# Done buttons in a digest: enough for a usual morning, few enough for a phone's keyboard.
DIGEST_DONE_BUTTONS = 3


def _reminder_line(t: Translator, r: Reminder, tz: ZoneInfo) -> str:
    return f"#{r.id} {fmt.local_time(r.due_at, tz)} · {fmt.preview(r.text, 80)}"


def digest_reply(t: Translator, digest: Digest, tz: ZoneInfo) -> Reply:
    """A person's digest as one message with sections."""
    sections: list[Section] = []
    if digest.overdue:
        sections.append(
            Section(t("digest.overdue"), [_reminder_line(t, r, tz) for r in digest.overdue])
        )
    if digest.due_today:
        sections.append(
            Section(t("digest.due_today"), [_reminder_line(t, r, tz) for r in digest.due_today])
        )
    if digest.closing:
        sections.append(
            Section(
                t("digest.closing"),
                [fmt.deal_line(t, d, with_customer=c) for d, c in digest.closing],
            )
        )
    if digest.stalled:
        sections.append(
            Section(
                t("digest.stalled"),
                [
                    t(
                        "digest.stalled_line",
                        deal=fmt.deal_line(t, s.deal, with_customer=s.customer),
                        days=s.days,
                    )
                    for s in digest.stalled
                ],
            )
        )
    if digest.quiet:
        sections.append(
            Section(
                t("digest.quiet"),
                [
                    t(
                        "digest.quiet_line",
                        customer=q.customer.name,
                        days=q.days_silent,
                        usual=q.usual_days,
                    )
                    for q in digest.quiet
                ],
            )
        )
    if digest.low_scores:
        sections.append(
            Section(
                t("digest.low_scores"),
                [
                    t(
                        "digest.low_score_line",
                        customer=low.customer.name,
                        kind=low.feedback.kind.upper(),
                        score=low.feedback.score,
                        date=fmt.local_day(low.feedback.created_at, tz),
                    )
                    for low in digest.low_scores
                ],
            )
        )
    if digest.tickets:
        now = digest.now or datetime.now(tz)
        sections.append(
            Section(
                t("digest.tickets"),
                [
                    t(
                        "digest.ticket_line",
                        id=d.ticket.id,
                        subject=fmt.preview(d.ticket.subject, 60),
                        customer=d.ticket.customer.name,
                        badge=t(
                            f"ticket.badge.{d.which}_{'overdue' if d.breached else 'due'}",
                            left=duration(t, abs(d.due_at - now)),
                            late=duration(t, abs(d.due_at - now)),
                        ),
                    )
                    for d in digest.tickets
                ],
            )
        )
    if digest.birthdays:
        sections.append(
            Section(
                t("digest.birthdays"),
                [
                    t(
                        "digest.birthday_line",
                        name=b.contact.name,
                        customer=b.customer.name,
                        when=t("digest.birthday_today") if b.days == 0 else fmt.short_day(t, b.day),
                    )
                    for b in digest.birthdays
                ],
            )
        )
    if digest.tier_changes:
        sections.append(
            Section(t("digest.tiers"), [tier_line(t, c, cust) for c, cust in digest.tier_changes])
        )
    # A contact's birthday already under "Birthdays" is not listed again as a care date.
    listed = {(b.contact.id, b.day) for b in digest.birthdays}
    care = [
        c
        for c in digest.care
        if not (
            (c.item.care.record, c.item.care.field) == ("contact", "birthday")
            and (c.item.entity_id, c.day) in listed
        )
    ]
    if care:
        sections.append(Section(t("digest.care"), [care_line(t, c) for c in care]))
    if digest.campaign_tasks:
        sections.append(
            Section(
                t("digest.campaign_tasks"),
                [t("digest.campaign_line", name=n, count=c) for n, c in digest.campaign_tasks],
            )
        )
    activity = [f"{fmt.kind(t, k)}: {n}" for k, n in sorted(digest.yesterday.items())]
    if digest.yesterday_moves:
        activity.append(t("digest.moves", count=digest.yesterday_moves))
    sections.append(Section(t("digest.yesterday"), activity or [t("digest.nothing")]))
    if digest.is_manager:
        for title, moves in (
            ("digest.team_won", digest.team_won),
            ("digest.team_lost", digest.team_lost),
            ("digest.team_moves", digest.team_moves),
        ):
            if moves:
                sections.append(
                    Section(
                        t(title),
                        [
                            t(
                                "digest.move_line",
                                deal=m.deal.title,
                                owner=m.owner.name,
                                stage_from=fmt.stage(t, m.change.from_stage or "—"),
                                stage_to=fmt.stage(t, m.change.to_stage),
                            )
                            for m in moves
                        ],
                    )
                )
        sections.append(
            Section(
                t("digest.team_activity"),
                [t("digest.activity_line", name=u.name, count=n) for u, n in digest.team_activity]
                or [t("digest.nothing")],
            )
        )
    # One labelled Done per reminder shown first (an unlabelled one closed only the first).
    buttons = [
        Button.run(t("button.done_n", id=r.id), f"done #{r.id}", "primary")
        for r in (digest.overdue + digest.due_today)[:DIGEST_DONE_BUTTONS]
    ]
    buttons += [Button.run(t("button.reminders"), "reminders")]
    buttons += [
        Button.run(s.customer.name, f"customer #{s.customer.id}") for s in digest.stalled[:2]
    ]
    buttons += [Button.run(q.customer.name, f"customer #{q.customer.id}") for q in digest.quiet[:2]]
    buttons += [Button.run(f"#{d.ticket.id}", f"ticket #{d.ticket.id}") for d in digest.tickets[:2]]
    buttons += [
        Button.run(low.customer.name, f"customer #{low.customer.id}")
        for low in digest.low_scores[:2]
    ]
    return Reply(
        title=t("digest.title", day=digest.day.isoformat(), name=digest.user.name),
        text=t("digest.empty") if digest.empty else "",
        sections=sections,
        buttons=buttons,
        ephemeral=False,
    )


def tier_line(t: Translator, change: TierChange, customer: Customer) -> str:
    """`Acme: silver → gold (deal won)`."""
    return t(
        "tier.change_line",
        customer=customer.name,
        before=t.words(change.from_tier) if change.from_tier else t("tier.none"),
        after=t.words(change.to_tier) if change.to_tier else t("tier.none"),
        reason=t(f"tier.reason.{change.reason}"),
    )


def tier_ping(t: Translator, change: TierChange, customer: Customer) -> Reply:
    """The owner's ping about one tier change."""
    key = "tier.ping_up" if (change.to_tier and not change.from_tier) else "tier.ping"
    return Reply(
        text=t(key, line=tier_line(t, change, customer)),
        buttons=[
            Button.run(t("button.open_named", name=customer.name), f"customer #{customer.id}")
        ],
        ephemeral=False,
    )


def campaign_ping(t: Translator, campaign: Campaign, tasks: int, by: str) -> Reply:
    """An owner's notice that a campaign gave them tasks, with a button to the cards."""
    return Reply(
        text=t("campaign.ping", name=campaign.name, tasks=tasks, by=by),
        buttons=[
            Button.run(
                t("button.campaign_tasks"), f"campaign tasks {quoted(campaign.name)}", "primary"
            )
        ],
        ephemeral=False,
    )


def care_field(t: Translator, record: str, field: str) -> str:
    """A care date's field as the reader says it: crmbot's own (a contact's birthday, a deal's
    expected close) in their language, a custom field by the name it was declared with."""
    if (record, field) in BUILT_IN:
        return t(f"care.builtin.{field}")
    return field


def care_line(t: Translator, coming: Coming) -> str:
    """`renewal_date of Fleet renewal (Acme): 2027-03-29, in 15 days`."""
    item = coming.item
    when = t("care.today") if coming.days == 0 else t("care.in_days", days=coming.days)
    return t(
        "care.item",
        field=care_field(t, item.care.record, item.care.field),
        label=item.label,
        customer=item.customer_name,
        day=coming.day.isoformat(),
        when=when,
    )


def care_ping(t: Translator, coming: Coming) -> Reply:
    """The owner's ping about one care date."""
    return Reply(
        text=t("care.ping", line=care_line(t, coming)),
        buttons=[
            Button.run(
                t("button.open_named", name=coming.item.customer_name),
                f"customer #{coming.item.customer_id}",
            )
        ],
        ephemeral=False,
    )


def alert_reply(
    t: Translator,
    change: StageChange,
    deal: Deal,
    customer: Customer,
    actor: User | None,
    pipeline: Pipeline,
) -> Reply:
    """A channel post: a deal won, lost or moved."""
    stage = pipeline.get(change.to_stage)
    key = (
        "alert.won"
        if stage and stage.won
        else "alert.lost"
        if stage and stage.lost
        else "alert.moved"
    )
    text = t(
        key,
        deal=deal.title,
        customer=customer.name,
        amount=fmt.money(deal.amount, deal.currency, t),
        stage_from=fmt.stage(t, change.from_stage or "—"),
        stage_to=fmt.stage(t, change.to_stage),
        who=actor.name if actor else "—",
    )
    if stage and stage.lost and change.reason:
        text += "\n" + t("alert.reason", reason=change.reason)
    return Reply(text=text, ephemeral=False, shareable=True)


def owner_notice(
    t: Translator, customer: Customer, actor: User | None, other: User, *, gained: bool, deals: int
) -> Reply:
    """A message to a customer's old or new owner after a reassignment."""
    text = t(
        "notice.gained" if gained else "notice.lost",
        actor=actor.name if actor else "—",
        customer=customer.name,
        other=other.name,
    )
    if deals:
        text += " " + t("notice.deals", count=deals)
    buttons = (
        [Button.run(t("button.open"), f"customer #{customer.id}", "primary")] if gained else []
    )
    return Reply(text=text, buttons=buttons)


def segment_ping(
    t: Translator, segment: Segment, customers: list[Customer], total: int | None = None
) -> Reply:
    """A follower's news: these customers (the first few of `total`) entered a segment."""
    line = " · ".join
    total = len(customers) if total is None else total
    items = [line(p for p in (f"#{c.id} {c.name}", c.industry, c.city) if p) for c in customers]
    if total > len(customers):
        items.append(t("segment.ping_more", count=total - len(customers)))
    return Reply(
        title=t("segment.ping_title", name=segment.name, count=total),
        items=items,
        buttons=[
            *(Button.run(c.name, f"customer #{c.id}") for c in customers[:5]),
            Button.run(t("button.open"), f'segment "{segment.name}"', "primary"),
        ],
    )


def ticket_alert(
    t: Translator, ticket: Ticket, kind: str, now: datetime, *, resent: bool = False
) -> Reply:
    """An SLA notice: a 75 % warning, a breach, or a ticket nobody has taken."""
    which = kind.split("_")[0]
    due_at = ticket.response_due_at if which == "response" else ticket.resolution_due_at
    badge = list_badge(t, ticket, now)
    if kind != "unassigned" and due_at is not None:
        late = now >= due_at
        left = due_at - now if not late else now - due_at
        badge = t(
            f"ticket.badge.{which}_{'overdue' if late else 'due'}",
            left=duration(t, left),
            late=duration(t, left),
        )
    text = t(
        f"ticket.alert.{kind}",
        id=ticket.id,
        customer=ticket.customer.name,
        priority=priority_label(t, ticket.priority),
        badge=badge,
    )
    if resent:
        text += " " + t("ticket.alert.resent")
    buttons = [Button.run(t("button.open"), f"ticket #{ticket.id}", "primary")]
    if ticket.assignee_id is None:
        buttons.append(Button.run(t("button.ticket_take"), f"assign #{ticket.id} to me"))
    return Reply(text=text, items=[fmt.preview(ticket.subject)], buttons=buttons, ephemeral=False)


def triage_reply(t: Translator, summary: TriageSummary, now: datetime, tz: ZoneInfo) -> Reply:
    """A team's morning triage summary: counts, then the tickets that need someone first."""
    lines = [
        t(f"triage.item.{item.state}", line=ticket_line(t, item.ticket, now))
        for item in summary.top
    ]
    text = t(
        "triage.counts",
        active=summary.active,
        new=summary.new,
        unassigned=summary.unassigned,
        waiting=summary.waiting,
        breaching=summary.breaching,
        near=summary.near_breach,
    )
    if not summary.active:
        text = t("triage.empty")
    return Reply(
        title=t("triage.title", team=summary.team.name, day=fmt.local_day(now, tz)),
        text=text,
        sections=[Section(t("triage.top"), lines)] if lines else [],
        buttons=[Button.run(t("triage.open_queue"), "tickets team")],
        ephemeral=False,
    )
