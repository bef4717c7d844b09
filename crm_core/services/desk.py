"""The service desk in chat: customer channels, tickets from reactions and customers' messages,
thread replies on a ticket, and the reaction mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core import audit, note_outbox, rules
from crm_core.access import book_filter, can_see_owner, ensure_customer_access
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound
from crm_core.models import (
    Customer,
    CustomerChannel,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from crm_core.services import tickets as svc
from crm_core.services.identities import user_for
from crm_core.settings import DEFAULT_TICKET_REACTIONS

# What a reaction can do: open a ticket, or move it to a status.
ACTIONS = ("ticket", "open", "waiting", "resolved")
SUBJECT_LIMIT = 120
_PAIR = re.compile(r"^\s*(\w+)\s*=\s*([^,]*)$")


@dataclass(frozen=True)
class Reactions:
    """The configured reaction mapping: per platform, reaction -> action, and action -> the
    reaction crmbot puts on a source message for a status."""

    by_reaction: dict[tuple[str, str], str]
    by_action: dict[tuple[str, str], str]

    def action(self, platform: str, reaction: str) -> str | None:
        """What a staff member's reaction means on this platform, if anything."""
        return self.by_reaction.get((platform, reaction))

    def mirror(self, platform: str, status: TicketStatus | str) -> str | None:
        """The reaction that shows a status on the source message ("new" shows as open)."""
        value = TicketStatus(status).value
        key = {"new": "open", "closed": "resolved"}.get(value, value)
        return self.by_action.get((platform, key))

    def mirrors(self, platform: str) -> list[str]:
        """Every status reaction of a platform (to take the old one off)."""
        return [r for (p, a), r in self.by_action.items() if p == platform and a != "ticket"]


def reactions(spec: str | None) -> Reactions:
    """Read `ticket=ticket,open=eyes/👀,...`: each action's Slack name and Telegram emoji."""
    by_reaction: dict[tuple[str, str], str] = {}
    by_action: dict[tuple[str, str], str] = {}
    for part in (spec or DEFAULT_TICKET_REACTIONS).split(","):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if m is None or m.group(1) not in ACTIONS:
            raise Invalid("error.ticket_reactions_invalid", value=part.strip())
        names = m.group(2).split("/")
        for platform, name in zip(("slack", "telegram"), names, strict=False):
            name = name.strip().strip(":")
            if name:
                by_reaction[(platform, name)] = m.group(1)
                by_action.setdefault((platform, m.group(1)), name)
    return Reactions(by_reaction, by_action)


# --- customer channels ---


def channel_at(session: Session, platform: str, chat_id: str) -> CustomerChannel | None:
    """The customer channel a chat is, if it is linked."""
    return session.scalar(
        select(CustomerChannel).where(
            CustomerChannel.platform == platform, CustomerChannel.chat_id == chat_id
        )
    )


def _visible_channel(
    ctx: Ctx, platform: str, chat_id: str, *, archived_ok: bool = False
) -> CustomerChannel:
    row = channel_at(ctx.session, platform, chat_id)
    if row is None:
        raise NotFound("error.channel_not_linked")
    try:
        if archived_ok and row.customer.archived_at is not None:
            owner = row.customer.owner
            if not can_see_owner(ctx.actor, owner.id, owner.team_id):
                raise NotFound("error.customer_ref_not_found", id=row.customer_id)
        else:
            ensure_customer_access(ctx.actor, row.customer)
    except NotFound:
        # Someone else's customer: answered like a chat that is not linked at all.
        raise NotFound("error.channel_not_linked") from None
    return row


def link_channel(
    ctx: Ctx, platform: str, chat_id: str, name: str, customer: Customer
) -> tuple[CustomerChannel, bool]:
    """Link a chat to a customer; False when it already is (to the same customer)."""
    ensure_customer_access(ctx.actor, customer)
    name = rules.name("channel", name, 200)
    if not chat_id or len(chat_id) > 64:
        raise Invalid("error.channel_missing")
    row = channel_at(ctx.session, platform, chat_id)
    if row is not None:
        if row.customer_id == customer.id:
            return row, False
        raise Invalid("error.channel_linked_elsewhere", channel=row.name)
    row = CustomerChannel(
        platform=platform,
        chat_id=chat_id,
        name=name,
        customer_id=customer.id,
        auto=False,
        resolved_count=0,
        created_by_id=ctx.actor.id,
        created_at=ctx.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "channel.link", row, None)
    return row, True


def unlink_channel(ctx: Ctx, platform: str, chat_id: str) -> CustomerChannel:
    """Unlink a chat: its tickets stay, new messages there no longer open any."""
    # An archived customer's channel may be unlinked as it is: no unarchive just to clean up.
    row = _visible_channel(ctx, platform, chat_id, archived_ok=True)
    before = audit.snapshot(row)
    audit.record(ctx.session, ctx.actor, "channel.unlink", row, before)
    # Tickets keep their requester and thread; only the link to the channel goes.
    for ticket in ctx.session.scalars(select(Ticket).where(Ticket.channel_id == row.id)):
        ticket.channel_id = None
    ctx.session.flush()
    ctx.session.delete(row)
    return row


def set_auto(ctx: Ctx, platform: str, chat_id: str, on: bool) -> tuple[CustomerChannel, bool]:
    """Turn a channel's auto tickets on or off; False when it already was."""
    row = _visible_channel(ctx, platform, chat_id)
    if row.auto == on:
        return row, False
    before = audit.snapshot(row)
    row.auto = on
    audit.record(ctx.session, ctx.actor, "channel.auto", row, before)
    return row, True


def list_channels(ctx: Ctx) -> list[CustomerChannel]:
    """The customer channels of customers the actor may see, archived ones' too: their link
    still stands (messages there still reach the customer's tickets) and can be unlinked."""
    return list(
        ctx.session.scalars(
            select(CustomerChannel)
            .join(Customer, Customer.id == CustomerChannel.customer_id)
            .where(book_filter(ctx.actor), Customer.merged_into.is_(None))
            .order_by(Customer.name, CustomerChannel.name)
        )
    )


# --- tickets from chat ---


@dataclass(frozen=True)
class Requester:
    """Who asked, on their platform: id, display name, and where to answer ("chat:thread")."""

    platform_id: str
    name: str
    where: str


def staff(session: Session, platform: str, platform_user_id: str) -> User | None:
    """The staff member behind a platform account (None: a customer's person, a stranger)."""
    return user_for(session, platform, platform_user_id)


def _subject(text: str) -> tuple[str, str | None]:
    line = " ".join(text.split())
    if not line:
        raise Invalid("error.ticket_subject_missing")
    if len(line) <= SUBJECT_LIMIT:
        return line, None
    return line[: SUBJECT_LIMIT - 1] + "…", text


def open_in_channel(
    session: Session,
    channel: CustomerChannel,
    *,
    requester: Requester,
    text: str,
    key: str,
    link: str | None,
    source: str,
    now: datetime,
    ctx: Ctx | None = None,
) -> tuple[Ticket, bool]:
    """Open a ticket from a customer's message in a linked channel; the same message: one.

    With `ctx` (staff reacted) it is the staff member's; without (auto) nobody's, audited as
    the requester.
    """
    seen = session.scalar(select(Ticket).where(Ticket.source_key == key))
    if seen is not None:
        return seen, False
    subject, description = _subject(text)
    if ctx is not None:
        ticket, created = svc.open_ticket(
            ctx,
            channel.customer,
            subject,
            description=description,
            source=source,
            source_key=key,
            source_link=link,
            source_text=text,
        )
    else:
        ticket, created = svc.open_unattended(
            session,
            channel.customer,
            subject,
            description=description,
            source=source,
            source_key=key,
            source_link=link,
            source_text=text,
            now=now,
            actor_label=f"{source}:{requester.platform_id}",
        )
    if created:
        set_requester(ticket, channel, requester)
    return ticket, created


def set_requester(ticket: Ticket, channel: CustomerChannel, requester: Requester) -> None:
    """Record who asked and where to answer them on a ticket opened in a customer channel."""
    ticket.channel_id = channel.id
    ticket.requester_id = requester.platform_id[:128]
    try:
        name = rules.name("name", requester.name, 200)
    except Invalid:
        name = ""
    ticket.requester_name = name or requester.platform_id[:200]
    ticket.requester_where = requester.where[:200]


def ticket_at(session: Session, key: str) -> Ticket | None:
    """The ticket a platform message belongs to: the one it opened, or the one it was logged
    on (a reply, or the bot's acknowledgement), so that a reply to any of them joins it."""
    found = session.scalar(select(Ticket).where(Ticket.source_key == key))
    if found is None:
        found = session.scalar(
            select(Ticket).join(TicketEvent).where(TicketEvent.external_id == key).limit(1)
        )
    return found


def remember_message(session: Session, ticket_id: int, key: str) -> None:
    """Keep a message the bot said about a ticket (its acknowledgement) as the ticket's, on its
    created event: a customer replying to it is then in the ticket's thread."""
    if len(key) > 100 or ticket_at(session, key) is not None:
        return
    event = session.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "created")
        .limit(1)
    )
    if event is not None and event.external_id is None:
        event.external_id = key


def thread_reply(
    session: Session,
    ticket: Ticket,
    *,
    actor: User | None,
    author: str,
    text: str,
    now: datetime,
    ctx: Ctx | None = None,
    key: str | None = None,
) -> str:
    """Log a reply in a ticket's thread: staff's is a response (the first stops that clock),
    the customer's resumes a ticket waiting on them. Returns the event kind written.

    `key` is the message's own: kept on its event (as its external id) so that a reply to
    this message joins the ticket too, where a platform has no threads (Telegram)."""
    text = rules.text("text", text, svc.MAX_TEXT, "error.ticket_reply_missing")
    key = key if key is not None and len(key) <= 100 else None
    if actor is not None and ctx is not None and ticket.status not in svc.DONE:
        svc.reply_ticket(ctx, ticket.id, text)
        if key is not None:
            said = session.scalar(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reply")
                .order_by(TicketEvent.id.desc())
                .limit(1)
            )
            if said is not None:
                said.external_id = key
        return "reply"
    lock_for_update(session, ticket)
    before = audit.snapshot(ticket)
    kind = "comment" if actor is not None else "customer"
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        at=now,
        actor_id=actor.id if actor else None,
        status=ticket.status,
        value=author[:100],
        text=text,
        external_id=key,
    )
    session.add(event)
    if actor is None and ticket.status == TicketStatus.waiting:
        # The customer answered: the clocks run again.
        ticket.status = TicketStatus.open
        session.add(
            TicketEvent(
                ticket_id=ticket.id, kind="resume", at=now, status=ticket.status, value=author[:100]
            )
        )
        kind = "resume"
    ticket.updated_at = now
    svc.refresh_sla(session, ticket)
    audit.record(session, actor, f"ticket.{kind}", ticket, before, actor_label=author[:100])
    # What was said in the thread is part of what the ticket says to `ask`.
    note_outbox.enqueue_tickets(session, [ticket.id], now=now)
    return kind


def react(ctx: Ctx, ticket_id: int, action: str) -> tuple[Ticket, bool]:
    """A staff reaction that sets a status; False when the ticket already had it."""
    found = svc.get_ticket(ctx, ticket_id)
    status = found.status
    if action == "open":
        if status in (TicketStatus.new, TicketStatus.open):
            return found, False
        return svc.reopen_ticket(ctx, ticket_id)[0], True
    if action == "waiting":
        if status == TicketStatus.waiting:
            return found, False
        if status in svc.DONE:
            svc.reopen_ticket(ctx, ticket_id)
        return svc.wait_ticket(ctx, ticket_id), True
    if action == "resolved":
        if status in svc.DONE:
            return found, False
        return svc.resolve_ticket(ctx, ticket_id, None), True
    raise Invalid("error.ticket_reactions_invalid", value=action)
