"""A live `crmbot serve` HTTP server with the REST API on 127.0.0.1, and tokens for its users."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.bootstrap import App
from bot.serve import run_until
from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.services.api_tokens import create_token
from tests.conftest import TestBot, freeze_test_heap


@dataclass
class ApiServer:
    """The running server, the users behind it and a client that calls it."""

    url: str
    testbot: TestBot
    client: httpx.Client

    def token(self, who: str, scope: str = "write") -> str:
        """A fresh personal token acting as `who`."""
        with unit_of_work(self.testbot.session_factory) as session:
            user = session.get(User, self.testbot.users[who])
            assert user is not None
            return create_token(session, user, scope=scope, now=self.testbot.dispatcher.clock())

    def call(
        self,
        method: str,
        path: str,
        token: str | None,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request under /api/v1 with the token as a bearer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(
            method, f"{self.url}/api/v1{path}", headers=headers, json=body, params=params
        )


def start_server(
    app: App,
) -> tuple[asyncio.AbstractEventLoop, asyncio.Event, int, threading.Thread]:
    """Run serve's HTTP server (api component only) in a thread with its own event loop."""
    started: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Event, int]] = queue.Queue()

    def serve() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            await run_until(
                app, ("api",), stop, on_ready=lambda rt: started.put((loop, stop, rt.port or 0))
            )

        asyncio.run(main())

    freeze_test_heap()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    loop, stop, port = started.get(timeout=30)
    return loop, stop, port, thread


@pytest.fixture
def rate_per_minute() -> int:
    """The per-token rate the server runs with (a test may lower it)."""
    return 100_000


@pytest.fixture
def api(crm_app: App, testbot: TestBot, rate_per_minute: int) -> Iterator[ApiServer]:
    """A live server over the test database; alice/carol/bob/dave/admin as in testbot."""
    crm_app.settings.api_rate_per_minute = rate_per_minute
    loop, stop, port, thread = start_server(crm_app)
    with httpx.Client(timeout=30) as client:
        yield ApiServer(f"http://127.0.0.1:{port}", testbot, client)
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
