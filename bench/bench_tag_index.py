"""Time the tag lookup of `customer <partial>` and `find <word>` with the name index's tag map
(branch tagidx, migration 0036) and with tag9's scan of every visible row's tags as text, in
the same minutes, as a rep, a manager and an admin, on the kept demo book (bench/book.py).

Wall-clock medians of `--runs` calls each way, the two ways alternating in blocks of five (the
machine's load drifts). The scan is tag9's `tagged_ids`, copied here; each role's word is the
first word of a name in its own book (it starts several names, so the lookup asks).

    .venv/bin/python bench/bench_tag_index.py --customers 100000 --pg-url postgresql+psycopg://...

`--synthetic` times a book of customers only instead (no deals or notes), built in a few
seconds in the schema `tagidx_synth_N` (dropped first): alice (rep) and bob (manager) of East
with five more reps, ten teams of eight reps, an admin; a third of the customers tagged (the
tags of bench_tag_names.py, kinds and names alike).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, Text, cast, insert, or_, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import open_book  # noqa: E402
from crm_core import resolve  # noqa: E402
from crm_core.access import customer_filter  # noqa: E402
from crm_core.context import Ctx  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from crm_core.errors import CrmError  # noqa: E402
from crm_core.models import Customer, User  # noqa: E402
from crm_core.services import customers  # noqa: E402
from crm_core.services.users import add_user  # noqa: E402
from crm_core.text import has_cjk, name_key, to_traditional  # noqa: E402


def scan_tagged_ids(ctx: Ctx, key: str) -> list[int]:
    """tag9's tagged_ids: one ILIKE (SQLite: LIKE) pass over the visible rows' tags as text."""
    if not resolve._long_enough(key):
        return []
    word = max(key.split(), key=len)
    words = {word}
    if has_cjk(word):
        words |= {to_traditional(word, phrases=False), to_traditional(word)}
    forms = sorted({f for w in words for f in (w, json.dumps(w)[1:-1])})
    text = cast(Customer.tags, Text)
    postgres = ctx.session.get_bind().dialect.name == "postgresql"
    likes = []
    for form in forms:
        escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        likes.append(
            text.ilike(pattern, escape="\\") if postgres else text.like(pattern, escape="\\")
        )
    rows = ctx.session.execute(
        select(Customer.id, Customer.tags)
        .where(customer_filter(ctx.actor), or_(*likes))
        .order_by(Customer.id)
        .limit(500)
    ).all()
    held = [r for r in rows if any(isinstance(t, str) and name_key(t) == key for t in r[1] or ())]
    return [int(r[0]) for r in held] if len(held) <= resolve.TAG_SHARED_BY else []


def _synthetic(customers_n: int, pg_url: str) -> Engine:
    """A customers-only book in its own schema of the database at `pg_url` (see the module)."""
    from bench.bench_tag_names import TAGS, TRADES, WORDS

    schema = f"tagidx_synth_{customers_n}"
    admin_engine = make_engine(pg_url)
    with admin_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin_engine.dispose()
    sep = "&" if "?" in pg_url else "?"
    engine = make_engine(f"{pg_url}{sep}options={quote(f'-csearch_path={schema}')}")
    upgrade(engine)
    rng = random.Random(1)
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "admin", "Admin", role="admin")
        add_user(s, "bob", "Bob", role="manager", team="T0")
        reps = [add_user(s, "alice", "Alice", role="rep", team="T0")]
        reps += [add_user(s, f"r{i}", f"R{i}", role="rep", team=f"T{i // 8}") for i in range(1, 80)]
        s.flush()
        owners = [u.id for u in reps]
        rows = []
        for i in range(customers_n):
            name = f"{rng.choice(WORDS).title()}{i} {rng.choice(TRADES).title()}"
            rows.append(
                {
                    "name": name,
                    "name_key": name_key(name),
                    "owner_id": owners[i % len(owners)],
                    "tags": rng.sample(TAGS, rng.choice([0, 0, 1, 2])),
                }
            )
        for at in range(0, len(rows), 5000):
            s.execute(insert(Customer), rows[at : at + 5000])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE customers"))
    return engine


def _use(lookup: Callable[[Ctx, str], list[int]]) -> None:
    resolve.tagged_ids = lookup  # type: ignore[assignment]
    customers.tagged_ids = lookup  # type: ignore[attr-defined,assignment]


def _tagged(ctx: Ctx, key: str) -> list[int]:
    return resolve.tagged_ids(ctx, key)


def main() -> None:
    """Open the book, time each role's lookups both ways, print one line each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--synthetic", action="store_true", help="a customers-only book (PostgreSQL)")
    args = ap.parse_args()
    if args.synthetic:
        assert args.pg_url, "--synthetic needs --pg-url"
        engine = _synthetic(args.customers, args.pg_url)
    else:
        engine, _ = open_book(args.customers, args.seed, args.pg_url)
    backend = engine.dialect.name
    indexed = resolve.tagged_ids
    with make_session_factory(engine)() as s:
        for handle in ("alice", "bob", "admin"):
            user = s.scalar(select(User).where(User.external_id == handle))
            assert user is not None
            ctx = Ctx(s, user)
            one = s.scalar(
                select(Customer.name).where(customer_filter(user)).order_by(Customer.id).limit(1)
            )
            assert one is not None
            word = one.split()[0]
            # Through the modules at call time: _use swaps tagged_ids there.
            calls: dict[str, Callable[[], Any]] = {
                f"customer {word}": partial(resolve.resolve_customer, ctx, word),
                f"find {word}": partial(customers.search_customers, ctx, word),
                f"tagged_ids {word}": partial(_tagged, ctx, name_key(word)),
            }
            for label, call in calls.items():
                times: dict[str, list[float]] = {"index": [], "scan": []}
                for lookup in (indexed, scan_tagged_ids):
                    _use(lookup)
                    with suppress(CrmError):
                        call()  # warm: the name index's copy, compiled SQL
                for _ in range(args.runs // 5):
                    for way, lookup in (("index", indexed), ("scan", scan_tagged_ids)):
                        _use(lookup)
                        for _ in range(5):
                            started = time.perf_counter()
                            with suppress(CrmError):  # a question is as much a lookup
                                call()
                            times[way].append(time.perf_counter() - started)
                _use(indexed)
                med = {w: statistics.median(t) * 1000 for w, t in times.items()}
                print(
                    f"{handle:5} {label:24} index {med['index']:7.2f} ms, "
                    f"scan {med['scan']:7.2f} ms ({args.customers} customers, {backend})",
                    flush=True,
                )
    engine.dispose()


if __name__ == "__main__":
    main()
