"""A bare Bolt app whose `/crm` handler only acks, served like crmbot's (the load test's baseline).

.venv/bin/python bench/bare_bolt.py PORT SIGNING_SECRET SLACK_API_URL
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


async def main(port: int, secret: str, api_url: str) -> None:
    """Serve until killed; print one line when listening."""
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
        signing_secret=secret,
    )

    @bolt.command("/crm")
    async def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    app.router.add_get("/healthz", lambda r: web.json_response({"status": "ok"}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"bare Bolt app on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
