"""Worker CPU per command kind through the gateway (no HTTP, no adapter), on a loaded book.

Runs the fleet benchmark's Slack commands (`customer #id`, `find <first letters>`,
`customers`, `log call #id: ...`, `new customer ...`) as its linked Slack reps through
`Gateway.dispatch_as` (the sender's look-up, the delivery claim and the verb in one unit of
work, as the Slack adapter runs them) against the database at --url, which bench_fleet.py
loaded and linked (`--reuse` keeps it). Reports time.process_time per command (mean and
median) and the statements each kind sent. Writes notes and customers marked `fleetbench-`,
as the fleet benchmark does.

With --telegram, the fleet benchmark's Telegram commands (`customer #id`, `log visit #id: ...`)
as its linked Telegram reps, through the Telegram adapter's own calls (`Core.who` and
`Core.run` on one held connection: the sender's look-up, then the command, its rendering with
button tokens and the written-message mark), without PTB or HTTP.

Also reports the CPU PostgreSQL's backends for the database spent per command of each kind
(from /proc, so only with the server on this machine; its clock ticks are 10 ms, so the mean
over many commands is the figure, not any one command's).

    .venv/bin/python bench/bench_dispatch_cpu.py --url postgresql+psycopg://... \
        --kinds customer,find,customers,log,new --rounds 80
    .venv/bin/python bench/bench_dispatch_cpu.py --url postgresql+psycopg://... \
        --telegram --kinds customer,visit --rounds 80
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_fleet import backend_cpu, backends_used  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.telegram.core import _HELD, Core  # noqa: E402
from crm_core.db import unit_of_work  # noqa: E402
from crm_core.models import Customer, Identity  # noqa: E402
from crm_core.settings import Settings  # noqa: E402
from handlers.reply import Command  # noqa: E402

WARM_UP = 10


def line(kind: str, cid: int, name: str) -> str:
    """One command of `kind` about customer `cid` called `name`."""
    mark = f"fleetbench-{secrets.token_hex(6)}"
    return {
        "customer": f"customer #{cid}",
        "find": f"find {name.split()[0][:5]}",
        "customers": "customers",
        "log": f"log call #{cid}: pricing follow-up {mark}",
        "new": f"new customer Bench {mark}",
        "visit": f"log visit #{cid}: warehouse walk-through {mark}",
    }[kind]


def telegram_once(core: Core, chat: int, text: str) -> str:
    """One typed Telegram command as the adapter runs it (update id and message id fresh)."""
    held = core.gateway.hold()
    token = _HELD.set(held)
    try:
        who = core.who(chat, keep=True)
        assert who is not None, chat
        n = secrets.randbelow(2**40)
        command = Command(
            who.user_id,
            "telegram",
            text=text,
            chat_id=str(chat),
            idempotency_key=f"telegram:{chat}:{n}",
            delivery_id=f"update:{n}",
        )
        wrote = (chat, n) if text.startswith("log") else None
        reply, _ = core.run(who, command, wrote=wrote)
        return reply.status
    finally:
        _HELD.reset(token)
        held.close()


def main() -> None:
    """Parse arguments, run the rounds, print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="a database bench_fleet.py loaded")
    ap.add_argument("--kinds", default="customer,find,customers,log,new")
    ap.add_argument("--rounds", type=int, default=80, help="timed commands of each kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--telegram", action="store_true", help="as the Telegram adapter runs them")
    args = ap.parse_args()
    crm = build(Settings(_env_file=None), database_url=args.url)  # type: ignore[call-arg]
    platform = "telegram" if args.telegram else "slack"
    gateway = crm.gateway(platform)
    core = Core(gateway)
    with unit_of_work(crm.session_factory) as s:
        linked = s.execute(
            select(Identity.platform_user_id, Identity.user_id).where(Identity.platform == platform)
        ).all()
        books = {
            pid: s.execute(
                select(Customer.id, Customer.name).where(
                    Customer.owner_id == uid, Customer.merged_into.is_(None)
                )
            ).all()
            for pid, uid in linked
        }
    books = {pid: book for pid, book in books.items() if book}
    if not books:
        raise SystemExit(f"no linked {platform} reps with customers: run bench_fleet.py first")
    kinds = args.kinds.split(",")
    rng = random.Random(args.seed)
    statements: Counter[str | None] = Counter()
    current: list[str | None] = [None]

    def count(*_: Any) -> None:
        statements[current[0]] += 1

    event.listen(crm.engine, "before_cursor_execute", count)
    cpu: dict[str, list[float]] = defaultdict(list)
    server: Counter[str] = Counter()
    database = make_url(args.url).database or ""
    for n in range(args.rounds + WARM_UP):
        for kind in kinds:
            sid = rng.choice(list(books))
            cid, name = rng.choice(books[sid])
            text = line(kind, cid, name)
            timed = n >= WARM_UP
            current[0] = kind if timed else None

            def command(uid: int, text: str = text) -> Command:
                delivery = f"command:{secrets.token_hex(8)}"
                return Command(uid, "slack", text=text, chat_id="C1", delivery_id=delivery)

            backends = backend_cpu(database)
            start = time.process_time()
            if args.telegram:
                status = telegram_once(core, int(sid), text)
            else:
                done = gateway.dispatch_as(sid, command)
                assert done is not None, text
                status = done[1].status
            took = time.process_time() - start
            if timed:
                server[kind] += backends_used(backends, backend_cpu(database))
            assert status in ("ok", "info"), (text, status)
            if timed:
                cpu[kind].append(took)
    crm.engine.dispose()
    print(f"{args.rounds} commands of each kind, {args.url.split('@')[-1]}")
    print("| command | CPU ms mean | CPU ms median | statements | PostgreSQL CPU ms mean |")
    print("|---|---:|---:|---:|---:|")
    for kind in kinds:
        times = sorted(cpu[kind])
        mean = sum(times) / len(times) * 1000
        median = times[len(times) // 2] * 1000
        pg = server[kind] / len(times) * 1000
        print(
            f"| {kind} | {mean:.2f} | {median:.2f} | {statements[kind] / len(times):.1f} "
            f"| {pg:.2f} |"
        )


if __name__ == "__main__":
    main()
