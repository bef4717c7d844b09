"""What every report shares: the deals the actor may see, group dimensions, SQL date helpers."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, extract, func, select
from sqlalchemy.orm import Session

from crm_core.access import archived_customer_ids, visible_customer_ids, visible_owner_ids
from crm_core.context import Ctx
from crm_core.errors import Invalid
from crm_core.models import Customer, Deal, PipelineTotal, Product, Region, Role, Team, User
from crm_core.text import to_simplified

CENT = Decimal("0.01")


class Dim(enum.StrEnum):
    """What a report's rows are grouped by."""

    rep = "rep"
    team = "team"
    manager = "manager"
    region = "region"
    product = "product"
    industry = "industry"
    month = "month"
    quarter = "quarter"


# Words a person types after `by` / 按 for each dimension.
DIM_WORDS: dict[str, Dim] = {
    **{d.value: d for d in Dim},
    "reps": Dim.rep,
    "owner": Dim.rep,
    "person": Dim.rep,
    "teams": Dim.team,
    "managers": Dim.manager,
    "regions": Dim.region,
    "office": Dim.region,
    "products": Dim.product,
    "industries": Dim.industry,
    "sector": Dim.industry,
    "months": Dim.month,
    "quarters": Dim.quarter,
    "销售": Dim.rep,
    "代表": Dim.rep,
    "人": Dim.rep,
    "负责人": Dim.rep,
    "团队": Dim.team,
    "经理": Dim.manager,
    "区域": Dim.region,
    "地区": Dim.region,
    "大区": Dim.region,
    "产品": Dim.product,
    "行业": Dim.industry,
    "月": Dim.month,
    "月份": Dim.month,
    "季度": Dim.quarter,
}


def parse_dim(word: str) -> Dim:
    """The dimension a word names; Invalid lists the ones there are."""
    dim = DIM_WORDS.get(to_simplified(word.strip()).lower())
    if dim is None:
        raise Invalid("error.report_dim", value=word, dims=", ".join(d.value for d in Dim))
    return dim


def book_currency(session: Session, user: User, default: str) -> str:
    """The currency most of `user`'s book's deals are in (a Taipei rep's NT$, a Berlin team's
    EUR); `default` for an empty book, and on a tie when it is among the most used.

    There is no currency setting per person or team: the book says which money its people
    deal in. Read from the totals kept per customer owner (migration 0026): a few rows.
    """
    t = PipelineTotal
    stmt = select(t.currency, func.sum(t.deals)).group_by(t.currency).having(func.sum(t.deals) > 0)
    owners = visible_owner_ids(user)
    if not user.active:
        return default.upper()
    if user.role == Role.rep or (owners is not None and user.team_id is None):
        stmt = stmt.where(t.owner_id == user.id)
    elif owners is not None:
        stmt = stmt.where(t.owner_id.in_(owners.scalar_subquery()))
    counts = {str(c): int(n) for c, n in session.execute(stmt)}
    default = default.upper()
    # The most deals wins; on a tie the default, then the first code in order.
    return min(counts, key=lambda c: (-counts[c], c != default, c)) if counts else default


def report_currency(ctx: Ctx, said: str | None = None) -> str:
    """The currency a report is in: the one asked for, else the reader's book's
    (book_currency), read once per command."""
    if said:
        return said.upper()
    if "report_currency" not in ctx.memo:
        ctx.memo["report_currency"] = book_currency(ctx.session, ctx.actor, ctx.default_currency)
    return str(ctx.memo["report_currency"])


def scope_filter(ctx: Ctx) -> list[ColumnElement[bool]]:
    """Conditions keeping only deals on customers the actor may see (an admin: not archived)."""
    if visible_owner_ids(ctx.actor) is None and ctx.actor.active:
        return [Deal.customer_id.not_in(archived_customer_ids())]
    return [Deal.customer_id.in_(visible_customer_ids(ctx.actor))]


def stage_in(ctx: Ctx, names: Iterable[str]) -> ColumnElement[bool]:
    """Deal.stage IN names, written so one book's report starts from its customers.

    For a rep or manager, lower() (a no-op: stage names are stored lower-case) keeps the planner
    off the stage indexes, which would scan every deal in those stages company-wide.
    """
    names = list(names)
    if scope_filter(ctx):
        return func.lower(Deal.stage).in_(names)
    return Deal.stage.in_(names)


def days_between(session: Session, start: Any, end: Any) -> Any:
    """SQL for the days (fractional) from one timestamp column to another."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return extract("epoch", end - start) / 86400


def in_period(column: Any, start: datetime | None, end: datetime | None) -> list[Any]:
    """Conditions keeping `column` inside [start, end)."""
    out: list[Any] = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column < end)
    return out


def group_columns(dim: Dim | None, when: Any) -> list[Any]:
    """The SQL columns a report groups by for a dimension (`when` dates month and quarter)."""
    if dim is None:
        return []
    if dim is Dim.rep:
        return [Deal.owner_id]
    if dim in (Dim.team, Dim.manager):
        return [User.team_id]
    if dim is Dim.region:
        return [Team.region_id]
    if dim is Dim.product:
        return [Deal.product_id]
    if dim is Dim.industry:
        return [Customer.industry]
    return [extract("year", when), extract("month", when)]


def with_joins(stmt: Select[Any], dim: Dim | None) -> Select[Any]:
    """Join what the dimension's columns come from."""
    if dim in (Dim.team, Dim.manager, Dim.region):
        stmt = stmt.join(User, User.id == Deal.owner_id)
    if dim is Dim.region:
        stmt = stmt.outerjoin(Team, Team.id == User.team_id)
    if dim is Dim.industry:
        stmt = stmt.join(Customer, Customer.id == Deal.customer_id)
    return stmt


class Namer:
    """Turns group keys into the names people see (full names, team and region names)."""

    def __init__(self, session: Session, dim: Dim | None) -> None:
        self.session = session
        self.dim = dim
        self._names: dict[Any, str] = {}

    def load(self, keys: Iterable[Any]) -> None:
        """Look the names of these keys up in one query."""
        ids = {k for k in keys if k is not None}
        if not ids or self.dim in (None, Dim.industry, Dim.month, Dim.quarter):
            return
        if self.dim is Dim.rep:
            rows: Sequence[Any] = self.session.execute(
                select(User.id, User.name).where(User.id.in_(ids))
            ).all()
        elif self.dim is Dim.team:
            rows = self.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all()
        elif self.dim is Dim.region:
            rows = self.session.execute(
                select(Region.id, Region.name).where(Region.id.in_(ids))
            ).all()
        elif self.dim is Dim.product:
            rows = self.session.execute(
                select(Product.id, Product.name).where(Product.id.in_(ids))
            ).all()
        else:
            managers: dict[Any, list[str]] = {}
            found = self.session.execute(
                select(User.team_id, User.name)
                .where(User.team_id.in_(ids), User.role == Role.manager, User.active)
                .order_by(User.name)
            )
            for team_id, name in found:
                managers.setdefault(team_id, []).append(name)
            rows = [(k, " / ".join(v)) for k, v in managers.items()]
        self._names.update({k: v for k, v in rows})

    def key(self, row: Sequence[Any]) -> Any:
        """The group key of a result row whose first columns are the group columns."""
        if self.dim is None:
            return None
        if self.dim is Dim.month:
            return f"{int(row[0]):04d}-{int(row[1]):02d}" if row[0] is not None else None
        if self.dim is Dim.quarter:
            return (
                f"{int(row[0]):04d}-Q{(int(row[1]) - 1) // 3 + 1}" if row[0] is not None else None
            )
        return row[0]

    @property
    def width(self) -> int:
        """How many leading columns of a row the key takes."""
        return 0 if self.dim is None else 2 if self.dim in (Dim.month, Dim.quarter) else 1

    def name(self, key: Any) -> str | None:
        """The key as people see it; None for deals outside every group (no team, no product)."""
        if key is None:
            return None
        if self.dim in (Dim.industry, Dim.month, Dim.quarter):
            return str(key)
        return self._names.get(key)

    def chronological(self) -> bool:
        """Whether rows read in time order rather than by size."""
        return self.dim in (Dim.month, Dim.quarter)


def money(value: Any) -> Decimal:
    """A SUM from the database as cents (SQLite sums NUMERIC as float)."""
    return Decimal(str(value or 0)).quantize(CENT)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole unrounded (28 digits), None when there is nothing to divide by.

    Shares are rounded once, where they are shown (`four` for JSON, a percentage to one place
    in chat): rounded here first, 6/11 = 0.5455 then showed as 54.6 % instead of 54.5 %.
    """
    if not whole:
        return None
    return Decimal(part) / Decimal(whole)


def four(value: Decimal | None) -> Decimal | None:
    """A share to four places, half up (the JSON contract), from its exact value."""
    return None if value is None else value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def kept_scope(ctx: Ctx, owner: Any, state: Any) -> list[ColumnElement[bool]] | None:
    """scope_filter for the totals kept per customer owner and state; None: nothing visible.

    The same deals as scope_filter: an admin's are those of every customer not archived (merged
    ones' too, state 0 or 1), summed over every owner's rows; anyone else's those of the live
    customers their book holds.
    """
    if not ctx.actor.active:
        return None
    owners = visible_owner_ids(ctx.actor)
    if owners is None:
        return [state < 2]
    if ctx.actor.role == Role.rep or ctx.actor.team_id is None:
        return [owner == ctx.actor.id, state == 0]
    if ctx.session.get_bind().dialect.name == "postgresql":
        # = ANY(ARRAY(subquery)): the team's ids are found once, then each owner's rows through
        # the key; IN (subquery) hash-joined every owner's rows of the table to the team.
        return [owner == any_(func.array(owners.scalar_subquery())), state == 0]
    return [owner.in_(owners.scalar_subquery()), state == 0]
