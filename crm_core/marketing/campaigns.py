"""Campaigns: freeze a segment, hold a seeded random share out, task the owners, measure the effect.

A campaign's members are the segment's members its creator may see at that moment; a seeded
shuffle puts the first `holdout_percent` of them in the holdout, which no one contacts. Owners
record outcomes on their tasks; the report compares the contacted group with the holdout on the
book's own deals (opened and won since the start), so both groups are measured the same way.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import cast

import numpy as np
from sqlalchemy import ColumnElement, Table, case, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core import audit, rules
from crm_core.access import customer_filter
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Invalid, NotFound, PermissionDenied
from crm_core.marketing import effect
from crm_core.marketing import segments as segments_svc
from crm_core.models import (
    Campaign,
    CampaignMember,
    CampaignNotice,
    Contact,
    Customer,
    Deal,
    Role,
    User,
)
from crm_core.text import char_view, fold

MAX_NAME = 100
MAX_MESSAGE = 2000
# A holdout above half would contact fewer customers than it leaves alone.
MAX_HOLDOUT = 50
OUTCOMES = ("reached", "replied", "not_interested", "converted")
# Outcomes after which a task leaves the owner's list.
FINAL = ("not_interested", "converted")
# Below this many customers in either group the report says it is too early to tell.
MIN_GROUP = 20
# `#12` (or `＃１２`): a campaign by its number, so never a campaign's name.
_REF = re.compile(r"#\s*(\d{1,12})")
# `{contact}`, full-width `｛联系人｝` too: a name the task card puts in the message.
_PLACEHOLDER = re.compile(r"[{｛]([^{}｛｝\n]{1,20})[}｝]")
# Inserted per statement when freezing (7 parameters a row, far under PostgreSQL's limit).
CHUNK = 2000


@dataclass(frozen=True)
class Plan:
    """What creating a campaign would freeze: members, who is held out, who gets tasks."""

    name: str
    segment: str
    filters: str
    message: str
    holdout_percent: int
    seed: int
    # (customer id, owner id, draw, held out), in customer id order.
    members: list[tuple[int, int, int, bool]]

    @property
    def held_out(self) -> int:
        """How many members are left alone."""
        return sum(1 for m in self.members if m[3])

    @property
    def contacted(self) -> int:
        """How many members get a task."""
        return len(self.members) - self.held_out

    @property
    def owners(self) -> dict[int, int]:
        """Owner id -> tasks, for the contacted members."""
        out: dict[int, int] = {}
        for _, owner, _, held in self.members:
            if not held:
                out[owner] = out.get(owner, 0) + 1
        return out


def new_seed() -> int:
    """A fresh seed for a campaign's holdout draw."""
    return secrets.randbelow(2**31 - 1) + 1


def holdout_size(members: int, percent: int) -> int:
    """How many of `members` the holdout takes: the percentage rounded half up, at least one."""
    if percent <= 0 or members < 2:
        return 0
    # Exact decimals rounded half up, as people round: 25 at 10 % is 3 (not banker's 2).
    k = int((Decimal(members * percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # Never everyone, never none once a holdout was asked for.
    return min(max(k, 1), members - 1)


def draw(customer_ids: list[int], percent: int, seed: int) -> dict[int, tuple[int, bool]]:
    """Customer id -> (its place in the seeded shuffle, held out); reproducible from the seed."""
    ordered = sorted(customer_ids)
    places = np.random.default_rng(seed).permutation(len(ordered))
    k = holdout_size(len(ordered), percent)
    return {cid: (int(p), int(p) < k) for cid, p in zip(ordered, places, strict=True)}


def find_campaign(ctx: Ctx, name: str) -> Campaign:
    """A campaign by name (any case) or `#id`; NotFound lists what there is."""
    wanted = name.strip()
    found: Campaign | None = None
    if ref := _REF.fullmatch(char_view(wanted)):
        found = ctx.session.get(Campaign, int(ref.group(1)))
    else:
        found = ctx.session.scalar(select(Campaign).where(Campaign.name_key == fold(wanted)))
    if found is None:
        known = ctx.session.scalars(select(Campaign.name).order_by(Campaign.name_key).limit(10))
        raise NotFound("campaign.not_found", name=wanted, known=", ".join(known) or "-")
    return found


def plan_campaign(
    ctx: Ctx, name: str, segment: str, message: str, holdout_percent: int, seed: int
) -> Plan:
    """Read what a campaign would freeze, writing nothing; refuses what could not be created."""
    name = rules.name("campaign name", name, MAX_NAME)
    if _REF.fullmatch(char_view(name)):
        # Every command reads `#12` as campaign number 12, never as this name.
        raise Invalid("campaign.name_is_ref", name=name)
    message = message.strip()
    if not message:
        raise Invalid("campaign.needs_message")
    if len(message) > MAX_MESSAGE:
        raise Invalid("campaign.message_too_long", limit=MAX_MESSAGE)
    if not 1 <= holdout_percent <= MAX_HOLDOUT:
        raise Invalid("campaign.bad_holdout", max=MAX_HOLDOUT)
    if ctx.session.scalar(select(Campaign.id).where(Campaign.name_key == fold(name))):
        raise Invalid("campaign.exists", name=name)
    seg = segments_svc.find_segment(ctx, segment)
    stmt = segments_svc.member_query(ctx, seg.filters, seg).with_only_columns(
        Customer.id, Customer.owner_id
    )
    owners = {int(cid): int(owner) for cid, owner in ctx.session.execute(stmt)}
    if len(owners) < 2:
        raise Invalid("campaign.too_few", segment=seg.name, count=len(owners))
    drawn = draw(list(owners), holdout_percent, seed)
    members = [(cid, owners[cid], *drawn[cid]) for cid in sorted(owners)]
    return Plan(name, seg.name, seg.filters, message, holdout_percent, seed, members)


def create_campaign(ctx: Ctx, plan: Plan) -> Campaign:
    """Freeze the plan's members, queue one notice per owner with tasks, audit the campaign."""
    s = ctx.session
    campaign = Campaign(
        name=plan.name,
        name_key=fold(plan.name),
        segment_name=plan.segment,
        filters=plan.filters,
        message=plan.message,
        holdout_percent=plan.holdout_percent,
        seed=plan.seed,
        owner_id=ctx.actor.id,
        started_at=ctx.now(),
    )
    # Confirm pressed twice at once on two workers: the second blocks on the unique name and
    # then gets the same answer as a press after the first one had finished.
    try:
        with s.begin_nested():
            s.add(campaign)
    except IntegrityError:
        raise Invalid("campaign.exists", name=plan.name) from None
    rows = [
        {
            "campaign_id": campaign.id,
            "customer_id": cid,
            "owner_id": owner,
            "draw": place,
            "holdout": held,
        }
        for cid, owner, place, held in plan.members
    ]
    # Core inserts: the ORM's bulk path spends as long collecting 10,000 rows as writing them.
    table = cast(Table, CampaignMember.__table__)
    for start in range(0, len(rows), CHUNK):
        s.execute(insert(table), rows[start : start + CHUNK])
    active = set(
        s.scalars(select(User.id).where(User.id.in_(list(plan.owners)), User.active.is_(True)))
    )
    s.add_all(
        CampaignNotice(campaign_id=campaign.id, user_id=u, tasks=n, created_at=ctx.now())
        for u, n in sorted(plan.owners.items())
        if u in active
    )
    entry = audit.record(s, ctx.actor, "campaign.create", campaign, None)
    entry.changes = {
        **entry.changes,
        "members": [None, len(plan.members)],
        "held_out": [None, plan.held_out],
        "owners": [None, len(plan.owners)],
    }
    return campaign


def may_change(ctx: Ctx, campaign: Campaign) -> bool:
    """Whether `ctx.actor` created the campaign or is an admin (who may end it)."""
    return ctx.actor.role == Role.admin or campaign.owner_id == ctx.actor.id


def check_may_change(ctx: Ctx, campaign: Campaign) -> None:
    """Refuse unless `ctx.actor` created the campaign or is an admin."""
    if not may_change(ctx, campaign):
        raise PermissionDenied("campaign.not_yours", name=campaign.name)


def end_campaign(ctx: Ctx, campaign: Campaign) -> None:
    """Close a campaign: its tasks leave the lists; the report stops counting at this moment."""
    check_may_change(ctx, campaign)
    # Two ends at once: the second waits here, then reads the first's end and refuses. Outcomes
    # hold the row shared, so none is written after the end.
    lock_for_update(ctx.session, campaign)
    if campaign.ended_at is not None:
        raise Invalid("campaign.already_ended", name=campaign.name)
    before = audit.snapshot(campaign)
    campaign.ended_at = ctx.now()
    campaign.ended_by = ctx.actor.id
    audit.record(ctx.session, ctx.actor, "campaign.end", campaign, before)


def list_campaigns(ctx: Ctx) -> list[tuple[Campaign, int, int]]:
    """Every campaign, newest first, with its members and open tasks in `ctx.actor`'s book."""
    s = ctx.session
    visible = customer_filter(ctx.actor)
    counts = dict(
        s.execute(
            select(CampaignMember.campaign_id, func.count())
            .join(Customer, Customer.id == CampaignMember.customer_id)
            .where(visible)
            .group_by(CampaignMember.campaign_id)
        ).all()
    )
    # The same tasks `campaign tasks` lists: an ended campaign or a snoozed task counts none.
    open_ = dict(
        s.execute(
            select(CampaignMember.campaign_id, func.count())
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .join(Customer, Customer.id == CampaignMember.customer_id)
            .where(*_my_open_tasks(ctx))
            .group_by(CampaignMember.campaign_id)
        ).all()
    )
    found = s.scalars(select(Campaign).order_by(Campaign.started_at.desc(), Campaign.id.desc()))
    return [(c, int(counts.get(c.id, 0)), int(open_.get(c.id, 0))) for c in found]


# -- tasks ------------------------------------------------------------------------------------


def _open_task() -> ColumnElement[bool]:
    """A contacted member with no final outcome (the campaign's state is checked apart)."""
    return CampaignMember.holdout.is_(False) & or_(
        CampaignMember.outcome.is_(None), CampaignMember.outcome.not_in(FINAL)
    )


def _my_open_tasks(ctx: Ctx) -> list[ColumnElement[bool]]:
    """The actor's own open, unsnoozed tasks in running campaigns: the one rule every count and
    list of tasks uses (the query joins Campaign and Customer)."""
    now = ctx.now()
    return [
        _open_task(),
        customer_filter(ctx.actor),
        Customer.owner_id == ctx.actor.id,
        Campaign.ended_at.is_(None),
        or_(CampaignMember.snoozed_until.is_(None), CampaignMember.snoozed_until <= now),
    ]


@dataclass(frozen=True)
class Task:
    """One open task card: the member, its campaign and customer, and whom to write to."""

    member: CampaignMember
    campaign: Campaign
    customer: Customer
    contact: str | None


def _first_contacts(s: Session, customer_ids: Iterable[int]) -> dict[int, str]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = s.execute(
        select(Contact.customer_id, Contact.name)
        .where(Contact.customer_id.in_(ids))
        .order_by(Contact.customer_id, Contact.id)
    )
    out: dict[int, str] = {}
    for cid, name in rows:
        out.setdefault(int(cid), name)
    return out


def open_tasks(
    ctx: Ctx, campaign: Campaign | None = None, *, limit: int = 10
) -> tuple[list[Task], int]:
    """The actor's own open, unsnoozed tasks in running campaigns (oldest campaign first), and
    how many there are in all."""
    s = ctx.session
    cond = _my_open_tasks(ctx)
    if campaign is not None:
        cond.append(CampaignMember.campaign_id == campaign.id)
    base = (
        select(CampaignMember, Campaign, Customer)
        .join(Campaign, Campaign.id == CampaignMember.campaign_id)
        .join(Customer, Customer.id == CampaignMember.customer_id)
        .where(*cond)
    )
    total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = s.execute(
        base.order_by(Campaign.started_at, Campaign.id, Customer.name_key, Customer.id).limit(limit)
    ).all()
    contacts = _first_contacts(s, (c.id for _, _, c in rows))
    return [Task(m, camp, c, contacts.get(c.id)) for m, camp, c in rows], total


def open_task_counts(ctx: Ctx) -> list[tuple[str, int]]:
    """(campaign name, open tasks) of the actor's own tasks in running campaigns, for the digest."""
    rows = ctx.session.execute(
        select(Campaign.name, func.count())
        .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
        .join(Customer, Customer.id == CampaignMember.customer_id)
        .where(*_my_open_tasks(ctx))
        .group_by(Campaign.id, Campaign.name, Campaign.started_at)
        .order_by(Campaign.started_at, Campaign.id)
    )
    return [(str(name), int(n)) for name, n in rows]


def get_task(ctx: Ctx, member_id: int) -> Task:
    """A member whose customer the actor may see; a holdout member is refused, never shown."""
    s = ctx.session
    row = s.execute(
        select(CampaignMember, Campaign, Customer)
        .join(Campaign, Campaign.id == CampaignMember.campaign_id)
        .join(Customer, Customer.id == CampaignMember.customer_id)
        .where(CampaignMember.id == member_id, customer_filter(ctx.actor))
    ).first()
    if row is None:
        raise NotFound("campaign.no_task", id=member_id)
    member, campaign, customer = row
    if member.holdout:
        raise Invalid(
            "campaign.task_held_out", id=member_id, name=customer.name, campaign=campaign.name
        )
    return Task(member, campaign, customer, _first_contacts(s, [customer.id]).get(customer.id))


def _lock_running(ctx: Ctx, task: Task) -> None:
    """Re-read the task's campaign, held (shared) until this unit of work ends; refuse it ended.

    An end that commits while the task was read is seen here, and one that starts after
    waits for this write: no outcome or snooze is written to an ended campaign.
    """
    lock_for_update(ctx.session, task.campaign, shared=True)
    if task.campaign.ended_at is not None:
        raise Invalid("campaign.ended", name=task.campaign.name)


def record_outcome(ctx: Ctx, task: Task, outcome: str) -> bool:
    """Record an outcome with its time and actor; False (nothing written) when already recorded.

    Replied, not interested and converted imply the customer was reached. Converted and not
    interested are final: a task marked so takes no other outcome, so no customer is counted
    as both.
    """
    if outcome not in OUTCOMES:
        raise Invalid("usage.task")
    _lock_running(ctx, task)
    member = task.member
    # Two presses at once on two workers: the second waits here and then reads the first's
    # outcome, so only one is written and audited.
    lock_for_update(ctx.session, member)
    if getattr(member, f"{outcome}_at") is not None:
        return False
    if member.outcome in FINAL:
        raise Invalid(f"campaign.task_finished_{member.outcome}", id=member.id)
    before = audit.snapshot(member)
    now = ctx.now()
    setattr(member, f"{outcome}_at", now)
    if member.reached_at is None:
        member.reached_at = now
    member.outcome = outcome
    member.outcome_by = ctx.actor.id
    member.snoozed_until = None
    audit.record(ctx.session, ctx.actor, f"campaign.{outcome}", member, before)
    return True


def snooze(ctx: Ctx, task: Task, until: datetime) -> None:
    """Hide a task from the owner's list until `until`."""
    _lock_running(ctx, task)
    if until <= ctx.now():
        raise Invalid("campaign.snooze_past")
    if task.member.outcome in FINAL:
        raise Invalid("campaign.task_done", id=task.member.id)
    before = audit.snapshot(task.member)
    task.member.snoozed_until = until
    audit.record(ctx.session, ctx.actor, "campaign.snooze", task.member, before)


def fill(message: str, customer: str, contact: str | None) -> str:
    """The template with the customer's and contact's names put in.

    Placeholders are read folded like the key words: `{客戶}`, `{聯絡人}`, `｛Contact｝` too.
    """
    names = {
        "name": customer,
        "customer": customer,
        "客户": customer,
        "contact": contact or customer,
        "联系人": contact or customer,
        "联络人": contact or customer,
    }

    def put(m: re.Match[str]) -> str:
        return names.get(char_view(m.group(1)).strip(), m.group(0))

    return _PLACEHOLDER.sub(put, message)


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One group's counts over the campaign's period, in the viewer's book."""

    members: int
    reached: int
    replied: int
    not_interested: int
    converted: int
    # Customers with at least one deal opened / won in the period, and the won value per member.
    opened: int
    won: int
    won_values: list[float]

    @property
    def won_value(self) -> Decimal:
        """The group's won value in the period."""
        return Decimal(str(round(sum(self.won_values), 2)))


@dataclass(frozen=True)
class Report:
    """The contacted group against the holdout, with 95 % intervals of the differences."""

    campaign: Campaign
    start: datetime
    end: datetime
    currency: str
    contacted: Group
    holdout: Group
    opened: effect.Interval | None
    won: effect.Interval | None
    value: effect.Interval | None
    # Won deals in currencies other than `currency`: counted as wins, left out of the value.
    other_currencies: bool = False

    @property
    def too_few(self) -> bool:
        """Either group is too small for the difference to mean much."""
        return min(self.contacted.members, self.holdout.members) < MIN_GROUP


def report(ctx: Ctx, campaign: Campaign) -> Report:
    """Count both groups' outcomes and deals from the start to the end (or now).

    Counted by the database per group (10,000 members would otherwise be 10,000 rows of
    timestamps to read); only customers with a won deal come back one by one, for the spread of
    the won value.
    """
    s = ctx.session
    start, end = campaign.started_at, campaign.ended_at or ctx.now()
    m = CampaignMember
    mine = (
        select()
        .select_from(m)
        .join(Customer, Customer.id == m.customer_id)
        .where(m.campaign_id == campaign.id, customer_filter(ctx.actor))
    )
    opened_deal = (
        select(Deal.id)
        .where(Deal.customer_id == m.customer_id, Deal.created_at >= start, Deal.created_at < end)
        .exists()
    )
    counts: dict[bool, tuple[int, ...]] = {}
    for held, *numbers in s.execute(
        mine.add_columns(
            m.holdout,
            func.count(),
            func.count(m.reached_at),
            func.count(m.replied_at),
            func.count(m.not_interested_at),
            func.count(m.converted_at),
            func.count(case((opened_deal, 1))),
        ).group_by(m.holdout)
    ):
        counts[bool(held)] = tuple(int(n) for n in numbers)
    won_stages = [st.name for st in ctx.pipeline.stages if st.won]
    currency = ctx.default_currency
    won: dict[bool, list[float]] = {True: [], False: []}
    # A win in any currency counts as a win; only the default currency's amounts are summed
    # (no exchange rates are kept), and the report says when other currencies were left out.
    in_default = case((Deal.currency == currency, func.coalesce(Deal.amount, 0)), else_=0)
    other = func.count(case((Deal.currency != currency, 1)))
    other_currencies = False
    for held, total, others in s.execute(
        mine.add_columns(m.holdout, func.sum(in_default), other)
        .join(Deal, Deal.customer_id == m.customer_id)
        .where(
            Deal.stage.in_(won_stages),
            Deal.closed_at >= start,
            Deal.closed_at < end,
        )
        .group_by(m.holdout, m.customer_id)
    ):
        won[bool(held)].append(float(total or 0))
        other_currencies = other_currencies or int(others) > 0

    def group(held: bool) -> Group:
        n, reached, replied, not_interested, converted, opened = counts.get(held, (0,) * 6)
        values = sorted(won[held], reverse=True)
        return Group(
            members=n,
            reached=reached,
            replied=replied,
            not_interested=not_interested,
            converted=converted,
            opened=opened,
            won=len(values),
            won_values=values + [0.0] * (n - len(values)),
        )

    a, b = group(False), group(True)
    return Report(
        campaign=campaign,
        start=start,
        end=end,
        currency=currency,
        contacted=a,
        holdout=b,
        opened=effect.rate_difference(a.opened, a.members, b.opened, b.members),
        won=effect.rate_difference(a.won, a.members, b.won, b.members),
        value=effect.mean_difference(a.won_values, b.won_values),
        other_currencies=other_currencies,
    )
