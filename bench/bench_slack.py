"""Latency of a signed `/crm customer X` through the real Slack HTTP endpoint, and a bare Bolt app.

Copies the 10,000-customer benchmark database of bench_verbs.py (built here when missing),
starts `crmbot serve --only slack` in HTTP mode against the fake Slack Web API of the tests,
and times request -> ack (the HTTP answer) and request -> final message (the reply's arrival
at the fake's response_url). The same is measured for a bare Bolt app whose handler only acks,
served the same way, in the same run.

    .venv/bin/python bench/bench_slack.py --customers 10000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import percentile, sqlite_copy  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.serve import run_until  # noqa: E402
from crm_core.db import unit_of_work  # noqa: E402
from crm_core.models import Customer, User  # noqa: E402
from crm_core.services.identities import link_identity  # noqa: E402
from crm_core.settings import Settings  # noqa: E402
from tests.bot.slack.conftest import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"


class Driver:
    """Signs and sends slash commands; waits for the reply at the fake's response_url."""

    def __init__(self, fake: FakeSlack, url: str) -> None:
        self.fake = fake
        self.url = url
        self.verifier = SignatureVerifier(SECRET)
        self.n = 0

    async def once(
        self, http: aiohttp.ClientSession, text: str, *, reply: bool
    ) -> tuple[float, float]:
        """One signed request: (ms to the ack, ms to the final message or 0)."""
        self.n += 1
        response_url = f"{self.fake.base}/response/bench-{self.n}"
        body = urlencode(
            {
                "team_id": "T1",
                "user_id": "UBENCH",
                "channel_id": "C1",
                "command": "/crm",
                "text": text,
                "response_url": response_url,
                "trigger_id": f"bench-{self.n}-{random.random()}",
            }
        )
        ts = str(int(time.time()))
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        before = len(self.fake.named("response"))
        t0 = time.perf_counter()
        async with http.post(self.url, data=body.encode(), headers=headers) as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        acked = time.perf_counter()
        if not reply:
            return (acked - t0) * 1000, 0.0
        calls = await self.fake.wait("response", before + 1, timeout=30)
        return (acked - t0) * 1000, (calls[before].at - t0) * 1000


async def bare_app(fake: FakeSlack) -> tuple[web.AppRunner, str]:
    """A Bolt app whose /crm handler only acks, served like the real one."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url), signing_secret=SECRET
    )

    @bolt.command("/crm")
    async def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def summary(name: str, ack: list[float], final: list[float] | None) -> str:
    """One Markdown table row."""
    fin = f"{percentile(final, 50):.1f} | {percentile(final, 95):.1f}" if final else "— | —"
    return f"| {name} | {percentile(ack, 50):.1f} | {percentile(ack, 95):.1f} | {fin} |"


async def run(args: argparse.Namespace) -> None:
    """Start everything, time both apps, print a table."""
    path = sqlite_copy(args.customers, args.seed, "slack")
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        _env_file=None,
        http_host="127.0.0.1",
        http_port=0,
        slack_bot_token=SecretStr("xoxb-bench"),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=fake.api_url,
    )
    crm = build(settings, database_url=f"sqlite:///{path}")
    with unit_of_work(crm.session_factory) as session:
        alice = session.scalar(select(User).where(User.external_id == "alice"))
        assert alice is not None
        link_identity(session, "slack", "UBENCH", alice, actor_label="bench")
        names = list(session.scalars(select(Customer.name).where(Customer.owner_id == alice.id)))
        counts = session.scalar(select(func.count()).select_from(Customer))
    rng = random.Random(args.seed)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(crm, ("slack",), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 30)
    ours = Driver(fake, f"http://127.0.0.1:{runtime.port}/slack/events")
    runner, bare_url = await bare_app(fake)
    bare = Driver(fake, bare_url)
    results: dict[str, tuple[list[float], list[float]]] = {"bare": ([], []), "crm": ([], [])}
    async with aiohttp.ClientSession() as http:
        for i in range(args.runs + args.warmup):
            # Alternate so both apps see the same machine load.
            a, _ = await bare.once(http, "customer x", reply=False)
            b, c = await ours.once(http, f"customer {rng.choice(names)}", reply=True)
            if i >= args.warmup:
                results["bare"][0].append(a)
                results["crm"][0].append(b)
                results["crm"][1].append(c)
    stop.set()
    await task
    await runner.cleanup()
    await fake.stop()
    print(
        f"## Slack HTTP endpoint, SQLite, {counts} customers; {args.runs} requests each, as alice"
    )
    print("| app | ack p50 ms | ack p95 ms | final message p50 ms | final message p95 ms |")
    print("|---|---:|---:|---:|---:|")
    print(summary("bare Bolt app (ack only)", results["bare"][0], None))
    print(summary("crmbot `/crm customer X`", *results["crm"]))


def main() -> None:
    """Parse arguments and run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
