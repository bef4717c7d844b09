"""A fake Slack (Web API, response URLs, file uploads, Socket Mode) and a signed-request driver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import update

from bot.bootstrap import App
from bot.runtime import Runtime
from bot.serve import run_until
from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.services.identities import link_identity
from tests.conftest import TestBot, freeze_test_heap

SECRET = "test-signing-secret"
TEAM = "T1"
# Slack ids of the testbot users.
SLACK_IDS = {
    "alice": "UALICE",
    "carol": "UCAROL",
    "bob": "UBOB",
    "dave": "UDAVE",
    "admin": "UADMIN",
}


@dataclass
class Call:
    """One request the fake received: a Web API method, a response_url post or an upload."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)


class FakeSlack:
    """Slack's Web API, response URLs and the Socket Mode websocket, on 127.0.0.1."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        # Slack user id -> users.info "user" object.
        self.users: dict[str, dict[str, Any]] = {}
        # method -> how many of the next calls answer 429.
        self.rate_limited: dict[str, int] = {}
        self.retry_after = 1
        # response_url ids that answer 404 (expired: 30 minutes or 5 uses later).
        self.expired: set[str] = set()
        # method -> the error code it answers ({"ok": false, "error": ...}).
        self.failing: dict[str, str] = {}
        # method -> seconds it takes to answer (a slow Slack), or less once the fake stops;
        # "response" delays the response_urls.
        self.delays: dict[str, float] = {}
        # response_url posts being answered now, the most at once, and the client ports
        # (connections) they came on.
        self.responding = 0
        self.most_responding = 0
        self.response_ports: set[int] = set()
        # Uploads left unread until the fake stops (a peer that stopped reading).
        self.stall_uploads = False
        self._stopping = asyncio.Event()
        # channel -> the messages conversations.history and .replies know.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self.port = 0

    @property
    def base(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL points at."""
        return f"{self.base}/api/"

    def response_url(self, *, expired: bool = False) -> str:
        """A fresh response_url for one request; an expired one answers 404."""
        rid = str(next(self._ids))
        if expired:
            self.expired.add(rid)
        return f"{self.base}/response/{rid}"

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_post("/upload/{id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close sockets and the server."""
        # A slow answer still pending is given now: the test no longer waits for it.
        self._stopping.set()
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if not raw:
            # GET methods (users.info) send their arguments in the query string.
            return dict(request.query)
        if request.content_type == "application/json":
            data: dict[str, Any] = json.loads(raw)
            return data
        out: dict[str, Any] = {}
        for k, v in parse_qsl(raw, keep_blank_values=True):
            try:
                out[k] = json.loads(v) if v[:1] in "[{" else v
            except ValueError:
                out[k] = v
        return out

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            self.calls.append(Call(f"{method}:429", params))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.delays.get(method):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delays[method])
        self.calls.append(Call(method, params))
        if method in self.failing:
            return web.json_response({"ok": False, "error": self.failing[method]})
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return ok | {"user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM, "team": "Test"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return ok | {"channel": p.get("channel"), "ts": f"{time.time():.6f}"}
        if method in ("views.open", "views.publish", "views.update"):
            return ok | {"view": {"id": f"V{next(self._ids)}", **(p.get("view") or {})}}
        if method == "users.info":
            user = self.users.get(str(p.get("user")))
            return ok | {"user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("reactions.add", "reactions.remove"):
            return ok
        if method in ("conversations.history", "conversations.replies"):
            ts = p.get("latest") if method == "conversations.history" else p.get("ts")
            found = [m for m in self.messages.get(str(p.get("channel")), []) if m["ts"] == ts]
            return ok | {"messages": found}
        if method == "conversations.open":
            return ok | {"channel": {"id": f"D{p.get('users')}"}}
        if method == "chat.getPermalink":
            ts = str(p.get("message_ts", "")).replace(".", "")
            return ok | {"permalink": f"https://test.slack.com/archives/{p.get('channel')}/p{ts}"}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._ids)}"
            return ok | {"upload_url": f"{self.base}/upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            files = p["files"]
            files = json.loads(files) if isinstance(files, str) else files
            return ok | {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        if method == "apps.connections.open":
            return ok | {"url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": False, "error": "unknown_method"}

    async def _response(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.response_ports.add(int(peer[1]))
        self.responding += 1
        self.most_responding = max(self.most_responding, self.responding)
        try:
            if self.delays.get("response"):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.delays["response"])
            if request.match_info["id"] in self.expired:
                self.calls.append(Call("response:404", json.loads(await request.text())))
                return web.Response(status=404, text="expired_url")
            self.calls.append(Call("response", json.loads(await request.text())))
            return web.Response(text="ok")
        finally:
            self.responding -= 1

    async def _upload(self, request: web.Request) -> web.Response:
        if self.stall_uploads:
            # Not one byte of the body read: the client's writes fill the socket and stop.
            await self._stopping.wait()
            if request.transport is not None:
                # Not read now either: aiohttp would linger 10 s reading what is left.
                request.transport.abort()
            return web.Response(status=503)
        self.calls.append(Call("upload", {"bytes": len(await request.read())}))
        return web.Response(text="OK")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {}})
        self.connected.set()
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.socket_messages.append(json.loads(msg.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected app."""
        await self.sockets[-1].send_json(envelope)

    def named(self, method: str) -> list[Call]:
        """Calls of one method, in arrival order."""
        return [c for c in self.calls if c.method == method]

    async def wait(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[Call], bool] = lambda c: True,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Poll until `count` matching calls arrived (listeners answer after the ack)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.named(method) if where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s); saw {seen}")
            await asyncio.sleep(0.005)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """All visible text of some blocks, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                out.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button element in some blocks."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.append(element)
    return found


@dataclass
class SlackHarness:
    """Sends signed requests to the real endpoint of a running `crmbot serve` (Slack only)."""

    fake: FakeSlack
    port: int
    testbot: TestBot
    runtime: Runtime
    secret: str = SECRET
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """The events endpoint."""
        return f"http://127.0.0.1:{self.port}/slack/events"

    def signed(
        self, body: str, *, content_type: str, timestamp: int | None = None
    ) -> dict[str, str]:
        """Headers Slack would send with `body`."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body)
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
        }

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        """POST a signed body; returns the status and the ack's body."""
        sent = self.signed(body, content_type=content_type, timestamp=timestamp) | (headers or {})
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=body.encode(), headers=sent) as resp,
        ):
            return resp.status, await resp.text()

    def command_body(self, text: str, *, user: str = "alice", **extra: str) -> dict[str, str]:
        """The form fields of a `/crm` slash command."""
        n = next(self._ids)
        return {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": "C1",
            "user_id": SLACK_IDS.get(user, user),
            "command": "/crm",
            "text": text,
            "response_url": self.fake.response_url(),
            "trigger_id": f"trigger-{n}",
            **extra,
        }

    async def command(self, text: str, *, user: str = "alice", **extra: str) -> tuple[int, str]:
        """Send `/crm text` as `user`; returns the ack."""
        return await self.post(urlencode(self.command_body(text, user=user, **extra)))

    async def ask(self, text: str, *, user: str = "alice") -> dict[str, Any]:
        """`/crm text` and the first message it answered through response_url."""
        before = len(self.fake.named("response"))
        status, _ = await self.command(text, user=user)
        assert status == 200
        calls = await self.fake.wait("response", before + 1)
        return calls[before].params

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        """Send an interactivity payload (buttons, shortcuts, views, options)."""
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def press(
        self,
        button: dict[str, Any],
        *,
        user: str = "alice",
        response_url: bool = True,
        expired: bool = False,
        home: bool = False,
    ) -> tuple[int, str]:
        """Press a rendered button as `user` (on the Home tab when `home`)."""
        n = next(self._ids)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "test"},
            "user": {"id": SLACK_IDS.get(user, user)},
            "trigger_id": f"trigger-b{n}",
            "channel": {"id": "C1"},
            "container": {"type": "message", "is_ephemeral": True},
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": "b",
                    "value": button.get("value", ""),
                    "action_ts": f"{time.time():.6f}-{n}",
                }
            ],
        }
        if home:
            # A Home tab button: Slack sends the view it sits in, and no channel.
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
            del payload["channel"]
        if response_url:
            payload["response_url"] = self.fake.response_url(expired=expired)
        return await self.interact(payload)

    async def event(self, event: dict[str, Any], *, event_id: str = "Ev1", retry: int = 0) -> int:
        """Deliver an Events API callback."""
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "api_app_id": "A1",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await self.post(
            body, content_type="application/json", headers=headers if retry else None
        )
        return status


def link_slack_ids(testbot: TestBot) -> None:
    """Link the testbot users to their Slack ids, and give them emails."""
    with unit_of_work(testbot.session_factory) as session:
        for handle, uid in testbot.users.items():
            session.execute(
                update(User).where(User.id == uid).values(email=f"{handle}@example.com")
            )
            user = session.get(User, uid)
            assert user is not None
            if handle in SLACK_IDS:
                link_identity(session, "slack", SLACK_IDS[handle], user, actor_label="test")


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


def configure(crm_app: App, fake: FakeSlack, *, app_token: str | None = None) -> None:
    """Point the app's Slack settings at the fake."""
    s = crm_app.settings
    s.slack_bot_token = SecretStr("xoxb-test-token")
    s.slack_signing_secret = SecretStr(SECRET)
    s.slack_app_token = SecretStr(app_token) if app_token else None
    s.slack_api_url = fake.api_url


@pytest.fixture
async def slack(
    crm_app: App, fake_slack: FakeSlack, testbot: TestBot
) -> AsyncIterator[SlackHarness]:
    """`crmbot serve --only slack` in HTTP mode against the fake, with linked users."""
    configure(crm_app, fake_slack)
    link_slack_ids(testbot)
    freeze_test_heap()
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_until(crm_app, ("slack",), stop, on_ready=ready.set_result))
    runtime = await asyncio.wait_for(ready, 10)
    assert runtime.port is not None
    yield SlackHarness(fake_slack, runtime.port, testbot, runtime)
    stop.set()
    await asyncio.wait_for(task, 10)
