"""`GET /metrics` in Prometheus' text format: commands, latency, queues, index lag, deliveries.

Counts and latencies are kept in the process that saw them (prometheus-client); with
PROMETHEUS_MULTIPROC_DIR set (several `crmbot serve` workers), each worker writes them to that
folder and any worker's /metrics adds up all of them. Queue depths, the index lag and the
deliveries waiting or failed are read from the database when scraped, so every worker answers
the same. Only names, counts and times: no note text, no customer, no token.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as render
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import App
from crm_core.models import (
    BackupLog,
    CampaignNotice,
    CarePing,
    ChannelAlert,
    DigestLog,
    IndexOutbox,
    OwnerNotice,
    Reminder,
    ReminderStatus,
    Ticket,
    TicketAlert,
    TicketStatus,
    TierChange,
    WebhookDelivery,
    WeeklyReportLog,
    utcnow,
)
from handlers.notify import Address, DeliveryFailed, Notifier
from handlers.reply import Reply

log = logging.getLogger(__name__)

# Seconds: a command answers in milliseconds; `ask` with a language model may take several.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Send logs whose rows wait ("pending", "sending", "retry") or gave up ("failed").
SEND_LOGS: dict[str, Any] = {
    "digest": DigestLog,
    "weekly_report": WeeklyReportLog,
    "channel_alert": ChannelAlert,
    "owner_notice": OwnerNotice,
    "backup": BackupLog,
    "tier_change": TierChange,
    "care_ping": CarePing,
    "campaign_notice": CampaignNotice,
}
WAITING = ("pending", "sending", "retry")
# SLA notices by kind: the 75 % warnings, the breaches, and unassigned tickets sent to triage.
SLA_KINDS = (
    "response_warn",
    "resolution_warn",
    "response_breach",
    "resolution_breach",
    "unassigned",
)


def multiprocess_dir() -> str | None:
    """The folder several workers share their counts in, when configured."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class QueueCollector(Collector):
    """Reads the queues from the database at each scrape."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        """The gauges, as of now."""
        now = self.clock()
        outbox = GaugeMetricFamily(
            "crmbot_note_outbox_depth", "Note changes waiting to be indexed (the outbox)."
        )
        lag = GaugeMetricFamily(
            "crmbot_index_lag_seconds", "Age of the oldest note change not indexed yet (0: none)."
        )
        due = GaugeMetricFamily(
            "crmbot_reminders_due", "Reminders whose time has come and that are not sent yet."
        )
        pending = GaugeMetricFamily(
            "crmbot_deliveries_pending",
            "Scheduled sends claimed or waiting for a retry, by kind.",
            labels=["kind"],
        )
        failed = GaugeMetricFamily(
            "crmbot_deliveries_failed",
            "Scheduled sends that gave up after their last try, by kind.",
            labels=["kind"],
        )
        with self.session_factory() as s:
            depth, oldest = s.execute(
                # Indexed rows stay a while (the indexer's KEEP_DONE): only those waiting count.
                select(func.count(), func.min(IndexOutbox.created_at))
                .select_from(IndexOutbox)
                .where(IndexOutbox.indexed_at.is_(None))
            ).one()
            outbox.add_metric([], float(depth or 0))
            lag.add_metric([], _age(now, oldest))
            due.add_metric(
                [],
                float(
                    s.scalar(
                        select(func.count())
                        .select_from(Reminder)
                        .where(Reminder.status == ReminderStatus.pending, Reminder.due_at <= now)
                    )
                    or 0
                ),
            )
            failed.add_metric(
                ["reminder"],
                float(
                    s.scalar(
                        select(func.count())
                        .select_from(Reminder)
                        .where(Reminder.status == ReminderStatus.failed)
                    )
                    or 0
                ),
            )
            for kind, model in SEND_LOGS.items():
                counts: dict[str, int] = dict(
                    s.execute(select(model.status, func.count()).group_by(model.status)).all()
                )
                pending.add_metric([kind], float(sum(counts.get(w, 0) for w in WAITING)))
                failed.add_metric([kind], float(counts.get("failed", 0)))
            extra = self._webhooks(s, pending, failed) + self._sla(s, now, pending, failed)
        return [outbox, lag, due, pending, failed, *extra]

    def _webhooks(
        self, s: Session, pending: GaugeMetricFamily, failed: GaugeMetricFamily
    ) -> list[Metric]:
        """The webhook outbox: events waiting (retries included), given up, failed attempts."""
        rows = s.execute(
            select(
                WebhookDelivery.status,
                func.count(),
                func.sum(WebhookDelivery.attempts),
                func.count(WebhookDelivery.claim_token),
                func.count(WebhookDelivery.last_error),
            ).group_by(WebhookDelivery.status)
        ).all()
        by_status = {str(r[0]): r for r in rows}

        def of(status: str, column: int) -> int:
            row = by_status.get(status)
            return int(row[column] or 0) if row is not None else 0

        pending.add_metric(["webhook"], float(of("pending", 1)))
        failed.add_metric(["webhook"], float(of("failed", 1)))
        retrying = GaugeMetricFamily(
            "crmbot_webhook_deliveries_retrying",
            "Webhook events waiting for another try after a failed one.",
        )
        retrying.add_metric([], float(of("pending", 4)))
        # Every attempt made, less the one that succeeded on each sent event and those posting
        # right now (claimed, no outcome yet): the attempts that failed, retries included.
        made = sum(int(r[2] or 0) for r in rows)
        in_flight = sum(int(r[3] or 0) for r in rows)
        attempts = CounterMetricFamily(
            "crmbot_webhook_failed_attempts",
            "Webhook posts that failed (an HTTP error status, a timeout, no connection).",
        )
        attempts.add_metric([], float(max(0, made - of("sent", 1) - in_flight)))
        return [retrying, attempts]

    def _sla(
        self, s: Session, now: datetime, pending: GaugeMetricFamily, failed: GaugeMetricFamily
    ) -> list[Metric]:
        """SLA notices sent and failed by kind, and the tickets past a due time now."""
        counts: dict[tuple[str, str], int] = {
            (str(kind), str(status)): int(n)
            for kind, status, n in s.execute(
                select(TicketAlert.kind, TicketAlert.status, func.count()).group_by(
                    TicketAlert.kind, TicketAlert.status
                )
            ).all()
        }
        notices = CounterMetricFamily(
            "crmbot_sla_notices",
            "SLA notices by kind (response_warn and resolution_warn: near-breach warnings; "
            "response_breach and resolution_breach: breaches; unassigned) and outcome.",
            labels=["kind", "outcome"],
        )
        for kind in SLA_KINDS:
            for outcome in ("sent", "failed"):
                notices.add_metric([kind, outcome], float(counts.get((kind, outcome), 0)))
        pending.add_metric(
            ["sla_notice"],
            float(sum(n for (_, status), n in counts.items() if status in WAITING)),
        )
        failed.add_metric(
            ["sla_notice"], float(sum(n for (_, status), n in counts.items() if status == "failed"))
        )
        breaching = GaugeMetricFamily(
            "crmbot_sla_breaching_tickets",
            "Open tickets past a response or resolution due time (the `tickets breaching` list).",
        )
        # queue_at is the soonest running due time (one indexed range read).
        breaching.add_metric(
            [],
            float(
                s.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(
                        Ticket.queue_at <= now,
                        Ticket.status.in_((TicketStatus.new, TicketStatus.open)),
                    )
                )
                or 0
            ),
        )
        return [notices, breaching]


def _age(now: datetime, oldest: datetime | None) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


class Metrics:
    """The counters of one process and the /metrics route that shows them (with the queues)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "crmbot_commands",
            "Commands dispatched, by verb and outcome (ok, info, error, duplicate, failed).",
            ["verb", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crmbot_command_seconds",
            "Time from a command reaching the dispatcher to its reply, by adapter.",
            ["adapter"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "crmbot_command_retries",
            "Commands whose unit of work ran again after a deadlock or serialization failure "
            "with another transaction, by verb and reason.",
            ["verb", "reason"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "crmbot_deliveries",
            "Messages nobody asked for (reminders, digests, alerts) sent or failed, by platform.",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.api_calls = Counter(
            "crmbot_api_calls",
            "REST API calls answered, by route (the OpenAPI operationId; `unmatched` for no "
            "route) and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        # The dispatcher's clock: what is due or breaching is judged by the time commands see.
        self.queues = QueueCollector(app.session_factory, app.dispatcher.clock)
        self.registry.register(self.queues)
        app.dispatcher.observers.append(self)

    def command_done(self, platform: str, verb: str, outcome: str, seconds: float) -> None:
        """The dispatcher's observer hook."""
        self.commands.labels(verb=verb, outcome=outcome).inc()
        self.latency.labels(adapter=platform).observe(seconds)

    def command_retried(self, platform: str, verb: str, reason: str) -> None:
        """The dispatcher's observer hook for a unit of work run again."""
        self.retries.labels(verb=verb, reason=reason).inc()

    def api_call(self, route: str, status: int) -> None:
        """One REST API call answered."""
        self.api_calls.labels(route=route, status=str(status)).inc()

    def counted(self, notifier: Notifier) -> Notifier:
        """The notifier, counting what it sends and what fails."""
        return CountingNotifier(notifier, self)

    def scrape(self) -> bytes:
        """The text exposition: this process's counts, or every worker's in multiprocess mode."""
        folder = multiprocess_dir()
        if folder is None:
            return render(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        registry.register(self.queues)
        return render(registry)

    async def handle(self, request: web.Request) -> web.Response:
        """GET /metrics (the queries run off the event loop)."""
        body = await asyncio.to_thread(self.scrape)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def close(self) -> None:
        """Stop observing the dispatcher (a test may build several runtimes on one app)."""
        if self in self.app.dispatcher.observers:
            self.app.dispatcher.observers.remove(self)


class CountingNotifier:
    """A notifier that counts its sends by platform and outcome, then does what it wraps."""

    def __init__(self, inner: Notifier, metrics: Metrics) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.metrics = metrics

    async def send(self, address: Address, reply: Reply) -> str:
        """Send, counting the outcome."""
        try:
            sent = await self.inner.send(address, reply)
        except DeliveryFailed:
            self.metrics.deliveries.labels(platform=self.platform, outcome="failed").inc()
            raise
        self.metrics.deliveries.labels(platform=self.platform, outcome="sent").inc()
        return sent


def lines(body: bytes) -> Iterator[str]:
    """The sample lines of an exposition (no comments)."""
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            yield line
