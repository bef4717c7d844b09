"""Segments: customer lists by filter, saved live or as a snapshot, counted daily, followed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.access import customer_filter
from crm_core.context import Ctx
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.marketing import filters
from crm_core.models import (
    Customer,
    Role,
    Segment,
    SegmentCount,
    SegmentEntry,
    SegmentFollow,
    SegmentMember,
    User,
)
from crm_core.text import fold

MAX_NAME = 100


@dataclass(frozen=True)
class Page:
    """One page of members, in name order, and how many there are in all."""

    customers: list[Customer]
    total: int


def _members_condition(ctx: Ctx, segment: Segment | None, text: str) -> ColumnElement[bool]:
    if segment is not None and segment.snapshot:
        frozen = select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment.id)
        return Customer.id.in_(frozen)
    return filters.condition(ctx, text)


def member_query(ctx: Ctx, text: str, segment: Segment | None = None) -> Any:
    """SELECT of the customers `ctx.actor` may see that match (one statement, no paging)."""
    return select(Customer).where(
        customer_filter(ctx.actor), _members_condition(ctx, segment, text)
    )


def find_customers(
    ctx: Ctx, text: str, *, limit: int = 20, offset: int = 0, segment: Segment | None = None
) -> Page:
    """A page of the visible customers the filters match, by name; the total in the same query."""
    stmt = (
        member_query(ctx, text, segment)
        .add_columns(func.count().over().label("total"))
        .order_by(Customer.name_key, Customer.id)
        .limit(limit)
        .offset(offset)
    )
    rows = ctx.session.execute(stmt).all()
    if rows:
        return Page([r[0] for r in rows], int(rows[0][1]))
    # Past the last page (or none at all): the total alone.
    return Page([], count_members(ctx, text, segment))


def count_members(ctx: Ctx, text: str, segment: Segment | None = None) -> int:
    """How many visible customers the filters (or the snapshot) hold."""
    cond = and_visible(ctx, _members_condition(ctx, segment, text))
    return int(ctx.session.scalar(select(func.count()).select_from(Customer).where(cond)) or 0)


def and_visible(ctx: Ctx, cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """`cond` within `ctx.actor`'s book."""
    return customer_filter(ctx.actor) & cond


def member_ids(ctx: Ctx, segment: Segment) -> list[int]:
    """Ids of the segment's members `ctx.actor` may see."""
    cond = and_visible(ctx, _members_condition(ctx, segment, segment.filters))
    return list(ctx.session.scalars(select(Customer.id).where(cond)))


def find_segment(ctx: Ctx, name: str) -> Segment:
    """A saved segment by name (any case) or `#id`; NotFound lists what there is."""
    wanted = name.strip()
    found: Segment | None = None
    if wanted.startswith("#") and wanted[1:].isdigit():
        found = ctx.session.get(Segment, int(wanted[1:]))
    else:
        found = ctx.session.scalar(select(Segment).where(Segment.name_key == fold(wanted)))
    if found is None:
        known = ctx.session.scalars(select(Segment.name).order_by(Segment.name_key).limit(10))
        raise NotFound("segment.not_found", name=wanted, known=", ".join(known) or "-")
    return found


def list_segments(ctx: Ctx) -> list[tuple[Segment, bool]]:
    """Every saved segment by name, with whether `ctx.actor` follows it."""
    followed = set(
        ctx.session.scalars(
            select(SegmentFollow.segment_id).where(SegmentFollow.user_id == ctx.actor.id)
        )
    )
    segments = ctx.session.scalars(select(Segment).order_by(Segment.name_key))
    return [(s, s.id in followed) for s in segments]


def save_segment(ctx: Ctx, name: str, text: str, *, snapshot: bool = False) -> Segment:
    """Keep filters under a name; a snapshot freezes the members the saver sees now."""
    name = rules.name("segment name", name, MAX_NAME)
    if not text.strip():
        raise Invalid("segment.save_needs_filters")
    # Read now, so a segment that cannot be read is never kept.
    cond = filters.condition(ctx, text)
    if ctx.session.scalar(select(Segment.id).where(Segment.name_key == fold(name))) is not None:
        raise Invalid("segment.exists", name=name)
    segment = Segment(
        name=name,
        name_key=fold(name),
        filters=" ".join(text.split()),
        snapshot=snapshot,
        owner_id=ctx.actor.id,
        created_at=ctx.now(),
    )
    ctx.session.add(segment)
    ctx.session.flush()
    if snapshot:
        ids = ctx.session.scalars(select(Customer.id).where(and_visible(ctx, cond)))
        ctx.session.add_all(SegmentMember(segment_id=segment.id, customer_id=i) for i in ids)
    audit.record(ctx.session, ctx.actor, "segment.create", segment, None)
    record_count(ctx, segment)
    return segment


def check_may_change(ctx: Ctx, segment: Segment) -> None:
    """Refuse unless `ctx.actor` saved the segment or is an admin."""
    if ctx.actor.role != Role.admin and segment.owner_id != ctx.actor.id:
        raise PermissionDenied("segment.not_yours", name=segment.name)


def delete_segment(ctx: Ctx, segment: Segment) -> None:
    """Remove a segment with its members, followers and counts (its saver or an admin)."""
    check_may_change(ctx, segment)
    s = ctx.session
    follows = select(SegmentFollow.id).where(SegmentFollow.segment_id == segment.id)
    s.execute(delete(SegmentEntry).where(SegmentEntry.follow_id.in_(follows)))
    s.execute(delete(SegmentFollow).where(SegmentFollow.segment_id == segment.id))
    s.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment.id))
    s.execute(delete(SegmentCount).where(SegmentCount.segment_id == segment.id))
    before = audit.snapshot(segment)
    audit.record(s, ctx.actor, "segment.delete", segment, before).changes = audit.diff(before, None)
    s.delete(segment)
    s.flush()


def follow(ctx: Ctx, segment: Segment) -> tuple[SegmentFollow, int]:
    """Follow a segment; its members now count as seen. Returns the follow and how many."""
    s = ctx.session
    existing = s.scalar(
        select(SegmentFollow).where(
            SegmentFollow.segment_id == segment.id, SegmentFollow.user_id == ctx.actor.id
        )
    )
    if existing is not None:
        raise Invalid("segment.already_following", name=segment.name)
    # Read before writing: a segment whose filters no longer read is refused here.
    ids = member_ids(ctx, segment)
    row = SegmentFollow(segment_id=segment.id, user_id=ctx.actor.id, created_at=ctx.now())
    s.add(row)
    s.flush()
    now = ctx.now()
    s.add_all(SegmentEntry(follow_id=row.id, customer_id=i, status="seen", at=now) for i in ids)
    audit.record(s, ctx.actor, "segment.follow", row, None)
    record_count(ctx, segment)
    return row, len(ids)


def unfollow(ctx: Ctx, segment: Segment) -> None:
    """Stop following a segment."""
    s = ctx.session
    row = s.scalar(
        select(SegmentFollow).where(
            SegmentFollow.segment_id == segment.id, SegmentFollow.user_id == ctx.actor.id
        )
    )
    if row is None:
        raise Invalid("segment.not_following", name=segment.name)
    s.execute(delete(SegmentEntry).where(SegmentEntry.follow_id == row.id))
    before = audit.snapshot(row)
    audit.record(s, ctx.actor, "segment.unfollow", row, before).changes = audit.diff(before, None)
    s.delete(row)
    s.flush()


# -- counts over time -------------------------------------------------------------------------


def scope_of(user: User) -> str:
    """The book a user's counts describe: everyone's, a team's or their own."""
    if user.role == Role.admin:
        return "all"
    if user.role == Role.manager and user.team_id is not None:
        return f"team:{user.team_id}"
    return f"user:{user.id}"


def today(ctx: Ctx) -> date:
    """The UTC day counts are kept by."""
    return ctx.now().date()


def record_count(ctx: Ctx, segment: Segment) -> bool:
    """Keep today's member count in the actor's book once; False when it is already kept."""
    s = ctx.session
    key = (segment.id, scope_of(ctx.actor), today(ctx))
    if s.get(SegmentCount, key) is not None:
        return False
    count = count_members(ctx, segment.filters, segment)
    # A nested transaction: another worker keeping the same day is not an error.
    try:
        with s.begin_nested():
            s.add(SegmentCount(segment_id=key[0], scope=key[1], day=key[2], count=count))
    except IntegrityError:
        return False
    return True


def history(ctx: Ctx, segment: Segment, now_count: int | None = None) -> list[tuple[date, int]]:
    """The daily counts in the actor's book, oldest first, with today's count as it is now.

    `now_count` is that count when the caller has just counted the members (a page's total).
    """
    rows = ctx.session.execute(
        select(SegmentCount.day, SegmentCount.count)
        .where(SegmentCount.segment_id == segment.id, SegmentCount.scope == scope_of(ctx.actor))
        .order_by(SegmentCount.day)
    ).all()
    out = [(d, int(c)) for d, c in rows if d != today(ctx)]
    if now_count is None:
        now_count = count_members(ctx, segment.filters, segment)
    out.append((today(ctx), now_count))
    return out


def follows(session: Session) -> list[tuple[int, int, int]]:
    """(follow id, segment id, user id) of every follow, for the scheduler."""
    rows = session.execute(
        select(SegmentFollow.id, SegmentFollow.segment_id, SegmentFollow.user_id).order_by(
            SegmentFollow.id
        )
    )
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def counted_views(session: Session) -> list[tuple[int, int]]:
    """(segment id, user id) whose view is counted daily: each saver and each follower."""
    owners = session.execute(select(Segment.id, Segment.owner_id))
    followers = session.execute(select(SegmentFollow.segment_id, SegmentFollow.user_id))
    return sorted({(int(a), int(b)) for a, b in [*owners, *followers]})
