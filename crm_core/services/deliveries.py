"""Exactly-once handling of platform deliveries (Slack retries, repeated Telegram updates)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.db import undo_on_rollback, when_done
from crm_core.models import ProcessedDelivery, utcnow

# The table, not the mapped class: a Core insert, whose RETURNING says whether a row went in.
_TABLE = cast(Table, ProcessedDelivery.__table__)
# Built once (every command claims its delivery): INSERT ... ON CONFLICT DO NOTHING RETURNING id.
_PG_CLAIM = (
    pg_insert(_TABLE)
    .values(
        platform=bindparam("platform"),
        delivery_id=bindparam("delivery_id"),
        received_at=bindparam("at", type_=_TABLE.c.received_at.type),
    )
    .on_conflict_do_nothing(index_elements=["platform", "delivery_id"])
    .returning(_TABLE.c.id)
)
# session.info key: the SQLite claims that committed ahead of their work, (platform, id) -> row.
_EARLY = "crmbot.early_claims"
# The longest a SQLite delivery waits for the work of another delivery of it (as long as
# SQLite's busy timeout): then it is a duplicate, as before.
WAIT_SECONDS = 30.0


@dataclass
class _Running:
    """A SQLite claim committed ahead of its work, whose unit of work is still open."""

    thread: int
    done: threading.Event = field(default_factory=threading.Event)


# (database, platform, delivery id) -> the open work that claimed it, in this process.
_RUNNING: dict[tuple[str, str, str], _Running] = {}
_RUNNING_LOCK = threading.Lock()


def claim_delivery(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Record a delivery in the caller's transaction; False when it was handled before.

    The row commits or rolls back with the work it guards, so a crash before the commit lets
    the platform's retry through, and a second worker blocks on the unique key and then sees it
    (SQLite: the row commits at once and a rollback of the work deletes it; see below).
    """
    if session.get_bind().dialect.name == "postgresql":
        # INSERT ... ON CONFLICT DO NOTHING: one statement where a savepoint, an ORM flush and
        # its release took three; PostgreSQL still waits for a concurrent insert of the same
        # key to commit (then nothing is inserted) or roll back (then this one is).
        values = {"platform": platform, "delivery_id": delivery_id[:200], "at": now or utcnow()}
        # The new row's id, or no row when the key was there.
        return session.execute(_PG_CLAIM, values).first() is not None
    # SQLite: a savepoint. Outside a pysqlite transaction (nothing written yet, the usual case)
    # its release commits the row at once, and with it frees the database's one write lock,
    # which a command that writes from another connection (ask's index catch-up) needs; an
    # INSERT in the transaction would hold that lock to the end. A row committed ahead of the
    # work it guards is deleted again should that work roll back, so a crash after the claim
    # lets the retry through as on PostgreSQL (a process killed in between leaves the claim).
    # A second delivery finding the claim waits, as on PostgreSQL, while the work that holds it
    # is open in this process (another process's work cannot be seen: it is a duplicate at
    # once, and should that work roll back neither runs the command; docs/architecture.md).
    key = (str(session.get_bind().engine.url), platform, delivery_id[:200])
    raw = session.connection().connection.dbapi_connection
    early = raw is not None and not raw.in_transaction
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        mine: _Running | None = None
        with _RUNNING_LOCK:
            running = _RUNNING.get(key)
            if running is None and early:
                mine = _RUNNING[key] = _Running(threading.get_ident())
        if running is not None and early and running.thread != threading.get_ident():
            # Another delivery of it is being handled here: wait for its work to end (it
            # may roll back and delete its claim). Waiting holds no lock: nothing written yet.
            if not running.done.wait(max(0.0, deadline - time.monotonic())):
                return False
            continue
        try:
            row = ProcessedDelivery(
                platform=platform, delivery_id=delivery_id[:200], received_at=now or utcnow()
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                return False
            if early:
                session.info.setdefault(_EARLY, {})[(platform, delivery_id[:200])] = row.id
                _undo_with_work(session, row.id)
            if mine is not None and when_done(session, partial(_done, key, mine)):
                mine = None
            return True
        finally:
            if mine is not None:
                _done(key, mine)


def _done(key: tuple[str, str, str], running: _Running) -> None:
    """The work that claimed `key` ended: let the deliveries waiting for it through."""
    with _RUNNING_LOCK:
        if _RUNNING.get(key) is running:
            del _RUNNING[key]
    running.done.set()


def keep_claim(
    session: Session, platform: str, delivery_id: str, *, now: datetime | None = None
) -> bool:
    """Claim a delivery again after a rollback inside the work it guards (a refused part, a
    question asked instead), so the claim commits with whatever the work does next; False
    when another delivery of it took the claim in between."""
    early = session.info.get(_EARLY, {}).get((platform, delivery_id[:200]))
    if early is not None and session.scalar(select(_TABLE.c.id).where(_TABLE.c.id == early)):
        # SQLite's row, committed ahead of the work, outlived that rollback: kept through it
        # and undone with the work's new transaction instead (only this claim: whatever else
        # committed ahead of the rolled-back part, a Confirm's mark, is still undone).
        _undo_with_work(session, early)
        return True
    return claim_delivery(session, platform, delivery_id, now=now)


def _undo_with_work(session: Session, claim_id: int) -> None:
    """Delete the claim `claim_id` again should the caller's unit of work roll back."""

    def undo(s: Session) -> None:
        s.execute(delete(_TABLE).where(_TABLE.c.id == claim_id))

    undo_on_rollback(session, undo, key=(_TABLE.name, claim_id))


def delivery_seen(session: Session, platform: str, delivery_id: str) -> bool:
    """Whether a delivery (or a marker kept like one) was recorded."""
    found = session.scalar(
        select(ProcessedDelivery.id).where(
            ProcessedDelivery.platform == platform,
            ProcessedDelivery.delivery_id == delivery_id[:200],
        )
    )
    return found is not None


def forget_deliveries_before(session: Session, cutoff: datetime) -> int:
    """Drop records older than any platform retries (Slack: minutes; Telegram: 24 hours)."""
    result = session.execute(
        delete(ProcessedDelivery).where(ProcessedDelivery.received_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
