"""Reading notes from the database in the shape the indexes store them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm_core.models import Customer, Interaction, Ticket, User
from crm_core.note_outbox import ticket_key, ticket_of
from retrieval.passages import NoteMeta, Passage, split_note

_CHUNK = 500


@dataclass(frozen=True)
class IndexedNote:
    """A live note as the indexes see it."""

    interaction_id: int
    passages: list[Passage]
    meta: NoteMeta


_COLUMNS = (
    Interaction.id,
    Interaction.customer_id,
    Interaction.author_id,
    Interaction.kind,
    Interaction.occurred_at,
    Interaction.text,
    Interaction.deleted_at,
)


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


def _note(row: tuple) -> IndexedNote:  # type: ignore[type-arg]
    iid, customer, author, kind, at, text, _ = row
    meta = NoteMeta(customer_id=customer, author_id=author, kind=str(kind), occurred_at=_epoch(at))
    return IndexedNote(iid, split_note(iid, text), meta)


def live_notes(session: Session, *, batch: int = 2_000) -> Iterator[list[IndexedNote]]:
    """Every live note, in id order, a batch at a time; then every ticket."""
    yield from _live_interactions(session, batch)
    yield from live_tickets(session, batch=batch)


def _live_interactions(session: Session, batch: int) -> Iterator[list[IndexedNote]]:
    last = 0
    while True:
        rows = session.execute(
            select(*_COLUMNS)
            .where(Interaction.id > last, Interaction.deleted_at.is_(None))
            .order_by(Interaction.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [_note(tuple(r)) for r in rows]


def current_notes(session: Session, ids: Iterable[int]) -> dict[int, IndexedNote | None]:
    """The current state of these notes (and tickets, by their keys): None for one gone."""
    keys = set(ids)
    tickets = {k for k in keys if k < 0}
    wanted = sorted(keys - tickets)
    out: dict[int, IndexedNote | None] = dict.fromkeys(wanted)
    out.update(current_tickets(session, tickets))
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        for row in session.execute(select(*_COLUMNS).where(Interaction.id.in_(chunk))):
            if row[6] is None:
                out[row[0]] = _note(tuple(row))
    return out


# --- tickets, indexed beside the notes under negative keys (crm_core.note_outbox) ---

# Events whose text is part of what a ticket says: replies, waits, resolutions, reopens, and
# what staff and the customer wrote in the ticket's thread of a customer channel.
_TEXT_EVENTS = ("reply", "wait", "resolve", "reopen", "resume", "comment", "customer")


def ticket_text(ticket: Ticket) -> str:
    """What a ticket says: its subject, description and every reply and resolution."""
    parts = [ticket.subject.rstrip(".") + "."]
    if ticket.description:
        parts.append(ticket.description)
    parts.extend(e.text for e in ticket.events if e.kind in _TEXT_EVENTS and e.text)
    return "\n".join(parts)


def _ticket_note(ticket: Ticket) -> IndexedNote:
    key = ticket_key(ticket.id)
    meta = NoteMeta(
        customer_id=ticket.customer_id,
        author_id=ticket.created_by_id or 0,
        kind="ticket",
        occurred_at=_epoch(ticket.created_at),
    )
    return IndexedNote(key, split_note(key, ticket_text(ticket)), meta)


def _tickets(session: Session, ids: list[int]) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).options(selectinload(Ticket.events))
        )
    )


def live_tickets(session: Session, *, batch: int = 2_000) -> Iterator[list[IndexedNote]]:
    """Every ticket as the indexes see it, in id order, a batch at a time."""
    last = 0
    while True:
        ids = list(
            session.scalars(
                select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
            )
        )
        if not ids:
            return
        last = ids[-1]
        yield [_ticket_note(t) for t in sorted(_tickets(session, ids), key=lambda t: t.id)]


def current_tickets(session: Session, keys: Iterable[int]) -> dict[int, IndexedNote | None]:
    """The current state of tickets by their index keys: None for one gone."""
    wanted = sorted(tid for k in keys if (tid := ticket_of(k)) is not None)
    out: dict[int, IndexedNote | None] = {ticket_key(t): None for t in wanted}
    for i in range(0, len(wanted), _CHUNK):
        for ticket in _tickets(session, wanted[i : i + _CHUNK]):
            out[ticket_key(ticket.id)] = _ticket_note(ticket)
    return out


@dataclass
class TicketNote:
    """A ticket as an answer cites it: the shape of a note (text, date, kind, author)."""

    id: int  # its index key (negative)
    ticket_id: int
    text: str
    occurred_at: datetime
    kind: str
    author: User
    customer: Customer
    customer_id: int
    author_id: int
    external_id: str | None
    link: str | None = None


# What an answer cites: a note, or a ticket in a note's shape.
Cited = Interaction | TicketNote


def cited_tickets(session: Session, keys: Iterable[int]) -> dict[int, TicketNote]:
    """The tickets behind these index keys, shaped for citing, by key."""
    wanted = sorted(tid for k in keys if (tid := ticket_of(k)) is not None)
    if not wanted:
        return {}
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(wanted))
        .options(
            selectinload(Ticket.events),
            selectinload(Ticket.customer),
            selectinload(Ticket.assignee),
        )
    ).all()
    creators = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({t.created_by_id for t in tickets if t.created_by_id}))
        )
    }
    out: dict[int, TicketNote] = {}
    for t in tickets:
        author = creators.get(t.created_by_id or 0) or t.assignee
        if author is None:
            continue  # nobody to name: the ticket is not cited rather than cited wrongly
        out[ticket_key(t.id)] = TicketNote(
            ticket_key(t.id),
            t.id,
            ticket_text(t),
            t.created_at,
            "ticket",
            author,
            t.customer,
            t.customer_id,
            author.id,
            t.external_id,
        )
    return out
