"""Sending to Slack: the Web API client, and a Reply delivered where the request came from."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from contextvars import ContextVar
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.internal_utils import get_user_agent

from bot.slack.blocks import render
from handlers.i18n import Translator
from handlers.reply import Reply

log = logging.getLogger(__name__)


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out 429s (Retry-After) and retries dropped connections."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def api_error(exc: SlackApiError) -> str:
    """The Web API's error code (`channel_not_found`), or the HTTP status when there is none."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


def response_url(body: dict[str, Any]) -> str | None:
    """Where to answer a request (its response_url), if Slack gave one."""
    url = body.get("response_url")
    if isinstance(url, str) and url:
        return url
    urls = body.get("response_urls") or []
    return str(urls[0]["response_url"]) if urls and urls[0].get("response_url") else None


# A response_url that has not answered in this long is given up for a direct message.
RESPOND_SECONDS = 10
# Tries of a response_url post whose connection dropped (slack_sdk's webhook client's default:
# one retry on a refused, reset or closed connection).
RESPOND_ATTEMPTS = 2
_DROPPED = (aiohttp.ServerConnectionError, aiohttp.ClientOSError)
# The headers slack_sdk's webhook client sends, its user agent built once.
_RESPOND_HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "User-Agent": get_user_agent(),
}


# A request holding a connection this many times its deadline is given up: the deadline bounds
# only connecting and the gaps between bytes of the answer, and aiohttp starts the latter once
# the body is written, so an upload to a peer that stopped reading would otherwise hold one of
# the capped connections for as long as the kernel keeps the socket (about 15 minutes).
BACKSTOP_TIMES = 4
# The open request's backstop (set by `_backstop`, armed once it holds a connection).
_BACKSTOP: ContextVar[asyncio.Timeout | None] = ContextVar("crmbot_slack_backstop", default=None)


def http_session(seconds: float, connections: int) -> aiohttp.ClientSession:
    """A session kept open for one Slack host: at most `connections` requests in flight (each
    on its own connection, kept alive for the next), any more waiting for one to free up.

    The deadline is Slack's part alone (`seconds` to connect, then at most `seconds` between
    bytes of the answer): the wait for a free connection is this process's queue, not a
    Slack that stopped answering, and must not send a reply off by direct message instead.
    A request that holds its connection BACKSTOP_TIMES `seconds` fails with TimeoutError.
    """
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
    backstop = BACKSTOP_TIMES * seconds

    async def held(_session: object, _ctx: object, _params: object) -> None:
        # Runs in the request's task once the connector handed it a connection.
        deadline = _BACKSTOP.get()
        if deadline is not None:
            deadline.reschedule(asyncio.get_running_loop().time() + backstop)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(held)
    trace.on_connection_reuseconn.append(held)
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, middlewares=(_backstop,), trace_configs=[trace]
    )


async def _backstop(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Send a request (connect, write, read the answer's head) under a deadline that
    `http_session`'s trace arms once a connection is held: the queue for one is not timed."""
    async with asyncio.timeout(None) as deadline:
        token = _BACKSTOP.set(deadline)
        try:
            return await handler(request)
        finally:
            _BACKSTOP.reset(token)


class Sender:
    """Replies out: to the request's response_url, else as a direct message."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        # Kept open while serving (SlackAdapter.open): without it every reply opened an HTTP
        # session and a connection of its own.
        self.session: aiohttp.ClientSession | None = None

    async def upload(self, image: bytes) -> str:
        """Upload a PNG privately and return its file id for an image block."""
        resp = await self.client.files_upload_v2(
            file=image, filename="crmbot.png", title="crmbot.png"
        )
        files = resp.get("files") or [resp.get("file") or {}]
        return str(files[0]["id"])

    async def deliver(
        self,
        reply: Reply,
        t: Translator,
        body: dict[str, Any],
        slack_id: str,
        *,
        share: dict[str, Any] | None = None,
        public: bool = False,
    ) -> None:
        """Send a reply where the request came from (response_url), else as a direct message.

        A response_url expires (30 minutes, 5 uses); when it fails the rest goes by DM.
        """
        if reply.status == "duplicate":
            return
        image_id = await self.upload(reply.image) if reply.image else None
        url = response_url(body)
        public = public or not reply.ephemeral
        dm: str | None = None
        for message in render(reply, t, share=None if public else share, image_file_id=image_id):
            if url and dm is None:
                failed = await self._respond(url, message.text, message.blocks, public=public)
                if failed is None:
                    continue
                log.warning("response_url failed (%s); answering by direct message", failed)
                dm = await self._dm(slack_id)
            await self.client.chat_postMessage(
                channel=dm or slack_id, text=message.text, blocks=message.blocks
            )

    async def _respond(
        self, url: str, text: str, blocks: list[dict[str, Any]], *, public: bool
    ) -> str | None:
        """Post to a response_url; None when it took it, else why not (for the log).

        What slack_sdk's AsyncWebhookClient sends (the same JSON, headers and one retry of a
        dropped connection), posted on the kept session directly: the client built per reply
        (its user agent, proxy look-up and retry handlers) and its response object cost a
        Slack command more CPU than the request itself.
        """
        body = json.dumps(
            {
                "text": text,
                "blocks": blocks,
                "response_type": "in_channel" if public else "ephemeral",
                "replace_original": False,
            }
        )
        session = self.session
        own = session is None or session.closed
        if own:
            session = http_session(RESPOND_SECONDS, 1)
        assert session is not None
        try:
            for attempt in range(RESPOND_ATTEMPTS):
                try:
                    async with session.post(url, data=body, headers=_RESPOND_HEADERS) as resp:
                        await resp.read()
                        return f"http {resp.status}" if resp.status >= 400 else None
                except _DROPPED:
                    if attempt + 1 == RESPOND_ATTEMPTS:
                        raise
                    # slack_sdk's default back-off for its one retry: 0.5 s plus up to 1 s.
                    await asyncio.sleep(0.5 + random.random())
        except (TimeoutError, aiohttp.ClientError) as exc:
            return type(exc).__name__
        finally:
            if own:
                await session.close()
        raise AssertionError("unreachable")

    async def _dm(self, slack_id: str) -> str:
        """The app's direct-message channel with a person."""
        opened = await self.client.conversations_open(users=slack_id)
        return str(opened["channel"]["id"])
