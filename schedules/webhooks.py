"""Posting owed webhook events: claim, sign, post, mark sent; retry with backoff.

Like the reminders: a claim is a token and a lease written in one short transaction, so two
workers never post the same delivery at once. A worker killed mid-post leaves its claim to
expire and another posts again: delivery is at least once, and every retry carries the same
event id (`X-Crmbot-Event-Id`, and `id` in the body) so a receiver can drop repeats.

Order: one webhook's events are posted one at a time, in event order (the deliveries' ids, as
the changes wrote them). A claim takes only the unbroken run of a webhook's oldest pending
deliveries, so an event waiting for a retry (or held by another worker) holds back every later
event of that webhook until it is sent or given up. Different webhooks are posted at once.
PostgreSQL: the claim locks the webhook row (FOR NO KEY UPDATE SKIP LOCKED), so two workers
never split one webhook's run; SQLite: a claim that raced another one takes nothing.

Signature: `X-Crmbot-Signature: sha256=HEX`, HEX = HMAC-SHA256(secret, f"{timestamp}." + body),
with the Unix timestamp in `X-Crmbot-Timestamp`; a receiver refuses old timestamps (replays).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import on_postgres, unit_of_work
from crm_core.models import Webhook, WebhookDelivery, utcnow
from crm_core.services.webhooks import paused_ids

log = logging.getLogger(__name__)

# The most deliveries of one webhook a claim takes (posted one after another).
BATCH = 20
LEASE = timedelta(minutes=2)
# After the first failure: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, then given up (~10 h).
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
TIMEOUT = 10.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Crmbot-Signature` value of a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Owed:
    """A claimed delivery, with what is needed to post it."""

    id: int
    event_id: str
    event: str
    url: str
    secret: str
    body: bytes
    attempt: int
    token: str
    webhook_id: int = 0
    # When the claim's lease ends: a post that could outlast it is left to the next claim.
    claimed_until: datetime | None = None


class PostFailed(Exception):
    """The receiver did not take the event: an HTTP status or a connection error's name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# (url, body, headers, timeout seconds) -> None, or PostFailed.
Post = Callable[[str, bytes, dict[str, str], float], Awaitable[None]]


async def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    """POST with aiohttp; a 2xx is success, anything else raises PostFailed."""
    import aiohttp

    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            http.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            if not 200 <= resp.status < 300:
                raise PostFailed(f"HTTP {resp.status}")
    except TimeoutError:
        raise PostFailed("timeout") from None
    except aiohttp.ClientError as exc:
        raise PostFailed(type(exc).__name__) from None


@dataclass
class RunStats:
    """What one run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    event_ids: list[str] = field(default_factory=list)


class _Raced(Exception):
    """A claim found part of its run taken by another worker (rolled back, retried later)."""


class WebhookDispatcher:
    """Claims owed deliveries and posts them; safe to run in every worker."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        post: Post = http_post,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        backoff: tuple[timedelta, ...] = BACKOFF,
        timeout: float = TIMEOUT,
    ) -> None:
        self.session_factory = session_factory
        self.post = post
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.backoff = backoff
        self.timeout = timeout

    @property
    def max_attempts(self) -> int:
        """Attempts before a delivery is given up."""
        return len(self.backoff) + 1

    def _runs(self, s: Session, hook_ids: list[int], now: datetime) -> list[int]:
        """Of each webhook, the ids of its oldest pending deliveries that are due and free,
        up to the first that is not (waiting for a retry or held by another claim)."""
        rank = (
            func.row_number()
            .over(partition_by=WebhookDelivery.webhook_id, order_by=WebhookDelivery.id)
            .label("rank")
        )
        ranked = (
            select(
                WebhookDelivery.id,
                WebhookDelivery.webhook_id,
                WebhookDelivery.next_attempt_at,
                WebhookDelivery.claimed_until,
                rank,
            )
            .where(WebhookDelivery.status == "pending", WebhookDelivery.webhook_id.in_(hook_ids))
            .subquery()
        )
        rows = s.execute(
            select(
                ranked.c.id, ranked.c.webhook_id, ranked.c.next_attempt_at, ranked.c.claimed_until
            )
            .where(ranked.c.rank <= self.batch)
            .order_by(ranked.c.webhook_id, ranked.c.rank)
        ).all()
        take: list[int] = []
        for _, run in groupby(rows, key=lambda r: r.webhook_id):
            for row in run:
                held = row.claimed_until is not None and row.claimed_until >= now
                if row.next_attempt_at > now or held:
                    break
                take.append(int(row.id))
        return take

    def claim(self) -> list[Owed]:
        """Claim, for each webhook with something due, the run of deliveries it may get now."""
        now = self.clock()
        unclaimed = or_(
            WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now
        )
        due = (
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            unclaimed,
        )
        with unit_of_work(self.session_factory) as s:
            hooks = select(WebhookDelivery.webhook_id).where(*due).distinct()
            # A paused webhook (a restored copy's, until an admin resumes it) keeps its events.
            paused = paused_ids(s)
            hook_ids = [h for h in s.scalars(hooks) if h not in paused]
            if not hook_ids:
                return []
            if on_postgres(self.session_factory):
                # One worker at a time reads and claims a webhook's run. NO KEY UPDATE: the
                # changes writing new deliveries (a KEY SHARE on the webhook) are not skipped.
                locked = (
                    select(Webhook.id)
                    .where(Webhook.id.in_(hook_ids))
                    .with_for_update(skip_locked=True, key_share=True)
                )
                hook_ids = list(s.scalars(locked))
            ids = self._runs(s, hook_ids, now)
            if not ids:
                return []
            token = secrets.token_hex(16)
            taken = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids), *due)
                .values(
                    claim_token=token,
                    claimed_until=now + self.lease,
                    attempts=WebhookDelivery.attempts + 1,
                ),
                execution_options={"synchronize_session": False},
            )
            if int(getattr(taken, "rowcount", 0) or 0) != len(ids):
                # Another worker claimed part of a run meanwhile: what is left could overtake
                # what it holds, so take nothing (this rolls back) and let the next run look.
                raise _Raced
            rows = s.execute(
                select(WebhookDelivery, Webhook.url, Webhook.signing_secret)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.claim_token == token)
                .order_by(WebhookDelivery.webhook_id, WebhookDelivery.id)
            ).all()
            return [
                Owed(
                    d.id,
                    d.event_id,
                    d.event,
                    url,
                    secret,
                    json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode(),
                    d.attempts,
                    token,
                    d.webhook_id,
                    d.claimed_until,
                )
                for d, url, secret in rows
            ]

    def _finish(self, owed: Owed, values: dict[str, Any]) -> bool:
        with unit_of_work(self.session_factory) as s:
            result = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == owed.id, WebhookDelivery.claim_token == owed.token)
                .values(claim_token=None, claimed_until=None, **values),
                execution_options={"synchronize_session": False},
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def mark_sent(self, owed: Owed) -> bool:
        """Record a delivery; False if the claim was lost (the lease ran out)."""
        return self._finish(owed, {"status": "sent", "sent_at": self.clock(), "last_error": None})

    def mark_failed(self, owed: Owed, reason: str) -> str:
        """Record a failed attempt: "retry" (with backoff), "failed" (given up) or "lost"."""
        final = owed.attempt >= self.max_attempts
        values: dict[str, Any] = {"last_error": reason[:200]}
        if final:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = self.clock() + self.backoff[owed.attempt - 1]
        if not self._finish(owed, values):
            return "lost"
        return "failed" if final else "retry"

    def headers(self, owed: Owed) -> dict[str, str]:
        """The headers of one post: type, event id, timestamp and signature."""
        stamp = int(self.clock().timestamp())
        return {
            "Content-Type": "application/json",
            "User-Agent": "crmbot-webhooks/1",
            "X-Crmbot-Event": owed.event,
            "X-Crmbot-Event-Id": owed.event_id,
            "X-Crmbot-Timestamp": str(stamp),
            "X-Crmbot-Signature": signature(owed.secret, stamp, owed.body),
        }

    def release(self, owed: Owed) -> bool:
        """Give back a claimed delivery that was not posted (its attempt is not counted)."""
        return self._finish(owed, {"attempts": WebhookDelivery.attempts - 1})

    def _claim(self) -> list[Owed]:
        try:
            return self.claim()
        except _Raced:
            return []

    async def run_once(self, max_batches: int = 10) -> RunStats:
        """Claim and post runs until nothing is due (or `max_batches`): each webhook's in
        order, one at a time, stopping at its first failure; the webhooks side by side."""
        stats = RunStats()
        for _ in range(max_batches):
            claimed = await asyncio.to_thread(self._claim)
            if not claimed:
                break
            runs = [list(run) for _, run in groupby(claimed, key=lambda o: o.webhook_id)]
            done = await asyncio.gather(*(self._post_run(run, stats) for run in runs))
            # Another round only for a webhook that had more owed than one claim takes.
            if not any(ok and len(run) == self.batch for ok, run in zip(done, runs, strict=True)):
                break
        return stats

    async def _post_run(self, run: list[Owed], stats: RunStats) -> bool:
        """Post one webhook's run in order; True when every one of them was delivered."""
        for n, owed in enumerate(run):
            lease_ends = owed.claimed_until
            late = lease_ends is not None and (
                self.clock() + timedelta(seconds=self.timeout) > lease_ends
            )
            if late or not await self._post_one(owed, stats):
                # Later events must not overtake this one: give them back untried.
                for rest in run[n if late else n + 1 :]:
                    await asyncio.to_thread(self.release, rest)
                return False
        return True

    async def _post_one(self, owed: Owed, stats: RunStats) -> bool:
        """Post one delivery and record the outcome; True when the receiver took it."""
        try:
            await self.post(owed.url, owed.body, self.headers(owed), self.timeout)
        except Exception as exc:
            reason = exc.reason if isinstance(exc, PostFailed) else type(exc).__name__
            outcome = await asyncio.to_thread(self.mark_failed, owed, reason)
            # The delivery id and reason only: the URL may carry a key, the body customer data.
            log.warning(
                "webhook delivery %s attempt %s failed (%s): %s",
                owed.id,
                owed.attempt,
                outcome,
                reason,
            )
            if outcome == "retry":
                stats.retried += 1
            elif outcome == "failed":
                stats.failed += 1
            else:
                stats.lost += 1
            return False
        if await asyncio.to_thread(self.mark_sent, owed):
            stats.sent += 1
            stats.event_ids.append(owed.event_id)
            return True
        # The lease ran out and another worker holds the run now: leave the rest to it.
        stats.lost += 1
        return False
