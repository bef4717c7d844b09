"""A reply to a response_url: what slack_sdk's webhook client sent, and its one retry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack import sending
from bot.slack.sending import RESPOND_SECONDS, Sender, http_session, web_client

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* · 客户"}}]


class Peer:
    """A raw HTTP peer on 127.0.0.1: records each request; drops the first `drop`
    connections without answering; answers the rest with `status`."""

    def __init__(self, status: int = 200, drop: int = 0) -> None:
        self.status = status
        self.drop = drop
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        dropped = self.connections <= self.drop
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            lines = head.decode().split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            size = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
            body = await reader.readexactly(size)
            if dropped:
                writer.close()
                return
            self.requests.append((lines[0], headers, body))
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n\r\nok".encode())
            await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/response/r1"


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    found = Peer()

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            await found._serve(r, w)
        except (asyncio.IncompleteReadError, ConnectionError):
            w.close()

    found.server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield found
    found.server.close()
    await found.server.wait_closed()


def _sender(kept: bool) -> Sender:
    sender = Sender(web_client("xoxb-test", "http://127.0.0.1:9/api/"))
    if kept:
        sender.session = http_session(RESPOND_SECONDS, 4)
    return sender


async def _close(sender: Sender) -> None:
    if sender.session is not None:
        await sender.session.close()


@pytest.mark.parametrize("public", [False, True])
async def test_the_post_is_the_webhook_clients_own(peer: Peer, public: bool) -> None:
    """The same method, path, JSON body, content type and user agent as AsyncWebhookClient's
    send with the same arguments, with or without a kept session."""
    await AsyncWebhookClient(peer.url).send(
        text="Acme",
        blocks=BLOCKS,
        response_type="in_channel" if public else "ephemeral",
        replace_original=False,
    )
    for kept in (True, False):
        sender = _sender(kept)
        try:
            assert await sender._respond(peer.url, "Acme", BLOCKS, public=public) is None
        finally:
            await _close(sender)
    theirs, *ours = peer.requests
    assert len(ours) == 2
    for line, headers, body in ours:
        assert line == theirs[0] == "POST /response/r1 HTTP/1.1"
        assert json.loads(body) == json.loads(theirs[2])
        assert json.loads(body)["response_type"] == ("in_channel" if public else "ephemeral")
        for name in ("Content-Type", "User-Agent"):
            assert headers[name] == theirs[1][name], name


async def test_a_refusal_status_is_reported_not_retried(peer: Peer) -> None:
    """A 404 (an expired response_url) is said once, for the direct message instead."""
    peer.status = 404
    sender = _sender(True)
    try:
        assert await sender._respond(peer.url, "x", BLOCKS, public=False) == "http 404"
    finally:
        await _close(sender)
    assert len(peer.requests) == 1


async def test_a_dropped_connection_is_tried_once_more(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first connection closed without an answer: the post goes again and is taken; the
    second dropped as well: given up with the error's name."""
    monkeypatch.setattr(sending.random, "random", lambda: 0.0)
    peer.drop = 1
    sender = _sender(True)
    try:
        assert await sender._respond(peer.url, "x", BLOCKS, public=False) is None
        assert peer.connections == 2 and len(peer.requests) == 1
        # A new session: the kept one holds the connection that answered.
        await _close(sender)
        sender.session = http_session(RESPOND_SECONDS, 4)
        peer.drop, peer.connections = 2, 0
        failed = await sender._respond(peer.url, "x", BLOCKS, public=False)
    finally:
        await _close(sender)
    assert failed == "ServerDisconnectedError"
    assert peer.connections == 2 and len(peer.requests) == 1
