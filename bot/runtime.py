"""What `crmbot serve` and its components share: the runtime, the component shape, the error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from aiohttp.web import AppRunner

from bot.bootstrap import App
from handlers.notify import Notifier

if TYPE_CHECKING:
    from bot.metrics import Metrics


class Component(Protocol):
    """Something `serve` runs: an adapter, the scheduler, a worker."""

    name: str

    async def start(self) -> None:
        """Begin serving; routes must already be on the shared web app."""
        ...

    async def stop(self) -> None:
        """Stop serving and release connections."""
        ...


@dataclass
class Runtime:
    """What components share: the app, one aiohttp server, and every platform's notifier."""

    app: App
    web: web.Application
    notifiers: list[Notifier] = field(default_factory=list)
    # Set once the HTTP server listens (a test may ask for port 0).
    port: int | None = None
    # The HTTP server's runner once it listens (its server counts the requests it answered).
    runner: AppRunner | None = None
    # The counters behind GET /metrics.
    metrics: Metrics | None = None
    # The components running, in start order (set once they have started).
    serving: list[str] = field(default_factory=list)
    # Builds a component that runs `gain` while this worker holds the named fleet-wide lock
    # and `lose` when it stops holding it (bot/leader.py); None: run it unconditionally.
    elect: Elect | None = None


# (lock name, gain, lose) -> a component: work that must run in one worker of a fleet.
Elect = Callable[[str, Callable[[], Awaitable[object]], Callable[[], Awaitable[object]]], Component]


# name -> (is it configured?, build it). Each adapter or worker registers itself here.
Builder = Callable[[Runtime], Component]
NotifierBuilder = Callable[[App], Notifier | None]


class ServeError(Exception):
    """`serve` cannot start as configured; the message says what to set."""
