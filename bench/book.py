"""A demo book of N customers built once and kept, so the benchmarks measure without reloading.

`demo-data`'s records (about 3 deals, 20 notes and 2 contacts a customer) go in through the real
exchange importer (its Core executemany inserts, audit entries and note outbox included) in
chunks of a few thousand customers, each chunk its own transaction: memory stays flat and
100,000 customers (2 million notes) load in minutes instead of building one huge import.

The book is kept: SQLite in `bench/out/book-N-SEED.sqlite`, PostgreSQL in the schema
`book_N_SEED` of the database at the URL (other schemas, and `public`, are left alone). A book
that is complete (its marker row says so) is reused; `rebuild=True` starts it over.

`topped_up_book()` is the fresh, topped-up book the segment and campaign benchmarks start from
(extra open deals, NPS scores and a custom field `region`).

    .venv/bin/python bench/book.py --customers 100000 [--pg-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from crm_core.demo_data import REFERENCE_NOW, generate  # noqa: E402
from crm_core.exchange import import_jsonl  # noqa: E402
from crm_core.models import Customer, CustomField, Deal, Feedback  # noqa: E402
from crm_core.stages import DEFAULT_STAGES  # noqa: E402

OUT = ROOT / "bench" / "out"
CHUNK = 5_000
# Books larger than this are copies of the book of this size (see replicate()).
SEED_BOOK = 10_000
# Copy k's ids are the source's plus k * OFFSET.
OFFSET = 10_000_000
# Tables copied with the customers (staff, custom fields and settings are shared, not copied).
COPIED = ("customers", "contacts", "deals", "stage_changes", "interactions", "reminders")
# Kept by triggers on the copied tables (migrations 0026, 0030, 0031, 0033-0035): the copies'
# inserts fill them, so copying the seed's rows too would count the seed twice.
KEPT = (
    "pipeline_totals",
    "deal_reach",
    "funnel_totals",
    "deal_month_totals",
    "funnel_month_totals",
    "deal_close_totals",
    "note_day_totals",
    "move_day_totals",
    "cycle_totals",
)
SUFFIXES = ("", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _chunks(customers: int, seed: int, size: int) -> Iterator[list[str]]:
    """The demo file as JSON lines, cut after every `size` customers (with their records)."""
    lines: list[str] = []
    in_chunk = 0
    for record in generate(customers, seed):
        kind = record["type"]
        if kind == "customer":
            if in_chunk == size:
                yield lines
                lines, in_chunk = [], 0
            in_chunk += 1
        elif kind == "reminder" and in_chunk:
            # Reminders come last and refer to any customer: their own chunk.
            yield lines
            lines, in_chunk = [], 0
        lines.append(json.dumps(record, ensure_ascii=False))
    if lines:
        yield lines


def _schema(customers: int, seed: int) -> str:
    return f"book_{customers}_{seed}"


def book_url(customers: int, seed: int, pg_url: str | None) -> str:
    """Where the book of this size lives: a SQLite file, or a schema of the PostgreSQL database."""
    if not pg_url:
        return f"sqlite:///{OUT / f'book-{customers}-{seed}.sqlite'}"
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options={quote(f'-csearch_path={_schema(customers, seed)}')}"


def _complete(engine: Engine, customers: int, seed: int) -> bool:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT customers, seed FROM bench_book")).first()
        except DBAPIError:  # no marker table: not built, or half built
            return False
    return row is not None and tuple(row) == (customers, seed)


def _wipe(engine: Engine, customers: int, seed: int, pg_url: str | None) -> None:
    if pg_url:
        schema = _schema(customers, seed)
        with make_engine(pg_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    else:
        path = Path(engine.url.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


def _source_table(dialect: str, table: str) -> str:
    return f"src.{table}" if dialect == "sqlite" else f'"{_schema(SEED_BOOK, 1)}".{table}'


def _copy_expr(table: str, column: Any, k: int) -> str:
    """The SQL that gives `column` of copy k from the source row."""
    name, off = column.name, k * OFFSET
    refs = {fk.column.table.name for fk in column.foreign_keys}
    if name == "id" or refs & set(COPIED) or (table == "reminders" and name == "series_id"):
        return f"{name} + {off}"
    if name in ("external_id", "idempotency_key"):
        return f"{name} || '-c{k}'"
    if table == "customers" and name == "name":
        return f"name || ' {SUFFIXES[k]}'"
    if table == "audit_entries" and name == "entity_id":
        kinds = ", ".join(f"'{t}'" for t in COPIED)
        return f"CASE WHEN entity_type IN ({kinds}) THEN entity_id + {off} ELSE entity_id END"
    if table == "audit_entries" and name == "customer_id":
        return f"customer_id + {off}"
    return name


def replicate(engine: Engine, customers: int, seed_engine: Engine) -> None:
    """Fill `engine` (migrated, empty) with `customers // SEED_BOOK` copies of the seed book.

    One INSERT ... SELECT per table and copy, inside the database: the 10,000-customer book
    loaded through the importer, then its customers, contacts, deals, stage history, notes,
    reminders and audit entries again with ids moved by k * OFFSET, external ids suffixed and
    names given a numeral (Acme Logistics, Acme Logistics II, ...), their keys recomputed by
    crm_core.text.name_key. Staff stay as they are: each rep's book grows tenfold.
    """
    from crm_core.models import Base
    from crm_core.text import name_key

    copies = customers // SEED_BOOK
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "sqlite":
            conn.exec_driver_sql(f"ATTACH DATABASE '{seed_engine.url.database}' AS src")
        tables = [t for t in Base.metadata.sorted_tables if t.name not in ("alembic_version",)]
        for table in tables:
            cols = [c for c in table.columns]
            names = ", ".join(c.name for c in cols)
            src = _source_table(dialect, table.name)
            if table.name in ("name_index_version", "customer_index_changes", *KEPT):
                continue
            if table.name not in (*COPIED, "audit_entries"):
                # Shared rows (staff, teams, settings): once.
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {src}"
                )
                continue
            for k in range(copies):
                exprs = ", ".join(_copy_expr(table.name, c, k) for c in cols)
                conn.exec_driver_sql(
                    f"INSERT INTO {table.name} ({names}) SELECT {exprs} FROM {src}"
                )
        rows = conn.exec_driver_sql("SELECT id, name FROM customers").all()
        conn.execute(
            text("UPDATE customers SET name_key = :k WHERE id = :i"),
            [{"k": name_key(n), "i": i} for i, n in rows],
        )
        if dialect == "postgresql":
            for table in tables:
                if "id" in table.c and table.c.id.autoincrement is not False:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"
                    )
    if dialect == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("DETACH DATABASE src")


def open_book(
    customers: int,
    seed: int = 1,
    pg_url: str | None = None,
    *,
    rebuild: bool = False,
    by_import: bool = False,
) -> tuple[Engine, float | None]:
    """The migrated book's engine and its load time in seconds (None: an existing one reused)."""
    OUT.mkdir(parents=True, exist_ok=True)
    engine = make_engine(book_url(customers, seed, pg_url))
    if not rebuild and _complete(engine, customers, seed):
        upgrade(engine)  # a kept book may predate newer migrations
        return engine, None
    engine.dispose()
    _wipe(engine, customers, seed, pg_url)
    engine = make_engine(book_url(customers, seed, pg_url))
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    if customers > SEED_BOOK and customers % SEED_BOOK == 0 and seed == 1 and not by_import:
        seed_engine, _ = open_book(SEED_BOOK, 1, pg_url)
        seed_engine.dispose()
        started = time.perf_counter()
        # The kept seed book may have the bench's writes in it: copied too, a few hundred rows.
        replicate(engine, customers, seed_engine)
        _finish(engine, customers, seed)
        return engine, time.perf_counter() - started
    done = 0
    for lines in _chunks(customers, seed, CHUNK):
        with unit_of_work(factory) as session:
            report = import_jsonl(session, lines, stages=DEFAULT_STAGES)
        done += report.created.get("customer", 0)
        print(
            f"  loaded {done}/{customers} customers ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    _finish(engine, customers, seed)
    return engine, time.perf_counter() - started


def _finish(engine: Engine, customers: int, seed: int) -> None:
    """Mark the book complete; on PostgreSQL, vacuum and analyze it as autovacuum would."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_book (customers INTEGER, seed INTEGER)"))
        conn.execute(text("INSERT INTO bench_book VALUES (:c, :s)"), {"c": customers, "s": seed})
    if engine.dialect.name == "postgresql":
        # The steady state autovacuum reaches: statistics and visibility map current.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # The kept totals took one upsert per copied row (a few thousand rows left in tens
            # of MB of dead versions a plain VACUUM frees but does not give back): compacted as
            # a migration's backfill or a restore leaves them, or the reports' scans read the
            # bulk load's churn (the admin's funnel 60 ms instead of 2).
            present = set(inspect(conn).get_table_names())
            for table in KEPT:
                if table in present:
                    conn.execute(text(f"VACUUM FULL {table}"))
            conn.execute(text("VACUUM ANALYZE"))


# Stages of the deals top_up() adds.
OPEN = ("lead", "qualified", "proposal", "negotiation")


def deal_row(
    customer_id: int,
    owner_id: int,
    title: str,
    amount: Decimal,
    stage: str,
    created_at: datetime,
    closed_at: datetime | None = None,
) -> dict[str, Any]:
    """One USD deal for a bulk insert into `deals`, last updated when it closed (or was made)."""
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "title": title,
        "title_key": title.lower(),
        "amount": amount,
        "currency": "USD",
        "stage": stage,
        "owner_id": owner_id,
        "custom": {},
        "created_at": created_at,
        "updated_at": closed_at or created_at,
    }
    if closed_at is not None:
        row["closed_at"] = closed_at
    return row


def top_up(factory: sessionmaker[Session], deals: int, seed: int) -> tuple[int, int]:
    """Add open deals until there are `deals`; NPS and a region on a fifth of the customers."""
    rng = random.Random(seed)
    now = REFERENCE_NOW
    with unit_of_work(factory) as s:
        have = int(s.scalar(select(func.count()).select_from(Deal)) or 0)
        rows = s.execute(select(Customer.id, Customer.owner_id)).all()
        extra = []
        for i, (cid, owner) in enumerate(rng.choices(rows, k=max(0, deals - have))):
            amount = Decimal(rng.randrange(1, 200) * 1000)
            extra.append(deal_row(cid, owner, f"Bench deal {i}", amount, rng.choice(OPEN), now))
        if extra:
            s.execute(insert(Deal), extra)
        picked = rng.sample(rows, len(rows) // 5)
        s.execute(
            insert(Feedback),
            [
                {
                    "customer_id": cid,
                    "kind": "nps",
                    "score": rng.randrange(0, 11),
                    "created_at": REFERENCE_NOW,
                }
                for cid, _ in picked
            ],
        )
        s.add(
            CustomField(record="customer", name="region", kind="choice", choices=["North", "South"])
        )
        north = {cid for cid, _ in picked if rng.random() < 0.5}
        for region, ids in (("North", north), ("South", {c for c, _ in picked} - north)):
            s.execute(
                update(Customer).where(Customer.id.in_(ids)).values(custom={"region": region})
            )
        total = int(s.scalar(select(func.count()).select_from(Deal)) or 0)
    return len(rows), total


def topped_up_book(
    name: str, customers: int, deals: int, seed: int, pg_url: str | None
) -> tuple[Engine, str, int, int]:
    """A fresh demo book topped up to `deals` and analyzed: engine, backend, customers, deals.

    On PostgreSQL the demo file is imported into the public schema at `pg_url` (wiped first);
    on SQLite it is bench_verbs' cached copy of the loaded book, named after `name`.
    """
    # bench_verbs imports this module: its helpers are imported when first needed.
    from bench.bench_verbs import data_file, empty_database, sqlite_copy

    if pg_url:
        engine, backend = empty_database(f"{name}-{customers}", pg_url)
        with (
            unit_of_work(make_session_factory(engine)) as session,
            data_file(customers, seed).open(encoding="utf-8") as f,
        ):
            import_jsonl(session, f, stages=DEFAULT_STAGES)
    else:
        engine = make_engine(f"sqlite:///{sqlite_copy(customers, seed, name)}")
        backend = "SQLite"
    count, total = top_up(make_session_factory(engine), deals, seed)
    if pg_url:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return engine, backend, count, total


def main() -> None:
    """Build (or find) the book of each given size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[10_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (only the book's schema)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--by-import", action="store_true", help="load every size through the importer")
    args = ap.parse_args()
    for n in args.customers:
        engine, took = open_book(
            n, args.seed, args.pg_url, rebuild=args.rebuild, by_import=args.by_import
        )
        print(
            f"{engine.dialect.name} book of {n} customers: "
            + ("reused" if took is None else f"loaded in {took:.0f} s")
        )
        engine.dispose()


if __name__ == "__main__":
    main()
