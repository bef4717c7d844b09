"""Telegram updates through the real webhook endpoint at the foundation's benchmark scale.

Copies the 10,000-customer benchmark database of bench_verbs.py (built here when missing),
links 50 reps to Telegram accounts, starts `crmbot serve --only telegram` in webhook mode
against the fake Bot API of the tests, and times update POST -> sendMessage arrival at the
fake (half card lookups `/customer #id`, half writes `log visit #id: ...`):

- latency: one update at a time, rotating over the 50 chats;
- throughput: 50 chats at once, each sending its next update when the last was answered.

Both with the flood limiter as deployed (30/s overall, ~1/s a chat) and with it off, which
shows the adapter's own capacity.

    .venv/bin/python bench/bench_telegram.py --customers 10000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import percentile, sqlite_copy  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.serve import run_until  # noqa: E402
from bot.telegram import component  # noqa: E402
from bot.telegram.transport import FloodLimiter, make_bot, webhook_secret  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from crm_core.models import Customer, Role, User  # noqa: E402
from crm_core.services.identities import link_identity  # noqa: E402
from crm_core.settings import Settings  # noqa: E402
from tests.bot.telegram.fake_api import FakeBotApi  # noqa: E402

TOKEN = "4242:BENCH"
HOOK = "https://bench.example/telegram/webhook"
CHATS = 50
TG_BASE = 500_000


def link_reps(url: str) -> dict[int, list[int]]:
    """Link the first 50 reps with customers; Telegram id -> their customer ids."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    books: dict[int, list[int]] = {}
    with unit_of_work(factory) as session:
        reps = session.scalars(select(User).where(User.role == Role.rep).order_by(User.id))
        for user in reps:
            ids = list(session.scalars(select(Customer.id).where(Customer.owner_id == user.id)))
            if not ids:
                continue
            tg_id = TG_BASE + len(books)
            link_identity(session, "telegram", str(tg_id), user)
            books[tg_id] = ids
            if len(books) == CHATS:
                break
    engine.dispose()
    return books


class Driver:
    """Posts updates to the webhook and waits for the reply's sendMessage at the fake."""

    def __init__(self, api: FakeBotApi, url: str, secret: str, books: dict[int, list[int]]):
        self.api, self.url, self.secret, self.books = api, url, secret, books
        self.rng = random.Random(1)
        self.update_ids = iter(range(1, 10**9))
        self.seen: dict[int, int] = dict.fromkeys(books, 0)

    def _update(self, chat: int) -> dict[str, Any]:
        cid = self.rng.choice(self.books[chat])
        text = f"/customer #{cid}" if self.rng.random() < 0.5 else f"/log visit #{cid}: bench"
        message = {
            "message_id": next(self.update_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "B"},
            "from": {"id": chat, "is_bot": False, "first_name": "B"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": text.index(" ")}],
        }
        return {"update_id": next(self.update_ids), "message": message}

    async def once(self, http: aiohttp.ClientSession, chat: int) -> float:
        """One update; seconds until its first sendMessage arrived."""
        want = self.seen[chat] + 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        started = time.monotonic()
        async with http.post(self.url, json=self._update(chat), headers=headers) as resp:
            assert resp.status == 200, resp.status
        calls = await self.api.wait_for("sendMessage", want, chat_id=chat, timeout=60)
        # Replies may come in several messages: count them all before the next update.
        await asyncio.sleep(0)
        self.seen[chat] = len(
            [c for c in self.api.of("sendMessage") if c.params["chat_id"] == chat]
        )
        return calls[want - 1].at - started


async def measure(args: argparse.Namespace, db: Path, limited: bool) -> str:
    """Serve, warm up, time latency then throughput; one Markdown table row each."""
    api = FakeBotApi(TOKEN)
    await api.start()
    url = f"sqlite:///{db}"
    books = link_reps(url)
    settings = Settings(
        _env_file=None,
        database_url=url,
        http_host="127.0.0.1",
        http_port=0,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=api.url,
        telegram_webhook_url=HOOK,
    )
    if not limited:
        off = FloodLimiter(overall_max_rate=0, group_max_rate=0, chat_burst=0)
        component.make_bot = lambda s: make_bot(s, limiter=off)  # type: ignore[assignment]
    app = build(settings)
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(app, ("telegram",), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 30)
    hook = f"http://127.0.0.1:{runtime.port}/telegram/webhook"
    driver = Driver(api, hook, webhook_secret(settings), books)
    chats = list(books)
    async with aiohttp.ClientSession() as http:
        for chat in chats[:10]:
            await driver.once(http, chat)
        lat = [await driver.once(http, chats[i % len(chats)]) for i in range(args.updates)]

        async def chat_loop(chat: int) -> None:
            for _ in range(args.per_chat):
                await driver.once(http, chat)

        started = time.monotonic()
        await asyncio.gather(*(chat_loop(c) for c in chats))
        elapsed = time.monotonic() - started
    stop.set()
    await task
    await api.stop()
    total = len(chats) * args.per_chat
    label = "as deployed (30/s, ~1/s a chat)" if limited else "flood limiter off"
    return (
        f"| {label} | {percentile(lat, 50) * 1000:.0f} ms | {percentile(lat, 95) * 1000:.0f} ms "
        f"| {total / elapsed:.1f} updates/s ({total} in {elapsed:.1f} s) |"
    )


async def run(args: argparse.Namespace) -> None:
    """Both configurations on fresh copies of the database."""
    rows = []
    for limited in (True, False):
        db = sqlite_copy(args.customers, args.seed, "telegram")
        rows.append(await measure(args, db, limited))
    print(f"{args.customers} customers, SQLite, {args.updates} sequential updates, ")
    print(f"{CHATS} concurrent chats x {args.per_chat} updates\n")
    print("| flood limiter | p50 update→sendMessage | p95 | throughput, 50 chats |")
    print("|---|---|---|---|")
    print("\n".join(rows))


def main() -> None:
    """Parse the options and run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--updates", type=int, default=200, help="sequential updates timed")
    ap.add_argument("--per-chat", type=int, default=10, help="updates per chat, concurrent")
    args = ap.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
