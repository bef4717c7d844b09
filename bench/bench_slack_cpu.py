"""Worker CPU per Slack write command, with and without the Home tab rebuilt after it.

Copies the 10,000-customer benchmark database of bench_verbs.py (built when missing), wires
the real Slack adapter to the fake Slack Web API of the tests, which runs in a child process so
its CPU is not counted, and calls the `/crm` listener directly (no HTTP server, no signature)
for N `log call #<customer>: ...` writes. It measures time.process_time of this process (the event
loop and the dispatch threads) per command, alternating blocks in which the sender has opened
the Home tab (Home rebuilt and published after each write, what every write did before) and
blocks in which they have not (no Home rebuild).

    .venv/bin/python bench/bench_slack_cpu.py --customers 10000 --commands 300
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import sqlite_copy  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.slack.app import SlackAdapter  # noqa: E402
from crm_core.db import unit_of_work  # noqa: E402
from crm_core.models import Customer, Interaction, User  # noqa: E402
from crm_core.services.identities import link_identity  # noqa: E402
from tests.bot.slack.conftest import FakeSlack  # noqa: E402

SLACK_ID = "UBENCH"
BLOCK = 25


def serve_fake(port: Any, stop: Any) -> None:
    """Child process: run the fake Slack until told to stop."""

    async def main() -> None:
        fake = FakeSlack()
        await fake.start()
        port.value = fake.port
        while not stop.is_set():
            await asyncio.sleep(0.05)
            fake.calls.clear()  # a long run would otherwise keep every call
        await fake.stop()

    asyncio.run(main())


async def noop_ack(**_: Any) -> None:
    """Bolt's ack, not needed when the listener is called directly."""


async def run(args: argparse.Namespace) -> None:
    """Time N writes through the adapter, Home watchers and not alternating in blocks."""
    from pydantic import SecretStr
    from slack_sdk.web.async_client import AsyncWebClient

    from crm_core.settings import Settings

    port = multiprocessing.Value("i", 0)
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve_fake, args=(port, stop), daemon=True)
    child.start()
    while port.value == 0:
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port.value}"
    path = sqlite_copy(args.customers, args.seed, "slackcpu")
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-bench"))
    crm = build(settings, database_url=f"sqlite:///{path}")
    with unit_of_work(crm.session_factory) as session:
        alice = session.scalar(select(User).where(User.external_id == "alice"))
        assert alice is not None
        link_identity(session, "slack", SLACK_ID, alice, actor_label="bench")
        ids = list(session.scalars(select(Customer.id).where(Customer.owner_id == alice.id)))
    client = AsyncWebClient(token="xoxb-bench", base_url=f"{base}/api/")
    adapter = SlackAdapter(crm, client, signing_secret="bench")
    await adapter.open()  # its HTTP sessions, as `serve` opens them
    rng = random.Random(args.seed)
    cpu: dict[bool, list[float]] = {True: [], False: []}
    n = 0

    async def one(home: bool) -> None:
        nonlocal n
        n += 1
        body = {
            "user_id": SLACK_ID,
            "channel_id": "C1",
            "text": f"log call #{rng.choice(ids)}: bench call {n}",
            "response_url": f"{base}/response/{n}",
            "trigger_id": f"trigger-{n}",
        }
        if home:
            adapter.home_viewers.add(SLACK_ID)
        else:
            adapter.home_viewers.discard(SLACK_ID)
        start = time.process_time()
        await adapter.on_command(noop_ack, body, {})  # type: ignore[arg-type]
        cpu[home].append(time.process_time() - start)

    for _ in range(20):  # warm-up: caches, connections
        await one(bool(n % 2))
    cpu = {True: [], False: []}
    for block in range(args.commands // BLOCK):
        for _ in range(BLOCK):
            await one(block % 2 == 0)
    await adapter.close()
    stop.set()
    child.join(5)
    with unit_of_work(crm.session_factory) as session:
        logged = session.scalar(select(func.count()).where(Interaction.text.like("bench call %")))
    assert logged == n, f"{logged} of {n} writes logged"  # every command really wrote
    crm.engine.dispose()
    print(f"{args.commands} `/crm log call #id: ...` writes, {args.customers} customers, SQLite")
    print("| sender | commands | CPU ms / command (mean) | commands / CPU-second |")
    print("|---|---:|---:|---:|")
    for home, label in ((True, "opened Home (rebuilt after each write)"), (False, "never did")):
        mean = sum(cpu[home]) / len(cpu[home]) * 1000
        print(f"| {label} | {len(cpu[home])} | {mean:.2f} | {1000 / mean:.0f} |")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
