"""Engine, sessions and schema migrations (Alembic)."""

from __future__ import annotations

import functools
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from crm_core.errors import SchemaOutOfDate
from crm_core.models import Base, Deal

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (about a fifth of a second to import) loads only to migrate or to report; the check
# every start makes (`ensure_current`) reads the revision ids without it.
MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
# session.info key: the open unit of work's undos (see undo_on_rollback).
_UNDO = "crmbot.undo_on_rollback"

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

# SQLSTATEs after which PostgreSQL has rolled the whole transaction back and running it again
# is the cure: deadlock_detected and serialization_failure.
RETRYABLE = {"40P01": "deadlock", "40001": "serialization"}
# Runs of one unit of work at most (the first and three retries), and the base of the pause
# before a retry (doubled each time, with jitter, so the two sides of a deadlock part ways).
ATTEMPTS = 4
RETRY_PAUSE = 0.02
# Transactions run again, by reason, in this process (the log line says each; bot/metrics.py
# counts them per command too).
RETRIES: Counter[str] = Counter()
_RETRIES_LOCK = threading.Lock()
# The conflicts the database reported during the unit of work `retrying` is running (set per
# thread or task): caught by the code in between or not, they doom that transaction.
_CONFLICTS: ContextVar[list[str] | None] = ContextVar("crmbot_conflicts", default=None)


# PostgreSQL connections a process keeps open between commands: a `crmbot serve` worker runs
# commands in asyncio's default thread pool (cpu count + 4 threads: 6 on 2 cores) beside the
# event loop's own look-ups, the scheduler and the indexer, and SQLAlchemy's default of 5 made
# it close the connections past the fifth as each command ended and open new ones for the next
# (a PostgreSQL backend started, its catalog caches and psycopg's prepared statements cold):
# ~75 new sessions in 850 commands of a 2-worker fleet run, ~23 with room for 16.
POOL_SIZE = 12


def make_engine(url: str, *, pool_size: int = POOL_SIZE) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout.

    Bound parameters are hidden from error messages and logs: they carry note text. On
    PostgreSQL up to `pool_size` connections are kept between uses (opened as needed, never
    ahead), and 10 more may be open at once beyond those (SQLAlchemy's default overflow).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Sessions in UTC whatever the server's or the URL's zone: reports bucket timestamps by UTC
    # month (the triggers of migration 0030), and extract() or to_char() follow the session's.
    # A later -c wins, so the URL's other options are kept.
    options = parsed.query.get("options", "")
    if not isinstance(options, str):
        options = " ".join(options)
    # Every execution planned with its parameters: psycopg prepares a statement after five
    # runs on a connection and PostgreSQL then switches to a generic plan after five more when
    # it estimates it no worse, which the reports' range and scope conditions often made
    # wrong (a rep's `report cycle by month` 8-50 -> 130-200 ms, an admin's `report funnel
    # 2025` 35 -> 106 ms from the eleventh call at 100,000 customers; bench/bench_plan_cache.py,
    # docs/benchmarks.md "Verbs at 100,000 after perf11"). First, so the URL's options may
    # choose otherwise.
    pinned = f"-c plan_cache_mode=force_custom_plan {options} -c timezone=UTC".replace("  ", " ")
    return create_engine(
        url,
        connect_args={"options": pinned},
        pool_pre_ping=True,
        hide_parameters=True,
        pool_size=pool_size,
    )


# Set for the rest of the open transaction (set_config's `true`: SET LOCAL), as a SELECT so
# psycopg may prepare it like the statements it comes before.
_PLAN_BY_KEY = text("SELECT set_config('plan_cache_mode', 'auto', true)")
# session.info key: the transaction plan_by_key set it in.
_PLAN_BY_KEY_KEY = "crmbot.plan_by_key"


def plan_by_key(session: Session) -> None:
    """Let PostgreSQL reuse prepared statements' generic plans until the transaction ends.

    `make_engine` pins `force_custom_plan`: every execution is planned with its values, which
    the reports need and which costs a command whose statements all find rows by key (a card,
    a note logged, the kept sums' trigger upserts) most of PostgreSQL's CPU for it. A rollback
    or the commit ends it, so the pooled connection goes back pinned. SQLite: nothing to do.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    current = session.get_transaction()
    if current is not None and session.info.get(_PLAN_BY_KEY_KEY) is current:
        return  # already set in this transaction (the sender's look-up asked first)
    session.execute(_PLAN_BY_KEY)
    session.info[_PLAN_BY_KEY_KEY] = session.get_transaction()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def on_postgres(factory: sessionmaker[Session]) -> bool:
    """Whether `factory`'s sessions talk to PostgreSQL (claims use SKIP LOCKED there)."""
    bind = factory.kw.get("bind")
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        with transaction(session):
            yield session
    finally:
        session.close()


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """One transaction on a session the caller opened (and closes): commit, or roll back
    (and then undo what committed ahead of it: `undo_on_rollback`)."""
    outer = session.info.get(_UNDO)
    # The unit of work owns its undos for its whole life, not one root transaction: a part
    # rolled back inside it (a refused command) must not orphan them. A transaction() inside
    # another shares the outer one's: the inner rollback would otherwise mark only its own,
    # and the outer's rollback, finding no transaction open, fires no event to mark the rest.
    undos: dict[Hashable, _Undo] = {} if outer is None else outer
    session.info[_UNDO] = undos
    try:
        yield session
        # Writes committed ahead of a part that rolled back since: undone with the rest of
        # the work, as that rollback would have undone them had they waited for it.
        for undo in [u for u in undos.values() if u.due]:
            undo.run(session)
        session.commit()
    except BaseException:
        session.rollback()
        _undo(session, undos)
        raise
    finally:
        if outer is None:
            session.info.pop(_UNDO, None)
        else:
            session.info[_UNDO] = outer


@dataclass
class _Undo:
    """A write that committed ahead of the transaction `root` and how to delete it again."""

    root: object
    run: Callable[[Session], None]
    # `root` rolled back inside the unit of work: run before it commits, or after it rolls back.
    due: bool = False


def undo_on_rollback(
    session: Session, undo: Callable[[Session], None], *, key: Hashable | None = None
) -> None:
    """Have `transaction` call `undo` should the unit of work `session` is in roll back, or
    should a part of it roll back (then with what the work commits): for a write that
    committed ahead of its transaction and must not outlive it. Filing under an existing
    `key` replaces that entry: the write is kept through a rollback that already happened
    and undone with the current transaction instead."""
    undos: dict[Hashable, _Undo] | None = session.info.get(_UNDO)
    if undos is None:
        # No unit of work around it: nothing will roll back, the write simply stands.
        return
    undos[object() if key is None else key] = _Undo(session.get_transaction(), undo)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Mark the undos filed under a root transaction that just rolled back as due."""
    undos: dict[Hashable, _Undo] | None = session.info.get(_UNDO)
    if undos and previous.parent is None:
        for undo in undos.values():
            if undo.root is previous:
                undo.due = True


def _undo(session: Session, undos: dict[Hashable, _Undo]) -> None:
    due = [key for key, u in undos.items() if u.due]
    if not due:
        return
    try:
        for key in due:
            undos[key].run(session)
        session.commit()
        # Done: an enclosing transaction() sharing these undos must not run them again.
        for key in due:
            undos.pop(key, None)
    except Exception as exc:
        session.rollback()
        # The error that rolled the unit of work back is the one raised; this one is noted.
        log.warning("could not undo an early write after a rollback (%s)", type(exc).__name__)


def conflict_of(exc: BaseException) -> str | None:
    """The conflict, "deadlock" or "serialization", when `exc` (or an error it was raised
    from) is the database refusing the transaction for one with another; else None."""
    seen: set[int] = set()
    at: BaseException | None = exc
    while at is not None and id(at) not in seen:
        seen.add(id(at))
        code = getattr(getattr(at, "orig", None), "sqlstate", None) or getattr(at, "sqlstate", None)
        if code in RETRYABLE:
            return RETRYABLE[code]
        at = at.__cause__ or at.__context__
    return None


def _database_error(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is the database's (or the session's
    refusal to go on in a transaction one rolled back)."""
    seen: set[int] = set()
    at: BaseException | None = exc
    while at is not None and id(at) not in seen:
        seen.add(id(at))
        if isinstance(at, DBAPIError | PendingRollbackError):
            return True
        at = at.__cause__
    return False


@event.listens_for(Engine, "handle_error")
def _note_conflict(context: ExceptionContext) -> None:
    """Note a deadlock or serialization failure for the `retrying` around this statement.

    Noted when raised, not only read from what reaches `retrying`: code in between may catch
    the error (a savepoint tried and dropped) and the unit of work then fail with another one
    ("current transaction is aborted"), whose cause was still this conflict.
    """
    noted = _CONFLICTS.get()
    if noted is not None:
        reason = RETRYABLE.get(str(getattr(context.original_exception, "sqlstate", "")))
        if reason is not None:
            noted.append(reason)


def retrying(
    work: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    on_retry: Callable[[str], None] | None = None,
    pause: float = RETRY_PAUSE,
) -> T:
    """Run `work` (one whole unit of work: it opens, commits or rolls back its transaction)
    and run it again, up to `attempts` runs in all, when the database refused it for a
    deadlock or a serialization failure.

    Such a transaction was rolled back in full, so nothing of the failed run was written: the
    next run writes its rows and its audit entry once. Each retry is logged (the reason and
    the attempt, nothing of the command) and counted in `RETRIES`; `on_retry` hears the
    reason. The pause before a retry is random (up to `pause` doubled per retry) so the two
    sides of a deadlock do not meet again in step. Any other error, or the last conflict,
    is raised.
    """
    for attempt in range(1, attempts + 1):
        noted: list[str] = []
        token = _CONFLICTS.set(noted)
        try:
            return work()
        except Exception as exc:
            # A conflict noted on the way counts only when the run ended on a database error
            # (the transaction it aborted): one a savepoint caught leaves a refusal raised
            # later (NotFound, a unique key) an ordinary error, run once.
            reason = conflict_of(exc) or (noted[0] if noted and _database_error(exc) else None)
            if reason is None or attempt == attempts:
                if reason is not None:
                    log.warning("transaction gave up after %d %s conflicts", attempt, reason)
                raise
        finally:
            _CONFLICTS.reset(token)
        with _RETRIES_LOCK:
            RETRIES[reason] += 1
        log.warning("transaction retried after a %s (attempt %d of %d)", reason, attempt, attempts)
        if on_retry is not None:
            on_retry(reason)
        time.sleep(random.uniform(0, pause * 2 ** (attempt - 1)))
    raise AssertionError("unreachable: the last attempt returns or raises")


def retried(fn: Callable[P, T]) -> Callable[P, T]:
    """`fn` run under `retrying`: for a function that is one whole unit of work (it opens and
    ends its transaction and does nothing outside the database before it returns)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return retrying(lambda: fn(*args, **kwargs))

    return run


def lock_for_update(session: Session, obj: Base, *, shared: bool = False) -> None:
    """Re-read `obj` and keep others from changing it until this unit of work ends.

    Every read-modify-write calls this before it reads the values it will change, so two
    people changing one record at once queue up instead of writing from a stale read.
    PostgreSQL locks the row (SELECT ... FOR UPDATE; FOR SHARE when `shared`: writes that only
    need the row to stay as read go on side by side); SQLite has no row locks, so the
    transaction takes the database's write lock first (BEGIN IMMEDIATE; readers go on, WAL).
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        # pysqlite opens a transaction only at the first write; one already open holds the
        # write lock since then, so what it reads is current.
        if raw is not None and not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        session.refresh(obj)
    else:
        session.refresh(obj, with_for_update={"read": True} if shared else True)


def lock_deals_of(session: Session, customer_id: int, *, open_only: bool = False) -> None:
    """Lock the deals of one customer (lowest id first) before its row is locked or changed.

    A deal write locks the deal, then (its totals trigger) the deal's customer FOR SHARE. A
    write that changes a customer and then its deals (a merge, a reassign with deals) takes
    the same order, deals then customer, so the two wait for each other instead of
    deadlocking. SQLite has one writer at a time: nothing to order.
    """
    if session.connection().dialect.name == "sqlite":
        return
    stmt = select(Deal.id).where(Deal.customer_id == customer_id)
    if open_only:
        stmt = stmt.where(Deal.closed_at.is_(None))
    session.execute(stmt.order_by(Deal.id).with_for_update())


# The first key of the transaction-level advisory locks on an owner's kept sums ("crm1");
# the leader locks (bot/leader.py) use single bigint keys, another key space.
OWNER_SUMS_LOCK = 0x63726D31


def lock_owners_sums(session: Session, owner_ids: Iterable[int | None]) -> None:
    """Queue the writers that move many deals' kept sums of these owners at once.

    A statement that moves many deals (a merge) runs the totals triggers deal by deal, each
    taking the totals rows of that deal's keys: two such statements for one owner could take
    the same rows in opposite orders and deadlock. Each takes these owners' locks first, lowest
    id first, until its transaction ends, so the second waits for the first. (A single deal's
    write takes its two rows in key order and needs no such lock.) SQLite has one writer.
    """
    if session.connection().dialect.name == "sqlite":
        return
    for owner_id in sorted({o for o in owner_ids if o is not None}):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :owner)"),
            # The function takes two int4 keys; ids past 2**31 share a lock (only a wait).
            {"space": OWNER_SUMS_LOCK, "owner": owner_id % 2**31},
        )


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration the code knows (Alembic's own reading of the scripts)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


@cache
def code_head() -> str:
    """The newest migration, read from the scripts' `revision`/`down_revision` lines.

    The one revision no other names as its parent; when the lines do not give exactly one
    (a branch, a form the pattern does not read), Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else head_revision()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """The revision in the database's `alembic_version` table, read with one query.

    None for a database without the table or with no row; several rows (branches) come back
    joined, which never equals a single head.
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = sorted(
            str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))
        )
    return " ".join(found) or None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision`."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def ensure_current(engine: Engine) -> None:
    """Refuse to run on a database whose schema is behind (or ahead of) the code."""
    head = code_head()
    current = stored_revision(engine)
    if current != head:
        raise SchemaOutOfDate(current, head)
