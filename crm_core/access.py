"""Who may see and change what: the one place that builds the visibility filter."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, false, or_, select, true
from sqlalchemy.orm import Session

from crm_core.errors import Invalid, NotFound
from crm_core.models import Customer, Role, Ticket, User

T = TypeVar("T")
# Statements kept per access key (`per_access`): at most this many, then all are built again.
_KEPT_MAX = 4096
_kept: dict[tuple[Hashable, ...], Any] = {}
_kept_lock = threading.Lock()


def access_key(user: User) -> tuple[int, str, int | None, bool]:
    """Everything the rules here (and `services.reminders.manageable`) read from a user.

    A statement built from a user's filters reads nothing else about them, so one built for
    this key serves every command of anyone with the same key: a rule that comes to read more
    of the user must add it here.
    """
    return (user.id, str(user.role), user.team_id, bool(user.active))


def per_access(name: str, user: User, build: Callable[[], T]) -> T:
    """The statement `name` for `user`, built once per access key and then reused.

    Hot reads (a customer by number, a card's reminders) otherwise build the same statement and
    its cache key each command. Only SQL is kept, never a row: the values bound at execution and
    the database's answer are the command's own. `build` must read `user` through the filters
    in this module only (their inputs are the key).
    """
    key = (name, *access_key(user))
    found = _kept.get(key)
    if found is None:
        found = build()
        with _kept_lock:
            if len(_kept) >= _KEPT_MAX:
                _kept.clear()
            _kept[key] = found
    return found


def sees_every_book(user: User) -> bool:
    """Whether `user` may see every owner's customers (`visible_owner_ids` is None)."""
    return user.role == Role.admin


def visible_owner_ids(user: User) -> Select[Any] | None:
    """Users whose customers `user` may see, as a subquery; None means everyone's."""
    if sees_every_book(user):
        return None
    if user.role == Role.manager and user.team_id is not None:
        return select(User.id).where(User.team_id == user.team_id)
    return select(User.id).where(User.id == user.id)


def book_filter(user: User) -> ColumnElement[bool]:
    """SQL condition on Customer: the rows of `user`'s book, tombstones of merges included."""
    if not user.active:
        return false()
    if sees_every_book(user):
        return true()
    if user.role == Role.rep or user.team_id is None:
        # Decided before the owners' subquery is built: most commands are a rep's.
        return Customer.owner_id == user.id
    owners = visible_owner_ids(user)
    assert owners is not None
    return Customer.owner_id.in_(owners.scalar_subquery())


def book_owners(session: Session, user: User) -> frozenset[int] | None:
    """The owners whose customers make up `user`'s book, for filtering in memory; None: all.

    The same rule as `book_filter`, read once: in-process copies of the customers (the name
    index) filter by owner with it instead of sending the filter to the database.
    """
    if not user.active:
        return frozenset()
    if sees_every_book(user):
        return None
    if user.role == Role.rep or user.team_id is None:
        return frozenset((user.id,))
    owners = visible_owner_ids(user)
    assert owners is not None
    return frozenset(int(i) for i in session.scalars(owners))


def live_customer() -> ColumnElement[bool]:
    """SQL condition on Customer: neither merged away nor archived (for queries by owner alone)."""
    return and_(Customer.merged_into.is_(None), Customer.archived_at.is_(None))


def customer_filter(user: User) -> ColumnElement[bool]:
    """SQL condition on Customer that keeps only the rows `user` may see.

    The one visibility filter of lists, search, pipeline, digests and reports: a customer
    merged into another (a tombstone) or archived is left out everywhere.
    """
    return and_(book_filter(user), live_customer())


def archived_customer_ids() -> Select[Any]:
    """Ids of archived customers: whole-company queries (an admin's) leave their records out."""
    return select(Customer.id).where(Customer.archived_at.is_not(None))


def visible_customer_ids(user: User) -> Select[Any]:
    """Ids of the customers `user` may see; join or IN against it for related records."""
    return select(Customer.id).where(customer_filter(user))


def dead_customer_ids() -> CompoundSelect[Any]:
    """Ids of customers merged away or archived: few, and each found through its own index."""
    merged = select(Customer.id).where(Customer.merged_into.is_not(None))
    return merged.union(select(Customer.id).where(Customer.archived_at.is_not(None)))


def on_visible_customer(user: User, customer_id: Any) -> ColumnElement[bool]:
    """SQL condition on a record's customer_id column: the record's customer is visible.

    The same rows as joining customer_filter, shaped so a page in id order stays an id-order
    scan: an admin's records are every record but those of the few dead customers; anyone
    else's are those of their (few hundred at most) customers.
    """
    if not user.active:
        return false()
    if user.role == Role.admin:
        return customer_id.not_in(dead_customer_ids())  # type: ignore[no-any-return]
    return customer_id.in_(visible_customer_ids(user))  # type: ignore[no-any-return]


def can_assign_owner(actor: User, owner: User) -> bool:
    """Whether `actor` may make `owner` the owner of a customer or deal."""
    if actor.role == Role.admin:
        return owner.active
    if actor.role == Role.manager:
        return owner.active and (owner.id == actor.id or owner.team_id == actor.team_id)
    return owner.id == actor.id


def can_see_owner(actor: User, owner_id: int, owner_team_id: int | None) -> bool:
    """Whether a customer owned by that user is inside `actor`'s book (used after a load)."""
    if not actor.active:
        return False
    if actor.role == Role.admin:
        return True
    if actor.role == Role.manager and actor.team_id is not None:
        return owner_id == actor.id or owner_team_id == actor.team_id
    return owner_id == actor.id


def ensure_customer_access(actor: User, customer: Customer) -> None:
    """Raise NotFound unless `actor` may see and change `customer` (a second, in-service check).

    An archived customer in the book is refused (Invalid) with what to type to unarchive it.
    """
    owner = customer.owner
    if not can_see_owner(actor, owner.id, owner.team_id):
        # NotFound, not PermissionDenied: a rep must not learn that the record exists.
        raise NotFound("error.customer_ref_not_found", id=customer.id)
    if customer.archived_at is not None:
        # Reached by its number or exact name (the card still opens): writes wait for unarchive.
        raise Invalid("error.customer_archived", name=customer.name, id=customer.id)


def ticket_branches(user: User) -> list[ColumnElement[bool]]:
    """The ways a ticket can be `user`'s to see (any one is enough); none for an inactive user.

    Tickets of customers in their book, tickets assigned to them, and a manager's team's.
    An archived customer's tickets stay with its owner as with its assignee and manager (one
    rule: open ones are worked to the end, SLA and all); only a merge's tombstone has none.
    Lists query each way apart down its own index and merge, which beats one OR.
    """
    if not user.active:
        return []
    if user.role == Role.admin:
        return [true()]
    in_book = select(Customer.id).where(book_filter(user), Customer.merged_into.is_(None))
    ways = [Ticket.customer_id.in_(in_book), Ticket.assignee_id == user.id]
    if user.role == Role.manager and user.team_id is not None:
        ways.append(Ticket.team_id == user.team_id)
    return ways


def ticket_filter(user: User) -> ColumnElement[bool]:
    """SQL condition on Ticket: tickets of customers `user` may see, their team's, their own."""
    ways = ticket_branches(user)
    return or_(*ways) if ways else false()
