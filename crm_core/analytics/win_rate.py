"""Win rate: won, lost, won / (won + lost) and won value, per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
)

from crm_core.access import dead_customer_ids, visible_customer_ids, visible_owner_ids
from crm_core.analytics.kept_months import Sums, month_sums
from crm_core.analytics.periods import ALL_TIME, Period, month_number, utc_month
from crm_core.analytics.quotas import attainment, quota_by_group
from crm_core.analytics.scope import (
    Dim,
    Namer,
    group_columns,
    in_period,
    kept_scope,
    money,
    ratio,
    report_currency,
    scope_filter,
    stage_in,
    with_joins,
)
from crm_core.context import Ctx
from crm_core.models import Deal, DealCloseTotal, DealMonthTotal, Role, Team, User

# Dimensions read from the kept closing months by deal owner (migration 0033): the deal's
# owner, that owner's team (or its managers, or its region) and the UTC month or quarter.
KEPT_DIMS = frozenset({Dim.rep, Dim.team, Dim.manager, Dim.region, Dim.month, Dim.quarter})


@dataclass(frozen=True)
class WinRateRow:
    """One group's closed deals."""

    group: str | None
    won: int
    lost: int
    won_value: Decimal
    # The group's quotas inside the report's period, in its currency (None: no quota).
    quota: Decimal | None = None

    @property
    def win_rate(self) -> Decimal | None:
        """won / (won + lost), None when nothing closed."""
        return ratio(self.won, self.won + self.lost)

    @property
    def attainment(self) -> Decimal | None:
        """The row's won value / the row's quota: the won value the row shows, everyone's.

        One rule for every row and the total, and the forecast's (won + commit / quota): a
        colleague without a quota counts in the group's won value and so in its attainment
        (restricted to the people with a quota, "won 40,000 · quota 10,000" read "100%").
        """
        return attainment(self.won_value, self.quota)


@dataclass
class WinRateReport:
    """Closed deals in one currency over a period, grouped by a dimension (or not)."""

    currency: str
    period: Period
    dim: Dim | None
    rows: list[WinRateRow]
    total: WinRateRow
    # Closed deals in the period in other currencies, never added in: currency -> count.
    other_currencies: dict[str, int] = field(default_factory=dict)


def counts_own(ctx: Ctx) -> bool:
    """Whether the report counts deals by their owner: a rep's or a manager's (not an admin's).

    A won deal is the winner's number, as CRMs report it: the deal's owner at close (closed
    deals stay with who closed them when a customer is reassigned, crm_core.services.reassign).
    A rep's report counts the deals they own, a manager's those their team's people own, on
    live customers whoever owns them now; so a manager's row for a rep is the rep's own number,
    and a win stays in the winner's team after its customer moved to another team.
    """
    return ctx.actor.active and ctx.actor.role in (Role.rep, Role.manager)


def deal_owners(ctx: Ctx) -> Any:
    """The people whose deals a rep's or manager's report counts: themselves, or the team."""
    owners = visible_owner_ids(ctx.actor)
    if owners is None or ctx.actor.role == Role.rep or ctx.actor.team_id is None:
        return None
    return owners.scalar_subquery()


def own_scope(ctx: Ctx) -> list[Any]:
    """The deals a rep (or a manager's team) owns on live customers, whoever owns those now."""
    team = deal_owners(ctx)
    mine = Deal.owner_id == ctx.actor.id if team is None else Deal.owner_id.in_(team)
    return [mine, Deal.customer_id.not_in(dead_customer_ids())]


def report_scope(ctx: Ctx) -> list[Any]:
    """scope_filter, or for a rep or manager the deals they (their team) own (counts_own)."""
    return own_scope(ctx) if counts_own(ctx) else scope_filter(ctx)


def closed_in(ctx: Ctx, period: Period) -> list[Any]:
    """Conditions: a deal won or lost, closed inside the period."""
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    return [stage_in(ctx, closed), *in_period(Deal.closed_at, start, end)]


def other_currencies(
    ctx: Ctx, currency: str, conditions: list[Any], scope: list[Any] | None = None
) -> dict[str, int]:
    """How many deals matching the conditions are in each currency other than `currency`."""
    stmt = (
        select(Deal.currency, func.count())
        .where(
            *(scope_filter(ctx) if scope is None else scope), *conditions, Deal.currency != currency
        )
        .group_by(Deal.currency)
    )
    return {str(c): int(n) for c, n in ctx.session.execute(stmt)}


def win_rate(
    ctx: Ctx,
    *,
    dim: Dim | None = None,
    period: Period = ALL_TIME,
    currency: str | None = None,
) -> WinRateReport:
    """Won, lost, win rate and won value of the deals the actor may see, closed in the period."""
    currency = report_currency(ctx, currency)
    won_names = {s.name for s in ctx.pipeline.stages if s.won}
    if dim is None and counts_own(ctx):
        # Grouped by deal owner from the totals kept by deal owner, summed into the total.
        report = _report(
            ctx, Dim.rep, period, currency, *_kept_groups(ctx, Dim.rep, period, currency, won_names)
        )
        return WinRateReport(currency, period, None, [], report.total, report.other_currencies)
    if dim is None:
        return _ungrouped(ctx, period, currency, won_names)
    if dim in (Dim.month, Dim.quarter) and not utc_calendar(ctx):
        return _local_months(ctx, dim, period, currency, won_names)
    if dim in KEPT_DIMS:
        return _report(
            ctx, dim, period, currency, *_kept_groups(ctx, dim, period, currency, won_names)
        )
    keys = group_columns(dim, Deal.closed_at)
    conditions = closed_in(ctx, period)
    # Ungrouped, one pass over the closed deals serves the other currencies' counts too (at
    # 100,000 customers each pass is a scan of the deals); grouped reports join other tables.
    one_pass = dim is None
    lead: list[Any] = [Deal.currency] if one_pass else []
    columns: list[Any] = [*lead, *keys, Deal.stage, func.count(), func.sum(Deal.amount)]
    stmt = with_joins(select(*columns).select_from(Deal), dim)
    stmt = stmt.where(
        *report_scope(ctx), *conditions, *([] if one_pass else [Deal.currency == currency])
    ).group_by(*lead, *keys, Deal.stage)
    namer = Namer(ctx.session, dim)
    acc: dict[Any, list[Any]] = {}
    others: dict[str, int] = {}
    for found in ctx.session.execute(stmt):
        row: Sequence[Any] = found
        if one_pass:
            if found[0] != currency:
                others[str(found[0])] = others.get(str(found[0]), 0) + int(found[-2])
                continue
            row = found[1:]
        key = namer.key(row)
        stage, count, total = row[namer.width :]
        slot = acc.setdefault(key, [0, 0, Decimal(0)])
        if stage in won_names:
            slot[0] += int(count)
            slot[2] += money(total)
        else:
            slot[1] += int(count)
    if not one_pass:
        others = other_currencies(ctx, currency, conditions, report_scope(ctx))
    return _report(ctx, dim, period, currency, acc, others)


# Zones whose calendar is UTC's at every instant: their months are the kept months.
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu"})


def utc_calendar(ctx: Ctx) -> bool:
    """Whether the viewer's months start when UTC's do (the kept sums are by UTC month)."""
    return ctx.tz.key in UTC_ZONES


def local_group(dim: Dim, closed_at: datetime | None, ctx: Ctx) -> str | None:
    """The month or quarter of a closing on the viewer's calendar (None: no closing time)."""
    if closed_at is None:
        return None
    local = closed_at.astimezone(ctx.tz)
    if dim is Dim.month:
        return f"{local.year:04d}-{local.month:02d}"
    return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"


def _local_months(
    ctx: Ctx, dim: Dim, period: Period, currency: str, won_names: set[str]
) -> WinRateReport:
    """Grouped by month or quarter on the viewer's calendar, like the period, deal by deal.

    The kept sums are by UTC month; in a zone whose months start at other instants a month of
    theirs straddles two kept months, so the closings are read one by one (a win at 01:00 on
    1 October in Shanghai is October's, in the Q4 report it is part of): grouped by PostgreSQL
    in the viewer's zone, by Python on SQLite (which has no zone rules).
    """
    conditions = closed_in(ctx, period)
    acc: dict[Any, list[Any]] = {}
    where = [*report_scope(ctx), *conditions, Deal.currency == currency]
    if ctx.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL groups them in the viewer's zone (the zone written into the statement, so
        # SELECT and GROUP BY are one expression): a team's ~1,500 closings were 10 ms of
        # Python. (Other currencies stay a query of their own: without the currency the
        # planner scanned every deal, 0.6 s.)
        local = func.timezone(literal(ctx.tz.key, literal_execute=True), Deal.closed_at)
        year = extract("year", local)
        part = extract("month" if dim is Dim.month else "quarter", local)
        stmt = (
            select(year, part, Deal.stage, func.count(), func.sum(Deal.amount))
            .where(*where)
            .group_by(year, part, Deal.stage)
        )
        for y, p, stage, n, amount in ctx.session.execute(stmt):
            if y is None:
                key = None
            elif dim is Dim.month:
                key = f"{int(y):04d}-{int(p):02d}"
            else:
                key = f"{int(y):04d}-Q{int(p)}"
            slot = acc.setdefault(key, [0, 0, Decimal(0)])
            if stage in won_names:
                slot[0] += int(n)
                slot[2] += money(amount)
            else:
                slot[1] += int(n)
    else:
        rows = select(Deal.closed_at, Deal.stage, Deal.amount).where(*where)
        for closed_at, stage, amount in ctx.session.execute(rows):
            slot = acc.setdefault(local_group(dim, closed_at, ctx), [0, 0, Decimal(0)])
            if stage in won_names:
                slot[0] += 1
                slot[2] += money(amount)
            else:
                slot[1] += 1
    others = other_currencies(ctx, currency, conditions, report_scope(ctx))
    return _report(ctx, dim, period, currency, acc, others)


def _report(
    ctx: Ctx,
    dim: Dim | None,
    period: Period,
    currency: str,
    acc: dict[Any, list[Any]],
    others: dict[str, int],
) -> WinRateReport:
    """The report from won, lost and won value per group key, with the groups' quotas."""
    quotas = quota_by_group(ctx, dim, period, currency)
    if dim is not None:
        # A group with a quota and nothing closed still shows, at 0% attainment.
        for key in quotas:
            acc.setdefault(key, [0, 0, Decimal(0)])
    namer = Namer(ctx.session, dim)
    namer.load(acc)
    rows = [
        WinRateRow(namer.name(k), w, lost, v, quotas.get(k))
        if dim
        else WinRateRow(namer.name(k), w, lost, v)
        for k, (w, lost, v) in acc.items()
    ]
    if namer.chronological():
        rows.sort(key=lambda r: r.group or "")
    else:
        rows.sort(key=lambda r: (r.group is None, -r.won_value, -r.won, r.group or ""))
    total = WinRateRow(
        None,
        sum(r.won for r in rows),
        sum(r.lost for r in rows),
        sum((r.won_value for r in rows), Decimal(0)),
        (sum(quotas.values(), Decimal(0)) or None) if quotas else None,
    )
    return WinRateReport(currency, period, dim, rows if dim else [], total, others)


def _ungrouped(ctx: Ctx, period: Period, currency: str, won_names: set[str]) -> WinRateReport:
    """The win rate over everything the actor sees, from the kept closing months.

    Whole UTC months of closing come from the sums the triggers keep (`deal_month_totals`,
    kind c, migration 0030); a month a bound cuts is read deal by deal, the part inside when it
    is the smaller one, else the kept month less the part outside (a few hours at most for a
    period of whole local days).
    """
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    t = DealMonthTotal
    kept = kept_scope(ctx, t.owner_id, t.state)
    months: dict[int, Sums] = {}
    first = utc_month(start) if start is not None else None
    last = utc_month(end - timedelta(microseconds=1)) if end is not None else None
    if kept is not None:
        where = [*kept, t.kind == "c", t.stage.in_(closed)]
        if start is not None or end is not None:
            where.append(t.month > 0)  # month 0: no closing time, never inside a bound
        if first is not None:
            where.append(t.month >= month_number(first))
        if last is not None:
            where.append(t.month <= month_number(last))

        def kept_months(skipped: list[int]) -> Select[*tuple[Any, ...]]:
            """The kept closings of the period's months but `skipped`, by currency and stage."""
            return (
                select(t.month, t.currency, t.stage, func.sum(t.deals), func.sum(t.cents))
                .where(*where, *([t.month.not_in(skipped)] if skipped else []))
                .group_by(t.month, t.currency, t.stage)
                .having(func.sum(t.deals) > 0)
            )

        scope = slice_scope(ctx)

        def direct(lo: datetime, hi: datetime) -> Select[*tuple[Any, ...]]:
            """Closings in [lo, hi), a slice inside one UTC month, by currency and stage."""
            return (
                select(Deal.currency, Deal.stage, func.count(), func.sum(Deal.amount))
                .where(*scope, Deal.stage.in_(closed), *in_period(Deal.closed_at, lo, hi))
                .group_by(Deal.currency, Deal.stage)
            )

        months = month_sums(ctx.session, kept_months, direct, start, end)
    won = lost = 0
    value = Decimal(0)
    others: dict[str, int] = {}
    for sums in months.values():
        for (cur, stage), (n, amount) in sums.items():
            if not n:
                continue
            if cur != currency:
                others[cur] = others.get(cur, 0) + n
            elif stage in won_names:
                won += n
                value += amount
            else:
                lost += n
    total = WinRateRow(
        None, won, lost, value, quota_by_group(ctx, None, period, currency).get(None)
    )
    return WinRateReport(currency, period, None, [], total, others)


def slice_scope(ctx: Ctx) -> list[Any]:
    """scope_filter for reading a slice of closings (hours) through the closed_at index.

    Each deal's customer is tested against the person's book hashed once (`IS true`: not
    joined), so the planner walks the slice rather than the book's deals.
    """
    if visible_owner_ids(ctx.actor) is None:
        return scope_filter(ctx)
    return [Deal.customer_id.in_(visible_customer_ids(ctx.actor)).is_(True)]


Cells = dict[tuple[int, str, str], list[Any]]


def _add(cells: Cells, key: tuple[int, str, str], n: int, amount: Decimal) -> None:
    slot = cells.setdefault(key, [0, Decimal(0)])
    slot[0] += n
    slot[1] += amount


def _kept_groups(
    ctx: Ctx, dim: Dim, period: Period, currency: str, won_names: set[str]
) -> tuple[dict[Any, list[Any]], dict[str, int]]:
    """Won, lost and won value per group key and the other currencies' counts, from the kept
    closing months by deal owner (`deal_close_totals`, migration 0033).

    Whole UTC months are sums; a month a bound cuts is read deal by deal, the part inside when
    it is the smaller one, else the kept month less the part outside, all in one statement
    (`kept_months.month_sums`), as `_ungrouped` does.
    A month or quarter groups by the UTC month of closing, as the deal-by-deal report did.
    """
    closed = [s.name for s in ctx.pipeline.stages if s.closed]
    start, end = period.bounds(ctx.tz)
    t = DealCloseTotal
    team = deal_owners(ctx)
    if not counts_own(ctx):
        kept = kept_scope(ctx, t.owner_id, t.state)
    elif team is None:
        kept = [t.deal_owner_id == ctx.actor.id, t.state == 0]
    else:
        kept = [t.deal_owner_id.in_(team), t.state == 0]
    acc: dict[Any, list[Any]] = {}
    others: dict[str, int] = {}
    if kept is None:
        return acc, others
    by_month = dim in (Dim.month, Dim.quarter)
    first = utc_month(start) if start is not None else None
    last = utc_month(end - timedelta(microseconds=1)) if end is not None else None
    where = [*kept, t.stage.in_(closed)]
    if start is not None or end is not None:
        where.append(t.month > 0)  # month 0: no closing time, never inside a bound
    if first is not None:
        where.append(t.month >= month_number(first))
    if last is not None:
        where.append(t.month <= month_number(last))
    # Other currencies only count, so their rows are not split by owner or month (an admin's
    # all-time rows: 2,600 -> 1,400 at 100,000 customers). The currency is written into the
    # statement so PostgreSQL sees the same CASE in SELECT and GROUP BY.
    mine = t.currency == literal(currency, literal_execute=True)
    group = case((mine, t.month if by_month else t.deal_owner_id), else_=literal_column("0"))
    deals = cast(func.sum(t.deals), BigInteger)
    sum_cents = cast(func.sum(t.cents), BigInteger)

    def kept_months(skipped: list[int]) -> Select[*tuple[Any, ...]]:
        """The kept closings but the `skipped` months', by month or deal owner (one month 0)."""
        stmt = select(literal_column("0"), group, t.currency, t.stage, deals, sum_cents)
        return (
            stmt.where(*where, *([t.month.not_in(skipped)] if skipped else []))
            .group_by(group, t.currency, t.stage)
            .having(deals > 0)
        )

    scope = own_scope(ctx) if counts_own(ctx) else slice_scope(ctx)

    def direct(lo: datetime, hi: datetime) -> Select[*tuple[Any, ...]]:
        """Closings in [lo, hi), a slice inside one UTC month, by deal owner or month.

        Other currencies are keyed 0 as in the kept sums, so a kept month and the hours
        subtracted from it cancel (keyed apart, '0 EUR' was reported as not added in).
        """
        own = Deal.currency == literal(currency, literal_execute=True)
        number: Any = literal_column(str(month_number(utc_month(lo))))
        key = case((own, number if by_month else Deal.owner_id), else_=literal_column("0"))
        return (
            select(key, Deal.currency, Deal.stage, func.count(), func.sum(Deal.amount))
            .where(*scope, Deal.stage.in_(closed), *in_period(Deal.closed_at, lo, hi))
            .group_by(Deal.owner_id, Deal.currency, Deal.stage)
        )

    # Cells keyed (month or deal owner, currency, stage): the kept months and the cut months'
    # slices in one statement (read apart, a win committed between them was lost).
    cells: Cells = {}
    for sums in month_sums(ctx.session, kept_months, direct, start, end).values():
        for (k, cur, stage), (n, amount) in sums.items():
            _add(cells, (int(k), cur, stage), n, amount)
    teams: dict[int, tuple[Any, Any]] = {}
    if dim in (Dim.team, Dim.manager, Dim.region):
        owners = {k for k, cur, _ in cells if cur == currency}
        found = ctx.session.execute(
            select(User.id, User.team_id, Team.region_id)
            .outerjoin(Team, Team.id == User.team_id)
            .where(User.id.in_(owners))
        )
        teams = {int(uid): (team, region) for uid, team, region in found}
    for (k, cur, stage), (n, amount) in cells.items():
        if not n:
            continue
        if cur != currency:
            others[cur] = others.get(cur, 0) + n
            continue
        if dim is Dim.rep:
            key: Any = k
        elif dim in (Dim.team, Dim.manager):
            key = teams[k][0]
        elif dim is Dim.region:
            key = teams[k][1]
        elif not k:
            key = None  # closed with no closing time (all time only)
        elif dim is Dim.month:
            key = f"{k // 100:04d}-{k % 100:02d}"
        else:
            key = f"{k // 100:04d}-Q{(k % 100 - 1) // 3 + 1}"
        slot = acc.setdefault(key, [0, 0, Decimal(0)])
        if stage in won_names:
            slot[0] += n
            slot[2] += amount
        else:
            slot[1] += n
    return acc, {cur: n for cur, n in others.items() if n}
