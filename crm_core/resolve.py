"""Names to records the actor may see: exact or a unique prefix, otherwise a question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from crm_core.access import book_filter, book_owners, customer_filter, per_access
from crm_core.context import Ctx, Redirect
from crm_core.errors import Ambiguous, Candidate, Invalid, NotFound
from crm_core.models import Contact, Customer, Deal, Role, User
from crm_core.name_index import NameBook, name_book
from crm_core.names_zh import readings, surname_and_title
from crm_core.text import char_view, fold, name_key, to_traditional

_REF = re.compile(r"^#(\d{1,18})$")
# Typo suggestions: how close a name must be to be offered, and how many are offered.
_SUGGEST = 70.0
_MAX_CANDIDATES = 8
# Rows scanned for typo suggestions when nothing matches as a substring.
_SCAN_LIMIT = 20_000
# A tag carried by more visible customers than this is a kind of customer ("hotel", "vip"),
# not what one of them is called: it names none and raises no question.
TAG_SHARED_BY = 2


@dataclass(frozen=True)
class _Row:
    id: int
    key: str
    label: str
    detail: str


def actor_owners(ctx: Ctx) -> frozenset[int] | None:
    """`book_owners` of the actor, read once per command: a sentence looks names and tags up
    several times, and a manager's team is a query each time otherwise."""
    if "book_owners" not in ctx.memo:
        ctx.memo["book_owners"] = book_owners(ctx.session, ctx.actor)
    found: frozenset[int] | None = ctx.memo["book_owners"]
    return found


def ref_id(query: str) -> int | None:
    """The id in a `#123` reference, or None."""
    m = _REF.match(unicodedata.normalize("NFKC", query).strip())
    return int(m.group(1)) if m else None


def contains(column: Any, key: str) -> ColumnElement[bool]:
    """SQL `column LIKE %key%` with the LIKE wildcards in `key` taken literally."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def _long_enough(key: str) -> bool:
    # Two Chinese characters say as much as three Latin letters.
    return len(key) >= 3 or (len(key) >= 2 and not key.isascii())


def _starts_a_word(query_key: str, key: str) -> bool:
    return key.startswith(query_key) or f" {query_key}" in key


def _candidates(rows: Sequence[_Row]) -> list[Candidate]:
    return [Candidate(r.id, r.label, r.detail) for r in rows[:_MAX_CANDIDATES]]


def _fitting(qk: str, rows: Sequence[_Row]) -> list[_Row]:
    """The rows a key names: those named exactly, else those whose name (a word of) it starts,
    shortest first; never a typo's."""
    exact = [r for r in rows if r.key == qk]
    if exact or not _long_enough(qk):
        return exact
    return sorted((r for r in rows if _starts_a_word(qk, r.key)), key=lambda r: len(r.key))


def _choose(field: str, query: str, rows: Sequence[_Row]) -> int:
    """The one row `query` names: an exact name, or a unique name it starts (a word of).

    Anything else is a question (Ambiguous with buttons) or NotFound; a typo only ever
    produces suggestions, so nothing is written to a guessed record.
    """
    qk = name_key(query)
    if not qk:
        raise Invalid(f"error.{field}_missing")
    fits = _fitting(qk, rows)
    if len(fits) > 1:
        fits = _typed_in_full(query, fits)
    if len(fits) == 1:
        return fits[0].id
    if fits:
        raise Ambiguous(field, query, _candidates(fits))
    by_id = {r.id: r for r in rows}
    ids = _suggest(field, query, {r.id: r.key for r in rows})
    raise Ambiguous(field, query, _candidates([by_id[i] for i in ids]))


def _typed_in_full(query: str, rows: Sequence[_Row]) -> list[_Row]:
    """Of rows whose names share one key, the one named exactly as typed, when just one is.

    An import from another CRM can bring "Maple & Birch" beside "Maple and Birch Inc." (chat
    refuses a second name of the same key, an import keeps both for `merge`): typing one of them
    in full, bar case, width, script and spacing, names that one and no other.
    """
    typed = fold(query)
    same = [r for r in rows if fold(r.label) == typed]
    return same if len(same) == 1 else list(rows)


def _suggest(field: str, query: str, keys: dict[int, str]) -> list[int]:
    """Ids of the names closest to a mistyped `query`, best first; NotFound when none is."""
    scored = process.extract(
        name_key(query), keys, scorer=fuzz.WRatio, score_cutoff=_SUGGEST, limit=_MAX_CANDIDATES
    )
    if not scored:
        raise NotFound(f"error.{field}_not_found", query=query)
    return [int(s[2]) for s in scored]


def _matching_rows(
    ctx: Ctx, stmt: Select[*tuple[Any, ...]], id_col: Any, key_col: Any, field: str, query: str
) -> Sequence[Any]:
    """Rows of `stmt` whose key equals, else contains, the query's key; else typo suggestions.

    Indexed equality first, then substring. Only when neither matches is every key read, and
    then just (id, key), scored, with full rows loaded for the few suggested, best first.
    """
    qk = name_key(query)
    rows = ctx.session.execute(stmt.where(key_col == qk).limit(50)).all()
    if len(rows) != 1:
        rows = ctx.session.execute(stmt.where(contains(key_col, qk)).limit(200)).all()
    if rows:
        return rows
    if not ctx.spelling:
        raise NotFound(f"error.{field}_not_found", query=query)
    keys = ctx.session.execute(stmt.with_only_columns(id_col, key_col).limit(_SCAN_LIMIT)).all()
    ids = _suggest(field, query, {k[0]: k[1] for k in keys})
    found = {r[0]: r for r in ctx.session.execute(stmt.where(id_col.in_(ids)))}
    return [found[i] for i in ids if i in found]


class _Lookup:
    """The name index's copy and the actor's book owners, each read once per lookup: a name
    that is the start of several and a tag clash check used to read the index's token row
    three times and a manager's team twice (five statements of a `customer <partial>`'s nine)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._book: NameBook | None = None
        self._owners: tuple[frozenset[int] | None] | None = None

    def book(self) -> NameBook:
        """The current copy of the customers (read at the first call)."""
        if self._book is None:
            self._book = name_book(self.ctx.session)
        return self._book

    def owners(self) -> frozenset[int] | None:
        """`book_owners` of the actor (read at the first call)."""
        if self._owners is None:
            self._owners = (actor_owners(self.ctx),)
        return self._owners[0]


def _matching_customers(
    ctx: Ctx, stmt: Select[*tuple[Any, ...]], query: str, lookup: _Lookup | None = None
) -> Sequence[Any]:
    """`_matching_rows` for customers: the substring and typo scans read the name index (an
    in-process copy of the book's keys) instead of every row; rows come from `stmt` by id, so
    its access filter still applies."""
    qk = name_key(query)
    rows = ctx.session.execute(stmt.where(Customer.name_key == qk).limit(50)).all()
    if len(rows) == 1:
        return rows
    lookup = lookup or _Lookup(ctx)
    book = lookup.book()
    visible = book.positions(lookup.owners())
    exact = [int(r[0]) for r in rows]
    ids = exact + [i for i in book.containing(visible, qk, 200) if i not in exact]
    if not ids:
        ids = book.suggest(visible, qk, _SUGGEST, _MAX_CANDIDATES)
        if not ids:
            raise NotFound("error.customer_not_found", query=query)
    found = {r[0]: r for r in ctx.session.execute(stmt.where(Customer.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _pick(ctx: Ctx, field: str) -> int | None:
    """The id a person chose by button for `field`, used once."""
    return ctx.picks.pop(field, None)


def _visible_customer(ctx: Ctx, customer_id: int) -> Customer:
    actor = ctx.actor
    by_id = per_access(
        "customer_by_id",
        actor,
        lambda: select(Customer).where(
            Customer.id == bindparam("customer_id"), customer_filter(actor)
        ),
    )
    customer = ctx.session.scalar(by_id, {"customer_id": customer_id})
    if customer is None:
        customer = follow_merge(ctx, Customer.id == customer_id) or archived_customer(
            ctx, Customer.id == customer_id
        )
    if customer is None:
        raise NotFound("error.customer_ref_not_found", id=customer_id)
    return customer


def tombstone(ctx: Ctx, customer_id: int) -> Customer | None:
    """The merged-away customer #id in the actor's book, if it is one."""
    return ctx.session.scalar(
        select(Customer).where(
            Customer.id == customer_id,
            book_filter(ctx.actor),
            Customer.merged_into.is_not(None),
        )
    )


def archived_customer(ctx: Ctx, condition: ColumnElement[bool]) -> Customer | None:
    """The archived customer matching `condition` in the actor's book (the newest if several)."""
    return ctx.session.scalar(
        select(Customer)
        .where(
            condition,
            book_filter(ctx.actor),
            Customer.merged_into.is_(None),
            Customer.archived_at.is_not(None),
        )
        .order_by(Customer.id.desc())
        .limit(1)
    )


def _archived_by_name(ctx: Ctx, qk: str) -> Customer | None:
    """The one archived customer in the book whose name is, or starts (a word of), `qk`."""
    exact = archived_customer(ctx, Customer.name_key == qk)
    if exact is not None or not _long_enough(qk):
        return exact
    if not name_book(ctx.session).any_gone_containing(qk):
        return None  # no archived name contains it: the substring scan would find nothing
    rows = ctx.session.scalars(
        select(Customer)
        .where(
            contains(Customer.name_key, qk),
            book_filter(ctx.actor),
            Customer.merged_into.is_(None),
            Customer.archived_at.is_not(None),
        )
        .limit(50)
    ).all()
    starting = [c for c in rows if _starts_a_word(qk, c.name_key)]
    return starting[0] if len(starting) == 1 else None


def follow_merge(ctx: Ctx, condition: ColumnElement[bool]) -> Customer | None:
    """The survivor of a merged customer matching `condition` in the actor's book, if visible.

    The lookup is noted in `ctx.redirects` so the answer can say "merged into #7 Acme". Both
    the tombstone and the survivor must be in the book: a merge is never a way to learn of a
    customer one may not see.
    """
    gone = ctx.session.scalar(
        select(Customer)
        .where(condition, book_filter(ctx.actor), Customer.merged_into.is_not(None))
        .order_by(Customer.id.desc())
        .limit(1)
    )
    if gone is None:
        return None
    survivor = ctx.session.scalar(
        select(Customer).where(Customer.id == gone.merged_into, customer_filter(ctx.actor))
    )
    if survivor is not None:
        ctx.redirects.append(Redirect(gone.id, gone.name, survivor.id, survivor.name))
    return survivor


def resolve_customer(ctx: Ctx, query: str) -> Customer:
    """The visible customer `query` names (`#id`, a chosen button, an exact or prefix name)."""
    query = query.strip()
    picked = _pick(ctx, "customer")
    if picked is not None:
        return _visible_customer(ctx, picked)
    if not query:
        raise Invalid("error.customer_missing")
    rid = ref_id(query)
    if rid is not None:
        return _visible_customer(ctx, rid)
    qk = name_key(query)
    if not qk:
        raise Invalid("error.customer_missing")
    base = (
        select(Customer.id, Customer.name_key, Customer.name, Customer.city, User.name)
        .join(User, User.id == Customer.owner_id)
        .where(customer_filter(ctx.actor))
    )
    # A manager or admin choosing between two same-named customers needs to see whose is whose.
    with_owner = ctx.actor.role != Role.rep

    def row(r: Any) -> _Row:
        detail = ", ".join(p for p in (r[3], r[4] if with_owner else None) if p)
        return _Row(r[0], r[1], r[2], detail)

    tagged: list[_Row] = []
    lookup = _Lookup(ctx)
    try:
        try:
            named = [row(r) for r in _matching_customers(ctx, base, query, lookup)]
        except NotFound:
            named = []
        tagged = (
            []
            if _one_named_exactly(qk, named)
            else [row(r) for r in tagged_rows(ctx, base, qk, lookup)]
        )
        if tagged:
            chosen = _choose_named_or_tagged(query, named, tagged)
        elif named:
            chosen = _choose("customer", query, named)
        else:
            raise NotFound("error.customer_not_found", query=query)
    except (Ambiguous, NotFound):
        if tagged:
            # A live customer is tagged with these words: of the customers gone from the lists
            # only one whose whole name (or old name) they are is taken (see
            # _one_named_exactly), never an archived name they only start.
            gone = follow_merge(ctx, Customer.name_key == qk) or archived_customer(
                ctx, Customer.name_key == qk
            )
            if gone is None:
                raise
            return gone
        # The old name of a merged customer names the one it was merged into.
        # An archived customer answers to its number and exact name (its card still opens).
        # Neither is looked for when no merged or archived name contains the query at all.
        if not lookup.book().any_gone_containing(qk):
            raise
        found = follow_merge(ctx, Customer.name_key == qk) or _archived_by_name(ctx, qk)
        if found is None:
            raise
        return found
    return _visible_customer(ctx, chosen)


def _one_named_exactly(qk: str, rows: Sequence[_Row]) -> bool:
    """Whether exactly one of `rows` has `qk` as its whole name.

    That one is taken even when another customer carries `qk` as a tag: a customer's name is
    the one label the book keeps unique (a second customer of the same name is refused), so
    typing all of it names that record and no other, while tags are free labels anyone adds
    to any number of customers. Asking here would also leave a customer named like another's
    tag with no way to be named without a question. Only the start of a name (or of a word of
    it) is weighed against tags, as only then does the typed word fit both equally.
    """
    return sum(1 for r in rows if r.key == qk) == 1


def tagged_ids(ctx: Ctx, key: str, lookup: _Lookup | None = None) -> list[int]:
    """Ids of the visible customers carrying a tag with exactly the key `key`, in id order;
    none for a key too short to name anything or a tag many share. Only visible customers are
    read, so a hidden one's tag never shows.

    Read from the name index (its copy of every customer's tag keys, kept current by the
    triggers of migrations 0032 and 0036), not a scan of every visible row's tags as text:
    that was a parallel sequential scan of 100,000 customers on PostgreSQL (~130 ms).
    """
    if not _long_enough(key):
        return []
    lookup = lookup or _Lookup(ctx)
    found = lookup.book().tagged(key, lookup.owners(), TAG_SHARED_BY)
    return found or []


def tagged_rows(
    ctx: Ctx, stmt: Select[*tuple[Any, ...]], key: str, lookup: _Lookup | None = None
) -> list[Any]:
    """Rows of `stmt` (which applies the actor's access filter, and whose first column is the
    customer's id) for the customers `tagged_ids` finds, in id order."""
    ids = tagged_ids(ctx, key, lookup)
    if not ids:
        return []
    found = {int(r[0]): r for r in ctx.session.execute(stmt.where(Customer.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _choose_named_or_tagged(query: str, named: Sequence[_Row], tagged: Sequence[_Row]) -> int:
    """The customer `query` names when some customers carry it as a tag.

    A tag holder the name does not already name is one more customer that fits, so the name
    (exact when several share it, or the start of one) and the tag are one question with each
    as a choice, never a silent pick of the named one. With no name fitting, the tag holders
    are offered (then any typo suggestions): a typed tag is asked about, not taken, since the
    grammar keeps tags in lower case and so cannot tell a nickname from a kind of customer.
    """
    qk = name_key(query)
    fits = _fitting(qk, named)
    ids = {r.id for r in fits}
    others = [t for t in tagged if t.id not in ids]
    if not others:
        return _choose("customer", query, named)
    if fits:
        # The tag holders (two at most) always among the buttons, however many names it starts.
        kept = fits[: max(0, _MAX_CANDIDATES - len(others))]
        raise Ambiguous("customer", query, _candidates([*kept, *others]))
    held = {t.id for t in others}
    suggested = []
    if named:
        keys = {r.id: r.key for r in named if r.id not in held}
        with suppress(NotFound):
            by_id = {r.id: r for r in named}
            suggested = [by_id[i] for i in _suggest("customer", query, keys)] if keys else []
    raise Ambiguous("customer", query, _candidates([*others, *suggested]))


def customer_name_exists(ctx: Ctx, name: str) -> bool:
    """Whether a visible customer has exactly this (normalised) name."""
    stmt = select(Customer.id).where(
        customer_filter(ctx.actor), Customer.name_key == name_key(name)
    )
    return ctx.session.scalar(stmt.limit(1)) is not None


def resolve_deal(
    ctx: Ctx,
    query: str,
    *,
    customer: Customer | None = None,
    open_only: bool = False,
    not_at: str | None = None,
) -> Deal:
    """The visible deal `query` names, optionally within one customer.

    `open_only`: a name is looked for among open deals (a closed one is taken only when it is
    named exactly, by `#id` or by button), so closed deals are never offered as choices.
    `not_at`: the stage a move goes to; of several deals with exactly that title, those already
    there are not meant (`move X / Renewal to won` when last year's Renewal is won).
    """
    query = query.strip()
    picked = _pick(ctx, "deal")
    rid = picked if picked is not None else ref_id(query)
    if rid is not None:
        # Joined, not `IN (visible ids)`: for an admin that list is every customer, and
        # SQLite builds it whole before looking at the one deal.
        deal = ctx.session.scalar(
            select(Deal)
            .join(Customer, Customer.id == Deal.customer_id)
            .where(Deal.id == rid, customer_filter(ctx.actor))
        )
        if deal is None and customer is None:
            # A deal of an archived customer in the book: why it is out of reach, and the way
            # back, rather than "no such deal" for one the person can see on the card.
            shelved = ctx.session.scalar(
                select(Customer)
                .join(Deal, Deal.customer_id == Customer.id)
                .where(
                    Deal.id == rid,
                    book_filter(ctx.actor),
                    Customer.merged_into.is_(None),
                    Customer.archived_at.is_not(None),
                )
            )
            if shelved is not None:
                raise Invalid("error.customer_archived", name=shelved.name, id=shelved.id)
        if deal is None or (customer is not None and deal.customer_id != customer.id):
            raise NotFound("error.deal_ref_not_found", id=rid)
        return deal
    qk = name_key(query)
    if not qk:
        raise Invalid("error.deal_missing")
    stmt = (
        select(Deal.id, Deal.title_key, Deal.title, Customer.name, Deal.stage)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(customer_filter(ctx.actor))
    )
    if customer is not None:
        stmt = stmt.where(Deal.customer_id == customer.id)
    if open_only:
        chosen = _choose_open_deal(ctx, stmt, query, not_at)
    else:
        rows = _matching_rows(ctx, stmt, Deal.id, Deal.title_key, "deal", query)
        chosen = _choose("deal", query, [_deal_row(r) for r in rows])
    deal = ctx.session.get(Deal, chosen)
    assert deal is not None
    return deal


def _deal_row(r: Any) -> _Row:
    return _Row(r[0], r[1], f"{r[2]} — {r[3]}", r[4])


def _choose_open_deal(
    ctx: Ctx, stmt: Select[*tuple[Any, ...]], query: str, not_at: str | None = None
) -> int:
    """A deal named exactly, otherwise one chosen among open deals only (a closed deal is a
    fallback when no open one matches).

    A title that is exactly that of several deals names each of them, closed ones included:
    the person may mean to reopen the lost one, so that is a question, never a guess.
    """
    qk = name_key(query)
    exact = ctx.session.execute(stmt.where(Deal.title_key == qk).limit(50)).all()
    open_names = [s.name for s in ctx.pipeline.open_stages]
    if exact:
        if len(exact) == 1:
            return int(exact[0][0])
        # Last year's won Renewal cannot be what `to won` means; an open namesake already at the
        # stage can (a retry), and a closed one left over would be reopened: both are asked.
        closed = {s.name for s in ctx.pipeline.stages} - set(open_names)
        movable = [r for r in exact if not (r[4] == not_at and r[4] in closed)]
        if not_at and len(movable) == 1 and movable[0][4] in open_names:
            return int(movable[0][0])
        raise Ambiguous("deal", query, _candidates([_deal_row(r) for r in exact]))
    try:
        rows = _matching_rows(
            ctx, stmt.where(Deal.stage.in_(open_names)), Deal.id, Deal.title_key, "deal", query
        )
        return _choose("deal", query, [_deal_row(r) for r in rows])
    except NotFound:
        rows = _matching_rows(ctx, stmt, Deal.id, Deal.title_key, "deal", query)
        return _choose("deal", query, [_deal_row(r) for r in rows])


def resolve_contact(ctx: Ctx, customer: Customer, query: str) -> Contact:
    """The contact of `customer` that `query` names (`#id`, a chosen button, name or email)."""
    query = query.strip()
    rows = ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)).all()
    picked = _pick(ctx, "contact")
    rid = picked if picked is not None else ref_id(query)
    if rid is not None:
        for c in rows:
            if c.id == rid:
                return c
        raise NotFound("error.contact_not_found", query=query, customer=customer.name)
    folded = fold(query)
    by_email = [c for c in rows if c.email and c.email.casefold() == folded]
    if len(by_email) == 1:
        return by_email[0]
    by_title = _by_surname_and_title(
        query, [_Row(c.id, name_key(c.name), c.name, c.title or "") for c in rows]
    )
    if by_title is not None:
        return next(c for c in rows if c.id == by_title)
    # First names are how people refer to contacts ("with Dana"): match them as words too.
    first = [c for c in rows if fold(c.name).split()[:1] == [folded]]
    if len(first) == 1:
        return first[0]
    try:
        chosen = _choose(
            "contact", query, [_Row(c.id, name_key(c.name), c.name, c.title or "") for c in rows]
        )
    except NotFound as exc:
        raise NotFound("error.contact_not_found", query=query, customer=customer.name) from exc
    return next(c for c in rows if c.id == chosen)


# "Acme / Dana": a contact named within one customer (a slash with a space on one side, or
# the full-width one), as `edit contact` and the deal verbs take it.
CUSTOMER_SLASH = re.compile(r"\s+/\s*|\s*/\s+|\s*／\s*")


def resolve_any_contact(ctx: Ctx, query: str) -> Contact:
    """The contact `query` names among every customer the actor may see (`#id`, name, email,
    or `Customer / name`)."""
    query = query.strip()
    picked = _pick(ctx, "contact")
    parts = CUSTOMER_SLASH.split(query, maxsplit=1)
    if picked is None and len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return resolve_contact(ctx, resolve_customer(ctx, parts[0]), parts[1])
    rid = picked if picked is not None else ref_id(query)
    if rid is not None:
        # A join on the one row, not IN (every visible customer): an admin sees 10,000 of them.
        found = ctx.session.scalar(
            select(Contact)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(Contact.id == rid, customer_filter(ctx.actor))
        )
        if found is None:
            raise NotFound("error.contact_ref_not_found", id=rid)
        return found
    folded = fold(query)
    if not folded:
        raise Invalid("error.contact_name_needed")
    stmt = (
        select(Contact.id, Contact.name, Contact.email, Contact.title, Customer.name)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(customer_filter(ctx.actor))
    )
    # Case-insensitive in SQL on both backends; the exact choice is made on folded names below.
    rows = ctx.session.execute(
        stmt.where(
            (func.lower(Contact.email) == query.casefold())
            | contains(func.lower(Contact.name), query.casefold())
        ).limit(200)
    ).all()
    surname = surname_and_title(query)
    if surname is not None and not rows:
        # "陈总": the contacts whose name starts with the surname (as typed or Traditional).
        starts = {surname, to_traditional(surname, phrases=False)}
        rows = ctx.session.execute(
            stmt.where(or_(*(Contact.name.like(f"{s}%") for s in starts))).limit(200)
        ).all()
        chosen_by_title = _by_surname_and_title(
            query,
            [
                _Row(r[0], name_key(r[1]), r[1], " · ".join(p for p in (r[3], r[4]) if p))
                for r in rows
            ],
        )
        if chosen_by_title is not None:
            contact = ctx.session.get(Contact, chosen_by_title)
            assert contact is not None
            return contact
    by_email = [r for r in rows if r[2] and r[2].casefold() == folded]
    first = [r for r in rows if fold(r[1]).split()[:1] == [folded]]
    if len(by_email) == 1:
        chosen = by_email[0][0]
    elif len(first) == 1 and not [r for r in rows if fold(r[1]) == folded]:
        chosen = first[0][0]
    elif not rows:
        raise NotFound("error.contact_nowhere", query=query)
    else:
        chosen = _choose(
            "contact",
            query,
            [
                _Row(r[0], name_key(r[1]), r[1], " · ".join(p for p in (r[3], r[4]) if p))
                for r in rows
            ],
        )
    contact = ctx.session.get(Contact, chosen)
    assert contact is not None
    return contact


def _by_surname_and_title(query: str, rows: Sequence[_Row]) -> int | None:
    """The one contact a surname and title ("陈总", "王經理") names: the one whose name starts
    with that surname; several are asked (Ambiguous with each); None when the query is no
    surname and title, or a contact is named so exactly, or none has that surname."""
    surname = surname_and_title(query)
    if surname is None or any(r.key == name_key(query) for r in rows):
        return None
    named = [r for r in rows if char_view(r.label).startswith(surname)]
    if len(named) == 1:
        return named[0].id
    if named:
        raise Ambiguous("contact", query, _candidates(named))
    return None


def resolve_user(ctx: Ctx, query: str) -> User:
    """A staff member by @handle, external id, email, name, or a chosen button."""
    picked = _pick(ctx, "user")
    if picked is not None:
        user = ctx.session.get(User, picked)
        if user is not None:
            return user
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


def user_by_chinese_name(ctx: Ctx, text: str) -> tuple[User, int, bool] | None:
    """The active staff member a Chinese name at the start of `text` names ("王伟周三前..." ->
    Wang Wei), the name's length and whether it is the stored name itself (not a sound-alike);
    None when it names no one or several."""
    if not re.match(r"[\u4e00-\u9fff]{2}", text):
        return None
    users = ctx.session.scalars(select(User).where(User.active)).all()
    named = {" ".join(u.name.casefold().split()): u for u in users}
    # The longest name first: "欧阳明" before "欧阳".
    for size in (4, 3, 2):
        chars = text[:size]
        if chars in named:
            return named[chars], size, True
        found = {named[r].id: named[r] for r in readings(chars) if r in named}
        if len(found) == 1:
            return next(iter(found.values())), size, False
        if len(found) > 1:
            return None
    return None


def contact_named(ctx: Ctx, name: str) -> bool:
    """Whether a contact the actor may see is called exactly `name` ("汪薇")."""
    found = ctx.session.scalar(
        select(Contact.id)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.name == name.strip(), customer_filter(ctx.actor))
        .limit(1)
    )
    return found is not None


def user_by_handle(ctx: Ctx, handle: str) -> User | None:
    """The active staff member whose handle this is exactly (any case), else None."""
    return ctx.session.scalar(
        select(User).where(func.lower(User.external_id) == handle.casefold(), User.active)
    )
