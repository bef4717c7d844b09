"""`GET /metrics`: commands by verb and outcome, latency per adapter, queues, deliveries; and the
counts of several worker processes added up in multiprocess mode."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.bootstrap import App
from bot.metrics import Metrics
from crm_core.db import unit_of_work
from crm_core.models import WebhookDelivery
from handlers.notify import Address, DeliveryFailed
from handlers.registry import Verb
from handlers.reply import Reply
from schedules.sla import Owed, SlaSweep
from schedules.webhooks import WebhookDispatcher
from tests.conftest import FakeClock, Receiver, TestBot
from tests.schedules.conftest import FakeNotifier

ROOT = Path(__file__).resolve().parents[2]


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) -> value, parsed by prometheus-client's own parser."""
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value (0 when absent)."""
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int) -> str:
    """GET /metrics from a running server."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        return await resp.text()


def test_console_commands_crashes_and_deliveries(crm_app: App, testbot: TestBot) -> None:
    """The console's commands (the same dispatcher), a crash, and sends that fail are counted."""
    metrics = Metrics(crm_app)

    def broken(_req: object) -> object:
        raise RuntimeError("boom")

    testbot.dispatcher.registry.add(Verb("explode", broken, (), (), writes=False))  # type: ignore[arg-type]
    testbot("alice", "whoami")
    reply = testbot("alice", "explode now")
    assert "reference" in reply.text
    notifier = FakeNotifier("telegram")
    notifier.failures.append(DeliveryFailed("blocked", retryable=False))
    counted = metrics.counted(notifier)
    with pytest.raises(DeliveryFailed):
        asyncio.run(counted.send(Address("telegram", "1"), Reply(text="x")))
    asyncio.run(counted.send(Address("telegram", "1"), Reply(text="y")))
    found = samples(metrics.scrape().decode())
    assert value(found, "crmbot_commands_total", verb="whoami", outcome="ok") == 1
    assert value(found, "crmbot_commands_total", verb="explode", outcome="failed") == 1
    assert value(found, "crmbot_command_seconds_count", adapter="console") == 2
    assert value(found, "crmbot_deliveries_total", platform="telegram", outcome="failed") == 1
    assert value(found, "crmbot_deliveries_total", platform="telegram", outcome="sent") == 1
    metrics.close()
    testbot("alice", "whoami")
    assert (
        value(samples(metrics.scrape().decode()), "crmbot_command_seconds_count", adapter="console")
        == 2
    )


def test_a_command_run_again_after_a_deadlock_is_counted(crm_app: App, testbot: TestBot) -> None:
    """A command whose unit of work the database aborted for a deadlock runs again: one retry
    counted by verb and reason, the command counted once, as answered."""
    metrics = Metrics(crm_app)
    runs: list[int] = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def flaky(_req: object) -> Reply:
        runs.append(1)
        if len(runs) == 1:
            raise OperationalError("UPDATE deals", {}, Deadlock("deadlock detected"))
        return Reply(text="done")

    testbot.dispatcher.registry.add(Verb("flaky", flaky, (), (), writes=True))  # type: ignore[arg-type]
    assert testbot("alice", "flaky").text == "done"
    found = samples(metrics.scrape().decode())
    assert len(runs) == 2
    assert value(found, "crmbot_command_retries_total", verb="flaky", reason="deadlock") == 1
    assert value(found, "crmbot_commands_total", verb="flaky", outcome="ok") == 1
    metrics.close()


WORKER = textwrap.dedent(
    """
    import sys
    from bot.bootstrap import build
    from bot.metrics import Metrics
    from crm_core.settings import Settings
    from handlers.reply import Command

    app = build(Settings(_env_file=None), database_url=sys.argv[1])
    metrics = Metrics(app)
    for text in sys.argv[3:]:
        app.dispatcher.dispatch(Command(1, sys.argv[2], text=text))
    if sys.argv[2] == "scrape":
        sys.stdout.write(metrics.scrape().decode())
    """
)


def test_several_worker_processes_are_added_up(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, one worker's /metrics shows every worker's commands."""
    from crm_core.db import make_engine, make_session_factory, upgrade
    from crm_core.services.users import add_user

    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "alice", "Alice", role="rep", team="East")
    engine.dispose()
    shared = tmp_path / "prom"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "PYTHONPATH": str(ROOT)}

    def worker(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", WORKER, url, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    worker("slack", "help", "help")
    worker("telegram", "help")
    found = samples(worker("scrape"))
    assert value(found, "crmbot_commands_total", verb="help", outcome="ok") == 3
    assert value(found, "crmbot_command_seconds_count", adapter="slack") == 2
    assert value(found, "crmbot_command_seconds_count", adapter="telegram") == 1
    assert value(found, "crmbot_note_outbox_depth") == 0


async def test_webhook_outbox_failures_and_sla_notices_are_scraped(
    crm_app: App, testbot: TestBot, clock: FakeClock, receiver: Receiver
) -> None:
    """Webhook events waiting, retried and given up, and SLA warnings and breaches sent or
    failed, as /metrics shows them after each was caused."""
    metrics = Metrics(crm_app)

    def scraped() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        return samples(metrics.scrape().decode())

    found = scraped()
    assert value(found, "crmbot_deliveries_pending", kind="webhook") == 0
    assert value(found, "crmbot_webhook_failed_attempts_total") == 0
    assert value(found, "crmbot_sla_notices_total", kind="response_warn", outcome="sent") == 0
    assert value(found, "crmbot_sla_breaching_tickets") == 0

    assert testbot("admin", f"webhook add {receiver.url} events customer.created").status != (
        "error"
    )
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Globex")
    assert value(scraped(), "crmbot_deliveries_pending", kind="webhook") == 2
    dispatcher = WebhookDispatcher(
        testbot.session_factory, clock=clock, timeout=0.5, backoff=(timedelta(seconds=5),)
    )
    receiver.mode = "fail"
    # One webhook's events go in order: Globex waits behind Acme, untried.
    assert (await dispatcher.run_once()).retried == 1
    found = scraped()
    assert value(found, "crmbot_deliveries_pending", kind="webhook") == 2
    assert value(found, "crmbot_webhook_deliveries_retrying") == 1
    assert value(found, "crmbot_webhook_failed_attempts_total") == 1
    clock.advance(seconds=6)
    assert (await dispatcher.run_once()).failed == 1  # Acme is given up
    assert (await dispatcher.run_once()).retried == 1  # then Globex goes
    clock.advance(seconds=6)
    assert (await dispatcher.run_once()).failed == 1
    found = scraped()
    assert value(found, "crmbot_deliveries_pending", kind="webhook") == 0
    assert value(found, "crmbot_deliveries_failed", kind="webhook") == 2
    assert value(found, "crmbot_webhook_failed_attempts_total") == 4
    receiver.mode = "ok"
    testbot("alice", "new customer Initech")
    assert (await dispatcher.run_once()).sent == 1
    found = scraped()
    assert value(found, "crmbot_webhook_failed_attempts_total") == 4
    assert value(found, "crmbot_deliveries_failed", kind="webhook") == 2

    # Monday 15:00 UTC, urgent: the first response is due at 16:00.
    testbot("alice", "ticket Acme: printer jams, priority urgent, assign @alice")
    managers = {f"user:{testbot.users['bob']}"}

    async def send(owed: Owed) -> None:
        # The manager's copy of the breach cannot be delivered (and is not retried).
        if owed.target in managers:
            raise DeliveryFailed("blocked", retryable=False)

    sweep = SlaSweep(testbot.session_factory, send, clock=clock)
    clock.advance(minutes=45)
    assert (await sweep.run_once()).sent == 1
    found = scraped()
    assert value(found, "crmbot_sla_notices_total", kind="response_warn", outcome="sent") == 1
    assert value(found, "crmbot_sla_breaching_tickets") == 0
    clock.advance(minutes=20)
    stats = await sweep.run_once()
    assert (stats.sent, stats.failed) == (1, 1)
    found = scraped()
    assert value(found, "crmbot_sla_notices_total", kind="response_warn", outcome="sent") == 1
    assert value(found, "crmbot_sla_notices_total", kind="response_breach", outcome="sent") == 1
    assert value(found, "crmbot_sla_notices_total", kind="response_breach", outcome="failed") == 1
    assert value(found, "crmbot_deliveries_failed", kind="sla_notice") == 1
    assert value(found, "crmbot_deliveries_pending", kind="sla_notice") == 0
    assert value(found, "crmbot_sla_breaching_tickets") == 1
    testbot("alice", "resolve #1: replaced the roller")
    assert value(scraped(), "crmbot_sla_breaching_tickets") == 0
    metrics.close()


def test_outbox_depth_and_index_lag_count_only_rows_not_indexed_yet(
    crm_app: App, clock: FakeClock
) -> None:
    """Indexed outbox rows are kept a while after indexing: they are neither depth nor lag."""
    from crm_core.models import IndexOutbox

    metrics = Metrics(crm_app)
    now = clock()
    with unit_of_work(crm_app.session_factory) as s:
        # Old and done (kept for KEEP_DONE), then one waiting for 30 s.
        for i in range(3):
            s.add(
                IndexOutbox(
                    interaction_id=100 + i,
                    created_at=now - timedelta(hours=5),
                    indexed_at=now - timedelta(hours=4),
                )
            )
        s.add(IndexOutbox(interaction_id=200, created_at=now - timedelta(seconds=30)))
    found = samples(metrics.scrape().decode())
    assert value(found, "crmbot_note_outbox_depth") == 1
    assert value(found, "crmbot_index_lag_seconds") == 30
    with unit_of_work(crm_app.session_factory) as s:
        s.query(IndexOutbox).filter(IndexOutbox.indexed_at.is_(None)).update({"indexed_at": now})
    found = samples(metrics.scrape().decode())
    assert value(found, "crmbot_note_outbox_depth") == 0
    assert value(found, "crmbot_index_lag_seconds") == 0
    metrics.close()


async def test_removing_a_webhook_drops_its_owed_events_without_counting_failures(
    crm_app: App, testbot: TestBot, clock: FakeClock, receiver: Receiver
) -> None:
    """`webhook remove` cancels what is still owed: no longer pending, and not "gave up" in
    crmbot_deliveries_failed (an alert on that gauge must not fire for an ordinary removal)."""
    metrics = Metrics(crm_app)
    testbot("admin", f"webhook add {receiver.url} events customer.created")
    receiver.mode = "fail"
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Globex")
    dispatcher = WebhookDispatcher(testbot.session_factory, clock=clock, timeout=0.5)
    assert (await dispatcher.run_once()).retried == 1
    assert testbot("admin", "webhook remove #1").status != "error"
    found = samples(metrics.scrape().decode())
    assert value(found, "crmbot_deliveries_pending", kind="webhook") == 0
    assert value(found, "crmbot_deliveries_failed", kind="webhook") == 0
    assert value(found, "crmbot_webhook_deliveries_retrying") == 0
    assert testbot.rows(select(WebhookDelivery.status)) == [("dropped",), ("dropped",)]
    clock.advance(hours=1)
    assert (await dispatcher.run_once()).sent == 0
    assert len(receiver.got) == 1
