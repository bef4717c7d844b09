"""Load test of a crmbot fleet: 1, 2 and 4 `crmbot serve` workers on one port, on PostgreSQL.

Loads the demo book at --customers into the PostgreSQL database at --pg-url (its schema is
wiped), links reps to Slack and Telegram, then for a bare Bolt app (ack only: the baseline)
and for each worker count starts real `crmbot serve --reuse-port` processes against a fake
Slack and a fake Telegram on 127.0.0.1 and drives them for --seconds with --users virtual users
at once. Each virtual user sends a command and waits for its final message (Slack: the reply at
its response_url; Telegram: the bot's sendMessage to its chat) before sending the next:

- Slack, signed `/crm` slash commands: customer card 40%, find 15%, customers list 5%, log a
  note 35%, new customer 5%; 5% of the writes are sent again 0.2-1 s later, byte for byte
  (Slack's retry).
- Telegram webhook updates: `/customer #id` 60%, `/log visit #id: ...` 40%; 2% of the updates
  are delivered again (the same update_id).
- Reminders come due during the run (--reminders), owned by the Slack-linked reps.

The day's deal-score model (a once-a-day job of one worker) is trained before the first
window when it is due, so that no window holds it: at 10,000 customers it is some 7 s of a
worker's CPU, which a 60 s window would count as ~0.7 ms a command (--train-in-window leaves
it to the workers, as a fleet started after 01:30 UTC on a database without today's model).

Reports commands/s completed with the errors (non-200 acks, no final message within 30 s,
failed commands by the workers' /metrics), ack p50/p95 and final-message p95, duplicate writes
(notes and customers whose unique token is in the database more than once) and reminders due
during the run delivered exactly once. Everything listens on 127.0.0.1.

    .venv/bin/python bench/bench_fleet.py --pg-url postgresql+psycopg://... --customers 10000 \
        --seconds 60 --workers 1,2,4

With --fresh-from DB the book is loaded once into DB (on the same server) and --pg-url's
database is dropped and copied from it (CREATE DATABASE ... TEMPLATE) before each
configuration: every configuration and every run measures the same book. The CPU table gives
the workers', PostgreSQL's and the load generator's (this process, fakes included) CPU per
command answered: on a shared machine a steadier figure than commands/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import data_file, empty_database, percentile  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import (  # noqa: E402
    Customer,
    Identity,
    Interaction,
    Reminder,
    ReminderStatus,
    Role,
    User,
    utcnow,
)
from crm_core.services.identities import link_identity  # noqa: E402
from crm_core.stages import DEFAULT_STAGES  # noqa: E402
from tests.bot.slack.conftest import FakeSlack  # noqa: E402
from tests.bot.telegram.fake_api import FakeBotApi  # noqa: E402

SECRET = "bench-signing-secret"
TG_TOKEN = "4242:BENCH"
HOOK = "https://bench.example/telegram/webhook"
TG_BASE = 700_000
FINAL_TIMEOUT = 30.0
TOKEN = re.compile(r"fleetbench-[0-9a-f]{12}")


class Slack(FakeSlack):
    """The fake Slack, noting when each response_url's message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, asyncio.Future[float]] = {}

    def expect(self, rid: str) -> asyncio.Future[float]:
        """The arrival time of the message posted to response/<rid>."""
        return self.arrived.setdefault(rid, asyncio.get_running_loop().create_future())

    async def _response(self, request: web.Request) -> web.Response:
        await request.read()
        waiter = self.expect(request.match_info["id"])
        if not waiter.done():
            waiter.set_result(time.perf_counter())
        return web.Response(text="ok")


class Telegram(FakeBotApi):
    """The fake Bot API, noting each chat's messages as they arrive."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.waiting: dict[int, asyncio.Future[float]] = {}

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        waiter = self.waiting.pop(int(params["chat_id"]), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())
        return await super()._sendMessage(params)


@dataclass
class Book:
    """Who the virtual users are and what they may see."""

    slack: dict[str, list[tuple[int, str]]]  # Slack id -> (customer id, name)
    telegram: dict[int, list[int]]  # Telegram id -> customer ids
    reminder_owners: list[int]


@dataclass
class Tally:
    """What one configuration did."""

    ack: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    done: int = 0
    # Commands answered before the window closed: the throughput's numerator.
    in_window: int = 0
    errors: int = 0
    # What the errors were: "slack ack", "slack timeout", "telegram ack", "telegram timeout", ...
    kinds: Counter[str] = field(default_factory=Counter)
    when: list[float] = field(default_factory=list)
    retries: int = 0
    writes: set[str] = field(default_factory=set)


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(pg_url: str, customers: int, seed: int, reuse: bool, *, exact: bool = False) -> None:
    """The demo book at this scale in PostgreSQL (kept when `reuse` and the count matches:
    at least `customers`, or exactly that many when `exact`)."""
    if reuse:
        engine = make_engine(pg_url)
        try:
            with engine.connect() as conn:
                have = conn.scalar(select(func.count()).select_from(Customer))
        except Exception:
            have = None
        engine.dispose()
        if have and (have == customers if exact else have >= customers):
            return
    engine, _ = empty_database("fleet", pg_url)
    with (
        unit_of_work(make_session_factory(engine)) as session,
        data_file(customers, seed).open(encoding="utf-8") as f,
    ):
        import_jsonl(session, f, stages=DEFAULT_STAGES)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def database_url(pg_url: str, name: str) -> str:
    """`pg_url` with another database name (the same server, role and driver)."""
    if not DB_NAME.fullmatch(name):
        raise SystemExit(f"not a plain database name: {name!r}")
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False)


def copy_database(pg_url: str, source: str, maintenance: str) -> float:
    """Drop --pg-url's database and create it again as a copy of `source`; the seconds it took.

    A file copy of the loaded book (its rows, indexes, statistics and visibility map as they
    were), so every configuration and every run starts from the same book, not one grown by
    the previous run's writes.
    """
    target = make_url(pg_url).database or ""
    if not DB_NAME.fullmatch(target) or target in (source, maintenance):
        raise SystemExit(f"--pg-url's database {target!r} cannot be copied from {source!r}")
    started = time.perf_counter()
    admin = create_engine(database_url(pg_url, maintenance), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            # FILE_COPY: a checkpoint and a copy of the files; WAL_LOG (15's default) would
            # write the whole book through the WAL.
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY'))
    finally:
        admin.dispose()
    return time.perf_counter() - started


def link(pg_url: str, people: int) -> Book:
    """Link `people` reps to Slack and as many others to Telegram; no reminder left pending."""
    engine = make_engine(pg_url)
    factory = make_session_factory(engine)
    slack: dict[str, list[tuple[int, str]]] = {}
    telegram: dict[int, list[int]] = {}
    owners: list[int] = []
    with unit_of_work(factory) as s:
        # The demo's own reminders would all come due at start: not this test's subject.
        s.execute(
            update(Reminder)
            .where(Reminder.status == ReminderStatus.pending)
            .values(status=ReminderStatus.cancelled)
        )
        reps = s.scalars(select(User).where(User.role == Role.rep).order_by(User.id)).all()
        for user in reps:
            book = s.execute(
                select(Customer.id, Customer.name).where(
                    Customer.owner_id == user.id, Customer.merged_into.is_(None)
                )
            ).all()
            if not book:
                continue
            # Alternately, so both platforms have people whatever the number of reps.
            if len(slack) < people and len(slack) <= len(telegram):
                sid = f"UFB{user.id}"
                if not s.scalar(select(Identity.id).where(Identity.platform_user_id == sid)):
                    link_identity(s, "slack", sid, user, actor_label="bench")
                slack[sid] = [(int(i), str(n)) for i, n in book]
                owners.append(user.id)
            elif len(telegram) < people:
                tid = TG_BASE + user.id
                if not s.scalar(select(Identity.id).where(Identity.platform_user_id == str(tid))):
                    link_identity(s, "telegram", str(tid), user, actor_label="bench")
                telegram[tid] = [int(i) for i, _ in book]
            elif len(slack) >= people:
                break
    engine.dispose()
    return Book(slack, telegram, owners)


def train_scores(pg_url: str) -> str:
    """Train and store today's deal-score model now when it is due and not taken: the job a
    worker would otherwise run in the measured window. What happened, for the log."""
    from bot.bootstrap import build
    from crm_core.settings import Settings, parse_clock
    from schedules.scores import ScoreTrainer

    settings = Settings(_env_file=None, database_url=pg_url)  # type: ignore[call-arg]
    crm = build(settings, database_url=pg_url)
    try:
        # As the workers' scheduler builds it (bot/scheduling.py).
        trainer = ScoreTrainer(
            crm.session_factory,
            crm.pipeline,
            at=parse_clock(settings.score_time),
            min_won=settings.score_min_won,
            min_lost=settings.score_min_lost,
        )
        day = trainer.claim()
        if day is None:
            return "score model: not due or already trained today"
        started = time.process_time()
        trainer.train(day)
        return f"score model: trained before the window ({time.process_time() - started:.1f} s CPU)"
    finally:
        crm.engine.dispose()


def add_reminders(
    pg_url: str, owners: list[int], count: int, seconds: float, tag: str
) -> list[str]:
    """`count` reminders due at even steps over the next `seconds`; their texts."""
    engine = make_engine(pg_url)
    now = utcnow()
    texts = [f"fleetrem-{tag}-{i:04d}" for i in range(count)]
    with engine.begin() as conn:
        conn.execute(
            insert(Reminder),
            [
                {
                    "owner_id": owners[i % len(owners)],
                    "due_at": now + timedelta(seconds=seconds * (i + 0.5) / count),
                    "text": t,
                    "status": "pending",
                    "explicit_time": True,
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                }
                for i, t in enumerate(texts)
            ],
        )
    engine.dispose()
    return texts


def reminders_pending(pg_url: str, tag: str) -> int:
    """Reminders of this configuration not yet sent."""
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        n = conn.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.text.like(f"fleetrem-{tag}-%"), Reminder.status != ReminderStatus.sent)
        )
    engine.dispose()
    return int(n or 0)


def duplicate_writes(pg_url: str, tokens: set[str]) -> tuple[int, int]:
    """(writes found, writes found more than once) among this run's tokens."""
    engine = make_engine(pg_url)
    seen: Counter[str] = Counter()
    with engine.connect() as conn:
        for value in conn.scalars(
            select(Interaction.text).where(Interaction.text.like("%fleetbench-%"))
        ):
            seen.update(TOKEN.findall(value))
        for value in conn.scalars(select(Customer.name).where(Customer.name.like("%fleetbench-%"))):
            seen.update(TOKEN.findall(value))
    engine.dispose()
    mine = {t: n for t, n in seen.items() if t in tokens}
    return len(mine), sum(1 for n in mine.values() if n > 1)


class Load:
    """The virtual users."""

    def __init__(self, slack: Slack, tg: Telegram, book: Book, port: int, seed: int) -> None:
        self.slack, self.tg, self.book, self.port = slack, tg, book, port
        self.url = f"http://127.0.0.1:{port}"
        self.verifier = SignatureVerifier(SECRET)
        self.rng = random.Random(seed)
        # Update ids unique across runs too (processed deliveries are remembered for two days).
        self.n = secrets.randbelow(2**40)
        self.tally = Tally()
        self.background: set[asyncio.Task[None]] = set()
        self.started = time.perf_counter()
        self.deadline = float("inf")

    def fail(self, kind: str) -> None:
        """Count one error and what it was."""
        self.tally.errors += 1
        self.tally.kinds[kind] += 1
        self.tally.when.append(round(time.perf_counter() - self.started, 1))

    def token(self) -> str:
        """A unique mark for one write, to find it in the database afterwards (in any run)."""
        value = f"fleetbench-{secrets.token_hex(6)}"
        self.tally.writes.add(value)
        return value

    def slack_text(self, sid: str) -> tuple[str, bool]:
        cid, name = self.rng.choice(self.book.slack[sid])
        r = self.rng.random()
        if r < 0.40:
            return f"customer #{cid}", False
        if r < 0.55:
            return f"find {name.split()[0][:5]}", False
        if r < 0.60:
            return "customers", False
        if r < 0.95:
            return f"log call #{cid}: pricing follow-up {self.token()}", True
        return f"new customer Bench {self.token()}", True

    def signed(self, body: str) -> dict[str, str]:
        ts = str(int(time.time()))
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
            "Content-Type": "application/x-www-form-urlencoded",
        }

    async def slack_once(self, http: aiohttp.ClientSession, sid: str, wait: bool) -> None:
        self.n += 1
        rid = f"fb{self.n}"
        command, writes = self.slack_text(sid) if wait else ("customer x", False)
        body = urlencode(
            {
                "team_id": "T1",
                "user_id": sid,
                "channel_id": "C1",
                "command": "/crm",
                "text": command,
                "response_url": f"{self.slack.base}/response/{rid}",
                # Unique in every run: a delivery id seen before is (rightly) answered as a repeat.
                "trigger_id": f"fb-{secrets.token_hex(8)}",
            }
        )
        headers = self.signed(body)
        arrived = self.slack.expect(rid) if wait else None
        t0 = time.perf_counter()
        try:
            async with http.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
                await r.read()
                ok = r.status == 200
        except aiohttp.ClientError:
            ok = False
        self.tally.ack.append((time.perf_counter() - t0) * 1000)
        if not ok:
            self.fail("slack ack")
            return
        if writes and self.rng.random() < 0.05:
            # Slack's retry: the same body and signature, a little later, maybe at another worker.
            task = asyncio.create_task(self._again(http, body, headers))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        if arrived is not None:
            try:
                at = await asyncio.wait_for(asyncio.shield(arrived), FINAL_TIMEOUT)
            except TimeoutError:
                self.fail(f"slack timeout ({command.split()[0]})")
                return
            self.tally.final.append((at - t0) * 1000)
        self.tally.done += 1
        if time.perf_counter() <= self.deadline:
            self.tally.in_window += 1

    async def _again(self, http: aiohttp.ClientSession, body: str, headers: dict[str, str]) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 1.0))
        self.tally.retries += 1
        try:
            async with http.post(f"{self.url}/slack/events", data=body, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    self.fail("slack retry ack")
        except aiohttp.ClientError:
            self.fail("slack retry ack")

    async def telegram_once(self, http: aiohttp.ClientSession, chat: int) -> None:
        self.n += 1
        cid = self.rng.choice(self.book.telegram[chat])
        if self.rng.random() < 0.6:
            line = f"/customer #{cid}"
        else:
            line = f"/log visit #{cid}: warehouse walk-through {self.token()}"
        update = {
            "update_id": self.n,
            "message": {
                "message_id": self.n,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "B"},
                "from": {"id": chat, "is_bot": False, "first_name": "B"},
                "text": line,
                "entities": [{"type": "bot_command", "offset": 0, "length": line.index(" ")}],
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.tg.waiting[chat] = arrived
        t0 = time.perf_counter()
        url = f"{self.url}/telegram/webhook"
        try:
            async with http.post(url, json=update, headers=headers) as r:
                await r.read()
                ok = r.status == 200
            if ok and self.rng.random() < 0.02:
                self.tally.retries += 1
                async with http.post(url, json=update, headers=headers) as r:
                    await r.read()
        except aiohttp.ClientError:
            ok = False
        self.tally.ack.append((time.perf_counter() - t0) * 1000)
        if not ok:
            self.fail("telegram ack")
            return
        try:
            at = await asyncio.wait_for(arrived, FINAL_TIMEOUT)
        except TimeoutError:
            self.fail(f"telegram timeout ({line.split()[0]})")
            return
        self.tally.final.append((at - t0) * 1000)
        self.tally.done += 1
        if time.perf_counter() <= self.deadline:
            self.tally.in_window += 1
        # A card may come in several messages: let them land before the next command.
        await asyncio.sleep(0.05)

    secret = ""

    async def run(self, users: int, seconds: float, *, telegram: bool, final: bool) -> float:
        """Drive `users` virtual users for `seconds`; the seconds it really took."""
        deadline = self.deadline = time.perf_counter() + seconds
        self.started = time.perf_counter()
        slack_ids = list(self.book.slack)
        chats = list(self.book.telegram)
        connector = aiohttp.TCPConnector(limit=0, force_close=True)

        async def user(i: int, http: aiohttp.ClientSession) -> None:
            # 40% of the users are on Telegram, each in a chat of its own (one reply awaited
            # per chat); when the book has fewer Telegram people, the rest use Slack.
            slot = (i // 5) * 2 + (i % 5 - 3)
            on_telegram = telegram and i % 5 >= 3 and slot < len(chats)
            while time.perf_counter() < deadline:
                if on_telegram:
                    await self.telegram_once(http, chats[slot])
                else:
                    await self.slack_once(http, slack_ids[i % len(slack_ids)], final)

        started = time.perf_counter()
        async with aiohttp.ClientSession(connector=connector) as http:
            await asyncio.gather(*(user(i, http) for i in range(users)))
            elapsed = time.perf_counter() - started
            if self.background:
                await asyncio.gather(*self.background)
        return elapsed


async def start_workers(
    n: int,
    port: int,
    env: dict[str, str],
    logs: Path,
    only: list[str],
    profile: Path | None = None,
) -> list[subprocess.Popen[bytes]]:
    """`n` real `crmbot serve --reuse-port` processes; returns once each says it serves.

    With `profile`, each runs under cProfile (every thread) and leaves `<profile>/wN-I.prof`.
    """
    procs = []
    for i in range(n):
        log = (logs / f"worker{i}.log").open("wb")
        worker_env = {**env, "CRMBOT_DATA_DIR": str(logs / f"worker{i}")}
        cmd = [str(ROOT / ".venv" / "bin" / "crmbot")]
        if profile is not None:
            out = profile / f"w{n}-{i}.prof"
            cmd = [sys.executable, str(ROOT / "bench" / "profiled_worker.py"), str(out)]
        procs.append(
            subprocess.Popen(
                [*cmd, "serve", "--reuse-port", *only],
                env=worker_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=logs,
            )
        )
    deadline = time.monotonic() + 180
    for i, proc in enumerate(procs):
        path = logs / f"worker{i}.log"
        while b"crmbot serve on" not in path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                await stop(procs)
                raise SystemExit(f"worker {i} did not start: see {path}")
            # Asleep on the loop: the fake Slack and Telegram in this process must answer.
            await asyncio.sleep(0.2)
    return procs


def py_spy(
    out: Path, procs: list[subprocess.Popen[bytes]], n: int, seconds: float
) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each worker (the thread holding the GIL) for the window, into
    `<out>/wN-I.txt` as collapsed stacks (`frame;frame;... count` a line)."""
    out.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("py-spy", path=str(ROOT / ".venv" / "bin")) or shutil.which("py-spy")
    if exe is None:
        raise SystemExit("py-spy is not installed: pip install -c constraints.txt '.[profile]'")
    return [
        subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "97",
                # Only the thread holding the GIL: CPU in Python, not threads waiting for
                # PostgreSQL or a queue inside C (py-spy cannot see those are idle).
                "--gil",
                "--format",
                "raw",
                "--output",
                str(out / f"w{n}-{i}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, proc in enumerate(procs)
    ]


async def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process and wait for it (on the loop: they may still call the fakes)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 150
    for proc in procs:
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds these processes have used (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_pids(port: int) -> list[int]:
    """The PostgreSQL server on `port` and its backends (they do the SQL work)."""
    procs: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        procs[int(entry.name)] = (int(stat[1]), cmdline)
    main = [pid for pid, (_, cmd) in procs.items() if f"-p {port}" in cmd or f"port={port}" in cmd]
    if not main:
        # Started by its service with the port in its configuration file: the data
        # directory's postmaster.pid says the port (its fourth line).
        for pid, (_, cmd) in procs.items():
            found = re.search(r"-D\s+(\S+)", cmd)
            try:
                lines = (Path(found.group(1)) / "postmaster.pid").read_text().splitlines()
            except (AttributeError, OSError):
                continue
            if len(lines) > 3 and lines[0].strip() == str(pid) and lines[3].strip() == str(port):
                main.append(pid)
    return main + [pid for pid, (ppid, _) in procs.items() if ppid in main]


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database` (by its process
    title, `postgres: ... <user> <database> <host> ...`): the SQL work of this fleet alone,
    where other databases' sessions share the server."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f" {database} " not in title:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def backends_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends used between two `backend_cpu` readings (one that started in
    between counts whole; one that ended in between is lost, a pooled fleet keeps its own)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def failed_commands(port: int) -> int:
    """Commands the fleet answered with a reference id (a crash), summed over its workers."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        body = await r.text()
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line.startswith("crmbot_commands_total") and 'outcome="failed"' in line
        )
    )


def row(name: str, t: Tally, elapsed: float, extra: str) -> str:
    """One Markdown table row."""
    # Answered within the window over the window: the commands still in flight at its end
    # (or waiting out a timeout) neither count nor stretch it.
    rate = t.in_window / elapsed if elapsed else 0.0
    fin = f"{percentile(t.final, 95):.0f}" if t.final else "—"
    ack = f"{percentile(t.ack, 50):.1f} | {percentile(t.ack, 95):.1f}" if t.ack else "— | —"
    return f"| {name} | {t.done} | {rate:.1f} | {t.errors} | {ack} | {fin} | {extra} |"


async def run(args: argparse.Namespace) -> None:
    """Load, then measure the baseline and each worker count; print a Markdown table."""
    started = time.perf_counter()
    # With --fresh-from the book is loaded, linked and trained once in that database, which
    # nothing then writes to; each configuration runs on a fresh copy of it.
    book_url = database_url(args.pg_url, args.fresh_from) if args.fresh_from else args.pg_url
    fresh = bool(args.fresh_from)
    load(book_url, args.customers, args.seed, args.reuse or fresh, exact=fresh)
    book = link(book_url, args.people)
    if not args.train_in_window:
        print(train_scores(book_url), file=sys.stderr)
    load_s = time.perf_counter() - started
    slack, tg = Slack(), Telegram(TG_TOKEN)
    await slack.start()
    await tg.start()
    work = Path(tempfile.mkdtemp(prefix="crmbot-fleet-bench-"))
    rows: list[str] = []
    costs: list[str] = []
    base_env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CRMBOT_", "SLACK_", "TELEGRAM_"))
        },
        "CRMBOT_DATABASE_URL": args.pg_url,
        "CRMBOT_HTTP_HOST": "127.0.0.1",
        "CRMBOT_LOG_LEVEL": "WARNING",
        "CRMBOT_REMINDER_INTERVAL_SECONDS": "1",
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_API_URL": tg.url,
        "TELEGRAM_WEBHOOK_URL": HOOK,
    }
    if args.chroma_url:
        base_env["CRMBOT_CHROMA_URL"] = args.chroma_url

    # The baseline: a bare Bolt app acking the same signed slash commands, no reply to wait for.
    if not args.no_baseline:
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "bare_bolt.py"),
                str(port),
                SECRET,
                slack.api_url,
            ],
            stdout=subprocess.PIPE,
        )
        assert bare.stdout is not None and bare.stdout.readline()
        load_bare = Load(slack, tg, book, port, args.seed)
        await load_bare.run(args.users, args.seconds, telegram=False, final=False)
        rows.append(
            row("bare Bolt app (ack only), 1 process", load_bare.tally, args.seconds, "— | — | —")
        )
        await stop([bare])
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    for n in args.workers:
        if args.fresh_from:
            took = copy_database(args.pg_url, args.fresh_from, args.maintenance_db)
            print(f"{n} workers: a fresh copy of {args.fresh_from} ({took:.1f} s)", file=sys.stderr)
        tag = f"w{n}-{int(time.time())}"
        logs = work / tag
        logs.mkdir()
        metrics = logs / "metrics"
        metrics.mkdir()
        port = free_port()
        env = {**base_env, "CRMBOT_HTTP_PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        # Without a Chroma server each worker would index into a store of its own: leave the
        # indexer out then (said in the table's title).
        only = (
            []
            if args.chroma_url
            else [f"--only={c}" for c in ("slack", "telegram", "api", "scheduler")]
        )
        procs = await start_workers(n, port, env, logs, only, args.profile)
        spies: list[subprocess.Popen[bytes]] = []
        try:
            # What the started workers burn with nothing to do (scheduler ticks, leader and
            # pool upkeep), per second: the window's CPU less this is the commands' own, a
            # figure that does not rise when a loaded machine answers fewer commands.
            idle0 = cpu_seconds([p.pid for p in procs])
            await asyncio.sleep(args.idle_seconds)
            idle_rate = (cpu_seconds([p.pid for p in procs]) - idle0) / args.idle_seconds
            texts = add_reminders(
                args.pg_url, book.reminder_owners, args.reminders, args.seconds, tag
            )
            before = len(slack.named("chat.postMessage"))
            driver = Load(slack, tg, book, port, args.seed + n)
            from bot.telegram.transport import webhook_secret
            from crm_core.settings import Settings

            driver.secret = webhook_secret(
                Settings(_env_file=None, telegram_bot_token=TG_TOKEN)  # type: ignore[arg-type]
            )
            pg = postgres_pids(make_engine(args.pg_url).url.port or 5432)
            if args.py_spy:
                spies = py_spy(args.py_spy, procs, n, args.seconds)
            database = make_url(args.pg_url).database or ""
            cpu0 = cpu_seconds([p.pid for p in procs]), cpu_seconds(pg), time.process_time()
            backends0 = backend_cpu(database)
            load0 = Path("/proc/loadavg").read_text().split()[0]
            await driver.run(args.users, args.seconds, telegram=True, final=True)
            load1 = Path("/proc/loadavg").read_text().split()[0]
            elapsed = args.seconds
            cpu = (
                cpu_seconds([p.pid for p in procs]) - cpu0[0],
                cpu_seconds(pg) - cpu0[1],
                time.process_time() - cpu0[2],
            )
            backends = backends_used(backends0, backend_cpu(database))
            # Reminders due by the end: give the schedulers a few ticks to finish them.
            deadline = time.monotonic() + 30
            while reminders_pending(args.pg_url, tag) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            await asyncio.sleep(2.5)
            failed = await failed_commands(port)
        finally:
            await stop(procs)
            for spy in spies:
                spy.wait()
        driver.tally.errors += failed
        driver.tally.kinds["failed by a worker"] += failed
        if driver.tally.errors:
            kinds = dict(driver.tally.kinds)
            print(f"{n} workers: errors {kinds} at {driver.tally.when} s; logs {logs}", flush=True)
        sent = [json.dumps(c.params) for c in slack.named("chat.postMessage")[before:]]
        pinged = Counter({t: sum(t in s for s in sent) for t in texts})
        once = sum(1 for t in texts if pinged[t] == 1)
        found, dup = duplicate_writes(args.pg_url, driver.tally.writes)
        extra = (
            f"{dup} of {found} (retries sent: {driver.tally.retries}) | "
            f"{once}/{len(texts)} | "
            f"{sum(1 for t in texts if pinged[t] == 0)} missing, "
            f"{sum(1 for t in texts if pinged[t] > 1)} twice"
        )
        rows.append(row(f"crmbot, {n} worker{'s' * (n > 1)}", driver.tally, elapsed, extra))
        # Per command answered (in the window or just after it, as the CPU was counted).
        per = 1000 / max(1, driver.tally.done)
        net = max(0.0, cpu[0] - idle_rate * args.seconds)
        costs.append(
            f"| {n} | {driver.tally.done} | {cpu[0]:.1f} | {cpu[0] * per:.2f} | "
            f"{idle_rate * 1000:.0f} | {net * per:.2f} | "
            + (f"{cpu[1]:.1f} | {cpu[1] * per:.2f} " if pg else "— | — (server not found) ")
            + f"| {backends:.1f} | {backends * per:.2f} "
            + f"| {cpu[2]:.1f} | {cpu[2] * per:.2f} | {load0} / {load1} |"
        )
    await slack.stop()
    await tg.stop()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"## Fleet load test: {args.customers} customers on PostgreSQL, {args.users} virtual "
        f"users, {args.seconds:.0f} s per configuration (data loaded in {load_s:.0f} s); "
        + ("indexer on, Chroma server" if args.chroma_url else "indexer off (no Chroma server)")
    )
    print(
        "| configuration | commands | commands/s | errors | ack p50 ms | ack p95 ms | "
        "final message p95 ms | duplicate writes | reminders once | reminders lost/twice |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|---|")
    for line in rows:
        print(line)
    print()
    print("CPU used during the window: seconds, and ms per command answered:")
    print(
        "| workers | commands | workers' CPU s | workers' ms/command | workers idle CPU ms/s | "
        "workers' ms/command less idle | PostgreSQL CPU s | PostgreSQL ms/command | "
        "its backends of this database s | backends' ms/command | "
        "load generator and fakes CPU s | generator ms/command | "
        "load average (1 min) at start / end |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for line in costs:
        print(line)


def main() -> None:
    """Parse arguments and run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url", required=True, help="PostgreSQL URL (its schema is wiped)")
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--users", type=int, default=32, help="virtual users at once")
    ap.add_argument("--people", type=int, default=40, help="reps linked to each platform")
    ap.add_argument("--reminders", type=int, default=60, help="reminders due during each run")
    ap.add_argument("--workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4])
    ap.add_argument("--chroma-url", default=None, help="a Chroma server (then workers index)")
    ap.add_argument("--keep", action="store_true", help="keep the workers' logs")
    ap.add_argument("--reuse", action="store_true", help="keep the loaded book if it is there")
    ap.add_argument(
        "--fresh-from",
        default=None,
        metavar="DB",
        help="a database on the same server to hold the book (loaded there once, then never "
        "written): --pg-url's database is dropped and copied from it before each configuration",
    )
    ap.add_argument(
        "--maintenance-db",
        default="postgres",
        metavar="DB",
        help="the database connected to for DROP/CREATE DATABASE with --fresh-from",
    )
    ap.add_argument(
        "--profile", type=Path, default=None, help="profile each worker (cProfile) into this folder"
    )
    ap.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="sample each worker with py-spy during the window (collapsed stacks into DIR)",
    )
    ap.add_argument(
        "--idle-seconds",
        type=float,
        default=5.0,
        help="seconds the started workers are left idle to measure their CPU with no load",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the bare Bolt app's run")
    ap.add_argument(
        "--train-in-window",
        action="store_true",
        help="leave today's score model, when due, to the workers (inside the window)",
    )
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
