"""CPU of a Slack reply to a response_url: slack_sdk's AsyncWebhookClient against crmbot's post.

Sends --messages replies (a customer card's blocks) to a response_url on a local aiohttp
server, on one kept session (as a worker sends), once through a new AsyncWebhookClient per
reply (crmbot before fleet11) and once through `Sender._respond` (the same request posted
directly), alternately for --rounds rounds, `--at-once` replies in flight at a time; prints
this process's CPU per reply (client and server together: the server's share is the same for
both, so the difference is the client's).

    .venv/bin/python bench/bench_slack_respond.py --messages 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from slack_sdk.webhook.async_client import AsyncWebhookClient  # noqa: E402

from bot.slack.sending import RESPOND_SECONDS, Sender, http_session, web_client  # noqa: E402

BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Acme Logistics"}},
    {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*Field {i}*\nvalue {i} · 客户"} for i in range(1, 9)
        ],
    },
    *(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"2026-12-0{i} · Alice · call"}}
        for i in range(1, 6)
    ),
]


async def serve() -> tuple[web.AppRunner, str]:
    """A response_url endpoint that reads the JSON and answers `ok`, as Slack does."""

    async def response(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/response/{id}", response)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/response/"


async def timed(post: Callable[[int], Awaitable[None]], messages: int, at_once: int) -> float:
    """CPU ms per reply over `messages` posts, `at_once` in flight."""
    queue = iter(range(messages))

    async def worker() -> None:
        for n in queue:
            await post(n)

    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(at_once)))
    return (time.process_time() - start) / messages * 1000


async def main(messages: int, rounds: int, at_once: int) -> None:
    """Alternate the two ways for `rounds` rounds; print a table."""
    runner, base = await serve()
    sender = Sender(web_client("xoxb-bench", "http://127.0.0.1:9/api/"))
    sender.session = http_session(RESPOND_SECONDS, 64)

    async def webhook_client(n: int) -> None:
        resp = await AsyncWebhookClient(
            f"{base}r{n}", timeout=RESPOND_SECONDS, session=sender.session
        ).send(text="Acme", blocks=BLOCKS, response_type="ephemeral", replace_original=False)
        assert resp.status_code == 200

    async def direct(n: int) -> None:
        assert await sender._respond(f"{base}r{n}", "Acme", BLOCKS, public=False) is None

    try:
        await timed(direct, 100, at_once)  # warm both up: connections, caches
        await timed(webhook_client, 100, at_once)
        print(f"{messages} replies a round, {at_once} at once; CPU ms per reply")
        print("| round | AsyncWebhookClient | Sender._respond |")
        print("|---|---:|---:|")
        for r in range(1, rounds + 1):
            old = await timed(webhook_client, messages, at_once)
            new = await timed(direct, messages, at_once)
            print(f"| {r} | {old:.3f} | {new:.3f} |", flush=True)
    finally:
        await sender.session.close()
        await runner.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--at-once", type=int, default=8)
    args = ap.parse_args()
    asyncio.run(main(args.messages, args.rounds, args.at_once))
