"""Fuzzy resolution of names to records the actor may see; never a guess on a tie."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.access import customer_filter, visible_customer_ids
from crm_core.context import Ctx
from crm_core.errors import Ambiguous, Candidate, Invalid, NotFound
from crm_core.models import Contact, Customer, Deal, User
from crm_core.text import fold, name_key

_REF = re.compile(r"^#(\d{1,18})$")
# A fuzzy match is taken only when it is this good and this far ahead of the next one.
_ACCEPT = 88.0
_MARGIN = 8.0
_CUTOFF = 70.0
_MAX_CANDIDATES = 8


@dataclass(frozen=True)
class _Row:
    id: int
    key: str
    label: str
    detail: str


def ref_id(query: str) -> int | None:
    """The id in a `#123` reference, or None."""
    m = _REF.match(query.strip())
    return int(m.group(1)) if m else None


def _choose(field: str, query: str, rows: Sequence[_Row]) -> int:
    """Pick the one row `query` names, or raise NotFound / Ambiguous."""
    qk = name_key(query)
    if not qk:
        raise Invalid(f"error.{field}_missing")
    exact = [r for r in rows if r.key == qk]
    if len(exact) == 1:
        return exact[0].id
    pool = exact or rows
    choices = {r.id: r.key for r in pool}
    scored = process.extract(
        qk, choices, scorer=fuzz.WRatio, score_cutoff=_CUTOFF, limit=_MAX_CANDIDATES + 1
    )
    if not exact and scored:
        top = scored[0][1]
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        if top >= _ACCEPT and top - runner_up >= _MARGIN:
            return int(scored[0][2])
    if not scored:
        raise NotFound(f"error.{field}_not_found", query=query)
    # A single plausible but unconfident row still becomes a question, never a guess.
    by_id = {r.id: r for r in pool}
    candidates = [
        Candidate(id=int(s[2]), label=by_id[s[2]].label, detail=by_id[s[2]].detail)
        for s in scored[:_MAX_CANDIDATES]
    ]
    raise Ambiguous(field, query, candidates)


def _like_any(column: object, qk: str) -> object:
    escaped = qk.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")  # type: ignore[attr-defined]


def _visible_customer(ctx: Ctx, customer_id: int, query: str) -> Customer:
    customer = ctx.session.scalar(
        select(Customer).where(Customer.id == customer_id, customer_filter(ctx.actor))
    )
    if customer is None:
        raise NotFound("error.customer_not_found", query=query)
    return customer


def resolve_customer(ctx: Ctx, query: str) -> Customer:
    """The visible customer `query` names (`#id`, exact or fuzzy name)."""
    query = query.strip()
    if not query:
        raise Invalid("error.customer_missing")
    rid = ref_id(query)
    if rid is not None:
        return _visible_customer(ctx, rid, query)
    qk = name_key(query)
    visible = customer_filter(ctx.actor)
    base = select(Customer.id, Customer.name_key, Customer.name, Customer.city).where(visible)
    # Fast paths in SQL first (indexed equality, then substring); a full fuzzy scan only for typos.
    rows = ctx.session.execute(base.where(Customer.name_key == qk).limit(20)).all()
    if len(rows) != 1 and len(qk) >= 2:
        rows = ctx.session.execute(
            base.where(_like_any(Customer.name_key, qk)).limit(200)  # type: ignore[arg-type]
        ).all()
    if not rows:
        rows = ctx.session.execute(base).all()
    picked = _choose("customer", query, [_Row(r[0], r[1], r[2], r[3] or "") for r in rows])
    return _visible_customer(ctx, picked, query)


def resolve_deal(
    ctx: Ctx, query: str, *, customer: Customer | None = None, open_only: bool = False
) -> Deal:
    """The visible deal `query` names, optionally within one customer."""
    query = query.strip()
    if not query:
        raise Invalid("error.deal_missing")
    stmt = (
        select(Deal.id, Deal.title_key, Deal.title, Customer.name, Deal.stage)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(customer_filter(ctx.actor))
    )
    if customer is not None:
        stmt = stmt.where(Deal.customer_id == customer.id)
    rid = ref_id(query)
    if rid is not None:
        deal = ctx.session.scalar(
            select(Deal).where(
                Deal.id == rid, Deal.customer_id.in_(visible_customer_ids(ctx.actor))
            )
        )
        if deal is None or (customer is not None and deal.customer_id != customer.id):
            raise NotFound("error.deal_not_found", query=query)
        return deal
    qk = name_key(query)
    rows = ctx.session.execute(stmt.where(Deal.title_key == qk).limit(50)).all()
    if not rows:
        rows = ctx.session.execute(
            stmt.where(_like_any(Deal.title_key, qk)).limit(200)  # type: ignore[arg-type]
        ).all()
    if not rows:
        rows = ctx.session.execute(stmt.limit(5000)).all()
    if open_only:
        closed = {s.name for s in ctx.pipeline.stages if s.closed}
        open_rows = [r for r in rows if r[4] not in closed]
        rows = open_rows or rows
    picked = _choose("deal", query, [_Row(r[0], r[1], f"{r[2]} — {r[3]}", r[4]) for r in rows])
    deal = ctx.session.get(Deal, picked)
    assert deal is not None
    return deal


def resolve_contact(ctx: Ctx, customer: Customer, query: str) -> Contact:
    """The contact of `customer` that `query` names (`#id`, name or email)."""
    query = query.strip()
    rows = ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
    rid = ref_id(query)
    if rid is not None:
        for c in rows:
            if c.id == rid:
                return c
        raise NotFound("error.contact_not_found", query=query, customer=customer.name)
    folded = fold(query)
    by_email = [c for c in rows if c.email and c.email.casefold() == folded]
    if len(by_email) == 1:
        return by_email[0]
    # First names are how people refer to contacts ("with Dana"): match them as words too.
    first = [c for c in rows if fold(c.name).split()[:1] == [folded]]
    if len(first) == 1:
        return first[0]
    try:
        picked = _choose(
            "contact", query, [_Row(c.id, name_key(c.name), c.name, c.title or "") for c in rows]
        )
    except NotFound as exc:
        raise NotFound("error.contact_not_found", query=query, customer=customer.name) from exc
    return next(c for c in rows if c.id == picked)


def resolve_user(ctx: Ctx, query: str) -> User:
    """A staff member by @handle, external id, email or name."""
    query = query.strip().lstrip("@")
    if not query:
        raise Invalid("error.user_missing")
    return find_user(ctx.session, query)


def find_user(session: Session, query: str) -> User:
    """A staff member by external id, email or (unique) name; for CLI and handlers."""
    q = query.strip().lstrip("@")
    folded = q.casefold()
    user = session.scalar(select(User).where(func.lower(User.external_id) == folded))
    if user is None:
        user = session.scalar(select(User).where(func.lower(User.email) == folded))
    if user is None:
        matches = session.scalars(select(User).where(func.lower(User.name) == folded)).all()
        if len(matches) == 1:
            user = matches[0]
        elif len(matches) > 1:
            raise Ambiguous("user", q, [Candidate(u.id, u.name, u.external_id) for u in matches])
    if user is None:
        raise NotFound("error.user_not_found", query=q)
    return user
