"""Time a customer named by the start of its name (`resolve_customer`), with the scan for
customers tagged with the same words (issue 17's name/tag clash) and without it.

CPU time of this process (time.process_time; SQLite runs in it), medians of `--runs` lookups,
on a synthetic SQLite book of N customers built in a temporary file: a tenth a rep's, the rest
the admin's; a third carry one or two tags, Latin and Chinese.

    .venv/bin/python bench/bench_tag_names.py --customers 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from crm_core import resolve  # noqa: E402
from crm_core.context import Ctx  # noqa: E402
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from crm_core.errors import CrmError  # noqa: E402
from crm_core.models import Customer, User  # noqa: E402
from crm_core.services.users import add_user  # noqa: E402
from crm_core.text import name_key  # noqa: E402

WORDS = ["acme", "north", "wind", "blue", "river", "stone", "peak", "harbor", "delta", "apex"]
TRADES = ["logistics", "supply", "systems", "labs", "foods", "freight", "energy", "media"]
TAGS = ["vip", "pilot", "renewal", "at-risk", "partner", "Freo", "CGP", "港燈", "雲雀", "harbour"]


def _build(url: str, customers: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(1)
    with unit_of_work(make_session_factory(engine)) as s:
        admin = add_user(s, "admin", "Admin", role="admin")
        rep = add_user(s, "rep", "Rep", role="rep", team="East")
        s.flush()
        for i in range(customers):
            name = f"{rng.choice(WORDS).title()}{i} {rng.choice(TRADES).title()}"
            s.add(
                Customer(
                    name=name,
                    name_key=name_key(name),
                    owner_id=rep.id if i % 10 == 0 else admin.id,
                    tags=rng.sample(TAGS, rng.choice([0, 0, 1, 2])),
                )
            )
    engine.dispose()


def _median_ms(ctx: Ctx, query: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        with suppress(CrmError):  # a question is as much a lookup as an answer
            resolve.resolve_customer(ctx, query)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main() -> None:
    """Build the book, time each lookup both ways, print one line each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'tags.sqlite'}"
        _build(url, args.customers)
        engine = make_engine(url)
        with make_session_factory(engine)() as s:
            for handle in ("admin", "rep"):
                user = s.scalar(select(User).where(User.external_id == handle))
                assert user is not None
                ctx = Ctx(s, user)
                for query in ("acme12", "港灯"):
                    _median_ms(ctx, query, 5)  # warm: the name index's copy, compiled SQL
                    with_scan = _median_ms(ctx, query, args.runs)
                    kept = resolve.tagged_rows
                    resolve.tagged_rows = lambda *a, **k: []  # type: ignore[assignment]
                    try:
                        without = _median_ms(ctx, query, args.runs)
                    finally:
                        resolve.tagged_rows = kept  # type: ignore[assignment]
                    print(
                        f"{handle:5} {query:7} with the tag lookup {with_scan:6.2f} ms, "
                        f"without {without:6.2f} ms ({args.customers} customers, SQLite)"
                    )
        engine.dispose()


if __name__ == "__main__":
    main()
