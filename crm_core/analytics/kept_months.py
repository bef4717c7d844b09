"""Sums over a period from kept monthly totals and the months its bounds cut, in one statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, literal, union_all
from sqlalchemy.orm import Session

from crm_core.analytics.periods import month_number, next_utc_month, utc_month

# (key 1, key 2, ...) -> (deals, amount): what one month holds.
Sums = dict[tuple[Any, ...], tuple[int, Decimal]]


# (month yyyymm, sign, lo, hi): a slice of one UTC month read row by row, added (1) or taken (-1).
Slice = tuple[int, int, datetime, datetime]


def cut_months(start: datetime | None, end: datetime | None) -> tuple[list[int], list[Slice]]:
    """The months [start, end)'s bounds cut: those to leave out of the kept sums, and slices.

    A month a bound cuts is read from its rows, the part inside when it is the smaller one (the
    month is then left out of the kept sums), else as the kept month less the parts outside.
    """
    first = utc_month(start) if start is not None else None
    last = utc_month(end - timedelta(microseconds=1)) if end is not None else None
    skipped: list[int] = []
    slices: list[Slice] = []
    for edge in sorted({m for m in (first, last) if m is not None}):
        after = next_utc_month(edge)
        lo = edge if start is None else max(edge, start)
        hi = after if end is None else min(after, end)
        if (lo, hi) == (edge, after):
            continue
        number = month_number(edge)
        if hi - lo <= (after - edge) / 2:
            skipped.append(number)
            slices.append((number, 1, lo, hi))
            continue
        for out_lo, out_hi in ((edge, lo), (hi, after)):
            if out_lo < out_hi:
                slices.append((number, -1, out_lo, out_hi))
    return skipped, slices


def month_sums(
    session: Session,
    kept: Callable[[list[int]], Select[*tuple[Any, ...]]],
    slice_: Callable[[datetime, datetime], Select[*tuple[Any, ...]]],
    start: datetime | None,
    end: datetime | None,
) -> dict[int, Sums]:
    """The sums of [start, end) by UTC month (yyyymm), read in ONE statement.

    `kept(skipped)` selects (month, key 1, ..., key n, deals, cents) from a kept monthly table
    for the months in the period but not in `skipped`; `slice_(lo, hi)` selects (key 1, ...,
    key n, deals, amount) of the rows in [lo, hi) inside one month. A month a bound cuts is read
    from its rows, the part inside when it is the smaller one (the month is then skipped in the
    kept sums), else as the kept month less the part outside. One statement is one snapshot:
    read apart, a write committed between the kept month and its slice was subtracted without
    having been added (a funnel step of -1 while a colleague moved a deal).
    """
    skipped, slices = cut_months(start, end)
    parts: list[Select[*tuple[Any, ...]]] = [kept(skipped)]
    for number, sign, lo, hi in slices:
        part = slice_(lo, hi).subquery()
        *keys, count, total = part.c
        parts.append(Select(literal(number, Integer), *keys, count * sign, total * (100 * sign)))
    months: dict[int, Sums] = {}
    for number, *keys, deals, cents in session.execute(union_all(*parts)):
        if deals is None:
            continue
        slot = months.setdefault(int(number), {})
        key = tuple(keys)
        have_n, have = slot.get(key, (0, Decimal(0)))
        # SQLite sums NUMERIC as float: cents are whole, so rounding is exact.
        value = Decimal(round(Decimal(str(cents or 0)))).scaleb(-2)
        slot[key] = (have_n + int(deals), have + value)
    return months
