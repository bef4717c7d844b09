"""CPU of a Telegram reply's Bot API request: PTB's httpx request against crmbot's aiohttp one.

Sends --messages sendMessage calls through an ExtBot (with crmbot's flood limiter, as a worker
sends) to the fake Bot API on 127.0.0.1, once with each request class, alternately for
--rounds rounds; prints this process's CPU per message (client and fake server together: the
server's share is the same for both, so the difference is the client's).

    .venv/bin/python bench/bench_telegram_send.py --messages 400 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram.ext import ExtBot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.telegram.aiohttp_request import AiohttpRequest  # noqa: E402
from bot.telegram.transport import FloodLimiter  # noqa: E402
from tests.bot.telegram.fake_api import FakeBotApi  # noqa: E402

TOKEN = "4242:BENCH"


async def one(api: FakeBotApi, request: BaseRequest, messages: int) -> float:
    """CPU ms per message through `request` (chats spread so no chat's 1/s limit waits)."""
    bot = ExtBot(
        TOKEN,
        base_url=f"{api.url}/bot",
        request=request,
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=FloodLimiter(overall_max_rate=0, chat_burst=0),
    )
    async with bot:
        await bot.send_message(1, "warm-up")
        started = time.process_time()
        for i in range(messages):
            await bot.send_message(1000 + i, f"<b>Acme</b> card line {i}", parse_mode="HTML")
        return (time.process_time() - started) * 1000 / messages


async def main(messages: int, rounds: int) -> None:
    api = FakeBotApi(TOKEN)
    await api.start()
    try:
        for r in range(rounds):
            httpx_ms = await one(api, HTTPXRequest(connection_pool_size=64), messages)
            aio_ms = await one(api, AiohttpRequest(connection_pool_size=64), messages)
            print(f"round {r + 1}: httpx {httpx_ms:.3f} ms, aiohttp {aio_ms:.3f} ms a message")
    finally:
        await api.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    asyncio.run(main(args.messages, args.rounds))
