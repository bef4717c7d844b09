"""Outgoing webhooks: admins subscribe a URL to events; each change writes the events it owes.

An event is a WebhookDelivery row written in the same transaction as the change it reports, so
a change that is rolled back sends nothing and one that commits is never forgotten;
schedules/webhooks.py claims and posts the rows.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.context import Ctx
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.models import AuditEntry, Customer, Deal, Role, User, Webhook, WebhookDelivery

# The status of deliveries still owed when their webhook was removed: cancelled, not failed.
DROPPED = "dropped"
# A webhook is paused while its latest pause or resume entry in the audit log is a pause: its
# events are still written (owed) but not posted. `crmbot restore` pauses every webhook so a
# restored copy (a drill) posts nothing to the production receivers until an admin resumes it.
PAUSE, RESUME = "webhook.pause", "webhook.resume"
EVENTS = ("customer.created", "deal.created", "deal.moved", "deal.won", "deal.lost")
MAX_URL = 500


def _admin(ctx: Ctx) -> None:
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.webhook_admin_only")


def check_url(url: str) -> str:
    """An http(s) URL with a host, as a webhook is posted to."""
    url = rules.readable("url", url.strip().strip("<>"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise Invalid("error.webhook_url_invalid", value=url[:80])
    if any(ch.isspace() for ch in url):
        raise Invalid("error.webhook_url_invalid", value=url[:80])
    return url


def check_events(names: list[str]) -> list[str]:
    """Known event names, deduplicated, in the catalogue's order."""
    wanted = {n.strip().lower() for n in names if n.strip()}
    unknown = sorted(wanted - set(EVENTS))
    if unknown or not wanted:
        raise Invalid(
            "error.webhook_events_invalid",
            value=", ".join(unknown) or "-",
            events=", ".join(EVENTS),
        )
    return [e for e in EVENTS if e in wanted]


def add_webhook(ctx: Ctx, url: str, events: list[str]) -> tuple[Webhook, str]:
    """Subscribe `url` to `events` (admins); returns the webhook and its signing secret."""
    _admin(ctx)
    url, chosen = check_url(url), check_events(events)
    secret = "whsec_" + secrets.token_urlsafe(24)
    hook = Webhook(
        url=url,
        events=chosen,
        signing_secret=secret,
        created_by_id=ctx.actor.id,
        created_at=ctx.now(),
    )
    ctx.session.add(hook)
    audit.record(ctx.session, ctx.actor, "webhook.add", hook, None)
    return hook, secret


def remove_webhook(ctx: Ctx, webhook_id: int) -> Webhook:
    """Stop a webhook (admins): nothing more is written for it; what is owed is dropped."""
    _admin(ctx)
    hook = ctx.session.get(Webhook, webhook_id)
    if hook is None or hook.removed_at is not None:
        raise NotFound("error.webhook_not_found", id=webhook_id)
    before = audit.snapshot(hook)
    hook.removed_at = ctx.now()
    for owed in ctx.session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == hook.id, WebhookDelivery.status == "pending"
        )
    ):
        # Not "failed": nothing gave up, the admin cancelled them (the failed gauge alerts).
        owed.status = DROPPED
        owed.claim_token = None
        owed.claimed_until = None
    audit.record(ctx.session, ctx.actor, "webhook.remove", hook, before)
    return hook


def paused_ids(session: Session) -> set[int]:
    """The webhooks paused now (their latest pause or resume entry is a pause)."""
    latest: dict[int, bool] = {}
    for webhook_id, action in session.execute(
        select(AuditEntry.entity_id, AuditEntry.action)
        .where(
            AuditEntry.entity_type == Webhook.__tablename__,
            AuditEntry.action.in_((PAUSE, RESUME)),
        )
        .order_by(AuditEntry.id)
    ):
        latest[int(webhook_id)] = action == PAUSE
    return {webhook_id for webhook_id, paused in latest.items() if paused}


def pause_all(session: Session, *, actor_label: str) -> list[int]:
    """Pause every webhook not removed nor paused yet (after a restore); their ids."""
    paused = paused_ids(session)
    hooks = session.scalars(
        select(Webhook).where(Webhook.removed_at.is_(None)).order_by(Webhook.id)
    ).all()
    out = []
    for hook in hooks:
        if hook.id in paused:
            continue
        audit.record(session, None, PAUSE, hook, None, actor_label=actor_label)
        out.append(hook.id)
    return out


def resume_webhook(ctx: Ctx, webhook_id: int) -> Webhook:
    """Post a paused webhook's events again (admins), the owed ones first, in order."""
    _admin(ctx)
    hook = ctx.session.get(Webhook, webhook_id)
    if hook is None or hook.removed_at is not None:
        raise NotFound("error.webhook_not_found", id=webhook_id)
    if hook.id not in paused_ids(ctx.session):
        raise Invalid("error.webhook_not_paused", id=hook.id)
    audit.record(ctx.session, ctx.actor, RESUME, hook, None)
    return hook


@dataclass(frozen=True)
class WebhookState:
    """A webhook as `webhooks` lists it: what it gets and how its deliveries are going."""

    id: int
    url: str
    events: list[str]
    pending: int
    sent: int
    failed: int
    last_error: str | None
    paused: bool = False


def list_webhooks(ctx: Ctx) -> list[WebhookState]:
    """Active webhooks with their delivery counts and latest failure (admins)."""
    _admin(ctx)
    hooks = ctx.session.scalars(
        select(Webhook).where(Webhook.removed_at.is_(None)).order_by(Webhook.id)
    ).all()
    counts: dict[tuple[int, str], int] = {
        (int(r[0]), str(r[1])): int(r[2])
        for r in ctx.session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.webhook_id.in_([h.id for h in hooks]))
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)
        )
    }
    paused = paused_ids(ctx.session)
    out = []
    for h in hooks:
        last = ctx.session.scalar(
            select(WebhookDelivery.last_error)
            .where(WebhookDelivery.webhook_id == h.id, WebhookDelivery.last_error.is_not(None))
            .order_by(WebhookDelivery.id.desc())
            .limit(1)
        )
        out.append(
            WebhookState(
                h.id,
                h.url,
                list(h.events),
                counts.get((h.id, "pending"), 0),
                counts.get((h.id, "sent"), 0),
                counts.get((h.id, "failed"), 0),
                last,
                h.id in paused,
            )
        )
    return out


def when(value: datetime | None) -> str | None:
    """A time as the REST API writes it: UTC, ISO 8601, `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def emit(
    session: Session,
    event: str,
    data: dict[str, Any],
    *,
    now: datetime,
    actor: User | None = None,
) -> int:
    """Owe `event` to every active webhook that wants it; how many deliveries were written.

    The body: the event id, type, time, `actor` (the handle of who made the change) and `data`
    (the record as the REST API shows it; a move adds `from_stage`)."""
    assert event in EVENTS, event
    hooks = session.scalars(select(Webhook).where(Webhook.removed_at.is_(None))).all()
    written = 0
    for hook in hooks:
        if event not in hook.events:
            continue
        event_id = str(uuid.uuid4())
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event_id=event_id,
                event=event,
                payload={
                    "id": event_id,
                    "type": event,
                    "created_at": when(now),
                    "actor": actor.external_id if actor is not None else None,
                    "data": data,
                },
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        written += 1
    return written


def _handle(session: Session, user_id: int) -> str | None:
    user = session.get(User, user_id)
    return user.external_id if user is not None else None


def customer_data(session: Session, c: Customer) -> dict[str, Any]:
    """A customer as events carry it: as the REST API shows it."""
    return {
        "id": c.id,
        "name": c.name,
        "owner": _handle(session, c.owner_id),
        "industry": c.industry,
        "city": c.city,
        "tags": list(c.tags or []),
        "archived": c.archived_at is not None,
        "merged_into": c.merged_into,
        "custom": dict(sorted((c.custom or {}).items())),
        "created_at": when(c.created_at),
        "updated_at": when(c.updated_at),
    }


def deal_data(session: Session, d: Deal, *, from_stage: str | None = None) -> dict[str, Any]:
    """A deal as events carry it: as the REST API shows it, with the customer's name (a move
    also names the stage it left)."""
    data: dict[str, Any] = {
        "id": d.id,
        "customer_id": d.customer_id,
        "customer": d.customer.name,
        "title": d.title,
        "amount": str(d.amount) if d.amount is not None else None,
        "currency": d.currency,
        "stage": d.stage,
        "owner": _handle(session, d.owner_id),
        "expected_close": d.expected_close.isoformat() if d.expected_close else None,
        "closed_at": when(d.closed_at),
        "lost_reason": d.lost_reason,
        "custom": dict(sorted((d.custom or {}).items())),
        "created_at": when(d.created_at),
        "updated_at": when(d.updated_at),
    }
    if from_stage is not None:
        data["from_stage"] = from_stage
    return data
