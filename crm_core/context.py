"""The acting context every service receives: session, actor, pipeline, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crm_core.date_order import day_first
from crm_core.models import User, utcnow
from crm_core.settings import Settings
from crm_core.stages import DEFAULT_STAGES, Pipeline
from crm_core.zones import zone


@dataclass(frozen=True)
class Redirect:
    """A merged customer's id or old name that a lookup resolved to the one it was merged into."""

    old_id: int
    old_name: str
    new_id: int
    new_name: str


@dataclass
class Ctx:
    """Who is acting, in which transaction, under which configuration and clock."""

    session: Session
    actor: User
    pipeline: Pipeline = field(default_factory=lambda: Pipeline(DEFAULT_STAGES))
    default_currency: str = "USD"
    clock: Callable[[], datetime] = utcnow
    # Records chosen by pressing a button ({"customer": 12}); resolvers use each once.
    picks: dict[str, int] = field(default_factory=dict)
    # The configuration the composition root read; None means the built-in defaults.
    settings: Settings | None = None
    # Merged customers a lookup followed to their survivor, so the answer can say so.
    redirects: list[Redirect] = field(default_factory=list)
    # Whether a name that matches nothing is compared with every name for spelling
    # suggestions (a scan); off while a sentence is first tried as a grammar line.
    spelling: bool = True
    # Values read once per command and reused by its lookups ("book_owners": the owners of
    # the actor's book); a command is one unit of work, so they cannot go stale within it.
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Settings:
        """The configured settings, or the defaults (never read from the environment here)."""
        return self.settings if self.settings is not None else Settings.model_construct()

    def now(self) -> datetime:
        """The current time, aware UTC (controllable in tests)."""
        return self.clock()

    @property
    def tz(self) -> ZoneInfo:
        """The actor's time zone."""
        return zone(self.actor.timezone)

    @property
    def day_first(self) -> bool:
        """Whether the actor writes slash dates day first ("3/4" = 3 April), by their language
        in their time zone's territory (crm_core.date_order.day_first)."""
        return day_first(self.actor.locale or "en", self.actor.timezone or "UTC")
