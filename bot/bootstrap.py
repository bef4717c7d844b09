"""The composition root: settings, engine, sessions, registry and dispatcher, built once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.allocator import return_large_buffers
from crm_core.db import ensure_current, make_engine, make_session_factory, unit_of_work
from crm_core.errors import StagesMismatch
from crm_core.models import utcnow
from crm_core.services.pipeline import unnamed_stages
from crm_core.settings import Settings
from crm_core.stages import Pipeline
from handlers.dispatcher import Dispatcher
from handlers.gateway import Gateway
from handlers.loose_llm import CommandProposer
from handlers.registry import Registry
from handlers.verbs import default_registry
from retrieval.runtime import LazyIndex


@dataclass
class App:
    """Everything an adapter needs, wired together."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    registry: Registry
    pipeline: Pipeline
    dispatcher: Dispatcher
    notes: LazyIndex

    def gateway(self, platform: str) -> Gateway:
        """The front door an adapter on `platform` uses to act as its people."""
        return Gateway(self.dispatcher, platform)


def build(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    check_schema: bool = True,
    clock: Callable[[], datetime] = utcnow,
    inline_drain: bool = True,
) -> App:
    """Wire the application; refuse a schema behind the code, or deals in stages not configured."""
    return_large_buffers()
    settings = settings or Settings()
    engine = make_engine(
        database_url or settings.resolved_database_url(), pool_size=settings.database_pool_size
    )
    if check_schema:
        ensure_current(engine)
    factory = make_session_factory(engine)
    registry = default_registry()
    pipeline = Pipeline(settings.pipeline_stages())
    if check_schema:
        with unit_of_work(factory) as session:
            unnamed = unnamed_stages(session, pipeline)
        if unnamed:
            raise StagesMismatch(unnamed)
    notes = LazyIndex(settings, factory, inline_drain=inline_drain)
    dispatcher = Dispatcher(
        factory,
        registry,
        pipeline,
        default_currency=settings.default_currency,
        clock=clock,
        settings=settings,
        notes=notes,
    )
    dispatcher.proposer = CommandProposer.from_settings(settings, registry)
    return App(settings, engine, factory, registry, pipeline, dispatcher, notes)
