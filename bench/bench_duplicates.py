"""Latency of `duplicates` through the real dispatcher on a book with planted duplicates.

Builds a fresh SQLite database (or wipes the PostgreSQL schema at --pg-url) with N customers
spread over 30 reps in 3 teams, of which 5% are planted variants of another customer's name
(a legal form added, spaces dropped, full-width, Traditional, a Chinese city in front, a typo),
then times `duplicates` as the admin (every customer) and as a manager (one team's book).

    .venv/bin/python bench/bench_duplicates.py --customers 10000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import unicodedata
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_verbs import empty_database, percentile  # noqa: E402
from bot.allocator import freeze_startup_heap  # noqa: E402
from crm_core.db import make_session_factory, unit_of_work  # noqa: E402
from crm_core.models import Customer  # noqa: E402
from crm_core.services.users import add_user  # noqa: E402
from crm_core.stages import DEFAULT_STAGES, Pipeline  # noqa: E402
from crm_core.text import name_key  # noqa: E402
from handlers.dispatcher import Dispatcher  # noqa: E402
from handlers.reply import Command  # noqa: E402
from handlers.verbs import default_registry  # noqa: E402

LATIN = [
    "acme",
    "north",
    "wind",
    "blue",
    "river",
    "stone",
    "peak",
    "harbor",
    "delta",
    "summit",
    "apex",
    "cedar",
    "pine",
    "metro",
]
LATIN += [
    "global",
    "united",
    "pacific",
    "atlantic",
    "prime",
    "nova",
    "vertex",
    "orbit",
    "quantum",
    "solar",
    "lunar",
]
TRADES = [
    "logistics",
    "supply",
    "systems",
    "labs",
    "foods",
    "freight",
    "energy",
    "media",
    "health",
    "motors",
]
HAN = [
    "云帆",
    "华东",
    "恒通",
    "新华",
    "中远",
    "海天",
    "金桥",
    "远洋",
    "天成",
    "宏达",
    "瑞丰",
    "长城",
    "万达",
    "星河",
    "明珠",
]
HAN_TRADES = ["科技", "物流", "贸易", "电子", "食品", "医药", "能源", "机械", "传媒", "建材"]
CITIES = ["杭州", "上海", "北京", "深圳", "广州", "成都"]


def names(count: int, rng: random.Random) -> list[str]:
    """`count` distinct company names, 5% of them variants of an earlier one."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        if out and rng.random() < 0.05:
            base = rng.choice(out)
            variant = rng.choice(
                (
                    base + (" 有限公司" if not base.isascii() else " Inc."),
                    base.replace(" ", ""),
                    unicodedata.normalize("NFKC", base).translate(
                        {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
                    ),
                    base.replace("华", "華").replace("东", "東").replace("云", "雲"),
                    rng.choice(CITIES) + base if not base.isascii() else base,
                    base[:-2] + base[-1] + base[-2] if len(base) > 6 else base + "s",
                )
            )
            out.append(variant)
            continue
        if rng.random() < 0.3:
            name = rng.choice(HAN) + rng.choice(HAN_TRADES) + str(rng.randrange(1000))
        else:
            words = [*rng.sample(LATIN, 2), rng.choice(TRADES), str(rng.randrange(1000))]
            name = " ".join(w.title() for w in words)
        if name_key(name) not in seen:
            seen.add(name_key(name))
            out.append(name)
    return out


def main() -> None:
    """Build the book, time `duplicates` per role, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--pg-url", default=None)
    args = ap.parse_args()
    rng = random.Random(1)
    engine, backend = empty_database(f"dups-{args.customers}", args.pg_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as s:
        reps = []
        for team in ("East", "West", "North"):
            manager = add_user(s, f"m-{team}", f"Manager {team}", role="manager", team=team)
            reps += [add_user(s, f"r-{team}-{i}", f"Rep {i}", team=team) for i in range(10)]
        admin = add_user(s, "admin", "Admin", role="admin")
        s.flush()
        ids = {"admin": admin.id, "manager": manager.id}
        rows = [
            {"name": n, "name_key": name_key(n), "owner_id": rng.choice(reps).id, "tags": []}
            for n in names(args.customers, rng)
        ]
        s.execute(insert(Customer), rows)
    dispatcher = Dispatcher(factory, default_registry(), Pipeline(DEFAULT_STAGES))
    # As `crmbot serve` does once started: what is loaded by now stays out of full collections.
    freeze_startup_heap()
    print(f"## {backend}: {args.customers} customers (5% planted variants)\n")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| verb | as | p50 ms | p95 ms | mean ms | CPU p50 ms | CPU p95 ms | pairs found |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for role, runs in (("manager", args.runs), ("admin", max(5, args.runs // 5))):
        samples = []
        cpu = []
        title = ""
        for i in range(runs + 2):
            t0, c0 = time.perf_counter(), time.thread_time()
            reply = dispatcher.dispatch(Command(ids[role], "bench", text="duplicates"))
            elapsed = (time.perf_counter() - t0) * 1000
            # CPU time of this thread: what the call cost, without the wait for a busy core.
            used = (time.thread_time() - c0) * 1000
            title = reply.title or reply.text
            if i >= 2:
                samples.append(elapsed)
                cpu.append(used)
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        mean = statistics.mean(samples)
        c50, c95 = percentile(cpu, 50), percentile(cpu, 95)
        print(
            f"| duplicates | {role} | {p50:.1f} | {p95:.1f} | {mean:.1f} | {c50:.1f} | {c95:.1f} "
            f"| {title[:60]} |"
        )


if __name__ == "__main__":
    main()
