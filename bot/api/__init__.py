"""The REST API adapter (/api/v1): HTTP in, handlers.rest acting as the token's user, JSON out."""

from __future__ import annotations

from bot.api.ratelimit import RateLimiter
from bot.api.routes import mount
from bot.runtime import Runtime
from handlers.rest import RestApi


class ApiComponent:
    """`serve`'s api component: its routes join the shared server when it is built."""

    name = "api"

    def __init__(self, runtime: Runtime) -> None:
        app = runtime.app
        limiter = RateLimiter(app.settings.api_rate_per_minute)
        mount(runtime.web, RestApi(app.dispatcher), limiter, runtime.metrics)

    async def start(self) -> None:
        """Nothing to start: the shared server serves the routes."""

    async def stop(self) -> None:
        """Nothing to stop: requests in flight finish with the server."""
