"""The SLA sweep: 75 % warnings to the assignee, breach notices to the assignee and the team's
triage channel, and unassigned tickets to triage, each exactly once.

Each notice is a `ticket_alerts` row (unique on ticket, kind and target) inserted in its own
commit before the send, like the reminders' claims: two workers never send the same notice.
The row is marked sent (or retry/failed) right after the send. A worker killed between claim
and finish leaves the row "sending"; after the lease another worker takes it again (at least
once for that one window, as with reminders: a breach nobody hears of is worse than two pings).
The ticket's `next_alert_at` only moves past an alert once its row is finished, so a restart
never drops one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from crm_core.business_calendar import BusinessCalendar
from crm_core.db import unit_of_work
from crm_core.models import (
    Role,
    ServiceCalendar,
    Ticket,
    TicketAlert,
    TicketStatus,
    User,
    utcnow,
)
from crm_core.services.tickets import alert_moments, calendar_for, policies_for
from crm_core.sla import Policy
from schedules import sendlog

log = logging.getLogger(__name__)

BATCH = 500
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)
# Who hears of what: "assignee" is the assignee (the triage channel when there is none).
AUDIENCE: dict[str, tuple[str, ...]] = {
    "unassigned": ("triage",),
    "response_warn": ("assignee",),
    "resolution_warn": ("assignee",),
    "response_breach": ("assignee", "triage"),
    "resolution_breach": ("assignee", "triage"),
}


@dataclass(frozen=True)
class Owed:
    """One notice to send: a ticket, what happened, to whom ("user:12" or "slack:C0123")."""

    ticket_id: int
    kind: str
    target: str
    # A worker claimed it before and vanished: it may have gone out already.
    resent: bool = False


# Sends one notice, or raises (an exception with `retryable = False` is not retried).
Send = Callable[[Owed], Awaitable[object]]


@dataclass
class SweepStats:
    """What one run of the sweep did."""

    tickets: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    owed: list[Owed] = field(default_factory=list)


class SlaSweep:
    """Finds tickets whose next alert is due and sends what they owe; safe in many processes."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: Send,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
        lease: timedelta = LEASE,
    ) -> None:
        self.session_factory = session_factory
        self.send = send
        self.clock = clock
        self.batch = batch
        self.lease = lease

    def due_ticket_ids(self) -> list[int]:
        """Active tickets whose earliest pending alert has come (one indexed range read)."""
        now = self.clock()
        with self.session_factory() as s:
            return list(
                s.scalars(
                    select(Ticket.id)
                    .where(Ticket.next_alert_at <= now)
                    .order_by(Ticket.next_alert_at)
                    .limit(self.batch)
                )
            )

    def _targets(self, s: Session, ticket: Ticket, who: str, triage: str | None) -> list[str]:
        if who == "assignee" and ticket.assignee_id is not None:
            return [f"user:{ticket.assignee_id}"]
        # Nobody to ping: the warning goes where unassigned tickets go.
        if triage is not None:
            return [triage]
        # No triage channel: the team's managers hear of it directly, never nobody.
        managers = s.scalars(
            select(User.id).where(
                User.team_id == ticket.team_id, User.role == Role.manager, User.active
            )
        ).all()
        return [f"user:{m}" for m in managers]

    def plan(self, ticket_ids: list[int]) -> list[tuple[int, list[Owed], list[datetime]]]:
        """Per ticket: the notices owed now and the moments of those still to come."""
        now = self.clock()
        out: list[tuple[int, list[Owed], list[datetime]]] = []
        with self.session_factory() as s:
            tickets = s.scalars(
                select(Ticket).where(Ticket.id.in_(ticket_ids)).options(selectinload(Ticket.events))
            ).all()
            calendars: dict[int | None, BusinessCalendar] = {}
            policies: dict[int | None, dict[str, Policy]] = {}
            triage: dict[int | None, str | None] = {}
            for ticket in tickets:
                if ticket.team_id not in calendars:
                    calendars[ticket.team_id] = calendar_for(s, ticket.team_id)
                    policies[ticket.team_id] = policies_for(s, ticket.team_id)
                    row = s.get(ServiceCalendar, ticket.team_id) if ticket.team_id else None
                    triage[ticket.team_id] = row.triage_target if row else None
                moments = alert_moments(calendars[ticket.team_id], ticket, policies[ticket.team_id])
                owed = list(
                    dict.fromkeys(
                        Owed(ticket.id, kind, target)
                        for kind, at in moments.items()
                        if at <= now
                        for who in AUDIENCE[kind]
                        for target in self._targets(s, ticket, who, triage[ticket.team_id])
                    )
                )
                later = [at for at in moments.values() if at > now]
                out.append((ticket.id, owed, later))
        return out

    def _key(self, owed: Owed) -> dict[str, object]:
        return {"ticket_id": owed.ticket_id, "kind": owed.kind, "target": owed.target}

    def claim(self, owed: Owed) -> Owed | None:
        """Take one notice: insert its row, or retake a retry or an abandoned claim."""
        # An abandoned claim is retaken however often it was tried: a breach notice is never
        # dropped because its workers died; the resent notice says it may be a repeat.
        taken = sendlog.claim(
            self.session_factory,
            TicketAlert,
            self._key(owed),
            self.clock(),
            lease=self.lease,
            cap_stale=False,
        )
        if taken is None:
            return None
        return Owed(owed.ticket_id, owed.kind, owed.target, resent=taken == "stale")

    def finish(self, owed: Owed, exc: BaseException | None) -> str:
        """Record a claimed notice's outcome: "sent", "retry" or "failed"."""
        return sendlog.finish(self.session_factory, TicketAlert, self._key(owed), self.clock(), exc)

    def reschedule(self, ticket_id: int, owed: list[Owed], later: list[datetime]) -> None:
        """Move the ticket's next alert on: past what is finished, not past what is still owed."""
        now = self.clock()
        with unit_of_work(self.session_factory) as s:
            moments = list(later)
            if owed:
                rows = s.scalars(
                    select(TicketAlert).where(TicketAlert.ticket_id == ticket_id)
                ).all()
                state = {(r.kind, r.target): r for r in rows}
                for o in owed:
                    row = state.get((o.kind, o.target))
                    if row is None:
                        moments.append(now)
                    elif row.status == "retry" and row.attempts < sendlog.MAX_ATTEMPTS:
                        moments.append(now + RETRY_AFTER)
                    elif row.status == "sending":
                        # Another worker is sending it; if it dies, retake after the lease.
                        moments.append(row.claimed_at + self.lease)
            s.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id, Ticket.status.in_((TicketStatus.new, TicketStatus.open))
                )
                .values(next_alert_at=min(moments) if moments else None)
            )

    async def run_once(self) -> SweepStats:
        """One pass: find due tickets, claim and send each owed notice, move their clocks on."""
        stats = SweepStats()
        ids = await asyncio.to_thread(self.due_ticket_ids)
        if not ids:
            return stats
        for ticket_id, owed, later in await asyncio.to_thread(self.plan, ids):
            stats.tickets += 1
            for item in owed:
                claimed = await asyncio.to_thread(self.claim, item)
                if claimed is None:
                    stats.skipped += 1
                    continue
                error: BaseException | None = None
                try:
                    await self.send(claimed)
                except Exception as exc:
                    error = exc
                    log.warning(
                        "SLA notice %s for ticket %s failed: %s",
                        item.kind,
                        item.ticket_id,
                        type(exc).__name__,
                    )
                outcome = await asyncio.to_thread(self.finish, claimed, error)
                if outcome == "sent":
                    stats.sent += 1
                    stats.owed.append(claimed)
                else:
                    stats.failed += 1
            await asyncio.to_thread(self.reschedule, ticket_id, owed, later)
        return stats
