"""`ask`'s customer lookup (`find_customer`) over a large book: the first question of a process
(cold: no name's Latin forms computed yet) and the same again (warm), and how many names had
their Latin forms computed.

The book is the kept demo book (bench/book.py) at the given size. Run it with this tree, or
with another tree first on PYTHONPATH to time that one (main has `ask._latin_forms`).

    .venv/bin/python bench/bench_ask_names.py --customers 10000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

QUESTIONS = (
    "what did Kevin say about the renewal?",
    "账号什么时候开通？",
    "any news on the renewal pricing?",
    "what did the buyer say about Q3 volumes?",
    "凯斯勒的采购到底谁说了算",
    "wuxi jinggong - magnet bonding test numbers?",
)


def _forms_cache() -> Any:
    """The cached function computing a Chinese name's Latin forms, in either tree."""
    try:
        from retrieval.latin_names import latin_forms

        return latin_forms
    except ImportError:
        from retrieval import ask

        return ask._latin_forms  # type: ignore[attr-defined]


def main() -> None:
    """Time each question twice as the admin; print one line each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from sqlalchemy import select

    from bench.book import open_book
    from crm_core.context import Ctx
    from crm_core.db import make_session_factory
    from crm_core.models import Customer, User
    from retrieval.ask import find_customer

    engine, _ = open_book(args.customers, args.seed, None)
    factory = make_session_factory(engine)
    forms = _forms_cache()
    import retrieval.ask

    print(f"tree: {Path(retrieval.ask.__file__).resolve().parents[1]}")
    with factory() as session:
        admin = session.scalars(select(User).where(User.role == "admin").limit(1)).one()
        chinese = sum(1 for k in session.scalars(select(Customer.name_key)) if k and k >= "\u0080")
        print(f"{args.customers} customers, {chinese} named past ASCII")
        for question in QUESTIONS:
            for run in ("cold", "warm"):
                ctx = Ctx(session, admin)
                started = time.perf_counter()
                found = find_customer(ctx, question)
                took = time.perf_counter() - started
                print(
                    f"{run} {took * 1000:7.1f} ms  forms computed so far "
                    f"{forms.cache_info().currsize:6}  {question!r} -> "
                    f"{found.name if found else None}"
                )
    engine.dispose()


if __name__ == "__main__":
    main()
