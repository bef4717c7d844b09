"""`crmbot serve`: planning components, the shared HTTP server and its health check."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
import pytest
from sqlalchemy import select

from bot import serve as serve_mod
from bot.bootstrap import App
from bot.runtime import Runtime, ServeError
from bot.scheduling import scheduler_component
from bot.serve import describe, plan, run_until
from crm_core.models import Reminder, ReminderStatus, TicketAlert
from tests.conftest import FakeClock, TestBot


class Recorder:
    """A component that records its lifecycle and adds one route."""

    def __init__(self, runtime: Runtime, events: list[str]) -> None:
        self.name = "probe"
        self.events = events
        runtime.web.router.add_get("/probe", self._probe)

    async def _probe(self, request: object) -> aiohttp.web.Response:
        return aiohttp.web.Response(text="probe")

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


def test_no_platform_token_still_plans_the_api_scheduler_and_indexer(crm_app: App) -> None:
    """With no platform token, serve runs its HTTP server (with the REST API), the scheduler
    and the indexer."""
    assert plan(crm_app) == ["api", "scheduler", "indexer"]


async def test_no_platform_token_serves_health_and_metrics_and_says_so(crm_app: App) -> None:
    """The background components start, /healthz and /metrics answer, and the line printed at
    start names them and how to add a chat platform."""
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(crm_app, (), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 30)
    assert runtime.serving == ["api", "scheduler", "indexer"]
    assert describe(runtime, runtime.serving) == (
        f"crmbot serve on http://127.0.0.1:{runtime.port}: /healthz, /metrics; running "
        "api, scheduler, indexer; no chat platform "
        "(set SLACK_BOT_TOKEN or TELEGRAM_BOT_TOKEN to add one); reminders, digests and "
        "notices wait in the database until a platform is configured."
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{runtime.port}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{runtime.port}/metrics") as resp:
            assert resp.status == 200
            assert "crmbot_note_outbox_depth" in await resp.text()
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_no_platform_scheduler_leaves_reminders_and_notices_pending_and_prints_nothing(
    testbot: TestBot, crm_app: App, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no chat platform, every job the scheduler would run leaves a due reminder and an
    unassigned ticket's SLA notice owed (unclaimed), and nothing (customer text above all) is
    printed: they go out once Slack or Telegram is configured. Webhooks still run."""
    testbot("alice", "new customer Acme")
    assert testbot("alice", "remind me in 1h ask about the confidential discount").status == "ok"
    testbot("alice", "ticket Acme: truck 4 late again, priority urgent")
    clock.advance(hours=3)
    sched = scheduler_component(crm_app, [], clock=clock)
    await sched.start()
    assert sched.scheduler is not None
    # Paused before the loop runs any of them, so each runs here, once, in order.
    sched.scheduler.pause()
    jobs = sched.scheduler.get_jobs()
    try:
        for job in jobs:
            done = job.func(*job.args)
            if asyncio.iscoroutine(done):
                await done
    finally:
        await sched.stop()
    (reminder,) = testbot.query(select(Reminder))
    assert reminder.status == ReminderStatus.pending and reminder.sent_at is None
    assert testbot.query(select(TicketAlert)) == []
    assert capsys.readouterr().out == ""
    names = {job.id for job in jobs}
    assert "run_webhooks" in names and "housekeeping" in names
    assert not names & {"run_reminders", "run_digests", "run_sla", "run_notices"}


def test_unknown_component_is_named(crm_app: App) -> None:
    """`--only bogus` names the bad component."""
    with pytest.raises(ServeError, match="bogus"):
        plan(crm_app, ("bogus",))


async def test_health_check_and_component_lifecycle(
    crm_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared server answers /healthz and a component's routes; stop stops everything."""
    events: list[str] = []
    monkeypatch.setattr(
        serve_mod,
        "builders",
        lambda: {"probe": (lambda app: True, lambda rt: Recorder(rt, events))},
    )
    crm_app.settings.http_host = "127.0.0.1"
    crm_app.settings.http_port = 0
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(crm_app, (), stop, on_ready=ready.set_result))
    runtime_port = (await asyncio.wait_for(ready, 10)).port
    # What start-up loaded is frozen while serving (no full-collection pauses), given back after.
    assert gc.get_freeze_count() > 10_000
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{runtime_port}/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}
        async with http.get(f"http://127.0.0.1:{runtime_port}/probe") as resp:
            assert await resp.text() == "probe"
    stop.set()
    runtime = await asyncio.wait_for(task, 10)
    assert runtime.port == runtime_port
    assert events == ["start", "stop"]
    assert gc.get_freeze_count() == 0


async def test_stopping_right_after_start_waits_for_the_warm_up(
    crm_app: App, testbot: TestBot
) -> None:
    """A stop straight after start returns only once the warm-up thread is done: a process
    leaving while it was inside the index's native code crashed on exit (SIGTERM -> -11)."""
    from bot.indexing import IndexerComponent

    testbot("alice", "new customer Acme")
    testbot("alice", "log call Acme: Dana wants 12% off the renewal")
    component = IndexerComponent(crm_app)
    await component.start()
    await component.stop()
    assert component.warming is not None
    assert not component.warming.is_alive()


async def test_indexer_component_indexes_and_loads_the_index_before_any_question(
    crm_app: App, testbot: TestBot
) -> None:
    """serve's indexer drains the outbox and builds the in-memory indexes in the background."""
    from bot.indexing import IndexerComponent

    testbot("alice", "new customer Acme")
    testbot("alice", "log call Acme: Dana wants 12% off the renewal")
    crm_app.settings.index_interval_seconds = 0.05
    component = IndexerComponent(crm_app)
    await component.start()
    try:
        index = crm_app.notes()
        for _ in range(400):
            warm = index.search.lexical_origin and index.search.vectors_origin
            if warm and index.indexer.pending() == 0:
                break
            await asyncio.sleep(0.05)
        assert index.indexer.pending() == 0
        assert index.search.lexical_origin == "database"
        assert index.search.vectors_origin == "store"
        assert index.search.lexical.live_notes() == 1
        assert not index.inline_drain  # answers leave indexing to the worker
    finally:
        await component.stop()
