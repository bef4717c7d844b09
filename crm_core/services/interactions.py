"""Interactions: logging calls, meetings, visits, emails, chats and notes; editing, undoing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm_core import audit, note_outbox, rules
from crm_core.access import ensure_customer_access, visible_customer_ids
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import Contact, Customer, Deal, Interaction, InteractionKind, Role
from crm_core.services import write_locks

MAX_TEXT = rules.MAX_NOTE
# Logging is for what happened; a little slack covers clock skew and "in 10 minutes".
FUTURE_SLACK = timedelta(hours=1)


def check_note_text(text: str) -> str:
    """A note's text as stored; refuses an empty, over-long or unreadable one."""
    return rules.text("text", text, MAX_TEXT, "error.log_text_missing")


def check_occurred_at(ctx: Ctx, occurred_at: datetime | None) -> datetime:
    """When a note happened (now when not given); refuses a time in the future."""
    now = ctx.now()
    when = rules.moment("time", occurred_at or now)
    if when > now + FUTURE_SLACK:
        raise Invalid("error.log_in_future")
    return when


def log_interaction(
    ctx: Ctx,
    customer: Customer,
    kind: InteractionKind,
    text: str,
    *,
    occurred_at: datetime | None = None,
    deal: Deal | None = None,
    contact: Contact | None = None,
    source: str = "console",
    idempotency_key: str | None = None,
    link: str | None = None,
    location: tuple[float, float] | None = None,
) -> tuple[Interaction, bool]:
    """Record an interaction; returns it and whether it was new (False: seen key, no write)."""
    ensure_customer_access(ctx.actor, customer)
    text = check_note_text(text)
    now = ctx.now()
    when = check_occurred_at(ctx, occurred_at)
    if deal is not None and deal.customer_id != customer.id:
        raise Invalid("error.deal_other_customer", deal=deal.title, customer=customer.name)
    if contact is not None and contact.customer_id != customer.id:
        raise Invalid("error.contact_other_customer", contact=contact.name, customer=customer.name)
    if link is not None:
        rules.readable("link", link)
        if len(link) > 500:
            raise Invalid("error.too_long", field="link", limit=500)
    if location is not None and not (-90 <= location[0] <= 90 and -180 <= location[1] <= 180):
        raise Invalid("error.bad_location")
    if idempotency_key:
        # SQLite: one writer at a time from here, so the check below is current.
        write_locks.begin_writing(ctx.session)
        seen = _by_key(ctx, idempotency_key)
        if seen is not None:
            return seen, False
    note = Interaction(
        customer_id=customer.id,
        deal_id=deal.id if deal else None,
        contact_id=contact.id if contact else None,
        author_id=ctx.actor.id,
        kind=kind,
        occurred_at=when,
        text=text,
        source=source,
        idempotency_key=idempotency_key,
        link=link,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        created_at=now,
    )
    if idempotency_key:
        try:
            with ctx.session.begin_nested():
                ctx.session.add(note)
        except IntegrityError:
            # PostgreSQL: another unit of work logged this key after the check above; the
            # insert waited for it to commit. Its note is the answer, as for a later retry.
            seen = _by_key(ctx, idempotency_key)
            if seen is None:
                raise
            return seen, False
    else:
        ctx.session.add(note)
    audit.record(ctx.session, ctx.actor, "interaction.create", note, None)
    note_outbox.enqueue(ctx.session, [note.id], now=now)
    return note, True


def _by_key(ctx: Ctx, idempotency_key: str) -> Interaction | None:
    return ctx.session.scalar(
        select(Interaction).where(Interaction.idempotency_key == idempotency_key)
    )


def get_interaction(ctx: Ctx, interaction_id: int) -> Interaction:
    """A live interaction on a customer the actor may see."""
    note = ctx.session.scalar(
        select(Interaction).where(
            Interaction.id == interaction_id,
            Interaction.deleted_at.is_(None),
            Interaction.customer_id.in_(visible_customer_ids(ctx.actor)),
        )
    )
    if note is None:
        raise NotFound("error.interaction_not_found", id=interaction_id)
    return note


def _ensure_may_change(ctx: Ctx, note: Interaction, refusal: str) -> None:
    # Checked and changed as it is now: a concurrent edit or undo is waited for, not overwritten.
    lock_for_update(ctx.session, note)
    if note.deleted_at is not None:
        raise NotFound("error.interaction_not_found", id=note.id)
    ensure_customer_access(ctx.actor, note.customer)
    if note.author_id != ctx.actor.id and ctx.actor.role == Role.rep:
        # A rep may not change what a colleague or their manager wrote on the account.
        raise PermissionDenied(refusal, id=note.id)


def edit_interaction(ctx: Ctx, interaction_id: int, text: str) -> tuple[Interaction, bool]:
    """Replace a note's text; the note and whether anything changed."""
    if not text.strip():
        raise Invalid("error.edit_text_missing", id=interaction_id)
    text = rules.text("text", text, MAX_TEXT, "error.edit_text_missing")
    note = get_interaction(ctx, interaction_id)
    _ensure_may_change(ctx, note, "error.edit_not_yours")
    if note.text == text:
        return note, False
    before = audit.snapshot(note)
    note.text = text
    audit.record(ctx.session, ctx.actor, "interaction.update", note, before)
    # The note index re-reads the note: its old passages leave, the new ones come in.
    note_outbox.enqueue(ctx.session, [note.id], now=ctx.now())
    return note, True


def undo_interaction(ctx: Ctx, interaction_id: int) -> Interaction:
    """Remove a logged interaction (kept in the database and audit log, hidden everywhere)."""
    note = get_interaction(ctx, interaction_id)
    _ensure_may_change(ctx, note, "error.undo_not_yours")
    before = audit.snapshot(note)
    note.deleted_at = ctx.now()
    audit.record(ctx.session, ctx.actor, "interaction.delete", note, before)
    note_outbox.enqueue(ctx.session, [note.id], now=ctx.now())
    return note
