"""CSAT questions to a ticket's requester: owed on resolve (sampled), withdrawn on reopen,
claimed before sending, answered once, expiring.

A question is a `csat_requests` row. Sending takes it from "due" to "sending" with one
conditional UPDATE (the claim: only one worker's matches), then to "asked" with the message id;
an abandoned claim is taken again after the lease. Answering moves "asked" to "answered" the
same way, so two presses store one Feedback row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core import audit
from crm_core.db import lock_for_update
from crm_core.models import CsatRequest, CustomerChannel, Feedback, Ticket
from crm_core.settings import Settings

OPEN = ("due", "sending", "asked")
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def on_resolve(session: Session, ticket: Ticket, now: datetime, settings: Settings) -> None:
    """Owe the requester a question when the ticket came from a customer channel and the
    channel's sampling says this one is asked (every Nth resolved)."""
    if ticket.channel_id is None or not ticket.requester_id or not ticket.requester_where:
        return
    channel = session.get(CustomerChannel, ticket.channel_id)
    if channel is None:
        return
    # Counted under the row lock: two resolves at once never both take the same turn.
    lock_for_update(session, channel)
    channel.resolved_count += 1
    if (channel.resolved_count - 1) % max(1, settings.csat_every) != 0:
        return
    chat, _, thread = ticket.requester_where.partition(":")
    # Asked once per resolution: an earlier question still open is withdrawn first.
    withdraw(session, ticket.id)
    session.add(
        CsatRequest(
            ticket_id=ticket.id,
            platform=ticket.source,
            chat_id=chat,
            thread=thread or None,
            requester_id=ticket.requester_id,
            status="due",
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(days=settings.csat_expiry_days),
        )
    )


def withdraw(session: Session, ticket_id: int) -> int:
    """Withdraw the ticket's open questions (reopened): a later press says so."""
    result = session.execute(
        update(CsatRequest)
        .where(CsatRequest.ticket_id == ticket_id, CsatRequest.status.in_(OPEN))
        .values(status="withdrawn")
    )
    return _rowcount(result)


@dataclass(frozen=True)
class Question:
    """A claimed question to send: where, and about which ticket."""

    id: int
    ticket_id: int
    subject: str
    platform: str
    chat_id: str
    thread: str | None


def expire(session: Session, now: datetime) -> int:
    """Questions past their time stop taking answers (and unsent ones are never sent)."""
    result = session.execute(
        update(CsatRequest)
        .where(CsatRequest.status.in_(OPEN), CsatRequest.expires_at <= now)
        .values(status="expired")
    )
    return _rowcount(result)


def due_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Questions to send: due ones, and claims abandoned longer than the lease."""
    stale = now - LEASE
    return list(
        session.scalars(
            select(CsatRequest.id)
            .where(
                (CsatRequest.status == "due")
                | ((CsatRequest.status == "sending") & (CsatRequest.claimed_at < stale))
            )
            .order_by(CsatRequest.created_at, CsatRequest.id)
            .limit(limit)
        )
    )


def claim(session: Session, request_id: int, now: datetime) -> Question | None:
    """Take one question for sending; None when another worker has it (or it is gone)."""
    stale = now - LEASE
    result = session.execute(
        update(CsatRequest)
        .where(
            CsatRequest.id == request_id,
            CsatRequest.expires_at > now,
            (CsatRequest.status == "due")
            | ((CsatRequest.status == "sending") & (CsatRequest.claimed_at < stale)),
        )
        .values(status="sending", claimed_at=now, attempts=CsatRequest.attempts + 1)
    )
    if _rowcount(result) != 1:
        return None
    row = session.get(CsatRequest, request_id)
    assert row is not None
    return Question(
        row.id, row.ticket_id, row.ticket.subject, row.platform, row.chat_id, row.thread
    )


def finish(
    session: Session, request_id: int, now: datetime, error: str | None, retryable: bool
) -> str:
    """Record a send: "asked", "due" again (retry) or "failed"; a withdrawn one stays so."""
    row = session.get(CsatRequest, request_id)
    if row is None or row.status != "sending":
        return row.status if row is not None else "failed"
    if error is None:
        row.status, row.sent_at, row.last_error = "asked", now, None
    else:
        again = retryable and row.attempts < MAX_ATTEMPTS
        row.status = "due" if again else "failed"
        row.last_error = error[:200]
    return row.status


@dataclass(frozen=True)
class Answer:
    """What a press did: "thanks", "already", "expired", "withdrawn", "not_yours", "unknown"."""

    outcome: str
    score: int | None = None
    ticket_id: int | None = None


def answer(
    session: Session, request_id: int, platform: str, presser_id: str, score: int, now: datetime
) -> Answer:
    """A requester's press: one Feedback row per question, whoever presses how often."""
    row = session.get(CsatRequest, request_id)
    if row is None or row.platform != platform:
        return Answer("unknown")
    if row.requester_id != presser_id:
        return Answer("not_yours", ticket_id=row.ticket_id)
    if not 1 <= score <= 5:
        return Answer("unknown")
    if row.status == "answered":
        stored = session.get(Feedback, row.feedback_id) if row.feedback_id else None
        return Answer("already", stored.score if stored else None, row.ticket_id)
    if row.status == "withdrawn":
        return Answer("withdrawn", ticket_id=row.ticket_id)
    if row.status == "expired" or row.expires_at <= now:
        return Answer("expired", ticket_id=row.ticket_id)
    taken = session.execute(
        update(CsatRequest)
        .where(CsatRequest.id == row.id, CsatRequest.status.in_(("asked", "sending")))
        .values(status="answered", answered_at=now)
    )
    if _rowcount(taken) != 1:
        # Another press won the race: it stored the answer.
        return Answer("already", ticket_id=row.ticket_id)
    ticket = row.ticket
    feedback = Feedback(
        customer_id=ticket.customer_id,
        ticket_id=ticket.id,
        kind="csat",
        score=score,
        recorded_by_id=None,
        created_at=now,
    )
    session.add(feedback)
    session.flush()
    row.feedback_id = feedback.id
    audit.record(session, None, "feedback.create", feedback, None, actor_label=f"{platform}:csat")
    return Answer("thanks", score, ticket.id)
