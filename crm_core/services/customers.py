"""Customers: create, search, list and the summary card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, exists, func, select

from crm_core import audit, rules
from crm_core.access import (
    book_owners,
    can_assign_owner,
    customer_filter,
    ensure_customer_access,
    per_access,
    sees_every_book,
)
from crm_core.context import Ctx
from crm_core.db import lock_for_update
from crm_core.errors import Candidate, Invalid, PermissionDenied
from crm_core.models import (
    Contact,
    Customer,
    Deal,
    Interaction,
    Reminder,
    ReminderStatus,
    TierProgram,
    User,
)
from crm_core.name_index import contact_book, current_name_book, name_book
from crm_core.resolve import contains, follow_merge, tagged_ids
from crm_core.services import custom_fields, tiers, webhooks, write_locks
from crm_core.services.duplicates import likely_same
from crm_core.services.reminders import manageable
from crm_core.services.tickets import (
    SERVICE_FIGURES,
    CustomerService,
    service_of,
    service_params,
)
from crm_core.text import fold, name_key

MAX_NAME = rules.MAX_NAME
MAX_FIELD = rules.MAX_FIELD
# Scores above this make a new name a likely duplicate of an existing customer.
DUPLICATE_SCORE = 90.0


class DuplicateCustomer(Invalid):
    """A customer with the same or a very similar name already exists."""

    def __init__(self, existing: list[Candidate], exact: bool) -> None:
        super().__init__(
            "error.customer_duplicate_exact" if exact else "error.customer_duplicate",
            name=existing[0].label,
        )
        self.existing = existing
        self.exact = exact


def _singular(key: str) -> str:
    words = []
    for word in key.split():
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


def find_duplicates(ctx: Ctx, name: str) -> tuple[list[Candidate], bool]:
    """Visible customers whose names are the same as or close to `name`, and if any is exact."""
    key = name_key(name)
    rows = ctx.session.execute(
        select(Customer.id, Customer.name, Customer.name_key, Customer.city).where(
            customer_filter(ctx.actor)
        )
    ).all()
    exact = [Candidate(r[0], r[1], r[3] or "") for r in rows if r[2] == key]
    if exact:
        return exact, True
    # Compared singular: "Hill Supplies" is "Hill Supply", "Mesa Technology" is "Mesa Technologies".
    scored = process.extract(
        _singular(key),
        {r[0]: _singular(r[2]) for r in rows},
        scorer=fuzz.token_sort_ratio,
        score_cutoff=DUPLICATE_SCORE,
        limit=5,
    )
    by_id = {r[0]: r for r in rows}
    # What `duplicates` would pair with it first ("上海华东物流有限公司" is 华东物流 with its
    # city in front), then the near spellings.
    ids = [r[0] for r in rows if likely_same(key, r[2])]
    ids += [int(s[2]) for s in scored if s[2] not in ids]
    return [Candidate(i, by_id[i][1], by_id[i][3] or "") for i in ids[:5]], False


def create_customer(
    ctx: Ctx,
    name: str,
    *,
    industry: str | None = None,
    city: str | None = None,
    tags: list[str] | None = None,
    owner: User | None = None,
    force: bool = False,
) -> Customer:
    """Create a customer; a near-duplicate is refused unless `force`, an exact one always."""
    name = rules.name("name", name)
    if not name or not name_key(name):
        raise Invalid("error.customer_name_missing")
    tags = rules.tags(tags or [])
    industry = rules.optional("industry", industry, MAX_FIELD)
    city = rules.optional("city", city, MAX_FIELD)
    owner = owner or ctx.actor
    if not owner.active:
        raise Invalid("error.owner_inactive", owner=owner.name)
    if not can_assign_owner(ctx.actor, owner):
        raise PermissionDenied("error.cannot_assign_owner", owner=owner.name)
    # Two creates of one name at once: the second waits for the first, then finds it.
    write_locks.hold(ctx.session, "customer-name", name_key(name))
    existing, exact = find_duplicates(ctx, name)
    if existing and (exact or not force):
        raise DuplicateCustomer(existing, exact)
    customer = Customer(
        name=name,
        name_key=name_key(name),
        owner_id=owner.id,
        industry=industry,
        city=city,
        tags=tags,
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(customer)
    audit.record(ctx.session, ctx.actor, "customer.create", customer, None)
    webhooks.emit(
        ctx.session,
        "customer.created",
        webhooks.customer_data(ctx.session, customer),
        now=ctx.now(),
        actor=ctx.actor,
    )
    return customer


def search_customers(ctx: Ctx, query: str, limit: int = 10) -> list[Customer]:
    """Visible customers whose name matches, with those tagged with exactly the query; failing
    those, a contact (name, email) or city.

    A query that matches none of those gets fuzzy name suggestions (typos).
    """
    rules.readable("search", query)
    key = name_key(query)
    if not key:
        raise Invalid("error.search_missing")
    hits = _search_by_name(ctx, query, key, limit)
    # "harbour" is Harbour Foods' word and Kowloon Bay Hotel's tag: the list a read shows
    # when a name is shared (a loose "harbour's deals?") holds both, never the named one alone.
    # Read through the access filter: a hidden customer's tag lists nothing.
    ids = [i for i in tagged_ids(ctx, key) if i not in {c.id for c in hits}]
    tagged = (
        list(
            ctx.session.scalars(
                select(Customer)
                .where(customer_filter(ctx.actor), Customer.id.in_(ids))
                .order_by(Customer.id)
            )
        )
        if ids
        else []
    )
    if not tagged:
        return hits
    named = [c for c in hits if key in c.name_key]
    if not named:
        # Contacts, cities and typo suggestions are searched only when no name holds the words:
        # a customer tagged with them exactly is what was meant.
        return tagged[:limit]
    return (named[: max(0, limit - len(tagged))] + tagged)[:limit]


def _search_by_name(ctx: Ctx, query: str, key: str, limit: int) -> list[Customer]:
    """Visible customers whose name matches; failing that, a contact (name, email) or city;
    failing that, typo suggestions."""
    visible = customer_filter(ctx.actor)
    match = contains(Customer.name_key, key)
    by_name = (
        select(Customer)
        .where(visible, match)
        .order_by(func.length(Customer.name_key), Customer.name_key)
        .limit(limit)
    )
    hits = []
    current = current_name_book(ctx.session)
    asked = current is None and not sees_every_book(ctx.actor)
    if asked:
        # A rep's or a team's book, and the copy is out of date (a customer was added or
        # renamed since): LIKE over those rows (found by owner) costs less than reading the
        # whole company's names again. A query nothing matches needs the copy after all.
        hits = list(ctx.session.scalars(by_name))
        if hits:
            return hits
    # The name index says whether any visible name contains the query: a typo skips the scan.
    book = current if current is not None else name_book(ctx.session)
    owners = book_owners(ctx.session, ctx.actor)
    positions = book.positions(owners)
    if not asked:
        # The index gives the matching ids, shortest names first (with every tie of the last),
        # so the database orders a few rows by id instead of matching LIKE '%q%' over the whole
        # book. A query contained in thousands of equally short names falls back to the LIKE.
        shortest = book.shortest_containing(positions, key, limit, most=1000)
        if shortest is None or shortest:
            if shortest:
                by_name = by_name.where(Customer.id.in_(shortest))
            hits = list(ctx.session.scalars(by_name))
    if not hits and book.any_gone_containing(key):
        # The old name of a merged customer finds the one it was merged into.
        survivor = follow_merge(ctx, contains(Customer.name_key, key))
        if survivor is not None:
            hits = [survivor]
    if not hits:
        # No name matches: people remember the person or the town as often as the company.
        # Matched in the name index's copies of the contacts and cities, kept to the book's
        # live customers (joined in SQL, SQLite looked every visible customer's contacts up in
        # turn: 10,000 of them for an admin). Python's lower() folds more letters than
        # SQLite's ASCII-only lower(), so a capital É now finds é there too.
        folded = fold(query)
        mine = book.live_ids() if owners is None else {book.ids[p] for p in positions}
        found = [c for c in contact_book(ctx.session).customers_matching(folded) if c in mine]
        found += book.in_city(positions, folded, limit)
        ids = list(dict.fromkeys(found))[:limit]
        if ids:
            hits = list(
                ctx.session.scalars(
                    select(Customer)
                    .where(visible, Customer.id.in_(ids))
                    .order_by(Customer.name_key)
                )
            )
    if not hits:
        # Only a query that matches nothing as a substring pays for the fuzzy scan (typos).
        # Scored from the name index (the book's keys in memory), not by reading every row.
        ids = book.suggest(positions, key, 75, limit)
        if ids:
            # Loaded through the access filter as well: the index only ever narrows.
            extra = {
                c.id: c
                for c in ctx.session.scalars(select(Customer).where(visible, Customer.id.in_(ids)))
            }
            hits = [extra[i] for i in ids if i in extra]
    return hits


# The contacts of some customers, built once (every `find` asks it).
_CONTACTS_OF = (
    select(Contact)
    .where(Contact.customer_id.in_(bindparam("ids", expanding=True)))
    .order_by(Contact.id)
)


def contacts_named(
    ctx: Ctx, customers: list[Customer], query: str
) -> list[tuple[Customer, Contact]]:
    """The contacts of these (visible) customers whose folded name contains `query`'s, by
    customer, in one query (each customer's `contacts` loaded alone was one query each)."""
    folded = fold(query)
    if not folded or not customers:
        return []
    named: dict[int, list[Contact]] = {}
    for contact in ctx.session.scalars(_CONTACTS_OF, {"ids": [c.id for c in customers]}):
        if folded in fold(contact.name):
            named.setdefault(contact.customer_id, []).append(contact)
    return [(c, contact) for c in customers for contact in named.get(c.id, ())]


def list_customers(ctx: Ctx, *, limit: int = 20, offset: int = 0) -> tuple[list[Customer], int]:
    """A page of visible customers by name, and how many there are in all."""
    visible = customer_filter(ctx.actor)
    total = ctx.session.scalar(select(func.count()).select_from(Customer).where(visible)) or 0
    page = ctx.session.scalars(
        select(Customer).where(visible).order_by(Customer.name_key).limit(limit).offset(offset)
    ).all()
    return list(page), total


@dataclass
class CustomerCard:
    """Everything the summary card shows about one customer."""

    customer: Customer
    owner: User
    contacts: list[Contact]
    open_deals: list[Deal]
    recent: list[Interaction]
    # The names of the recent notes' authors, by user id.
    authors: dict[int, str]
    reminders: list[Reminder]
    last_contact: datetime | None
    days_since_contact: int | None
    service: CustomerService
    # Whether tier rules are stored (tiers.status reads them only then).
    tier_rules: bool


# The card's statements, built once: building them (and their cache keys) for every card cost
# more CPU than running them.
_CARD_CONTACTS = (
    select(Contact).where(Contact.customer_id == bindparam("customer")).order_by(Contact.name)
)
_CARD_DEALS = (
    select(Deal)
    .where(
        Deal.customer_id == bindparam("customer"),
        Deal.stage.not_in(bindparam("closed", expanding=True)),
    )
    .order_by(Deal.expected_close.is_(None), Deal.expected_close, Deal.id)
)
# With each note its author's name: lazy-loading the authors cost a statement for each one
# not loaded yet (another rep's or a manager's note: about half the cards of a book).
_CARD_NOTES = (
    select(Interaction, User.name)
    .join(User, User.id == Interaction.author_id)
    .where(Interaction.customer_id == bindparam("customer"), Interaction.deleted_at.is_(None))
    .order_by(Interaction.occurred_at.desc())
    .limit(bindparam("recent"))
)
# The service figures and whether tier rules are stored, in one round trip: most books have no
# rules, and reading their absence cost the card a statement of its own.
_CARD_EXTRAS = select(
    *SERVICE_FIGURES, exists().where(TierProgram.id == tiers.PROGRAM_ID).label("tier_rules")
)


def customer_card(ctx: Ctx, customer: Customer, *, recent: int = 5) -> CustomerCard:
    """The summary of a customer already resolved through the visibility filter."""
    s = ctx.session
    closed = [st.name for st in ctx.pipeline.stages if st.closed]
    contacts = s.scalars(_CARD_CONTACTS, {"customer": customer.id}).all()
    deals = s.scalars(_CARD_DEALS, {"customer": customer.id, "closed": closed}).all()
    rows = s.execute(_CARD_NOTES, {"customer": customer.id, "recent": recent}).all()
    notes = [note for note, _ in rows]
    actor = ctx.actor
    card_reminders = per_access(
        "card_reminders",
        actor,
        lambda: (
            select(Reminder)
            .where(
                Reminder.customer_id == bindparam("customer"),
                Reminder.status == ReminderStatus.pending,
                # Seeing the customer is not seeing what others plan about it (a manager's
                # "review Alice's account" must not show on Alice's card).
                *manageable(actor),
            )
            .order_by(Reminder.due_at)
            .limit(5)
        ),
    )
    reminders = s.scalars(card_reminders, {"customer": customer.id}).all()
    last = notes[0].occurred_at if notes else None
    days = (
        (ctx.now().astimezone(ctx.tz).date() - last.astimezone(ctx.tz).date()).days
        if last
        else None
    )
    owner = s.get(User, customer.owner_id)
    assert owner is not None
    extras = s.execute(_CARD_EXTRAS, service_params(customer.id, ctx.now())).one()
    return CustomerCard(
        customer,
        owner,
        list(contacts),
        list(deals),
        notes,
        {note.author_id: name for note, name in rows},
        list(reminders),
        last,
        days,
        service_of(extras),
        bool(extras.tier_rules),
    )


def check_customer_name(ctx: Ctx, name: str, *, renaming: Customer | None = None) -> str:
    """A customer's name as stored; refuses an empty, unreadable or exactly duplicated one."""
    name = rules.name("name", name)
    if not name or not name_key(name):
        raise Invalid("error.customer_name_missing")
    existing, exact = find_duplicates(ctx, name)
    others = [c for c in existing if renaming is None or c.id != renaming.id]
    if exact and others:
        raise DuplicateCustomer(others, True)
    return name


def check_tags(tags: list[str]) -> list[str]:
    """Tags as stored (lower case, sorted, unique); refuses long, unreadable or too many."""
    return rules.tags(tags)


def check_detail(field: str, value: str) -> str | None:
    """An industry or a city as stored (None: cleared); refuses an over-long or unreadable one."""
    return rules.optional(field, value, MAX_FIELD)


def update_customer(
    ctx: Ctx,
    customer: Customer,
    *,
    name: str | None = None,
    industry: str | None = None,
    city: str | None = None,
    tags: list[str] | None = None,
    custom: Mapping[str, Any] | None = None,
    action: str = "customer.update",
) -> tuple[dict[str, tuple[Any, Any]], int | None]:
    """Change the given fields (None: leave as is; "" clears industry or city).

    `custom` sets custom field values by field name (None or "" clears one).

    Returns {field: (before, after)} for what changed and the audit entry's id (None when
    nothing changed); the audit entry records the same.
    """
    ensure_customer_access(ctx.actor, customer)
    # Two people editing one customer queue up: each compares against what is stored now.
    lock_for_update(ctx.session, customer)
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = check_customer_name(ctx, name, renaming=customer)
    if industry is not None:
        wanted["industry"] = check_detail("industry", industry)
    if city is not None:
        wanted["city"] = check_detail("city", city)
    if tags is not None:
        wanted["tags"] = check_tags(tags)
    wanted.update(custom_fields.wanted(ctx, "customer", custom or {}))
    changed = audit.changed_fields(customer, wanted)
    if not changed:
        return {}, None
    derived = {"name_key": name_key(changed["name"][1])} if "name" in changed else {}
    entry_id = audit.apply_changes(
        ctx.session, ctx.actor, action, customer, changed, derived=derived, now=ctx.now()
    )
    if any(k.startswith(audit.CUSTOM_PREFIX) for k in changed):
        # Points-based tiers: more points upgrade at once (fewer wait for the review).
        tiers.on_points_changed(ctx, customer)
    return changed, entry_id
