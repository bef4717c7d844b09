"""Locks that make a check-then-insert safe against another one running at the same time.

A duplicate check ("no customer with this name yet", "no note with this key yet") reads, then
the insert writes; two units of work doing both at once each read nothing and both insert.
Taking the lock of what is checked first makes the second wait until the first commits (or
rolls back) and then read what it wrote.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def _int4(value: str) -> int:
    """A stable signed 32-bit number for `value` (the same in every process and version)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=4).digest(), signed=True)


def hold(session: Session, scope: str, key: str | int) -> None:
    """Wait for, then hold until this transaction ends, the lock on `key` within `scope`.

    PostgreSQL: a transaction-level advisory lock on (scope, key) hashed to two 32-bit
    numbers, a key space apart from the single-number locks of the leader and the indexer;
    READ COMMITTED lets the statements after it see what the holder before committed. SQLite
    has one writer at a time: the transaction takes the database's write lock now (BEGIN
    IMMEDIATE; readers go on, WAL), unless it holds it already (it has written).
    """
    if begin_writing(session):
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:scope, :key)"),
        {"scope": _int4(scope), "key": _int4(str(key))},
    )


def begin_writing(session: Session) -> bool:
    """On SQLite, take the database's write lock now if this transaction does not hold it yet
    (True); on PostgreSQL nothing (False): rows are locked as they are written.

    On SQLite a savepoint opened before the transaction's first write would start the
    transaction itself, and its release would commit at once what it wrapped.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return False
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    return True
