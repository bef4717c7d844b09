"""Two `crmbot serve` workers on one PostgreSQL database, against the fake Slack.

Each worker is a full `run_until` (its own App, engine, pool, aiohttp server, Bolt app and
scheduler) in this process: starting real `crmbot serve` processes takes seconds each on a
busy machine. The worker that is killed is a real process (tests/schedules/pg_worker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, insert, select, update

from bot.bootstrap import App, build
from bot.runtime import Runtime
from bot.serve import run_until
from crm_core.db import unit_of_work
from crm_core.models import AuditEntry, Customer, Interaction, Reminder, ReminderStatus, utcnow
from crm_core.services.identities import link_identity
from crm_core.services.users import add_user
from crm_core.settings import Settings
from tests.bot.slack.conftest import SECRET, TEAM, FakeSlack
from tests.conftest import PG_URL, _truncate

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="a fleet shares PostgreSQL (CRMBOT_TEST_DATABASE_URL is not set)"
)
ROOT = Path(__file__).resolve().parents[2]
# Far apart, so no name is held back as a near-duplicate of another.
NAMES = ("Acme Logistics", "Globex", "Initech", "Umbrella Pharma", "Hooli")


@pytest.fixture
def fleet_db(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, int]]:
    """The PostgreSQL test database, emptied, with alice (a rep) linked to Slack UALICE."""
    engine: Engine = request.getfixturevalue("pg_engine")
    _truncate(engine)
    from crm_core.db import make_session_factory

    with unit_of_work(make_session_factory(engine)) as s:
        alice = add_user(s, "alice", "Alice", role="rep", team="East", timezone="UTC")
        s.flush()
        link_identity(s, "slack", "UALICE", alice, actor_label="test")
        uid = alice.id
    yield engine, uid
    _truncate(engine)


def _settings(fake: FakeSlack, data_dir: Path, port: int = 0, reuse: bool = False) -> Settings:
    assert PG_URL
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=PG_URL,
        http_host="127.0.0.1",
        http_port=port,
        http_reuse_port=reuse,
        slack_bot_token=SecretStr("xoxb-test-token"),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=fake.api_url,
        reminder_interval_seconds=1,
    )


@contextlib.asynccontextmanager
async def _workers(settings: list[Settings]) -> AsyncIterator[list[Runtime]]:
    """Run one `serve` (Slack and the scheduler) per settings; yield their runtimes."""
    apps: list[App] = [build(s) for s in settings]
    stops = [asyncio.Event() for _ in apps]
    loop = asyncio.get_running_loop()
    readies: list[asyncio.Future[Runtime]] = [loop.create_future() for _ in apps]
    tasks = [
        asyncio.create_task(run_until(app, ("slack", "scheduler"), stop, on_ready=ready.set_result))
        for app, stop, ready in zip(apps, stops, readies, strict=True)
    ]
    try:
        yield [await asyncio.wait_for(r, 30) for r in readies]
    finally:
        for stop in stops:
            stop.set()
        for task in tasks:
            await asyncio.wait_for(task, 30)
        for app in apps:
            app.engine.dispose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def _post(port: int, body: str, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as resp,
    ):
        return resp.status


async def test_a_slack_retry_reaching_both_workers_writes_once(
    fleet_db: tuple[Engine, int], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """The same signed slash command (Slack's retry of it) at both workers at once: one
    write, one audit entry, one answer; for a new customer and for notes alike."""
    engine, _ = fleet_db
    settings = [_settings(fake_slack, tmp_path / f"w{i}") for i in range(2)]
    commands = [f"new customer {name}" for name in NAMES]
    commands += [f"log call {name}: retried note" for name in NAMES]
    async with _workers(settings) as (a, b):
        assert a.port != b.port
        for n, text in enumerate(commands):
            body = urlencode(
                {
                    "team_id": TEAM,
                    "channel_id": "C1",
                    "user_id": "UALICE",
                    "command": "/crm",
                    "text": text,
                    "response_url": fake_slack.response_url(),
                    "trigger_id": f"trigger-retry-{n}",
                }
            )
            # One signature for both: the retry is the same request, byte for byte.
            headers = _signed(body)
            statuses = await asyncio.gather(
                _post(a.port or 0, body, headers), _post(b.port or 0, body, headers)
            )
            assert statuses == [200, 200]
            await fake_slack.wait("response", n + 1, timeout=20)
        await asyncio.sleep(0.5)
    with engine.connect() as conn:
        names = Counter(conn.scalars(select(Customer.name)))
        notes = Counter(conn.scalars(select(Interaction.customer_id)))
        audits = Counter(conn.scalars(select(AuditEntry.action)))
    assert names == Counter({name: 1 for name in NAMES})
    assert sorted(notes.values()) == [1] * len(NAMES)
    assert audits["customer.create"] == len(NAMES)
    assert len(fake_slack.named("response")) == len(commands), "the duplicate answers nothing"


def _reminders(engine: Engine, owner: int, texts: list[str], *, due_in: float = 0.0) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Reminder),
            [
                {
                    "owner_id": owner,
                    "due_at": now + timedelta(seconds=due_in),
                    "text": text,
                    "status": "pending",
                    "explicit_time": True,
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                }
                for text in texts
            ],
        )


def _pings(fake: FakeSlack, texts: list[str]) -> Counter[str]:
    sent = [str(c.params) for c in fake.named("chat.postMessage")]
    return Counter({t: sum(t in s for s in sent) for t in texts})


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.status != ReminderStatus.sent)
            )
            or 0
        )


async def _until_sent(engine: Engine, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while _pending(engine):
        assert time.monotonic() < deadline, "reminders left unsent"
        await asyncio.sleep(0.1)


async def test_reminders_due_while_both_run_are_sent_once_each(
    fleet_db: tuple[Engine, int], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Reminders coming due while two workers' schedulers tick (each every second, both
    racing for them): every one pinged exactly once."""
    engine, alice = fleet_db
    texts = [f"fleet-ping-{i:02d}" for i in range(30)]
    settings = [_settings(fake_slack, tmp_path / f"w{i}") for i in range(2)]
    async with _workers(settings):
        _reminders(engine, alice, texts[:15])
        _reminders(engine, alice, texts[15:], due_in=1.0)
        await _until_sent(engine)
        # Two more ticks of each worker: nothing goes out again.
        await asyncio.sleep(2.2)
    assert _pings(fake_slack, texts) == Counter({t: 1 for t in texts})


async def test_a_worker_killed_mid_send_loses_nothing(
    fleet_db: tuple[Engine, int], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A worker process claims 20 due reminders, sends 5 and is SIGKILLed inside the 6th
    send. Once its claims' lease runs out, the fleet sends the 15 it still held: none lost,
    none of the 5 it had sent sent again, the interrupted one marked as possibly repeated."""
    engine, alice = fleet_db
    assert PG_URL
    texts = [f"fleet-kill-{i:02d}" for i in range(20)]
    _reminders(engine, alice, texts)
    out, progress = tmp_path / "out", tmp_path / "progress"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.schedules.pg_worker", PG_URL, str(out), str(progress)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BATCH": "20", "HANG_AFTER": "5"},
    )
    try:
        deadline = time.monotonic() + 30
        while not (progress.exists() and "sending" in progress.read_text()):
            assert worker.poll() is None and time.monotonic() < deadline, "never hung"
            await asyncio.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    in_flight = int(progress.read_text().split("sending")[1].split()[0])
    sent_before = {int(x) for x in out.read_text().split()}
    assert len(sent_before) == 5
    with engine.connect() as conn:
        held = conn.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.claim_token.is_not(None))
        )
    assert held == 15, "the dead worker still holds its claims"
    # Its lease (5 minutes) runs out: moved back rather than waited for.
    with engine.begin() as conn:
        conn.execute(
            update(Reminder)
            .where(Reminder.claim_token.is_not(None))
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    settings = [_settings(fake_slack, tmp_path / f"w{i}") for i in range(2)]
    async with _workers(settings):
        await _until_sent(engine)
        await asyncio.sleep(1.2)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Reminder.text, Reminder.id)).tuples().all())
    pinged = _pings(fake_slack, texts)
    for text in texts:
        expected = 0 if ids[text] in sent_before else 1
        assert pinged[text] == expected, text
    interrupted = next(
        str(c.params)
        for c in fake_slack.named("chat.postMessage")
        if f"fleet-kill-{texts.index(_text_of(ids, in_flight)):02d}" in str(c.params)
    )
    assert "Sent again after an interruption" in interrupted


def _text_of(ids: dict[str, int], reminder_id: int) -> str:
    return next(text for text, rid in ids.items() if rid == reminder_id)


async def test_workers_share_one_port(
    fleet_db: tuple[Engine, int], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """With reuse_port two workers listen on one port and connections reach both."""
    first = _settings(fake_slack, tmp_path / "w0", reuse=True)
    async with _workers([first]) as (a,):
        second = _settings(fake_slack, tmp_path / "w1", port=a.port or 0, reuse=True)
        async with _workers([second]) as (b,):
            assert b.port == a.port
            for _ in range(40):
                # A new connection each time: the kernel picks a listener per connection.
                async with (
                    aiohttp.ClientSession() as http,
                    http.get(f"http://127.0.0.1:{a.port}/healthz") as resp,
                ):
                    assert resp.status == 200
            counts = [rt.runner.server.requests_count for rt in (a, b)]  # type: ignore[union-attr]
    assert all(counts), counts
