"""`crmbot serve`: the configured adapters, the scheduler and workers in one asyncio process."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.allocator import freeze_startup_heap, unfreeze_heap
from bot.bootstrap import App
from bot.runtime import Builder, Component, Elect, NotifierBuilder, Runtime, ServeError
from bot.slack import component as slack
from bot.telegram import component as telegram

log = logging.getLogger(__name__)


def builders() -> dict[str, tuple[Callable[[App], bool], Builder]]:
    """Every component `serve` knows, in start order."""
    return {
        "slack": (slack.configured, slack.SlackComponent),
        "telegram": (telegram.configured, telegram.component),
        # Always configured: /api/v1 answers only to personal tokens (`crmbot token create`).
        "api": (lambda app: True, _api),
        # Always configured; reminders and digests need no setting of their own.
        "scheduler": (lambda app: True, _scheduler),
        # Always configured: the note index is embedded unless CRMBOT_CHROMA_URL says otherwise.
        "indexer": (lambda app: True, _indexer),
    }


# Components that run beside a platform adapter but are no reason to serve on their own.
BACKGROUND = ("api", "scheduler", "indexer")


def _api(runtime: Runtime) -> Component:
    from bot.api import ApiComponent

    return ApiComponent(runtime)


def _scheduler(runtime: Runtime) -> Component:
    from bot.scheduling import scheduler_component

    notifiers = runtime.notifiers
    if runtime.metrics is not None:
        notifiers = [runtime.metrics.counted(n) for n in notifiers]
    return scheduler_component(runtime.app, notifiers)


def _indexer(runtime: Runtime) -> Component:
    from bot.indexing import IndexerComponent

    return IndexerComponent(runtime.app)


def notifier_builders() -> list[NotifierBuilder]:
    """Every platform that can send messages nobody asked for (reminders, digests, alerts)."""
    return [slack.make_notifier, telegram.notifier]


def plan(app: App, only: tuple[str, ...] = ()) -> list[str]:
    """The components to run: the configured ones, or exactly those named in `only`."""
    known = builders()
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ServeError(
            f"Unknown component {', '.join(unknown)}: choose from {', '.join(known) or 'none'}."
        )
    if only:
        off = [name for name in only if not known[name][0](app)]
        if off:
            raise ServeError(f"{', '.join(off)} is not configured: see .env.example.")
        return [name for name in known if name in only]
    # With no platform token the HTTP server (/healthz, /metrics, /api/v1), the scheduler and
    # the indexer still run: a worker of a fleet may serve no chat platform at all.
    return [name for name, (configured, _) in known.items() if configured(app)]


def describe(runtime: Runtime, names: list[str]) -> str:
    """One line saying what this `serve` serves, and how to add a platform when none runs."""
    host = runtime.app.settings.http_host
    line = (
        f"crmbot serve on http://{host}:{runtime.port}: /healthz, /metrics; "
        f"running {', '.join(names) or 'nothing else'}"
    )
    if not [name for name in names if name not in BACKGROUND]:
        line += "; no chat platform (set SLACK_BOT_TOKEN or TELEGRAM_BOT_TOKEN to add one)"
    if not runtime.notifiers and "scheduler" in names:
        # Nothing is printed in their place: they hold customer data and stay owed.
        line += "; reminders, digests and notices wait in the database until a platform "
        line += "is configured"
    return line + "."


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_runtime(app: App) -> Runtime:
    """The shared web app (/healthz, /metrics) and the notifiers of every configured platform."""
    from bot.metrics import Metrics

    web_app = web.Application()
    web_app.router.add_get("/healthz", _healthz)
    metrics = Metrics(app)
    web_app.router.add_get("/metrics", metrics.handle)
    notifiers = [n for build in notifier_builders() if (n := build(app)) is not None]
    return Runtime(app, web_app, notifiers, metrics=metrics, elect=elector(app))


def elector(app: App) -> Elect:
    """Builds components that run their work only while this worker holds a fleet-wide lock."""
    from bot.leader import Elected, LeaderLock

    def elect(
        name: str, gain: Callable[[], Awaitable[object]], lose: Callable[[], Awaitable[object]]
    ) -> Component:
        lock = LeaderLock(app.engine, name)
        return Elected(lock, gain, lose, interval=app.settings.leader_retry_seconds)

    return elect


async def _listen(site: web.TCPSite, host: str, port: int) -> None:
    """Start listening; a port that is taken or not ours to bind is a ServeError, not a crash."""
    try:
        await site.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is in use; set CRMBOT_HTTP_PORT or stop the other server."
            ) from None
        reason = exc.strerror or type(exc).__name__
        raise ServeError(
            f"cannot listen on {host}:{port} ({reason}); check CRMBOT_HTTP_HOST and "
            "CRMBOT_HTTP_PORT."
        ) from None


async def run_until(
    app: App,
    only: tuple[str, ...],
    stop: asyncio.Event,
    *,
    on_ready: Callable[[Runtime], None] | None = None,
) -> Runtime:
    """Start the planned components and the HTTP server; stop all when `stop` is set."""
    names = plan(app, only)
    runtime = make_runtime(app)
    components = [builders()[name][1](runtime) for name in names]
    runner = web.AppRunner(runtime.web, access_log=None)
    await runner.setup()
    # reuse_port: several workers listen on one port and the kernel spreads the connections.
    site = web.TCPSite(
        runner,
        app.settings.http_host,
        app.settings.http_port,
        reuse_port=app.settings.http_reuse_port or None,
    )
    started: list[Component] = []
    try:
        await _listen(site, app.settings.http_host, app.settings.http_port)
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        runtime.port = sockets[0].getsockname()[1] if sockets else app.settings.http_port
        runtime.runner = runner
        for component in components:
            await component.start()
            started.append(component)
        runtime.serving = names
        log.info("%s", describe(runtime, names))
        # Everything loaded by now lives as long as the process: full collections skip it.
        freeze_startup_heap()
        if on_ready is not None:
            on_ready(runtime)
        await stop.wait()
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", component.name)
        await runner.cleanup()
        if runtime.metrics is not None:
            runtime.metrics.close()
        unfreeze_heap()
    return runtime


def serve(
    app: App, only: tuple[str, ...] = (), on_ready: Callable[[Runtime], None] | None = None
) -> None:
    """Run until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run_until(app, only, stop, on_ready=on_ready)

    asyncio.run(main())
